"""A tiny fake pctx worker endpoint (docs/protocol.md) for protocol tests without Go.

It speaks just enough of pctx/1: initialize, register (with namespace conflicts),
list_functions / get_function_details / execute_typescript / code_mode_tools answered from
scripts, and lets the test drive ``execute_tool`` calls and ``cancel`` notifications.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


class CallFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


class FakePctx:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.server: Server | None = None
        self.conn: ServerConnection | None = None
        self.connected = asyncio.Event()
        self.registered: dict[str, dict[str, Any]] = {}
        self.taken = {"github": "upstream:github"}
        self.received: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {}
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Condition()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; it is rechecked after every incoming frame."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = next(iter(self.server.sockets)).getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> FakePctx:
        self.server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._auth, compression=None
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def _auth(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path != "/ws":
            return conn.respond(404, "not found\n")
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return conn.respond(401, "missing or wrong API key\n")

    async def _handle(self, conn: ServerConnection) -> None:
        self.conn = conn
        self.connected.set()
        try:
            async for raw in conn:
                msg = json.loads(raw)
                self.received.append(msg)
                if "method" not in msg:
                    fut = self._calls.pop(msg["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                elif "id" not in msg:
                    self.notifications.append(msg)
                else:
                    self._spawn(self._answer(conn, msg))
                await self._notify()
        except ConnectionClosed:
            pass
        finally:
            for fut in self._calls.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("worker disconnected"))
            self.registered.clear()
            self.closed.set()

    async def _answer(self, conn: ServerConnection, msg: dict[str, Any]) -> None:
        method, params, id_ = msg["method"], msg.get("params") or {}, msg["id"]
        try:
            result = await self._result(method, params)
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "result": result}
        except CallFailed as exc:
            reply = {"jsonrpc": "2.0", "id": id_, "error": exc.error}
        await conn.send(json.dumps(reply))

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method in self.handlers:
            return await self.handlers[method](params)
        if method == "initialize":
            return {
                "protocolVersion": "pctx/1",
                "server": {"name": "fake", "version": "0"},
                "connectionId": "c1",
                "maxMessageBytes": 1 << 20,
                "callTimeoutMs": 60000,
                "pingIntervalMs": 15000,
            }
        if method == "register":
            ns = params["namespace"]
            if ns in self.taken:
                raise CallFailed(
                    {
                        "code": -32010,
                        "message": f'namespace "{ns}" is taken by {self.taken[ns]}',
                        "data": {"namespace": ns, "owner": self.taken[ns]},
                    }
                )
            self.registered[ns] = params
            return {
                "namespace": ns,
                "scope": params.get("scope", "global"),
                "functions": [t["name"] for t in params["tools"]],
            }
        if method == "list_functions":
            return {"text": "listing " + json.dumps(params, sort_keys=True)}
        if method == "get_function_details":
            return {"text": "details " + ",".join(params["functions"])}
        raise CallFailed({"code": -32601, "message": f"method not found: {method}"})

    async def call(self, namespace: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Send execute_tool and return the worker's whole response message."""
        _, fut = self.start_call(namespace, name, args)
        return await fut

    def start_call(
        self, namespace: str, name: str, args: Any
    ) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        assert self.conn is not None
        id_ = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[id_] = fut
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # never "unretrieved"
        frame = {
            "jsonrpc": "2.0",
            "id": id_,
            "method": "execute_tool",
            "params": {
                "namespace": namespace,
                "name": name,
                "args": args,
                "timeoutMs": 30000,
                "deadline": 0,
            },
        }
        self._spawn(self.conn.send(json.dumps(frame)))
        return id_, fut

    async def cancel(self, id_: int) -> None:
        assert self.conn is not None
        await self.conn.send(
            json.dumps(
                {"jsonrpc": "2.0", "method": "cancel", "params": {"id": id_, "reason": "cancelled"}}
            )
        )
