"""FastMCP test peers for test_dropin.py, run with a Python that has mcp<2.

    python fastmcp_peer.py stdio        # TestMcpServer over stdio: add, sleep
    python fastmcp_peer.py http PORT    # TestHttpMcp over streamable HTTP at /mcp: subtract

mcp 1.x's FastMCP is what the published client's users write their servers with; mcp 2
dropped it, hence a venv of its own (the Makefile's venv-fastmcp).
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any


def main() -> None:
    # Imported by name: the dev venv's mcp 2 has no mcp.server.fastmcp to type-check.
    fastmcp: Any = importlib.import_module("mcp.server.fastmcp")
    mode = sys.argv[1]
    if mode == "stdio":
        server = fastmcp.FastMCP("TestMcpServer")

        @server.tool()
        def add(a: int, b: int) -> int:
            """Add two numbers"""
            return a + b

        @server.tool()
        def sleep(seconds: float) -> str:
            """Sleep, then say so"""
            time.sleep(seconds)
            return f"slept {seconds}"

        server.run("stdio")
    elif mode == "http":
        server = fastmcp.FastMCP("TestHttpMcp", host="127.0.0.1", port=int(sys.argv[2]))

        @server.tool()
        def subtract(a: int, b: int) -> int:
            """Subtract b from a"""
            return a - b

        server.run("streamable-http")
    else:
        sys.exit(f"unknown mode {mode!r}: want stdio or http PORT")


if __name__ == "__main__":
    main()
