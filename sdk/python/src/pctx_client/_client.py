"""``Pctx``: Python tools and MCP servers for Code Mode, and Code Mode driven from Python."""

from __future__ import annotations

import asyncio
import logging
import typing
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit

import httpx

from pctx_client._search import Index
from pctx_client._session import Session
from pctx_client._tool import AsyncTool, BaseTool, Tool
from pctx_client._worker import Worker, client_version
from pctx_client.exceptions import RemoteError, SessionError
from pctx_client.models import (
    ExecuteBashOutput,
    ExecuteTypescriptOutput,
    GetFunctionDetailsOutput,
    ListedFunction,
    ListFunctionsOutput,
    ServerConfig,
    ToolDisclosure,
    ToolDisclosureName,
    ToolName,
)

if TYPE_CHECKING:
    from agents import FunctionTool as OpenAIFunctionTool
    from claude_agent_sdk import SdkMcpTool
    from crewai.tools import BaseTool as CrewAITool
    from langchain_core.tools import BaseTool as LangChainTool
    from pydantic_ai import Tool as PydanticAITool

logger = logging.getLogger("pctx_client")

Scope = Literal["session", "global"]
"""Where ``Pctx(tools=...)`` registers its tools: see :class:`Pctx`."""

_NOT_CONNECTED = "No code mode session exists, run Pctx(...).connect() before calling"


