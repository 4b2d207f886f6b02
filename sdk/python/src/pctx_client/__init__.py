"""pctx-client: Python tools and MCP servers in pctx Code Mode, and Code Mode from Python.

Decorate functions with :func:`tool` (or subclass :class:`Tool` / :class:`AsyncTool`),
hand them to :class:`Pctx` and ``await p.connect()``: programs run with
``p.execute_typescript()`` (or by an agent through ``p.langchain_tools()`` and the other
adapters) call them as ``await Tools.addNumbers({ a: 1, b: 2 })``.

The API is a superset of the published ``pctx-client`` 0.4.5. Results and configs live in
:mod:`pctx_client.models`, exceptions in :mod:`pctx_client.exceptions`.
"""

from pctx_client import descriptions, exceptions, models
from pctx_client._client import Pctx, Scope
from pctx_client._decorator import tool
from pctx_client._tool import AsyncTool, Tool, ToolContext
from pctx_client.models import (
    HttpServerConfig,
    ServerConfig,
    StdioServerConfig,
    ToolDisclosure,
    ToolDisclosureName,
    ToolName,
)

__all__ = [
    "AsyncTool",
    "HttpServerConfig",
    "Pctx",
    "Scope",
    "ServerConfig",
    "StdioServerConfig",
    "Tool",
    "ToolContext",
    "ToolDisclosure",
    "ToolDisclosureName",
    "ToolName",
    "descriptions",
    "exceptions",
    "models",
    "tool",
]
