"""The websocket client: registers tools with pctx, answers its calls, drives Code Mode."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import traceback
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from pctx_client import _protocol as wire
from pctx_client._tool import ArgumentsInvalid, BaseTool
from pctx_client.errors import (
    AuthenticationError,
    ConnectError,
    ConnectionLostError,
    RegistrationError,
    RemoteError,
)
from pctx_client.models import ConsoleLine, ExecutionError, ExecutionResult

if TYPE_CHECKING:
    from agents import FunctionTool as OpenAIFunctionTool
    from crewai.tools import BaseTool as CrewAITool
    from langchain_core.tools import StructuredTool as LangChainTool
    from pydantic_ai import Tool as PydanticAITool

logger = logging.getLogger("pctx_client")

Scope = Literal["global", "session"]

# Incoming frames are bounded by the server's own limit; this only guards against a
# misbehaving peer exhausting memory.
_MAX_INCOMING_BYTES = 256 * 1024 * 1024
# Tracebacks go to the server's debug log only; keep the tail, where the cause is.
_MAX_TRACEBACK_CHARS = 8192


def _client_version() -> str:
    try:
        return version("pctx-client")
    except PackageNotFoundError:
        return "0+unknown"


class Pctx:
    """A connection to a pctx server that serves Python tools and runs Code Mode programs.

    ``connect()`` opens the websocket ``/ws`` on ``url``, performs the ``initialize``
    handshake and registers every tool, one ``register`` per namespace. From then on pctx
    calls the tools whenever a program does (each call in its own asyncio task, so many run
    at once; sync tools in worker threads), and ``list_functions``, ``get_function_details``
    and ``execute`` drive Code Mode over the same connection.

    There is no automatic reconnect: when the connection drops, pctx removes the
    namespaces, pending requests raise :class:`~pctx_client.errors.ConnectionLostError`,
    :meth:`wait_closed` returns, and calling :meth:`connect` again re-registers everything.

    The methods must be awaited on one event loop; the object is not thread-safe.

    Example:
        ```python
        async with Pctx(tools=[get_weather], url="http://localhost:8080") as p:
            result = await p.execute('return await tools.get_weather("Paris")')
            print(result.value)
        ```
    """

    def __init__(
        self,
        tools: Iterable[BaseTool | type[BaseTool]] = (),
        url: str = "http://localhost:8080",
        api_key: str | None = None,
        *,
        scope: Scope = "global",
        connect_timeout: float = 10.0,
        client_name: str = "pctx-client-python",
    ) -> None:
        """Prepare a client; nothing happens on the network until :meth:`connect`.

        Args:
            tools: Tools to serve: ``@tool`` functions, ``Tool``/``AsyncTool`` instances, or
                ``Tool``/``AsyncTool`` subclasses taking no constructor arguments.
            url: The pctx server (``http://host:port``; the websocket is ``/ws`` on it).
            api_key: Sent as ``Authorization: Bearer`` when the server requires a key.
            scope: ``"global"`` makes the tools visible to every MCP client of the server;
                ``"session"`` only to programs this connection runs (server support needed).
            connect_timeout: Seconds allowed for the websocket handshake, initialize and
                registration together.
            client_name: Reported to the server in ``initialize``.

        Raises:
            TypeError: A tool's declaration cannot be turned into schemas.
            ValueError: Two tools share a namespace and name, or ``url`` is not usable.
        """
        self._tools: list[BaseTool] = []
        self._by_key: dict[tuple[str, str], BaseTool] = {}
        for item in tools:
            t = item() if isinstance(item, type) else item
            if not isinstance(t, BaseTool):
                raise TypeError(
                    f"Pctx(tools=...) takes @tool functions or Tool/AsyncTool objects, got {t!r}"
                )
            spec = t.spec
            key = (spec.namespace, spec.name)
            if key in self._by_key:
                raise ValueError(f"two tools are named {spec.namespace}.{spec.name}")
            self._by_key[key] = t
            self._tools.append(t)
        if scope not in ("global", "session"):
            raise ValueError(f"scope must be 'global' or 'session', got {scope!r}")
        self._url = url
        self._ws_url = wire.ws_url(url)
        self._api_key = api_key
        self._scope: Scope = scope
        self._connect_timeout = connect_timeout
        self._client_name = client_name

        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._calls: dict[Any, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()
        self._closed.set()
        self._close_reason = "not connected"
        self._max_message = wire.DEFAULT_MAX_MESSAGE_BYTES
        self._server_info: dict[str, Any] = {}
        self._registered: dict[str, list[str]] = {}
        # Fetched at connect for the framework adapters (pctx_client.adapters), with the
        # loop the connection lives on so sync tool calls from other threads can reach it.
        self._code_mode: list[dict[str, Any]] | str = "not connected: await p.connect() first"
        self._loop: asyncio.AbstractEventLoop | None = None

    # ----------------------------------------------------------------- properties

    @property
    def tools(self) -> list[BaseTool]:
        """The tools this client serves, in the order given."""
        return list(self._tools)

    @property
    def url(self) -> str:
        """The websocket URL used (``ws://host:port/ws``)."""
        return self._ws_url

    @property
    def connected(self) -> bool:
        """True between a successful :meth:`connect` and the end of the connection."""
        return self._ws is not None and not self._closed.is_set()

    @property
    def server_info(self) -> dict[str, Any]:
        """The server's ``initialize`` result (name, version, limits)."""
        return dict(self._server_info)

    @property
    def registered(self) -> dict[str, list[str]]:
        """Namespace as pctx names it → function names TypeScript calls, per namespace."""
        return {k: list(v) for k, v in self._registered.items()}

    # ----------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Open the websocket, initialise, and register every tool.

        Raises:
            AuthenticationError: The server refused the API key.
            ConnectError: The server cannot be reached or the handshake failed.
            RegistrationError: pctx refused a namespace (for example, already taken).
        """
        if self.connected:
            return
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._open()
                await self._handshake()
        except TimeoutError:
            await self._abort()
            raise ConnectError(
                f"connecting to {self._ws_url} took longer than {self._connect_timeout}s"
            ) from None
        except BaseException:
            await self._abort()
            raise

    async def disconnect(self) -> None:
        """Close the connection; pctx removes this client's namespaces. Safe to repeat."""
        ws, reader = self._ws, self._reader
        if ws is None:
            return
        self._close_reason = "disconnected by the client"
        with contextlib.suppress(WebSocketException, OSError):
            await ws.close(1000, "bye")
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._ws = None
        self._reader = None

    async def wait_closed(self) -> None:
        """Wait until the connection ends (``disconnect()`` or lost); for serve-only workers."""
        await self._closed.wait()

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

    async def list_functions(self, namespace: str | None = None, query: str | None = None) -> str:
        """The compact TypeScript listing of every callable function (as the MCP tool shows).

        Args:
            namespace: Only this namespace.
            query: Only functions matching these words (when the server supports it).
        """
        params: dict[str, Any] = {}
        if namespace is not None:
            params["namespace"] = namespace
        if query is not None:
            params["query"] = query
        res = await self._request("list_functions", params)
        return str(res.get("text", "")) if isinstance(res, Mapping) else str(res)

    async def get_function_details(self, functions: list[str]) -> str:
        """Full TypeScript declarations of ``functions`` (``["ns.fn", ...]``)."""
        if isinstance(functions, str):
            functions = [functions]
        res = await self._request("get_function_details", {"functions": list(functions)})
        return str(res.get("text", "")) if isinstance(res, Mapping) else str(res)

    async def execute(self, code: str) -> ExecutionResult:
        """Run one TypeScript program in a fresh sandbox and return its outcome.

        A program that throws is not a Python exception: the result's ``error`` says why.
        """
        res = await self._request("execute_typescript", {"code": code})
        if not isinstance(res, Mapping):
            raise RemoteError("execute_typescript", wire.INTERNAL_ERROR, f"bad result {res!r}")
        err = res.get("error")
        return ExecutionResult(
            value=res.get("value"),
            console=[
                ConsoleLine(level=str(c.get("level", "log")), text=str(c.get("text", "")))
                for c in res.get("console") or []
                if isinstance(c, Mapping)
            ],
            error=ExecutionError(
                kind=str(err.get("kind", "error")),
                message=str(err.get("message", "")),
                line=err.get("line"),
                column=err.get("column"),
                stack=err.get("stack"),
            )
            if isinstance(err, Mapping)
            else None,
            duration_ms=float(res.get("durationMs") or 0.0),
            calls=int(res.get("calls") or 0),
            text=str(res.get("text", "")),
        )

    async def code_mode_tools(self) -> list[dict[str, Any]]:
        """The three Code Mode tools as the MCP server publishes them.

        Each entry has ``name``, ``description`` and ``inputSchema``: the one source of the
        model-facing text for framework adapters.
        """
        res = await self._request("code_mode_tools", {})
        tools = res.get("tools") if isinstance(res, Mapping) else None
        return [dict(t) for t in tools or [] if isinstance(t, Mapping)]

    # ----------------------------------------------------------------- framework adapters
    # Each returns the three Code Mode tools as one framework's native tool objects, with the
    # descriptions and schemas fetched from the server at connect(); the framework is
    # imported only here. The work lives in pctx_client.adapters.

    def langchain_tools(self) -> list[LangChainTool]:
        """The Code Mode tools as LangChain ``StructuredTool`` objects (async and sync).

        Needs ``pip install "pctx-client[langchain]"`` and a completed :meth:`connect`.
        """
        from pctx_client.adapters.langchain import langchain_tools

        return langchain_tools(self)

    def crewai_tools(self) -> list[CrewAITool]:
        """The Code Mode tools as CrewAI ``BaseTool`` objects (``run`` and ``arun``).

        Needs ``pip install "pctx-client[crewai]"`` and a completed :meth:`connect`.
        """
        from pctx_client.adapters.crewai import crewai_tools

        return crewai_tools(self)

    def openai_tools(self) -> list[OpenAIFunctionTool]:
        """The Code Mode tools as OpenAI Agents SDK ``FunctionTool`` objects.

        Needs ``pip install "pctx-client[openai]"`` and a completed :meth:`connect`.
        """
        from pctx_client.adapters.openai import openai_tools

        return openai_tools(self)

    def openai_tool_schemas(
        self, api: Literal["chat", "responses"] = "chat"
    ) -> list[dict[str, Any]]:
        """The Code Mode tools as ``tools=`` dicts for Chat Completions or the Responses API.

        Run the model's tool calls with :meth:`call_tool`. Needs no extra, only a completed
        :meth:`connect`.
        """
        from pctx_client.adapters.openai import openai_tool_schemas

        return openai_tool_schemas(self, api)

    def pydantic_ai_tools(self) -> list[PydanticAITool]:
        """The Code Mode tools as Pydantic AI ``Tool`` objects (async).

        Needs ``pip install "pctx-client[pydantic-ai]"`` and a completed :meth:`connect`.
        """
        from pctx_client.adapters.pydantic_ai import pydantic_ai_tools

        return pydantic_ai_tools(self)

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | str | None = None) -> str:
        """Run one Code Mode tool call by name and return the text the model should read.

        ``arguments`` is the call's argument object, or its JSON text as a model sends it.

        Raises:
            ValueError: Unknown tool name or arguments that do not fit its schema.
        """
        from pctx_client.adapters._core import call_tool

        return await call_tool(self, name, arguments)

    # ----------------------------------------------------------------- internals

    async def _open(self) -> None:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            ws = await connect(
                self._ws_url,
                additional_headers=headers,
                max_size=_MAX_INCOMING_BYTES,
                compression=None,
                open_timeout=None,  # the caller's connect_timeout covers it
                user_agent_header=f"{self._client_name}/{_client_version()}",
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
            detail = f": {body}" if body else ""
            if status in (401, 403):
                raise AuthenticationError(
                    f"pctx at {self._ws_url} refused the connection (HTTP {status}); "
                    f"{'check api_key' if self._api_key else 'it requires api_key'}{detail}"
                ) from exc
            raise ConnectError(f"pctx at {self._ws_url} answered HTTP {status}{detail}") from exc
        except (OSError, WebSocketException) as exc:
            raise ConnectError(f"cannot connect to pctx at {self._ws_url}: {exc}") from exc
        self._ws = ws
        self._closed.clear()
        self._close_reason = "connection closed"
        self._reader = asyncio.create_task(self._read_loop(ws), name="pctx-client-reader")

    async def _handshake(self) -> None:
        info = await self._request(
            "initialize",
            {
                "protocolVersion": wire.PROTOCOL_VERSION,
                "client": {"name": self._client_name, "version": _client_version()},
            },
        )
        if not isinstance(info, Mapping):
            raise ConnectError(f"pctx answered initialize with {info!r}")
        got = info.get("protocolVersion")
        if got != wire.PROTOCOL_VERSION:
            raise ConnectError(
                f"pctx speaks protocol {got!r}; this client speaks {wire.PROTOCOL_VERSION!r}"
            )
        self._server_info = dict(info)
        max_bytes = info.get("maxMessageBytes")
        if isinstance(max_bytes, int) and max_bytes > 0:
            self._max_message = max_bytes

        groups: dict[str, list[BaseTool]] = {}
        for t in self._tools:
            groups.setdefault(t.spec.namespace, []).append(t)
        self._registered = {}
        for namespace, members in groups.items():
            params: dict[str, Any] = {
                "namespace": namespace,
                "tools": [m.spec.wire() for m in members],
            }
            if self._scope != "global":
                params["scope"] = self._scope
            try:
                res = await self._request("register", params)
            except RemoteError as exc:
                raise RegistrationError(
                    f"register {namespace!r}", exc.code, exc.remote_message, exc.data
                ) from None
            if isinstance(res, Mapping):
                self._registered[str(res.get("namespace", namespace))] = [
                    str(f) for f in res.get("functions") or []
                ]
        self._loop = asyncio.get_running_loop()
        try:
            self._code_mode = await self.code_mode_tools()
        except RemoteError as exc:  # an older server: only the adapters need these
            self._code_mode = f"pctx did not publish its Code Mode tools: {exc}"

    async def _abort(self) -> None:
        ws, reader = self._ws, self._reader
        self._ws = None
        self._reader = None
        if ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await ws.close(1000, "connect failed")
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        ws = self._ws
        if ws is None or self._closed.is_set():
            raise ConnectionLostError(f"{method}: not connected to pctx ({self._close_reason})")
        id_ = next(self._ids)
        frame = wire.request(id_, method, params)
        if len(frame) > self._max_message // 4 and len(frame.encode()) > self._max_message:
            # pctx would close the whole connection (status 1009) over it.
            raise ValueError(
                f"{method}: request is {len(frame.encode())} bytes, over pctx's limit of "
                f"{self._max_message} bytes"
            )
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[id_] = fut
        try:
            try:
                await ws.send(frame)
            except ConnectionClosed as exc:
                raise ConnectionLostError(f"{method}: connection to pctx closed: {exc}") from exc
            try:
                return await fut
            except RemoteError as exc:
                raise RemoteError(method, exc.code, exc.remote_message, exc.data) from None
            except asyncio.CancelledError:
                # Tell the server to stop work nobody awaits any more (§5.3 of the protocol).
                if not self._closed.is_set():
                    self._send_soon(ws, wire.notification("cancel", {"id": id_}))
                raise
        finally:
            self._pending.pop(id_, None)

    async def _read_loop(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._dispatch(ws, raw)
        except ConnectionClosed as exc:
            self._close_reason = f"connection lost: {exc}"
        except Exception as exc:  # never let the reader die silently
            logger.exception("pctx-client: reader failed")
            self._close_reason = f"reader failed: {exc}"
        finally:
            if ws.close_code not in (None, 1000) and self._close_reason == "connection closed":
                self._close_reason = f"connection closed ({ws.close_code} {ws.close_reason})"
            self._shutdown()

    def _shutdown(self) -> None:
        """Fail pending requests and cancel running calls: nobody can answer them now."""
        self._closed.set()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(
                    ConnectionLostError(f"pctx connection ended: {self._close_reason}")
                )
        self._pending.clear()
        for task in self._calls.values():
            task.cancel()
        self._calls.clear()
        if self._close_reason != "disconnected by the client":
            logger.warning("pctx-client: %s", self._close_reason)

    def _dispatch(self, ws: ClientConnection, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError as exc:
            logger.warning("pctx-client: unparseable frame from pctx: %s", exc)
            self._send_soon(ws, wire.error(None, wire.PARSE_ERROR, f"parse error: {exc}"))
            return
        if not isinstance(msg, dict):
            self._send_soon(ws, wire.error(None, wire.INVALID_REQUEST, "not a JSON-RPC object"))
            return
        method = msg.get("method")
        id_ = msg.get("id")
        if method is None:
            self._on_response(msg)
        elif not isinstance(method, str):
            self._send_soon(ws, wire.error(id_, wire.INVALID_REQUEST, "method must be a string"))
        elif "id" not in msg:
            self._on_notification(method, msg.get("params"))
        else:
            self._on_request(ws, id_, method, msg.get("params"))

    def _on_response(self, msg: dict[str, Any]) -> None:
        fut = self._pending.get(msg.get("id"))  # type: ignore[arg-type]
        if fut is None or fut.done():
            logger.debug("pctx-client: response for unknown id %r", msg.get("id"))
            return
        err = msg.get("error")
        if isinstance(err, Mapping):
            code = err.get("code")
            fut.set_exception(
                RemoteError(
                    "request",
                    code if isinstance(code, int) else wire.INTERNAL_ERROR,
                    str(err.get("message", "")),
                    err.get("data"),
                )
            )
        else:
            fut.set_result(msg.get("result"))

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "cancel" and isinstance(params, Mapping):
            task = self._calls.get(params.get("id"))
            if task is not None:
                task.cancel(str(params.get("reason") or "cancelled by pctx"))
        else:
            logger.debug("pctx-client: ignoring notification %s", method)

    def _on_request(self, ws: ClientConnection, id_: Any, method: str, params: Any) -> None:
        if method == "execute_tool":
            task = asyncio.create_task(self._execute_tool(ws, id_, params))
            self._calls[id_] = task
            task.add_done_callback(lambda t: self._forget_call(id_, t))
        elif method == "ping":
            self._send_soon(ws, wire.result(id_, {}))
        else:
            self._send_soon(
                ws, wire.error(id_, wire.METHOD_NOT_FOUND, f"method not found: {method}")
            )

    def _forget_call(self, id_: Any, task: asyncio.Task[None]) -> None:
        if self._calls.get(id_) is task:
            del self._calls[id_]

    def _send_soon(self, ws: ClientConnection, frame: str) -> None:
        task = asyncio.create_task(self._send_quietly(ws, frame))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _send_quietly(ws: ClientConnection, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame)

    async def _execute_tool(self, ws: ClientConnection, id_: Any, params: Any) -> None:
        # A cancel notification cancels this task: no answer is sent (the protocol allows it).
        await self._send_quietly(ws, await self._run_tool(id_, params))

    async def _run_tool(self, id_: Any, params: Any) -> str:
        """Run one call and return its response frame."""
        if not isinstance(params, Mapping):
            return wire.error(id_, wire.INVALID_PARAMS, "execute_tool params must be an object")
        namespace, name = params.get("namespace"), params.get("name")
        qualified = f"{namespace}.{name}"
        args = params.get("args")
        args = {} if args is None else args
        t = self._by_key.get((str(namespace), str(name)))
        if t is None:
            return wire.error(id_, wire.METHOD_NOT_FOUND, f"no tool {qualified} on this worker")
        if not isinstance(args, Mapping):
            return wire.error(id_, wire.INVALID_PARAMS, f"{qualified}: args must be an object")
        try:
            frame = wire.result(id_, {"value": await t._serve(dict(args))})
        except ArgumentsInvalid as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}"
                for e in exc.error.errors()
            )
            return wire.error(
                id_,
                wire.INVALID_PARAMS,
                f"invalid arguments: {problems}",  # pctx prefixes "ns.fn: ValidationError: "
                {"type": "ValidationError"},
            )
        except Exception as exc:
            logger.info("pctx-client: tool %s raised", qualified, exc_info=True)
            trace = "".join(traceback.format_exception(exc))[-_MAX_TRACEBACK_CHARS:]
            return wire.error(
                id_,
                wire.TOOL_ERROR,
                str(exc) or "(no message)",
                {"type": type(exc).__name__, "traceback": trace},
            )
        size = len(frame.encode())
        if size > self._max_message:
            return wire.error(
                id_,
                wire.TOOL_ERROR,
                f"result of {qualified} is {size} bytes, over pctx's limit of "
                f"{self._max_message} bytes",
                {"type": "ResultTooLarge"},
            )
        return frame