class Pctx:
    """A client of a pctx server: your Python tools and MCP servers, in Code Mode.

    ``connect()`` creates a code-mode session, registers ``tools`` and ``servers`` for it
    and keeps a websocket open over which pctx calls the tools. Code Mode runs in the
    session: ``list_functions()``, ``search_functions()``, ``get_function_details()``,
    ``execute_typescript()``, ``execute_bash()``, and the framework adapters
    (``langchain_tools()`` and friends) that hand those to an agent. A session sees the
    original pctx's conventions: namespaces in PascalCase, functions in camelCase, one
    object argument (``await Tools.addNumbers({ a: 1, b: 2 })``).

    ``scope="global"`` registers the tools instead over a worker connection (pctx/1):
    every MCP client of the server sees them too, and clients registering identical tools
    form a pool sharing the calls. When a websocket drops, the client reconnects with
    exponential backoff and registers everything again (``reconnect=False`` to stop).

    Use one event loop: the connection lives on the loop ``connect()`` ran on (the
    framework adapters route calls from other loops and threads to it).

    Example:
        ```python
        async with Pctx(tools=[add_numbers]) as p:
            out = await p.execute_typescript("return await Tools.addNumbers({ a: 1, b: 2 })")
            print(out.output)  # 3
        ```
    """

    def __init__(
        self,
        tools: Sequence[Tool | AsyncTool | type[BaseTool]] | None = None,
        servers: Sequence[ServerConfig] | None = None,
        url: str = "http://localhost:8080",
        headers: dict[str, str] | None = None,
        execute_timeout: float = 30.0,
        *,
        api_key: str | None = None,
        scope: Scope = "session",
        connect_timeout: float = 10.0,
        reconnect: bool = True,
        client_name: str = "pctx-client-python",
    ) -> None:
        """Prepare a client; nothing happens on the network until :meth:`connect`.

        Args:
            tools: Tools to serve: ``@tool`` functions, ``Tool``/``AsyncTool`` instances or
                subclasses that take no constructor arguments.
            servers: MCP servers pctx starts for the session: ``{"name", "url", "auth"?}``
                or ``{"name", "command", "args"?, "env"?}`` (pctx must allow it:
                ``[server] allow_client_servers = true``).
            url: pctx's base URL (``http``/``https``; ``ws``/``wss`` are mapped to them).
            headers: Sent with every request and websocket upgrade.
            execute_timeout: Seconds one ``execute_typescript`` may take before it is
                cancelled and ``TimeoutError`` raised.
            api_key: Sent as ``Authorization: Bearer`` (same as putting it in ``headers``).
            scope: ``"session"`` (default): the tools are this client's own, visible only to
                its session. ``"global"``: visible to every MCP client and session of the
                server, pooled with identical registrations.
            connect_timeout: Seconds allowed for connecting (and each reconnection).
            reconnect: Reconnect with backoff when a websocket drops (default True).
            client_name: Reported to pctx (user agent, worker ``initialize``).

        Raises:
            TypeError: A tool is not a tool.
            ValueError: Two tools share a namespace and name, or ``url`` or ``scope`` is
                not usable.
        """
        if isinstance(servers, str):  # the URL in the second position: this SDK's old order
            warnings.warn(
                "Pctx(tools, url) is deprecated: the second parameter is servers; "
                "pass url=... by keyword",
                DeprecationWarning,
                stacklevel=2,
            )
            url, servers = servers, None
        self._tools: list[Tool | AsyncTool] = []
        seen: set[tuple[str, str]] = set()
        for item in tools or ():
            t: object = typing.cast(Any, item)() if isinstance(item, type) else item
            if not isinstance(t, Tool | AsyncTool):
                raise TypeError(
                    f"Pctx(tools=...) takes @tool functions or Tool/AsyncTool objects, got {t!r}"
                )
            key = (t.namespace, t.name)
            if key in seen:
                raise ValueError(f"two tools are named {t.namespace}.{t.name}")
            seen.add(key)
            self._tools.append(t)
        if scope not in ("session", "global"):
            raise ValueError(f"scope must be 'session' or 'global', got {scope!r}")
        self._servers: list[ServerConfig] = list(servers or ())
        self._http_url, self._ws_url = _urls(url)
        self._headers = dict(headers or {})
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._execute_timeout = execute_timeout
        self._scope: Scope = scope
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._client_name = client_name
        self._backoff = (0.1, 5.0)
        # REST client of the session (the published client's attribute name).
        self._client = httpx.AsyncClient(
            base_url=self._http_url,
            headers=self._headers,
            timeout=httpx.Timeout(60.0, connect=connect_timeout),
        )
        self._session: Session | None = None
        self._worker: Worker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._search_index: Index | None = None

    # ----------------------------------------------------------------- properties

    @property
    def url(self) -> str:
        """Pctx's base URL."""
        return self._http_url

    @property
    def tools(self) -> list[Tool | AsyncTool]:
        """The tools this client serves, in the order given."""
        return list(self._tools)

    @property
    def session_id(self) -> str | None:
        """The code-mode session's id while connected."""
        return self._session.session_id if self._session else None

    @property
    def connected(self) -> bool:
        """Whether the session's websocket (and the worker's, if any) is up now."""
        return bool(
            self._session
            and self._session.connected
            and (self._worker is None or self._worker.connected)
        )

    @property
    def registered(self) -> dict[str, list[str]]:
        """Global tools: namespace → function names as pctx registered them."""
        return {k: list(v) for k, v in (self._worker.registered if self._worker else {}).items()}

    @property
    def server_info(self) -> dict[str, Any]:
        """The server's pctx/1 ``initialize`` result (with ``scope="global"``)."""
        return dict(self._worker.server_info) if self._worker else {}

    # ----------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Create the code-mode session, register the tools and servers, open the websockets.

        Connecting again closes the previous session first.

        Raises:
            ConnectionError: pctx cannot be reached or the handshake failed.
            HTTPStatusError: pctx refused a request (e.g. 401 without the API key, 403 for
                ``servers`` it does not allow), with its reason.
            RegistrationError: ``scope="global"`` and a namespace is taken.
        """
        if self._session is not None:
            await self.disconnect()
        user_agent = f"{self._client_name}/{client_version()}"
        session = Session(
            self._client,
            self._ws_url,
            self._tools if self._scope == "session" else [],
            self._servers,
            headers=self._headers,
            user_agent=user_agent,
            connect_timeout=self._connect_timeout,
            reconnect=self._reconnect,
            backoff=self._backoff,
        )
        await session.start()
        self._session = session
        self._search_index = None
        self._loop = asyncio.get_running_loop()
        if self._scope == "global" and self._tools:
            worker = Worker(
                self._ws_url,
                self._tools,
                headers=self._headers,
                client_name=self._client_name,
                connect_timeout=self._connect_timeout,
                reconnect=self._reconnect,
                backoff=self._backoff,
            )
            try:
                await worker.start()
            except BaseException:
                await self.disconnect()
                raise
            self._worker = worker

    async def disconnect(self) -> None:
        """Close the websockets and end the session. Safe to repeat."""
        worker, session = self._worker, self._session
        self._worker = None
        self._session = None
        if worker is not None:
            await worker.stop()
        if session is not None:
            await session.close()

    async def wait_closed(self) -> None:
        """Wait until the client stops: for a process that only serves its tools.

        That is :meth:`disconnect`, reconnecting giving up, or (``reconnect=False``) the
        connection dropping.
        """
        session, worker = self._session, self._worker
        if session is None:
            return
        waits = [asyncio.ensure_future(session.wait_stopped())]
        if worker is not None:
            waits.append(asyncio.ensure_future(worker.wait_stopped()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # ----------------------------------------------------------------- Code Mode

    def _live(self) -> Session:
        if self._session is None:
            raise SessionError(_NOT_CONNECTED)
        return self._session

    async def list_functions(self) -> ListFunctionsOutput:
        """Every function the session can call, and the TypeScript listing (``code``).

        Raises:
            SessionError: Not connected.
        """
        res = await self._live().post("/code-mode/functions/list")
        return ListFunctionsOutput.model_validate(res)

    async def search_functions(self, query: str, k: int = 10) -> list[ListedFunction]:
        """The at most ``k`` functions best matching ``query``, best first.

        Ranked by BM25 over namespaces, names and descriptions (words split and stemmed);
        only functions sharing a word with the query are returned.

        Raises:
            SessionError: Not connected.
        """
        functions = (await self.list_functions()).functions
        index = self._search_index
        if index is None or list(index.functions) != functions:
            index = self._search_index = Index.build(functions)
        return index.search(query, k)

    async def get_function_details(self, functions: list[str]) -> GetFunctionDetailsOutput:
        """Full TypeScript declarations of ``functions`` (``["Namespace.functionName"]``).

        Raises:
            SessionError: Not connected.
            HTTPStatusError: An unknown function (400; the reason suggests near names).
        """
        if isinstance(functions, str):
            functions = [functions]
        res = await self._live().post("/code-mode/functions/details", {"functions": functions})
        return GetFunctionDetailsOutput.model_validate(res)

    async def execute_typescript(
        self,
        code: str,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        tool_timeout_secs: int | None = None,
        tool_timeout_overrides: dict[str, int] | None = None,
    ) -> ExecuteTypescriptOutput:
        """Run a TypeScript program in a fresh sandbox of the session.

        The program calls functions as ``await Namespace.functionName({...})``; it returns
        its result with a top-level ``return`` or from an ``async function run()`` that
        it defines (called for it). A program that throws is not a Python exception:
        ``success`` is False and ``stderr`` says why.

        Args:
            code: The program.
            disclosure: How the agent discovered the functions (sent to pctx).
            tool_timeout_secs: Seconds each function call may take (1 to 600).
            tool_timeout_overrides: Per-function seconds, keyed ``"namespace__name"``.

        Raises:
            SessionError: Not connected.
            TimeoutError: The run took longer than ``execute_timeout``; it is cancelled.
            RemoteError: pctx refused the run (e.g. too many running at once).
            ConnectionLostError: The connection dropped during the run.
        """
        peer = await self._live().peer()
        params: dict[str, Any] = {
            "code": code,
            "disclosure": ToolDisclosure(disclosure).value,
            "tool_timeout_overrides": dict(tool_timeout_overrides or {}),
        }
        if tool_timeout_secs is not None:
            params["tool_timeout_secs"] = tool_timeout_secs
        try:
            async with asyncio.timeout(self._execute_timeout):
                res = await peer.request("execute_typescript", params)
        except TimeoutError:
            raise TimeoutError(f"Code execution timed out after {self._execute_timeout}s") from None
        except RemoteError as exc:
            raise RemoteError(
                "execute_typescript", exc.code, f"Execution error: {exc.remote_message}", exc.data
            ) from None
        return ExecuteTypescriptOutput.model_validate(res)

    async def execute(
        self,
        code: str,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
    ) -> ExecuteTypescriptOutput:
        """Deprecated alias of :meth:`execute_typescript`."""
        warnings.warn(
            "execute() is deprecated, use execute_typescript() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return await self.execute_typescript(code, disclosure=disclosure)

    async def execute_bash(self, command: str) -> ExecuteBashOutput:
        """Run a read-only shell command over the session's ``/sdk`` files.

        ``/sdk/README.md`` lists the functions by namespace; ``/sdk/<Namespace>/<fn>.d.ts``
        declares each. ``ls``, ``cat``, ``head``, ``tail``, ``grep``, ``find``, ``wc``,
        ``pwd``, ``echo``, joined by ``|``, ``&&``, ``;``.

        Raises:
            SessionError: Not connected.
        """
        res = await self._live().post("/code-mode/execute-bash", {"command": command})
        return ExecuteBashOutput.model_validate(res)

    # ----------------------------------------------------------------- framework adapters
    # Each offers the disclosure's Code Mode tools as one framework's tool objects. They
    # need no connection to be built; calling one before connect() raises SessionError.
    # The frameworks are imported only here (pctx_client.adapters).

    def langchain_tools(
        self,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[LangChainTool]:
        """The Code Mode tools as LangChain tools (``ainvoke`` and ``invoke``).

        Needs ``pip install "pctx-client[langchain]"``.
        """
        from pctx_client.adapters.langchain import langchain_tools

        return langchain_tools(self, ToolDisclosure(disclosure), descriptions)

    def crewai_tools(
        self,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[CrewAITool]:
        """The Code Mode tools as CrewAI tools (``run`` and ``arun``).

        Needs ``pip install "pctx-client[crewai]"``.
        """
        from pctx_client.adapters.crewai import crewai_tools

        return crewai_tools(self, ToolDisclosure(disclosure), descriptions)

    def openai_agents_tools(
        self,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[OpenAIFunctionTool]:
        """The Code Mode tools as OpenAI Agents SDK function tools.

        Needs ``pip install "pctx-client[openai]"``.
        """
        from pctx_client.adapters.openai import openai_agents_tools

        return openai_agents_tools(self, ToolDisclosure(disclosure), descriptions)

    def openai_tools(self) -> list[OpenAIFunctionTool]:
        """Deprecated alias of :meth:`openai_agents_tools`."""
        warnings.warn(
            "openai_tools() is deprecated, use openai_agents_tools() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.openai_agents_tools()

    def pydantic_ai_tools(
        self,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[PydanticAITool[Any]]:
        """The Code Mode tools as Pydantic AI tools.

        Needs ``pip install "pctx-client[pydantic-ai]"``.
        """
        from pctx_client.adapters.pydantic_ai import pydantic_ai_tools

        return pydantic_ai_tools(self, ToolDisclosure(disclosure), descriptions)

    def claude_agent_sdk_tools(
        self,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[SdkMcpTool[Any]]:
        """The Code Mode tools as Claude Agent SDK tools, for ``create_sdk_mcp_server``.

        Needs ``pip install "pctx-client[claude]"``.
        """
        from pctx_client.adapters.claude import claude_agent_sdk_tools

        return claude_agent_sdk_tools(self, ToolDisclosure(disclosure), descriptions)

    def openai_tool_schemas(
        self,
        api: Literal["chat", "responses"] = "chat",
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
        descriptions: dict[ToolName, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The Code Mode tools as ``tools=`` dicts for Chat Completions or the Responses API.

        Run the model's calls with :meth:`call_tool`. Needs no extra.
        """
        from pctx_client.adapters.openai import openai_tool_schemas

        return openai_tool_schemas(self, api, ToolDisclosure(disclosure), descriptions)

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
    ) -> str:
        """Run one Code Mode tool call by name; return the text the model should read.

        ``arguments`` is the call's argument object, or its JSON text as a model sends it.

        Raises:
            ValueError: Unknown tool, arguments that do not fit, or a refusal the model can
                act on (an unknown function, too busy).
        """
        from pctx_client.adapters._core import call_tool

        return await call_tool(self, name, arguments, ToolDisclosure(disclosure))


def _urls(url: str) -> tuple[str, str]:
    """Pctx's HTTP base URL and its websocket URL (``/ws``) from ``url``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("ws", "wss"):
        http_scheme = "https" if scheme == "wss" else "http"
    elif scheme in ("http", "https"):
        http_scheme = scheme
    else:
        raise ValueError(f"Invalid URL scheme: {parts.scheme}. Expected http, https, ws, or wss")
    if not parts.netloc:
        raise ValueError(f"pctx url has no host: {url!r}")
    path = parts.path.rstrip("/")
    if scheme in ("ws", "wss") and path.endswith("/ws"):
        path = path[: -len("/ws")]
    ws_scheme = "wss" if http_scheme == "https" else "ws"
    return f"{http_scheme}://{parts.netloc}{path}", f"{ws_scheme}://{parts.netloc}{path}/ws"
