"""pctx-client: Python tools for pctx Code Mode.

Decorate functions with :func:`tool` (or subclass :class:`Tool` / :class:`AsyncTool`),
hand them to :class:`Pctx`, and ``await p.connect()``: the running pctx server then offers
them as typed TypeScript functions (``data.analyze_sentiment("text")``) beside its MCP
servers, and ``await p.execute(code)`` runs a Code Mode program yourself.

Errors live in :mod:`pctx_client.errors`, execution results in :mod:`pctx_client.models`.
"""

from pctx_client._client import Pctx
from pctx_client._decorator import tool
from pctx_client._tool import AsyncTool, Tool

__all__ = ["AsyncTool", "Pctx", "Tool", "tool"]
