"""Tests of pctx-client against a real pctx, written against the published client's API.

The Makefile runs `python -m pytest tests/compat --confcutdir=tests/compat` once in each
venv: .cache/venv-pctx-client-latest and .cache/venv-pctx-client-0.1 (the published
package) and .cache/venv (this repository's SDK, same import name).

- test_published_client.py: the published versions only (0.1 and 0.4 differences).
- test_dropin.py: the published 0.4 API, run with the published client and with ours;
  the same program must work with either.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[4]


def _is_published_client() -> bool:
    spec = importlib.util.find_spec("pctx_client")
    if spec is None or spec.origin is None:
        return False
    return not Path(spec.origin).resolve().is_relative_to(REPO / "sdk" / "python" / "src")


IS_PUBLISHED = _is_published_client()

START_TIMEOUT = 30.0


def client_version() -> tuple[int, ...]:
    return tuple(int(x) for x in importlib.metadata.version("pctx-client").split(".")[:3])


if not IS_PUBLISHED:
    collect_ignore = ["test_published_client.py"]
elif client_version() < (0, 4, 0):
    collect_ignore = ["test_dropin.py"]  # the drop-in API is 0.4's


def _need(what: str, path: Path) -> Path:
    if path.exists():
        return path
    reason = f"{what} not found ({path}); run `make test`"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def pctx_binary() -> Path:
    env = os.environ.get("PCTX_BIN")
    return _need("pctx binary ($PCTX_BIN)", Path(env) if env else REPO / ".cache/bin/pctx")


def fastmcp_python() -> Path:
    """A Python with mcp 1.x, whose FastMCP serves the peer MCP servers."""
    env = os.environ.get("PCTX_FASTMCP_PYTHON")
    return _need(
        "a Python with mcp<2 ($PCTX_FASTMCP_PYTHON)",
        Path(env) if env else REPO / ".cache/venv-fastmcp/bin/python",
    )


def everything_bin() -> Path:
    env = os.environ.get("PCTX_NPM_BIN")
    base = Path(env) if env else REPO / ".cache/npm/node_modules/.bin"
    return _need("server-everything ($PCTX_NPM_BIN)", base / "mcp-server-everything")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `pctx start` with server-everything as the upstream "everything"."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(server_table: dict[str, Any], workdir: Path, *, everything: bool = True) -> Server:
    port = _free_port()
    lines = ["[server]", f'http = "127.0.0.1:{port}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in server_table.items()]
    if everything:
        lines += ["", "[servers.everything]", f"command = {json.dumps(str(everything_bin()))}"]
    config = workdir / "pctx.toml"
    config.write_text("\n".join(lines) + "\n")
    log = workdir / "pctx.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(pctx_binary()), "start", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    srv = Server(url, proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pctx exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return srv
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    srv.stop()
    raise RuntimeError(f"pctx did not answer /healthz:\n{log.read_text()}")


@pytest.fixture(scope="module")
def pctx() -> Iterator[Server]:
    """pctx with server-everything configured in pctx.toml; no API key."""
    srv = start({}, Path(tempfile.mkdtemp()))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keyed_pctx() -> Iterator[Server]:
    """pctx with an API key ("k") that accepts client-registered servers."""
    srv = start({"api_key": "k", "allow_client_servers": True}, Path(tempfile.mkdtemp()))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def open_pctx() -> Iterator[Server]:
    """pctx on loopback without an API key that accepts client-registered servers."""
    srv = start({"allow_client_servers": True}, Path(tempfile.mkdtemp()), everything=False)
    yield srv
    srv.stop()


@dataclass
class HttpPeer:
    """A FastMCP server over streamable HTTP."""

    url: str
    proc: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def fastmcp_http() -> Iterator[HttpPeer]:
    """fastmcp_peer.py's TestHttpMcp, serving streamable HTTP at /mcp on a free port."""
    port = _free_port()
    log = Path(tempfile.mkdtemp()) / "fastmcp.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(fastmcp_python()),
                str(Path(__file__).with_name("fastmcp_peer.py")),
                "http",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the FastMCP peer exited with {proc.returncode}:\n{log.read_text()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the FastMCP peer did not listen:\n{log.read_text()}"
                    ) from None
                time.sleep(0.05)
        yield HttpPeer(f"http://127.0.0.1:{port}/mcp", proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
