"""The websocket peer's protocol edge cases, against a scripted server on loopback.

pctx never sends these frames (pings, unknown methods, garbage, responses nobody asked
for) and cannot be made to drop a connection at an exact point, so a small websocket
server plays its side here; everything pctx does send is tested against the real one
under tests/integration/ and tests/compat/.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from pctx_client import _protocol as wire
from pctx_client import tool
from pctx_client._rpc import Peer, UpgradeRefused, open_websocket
from pctx_client._serve import answer
from pctx_client._worker import Worker
from pctx_client.exceptions import (
    AuthenticationError,
    ConnectionError,
    ConnectionLostError,
    RemoteError,
)


@dataclass
class Server:
    """One scripted pctx: hands each accepted connection to the test."""

    url: str
    connections: asyncio.Queue[ServerConnection] = field(default_factory=asyncio.Queue)
    status: int = 101  # what the upgrade answers; 101 accepts

    async def accept(self) -> ServerConnection:
        return await asyncio.wait_for(self.connections.get(), 30)

    async def recv(self, conn: ServerConnection) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(conn.recv(), 30))  # type: ignore[no-any-return]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    box: list[Server] = []

    async def handler(conn: ServerConnection) -> None:
        await box[0].connections.put(conn)
        await conn.wait_closed()

    def refuse(conn: ServerConnection, request: Any) -> Any:
        if box[0].status != 101:
            return conn.respond(box[0].status, "refused by the script\n")
        return None

    async with serve(handler, "127.0.0.1", 0, process_request=refuse) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        box.append(Server(f"ws://127.0.0.1:{port}/ws"))
        yield box[0]


def tools(entered: asyncio.Event) -> dict[tuple[str, str], Any]:
    @tool(namespace="c")
    async def forever() -> None:
        entered.set()
        await asyncio.Event().wait()

    @tool(namespace="c")
    def big() -> str:
        return "x" * 2048

    @tool(namespace="c")
    async def quick() -> str:
        return "ok"

    return {(t.namespace, t.name): t for t in [forever, big, quick]}


async def connect_peer(server: Server) -> tuple[Peer, ServerConnection, asyncio.Event]:
    """A peer serving tools() over a new connection; the event is set when forever runs."""
    entered = asyncio.Event()
    served = tools(entered)
    ws = await open_websocket(server.url, {}, "test")

    async def on_call(id_: Any, params: Any) -> str:
        return await answer(served, id_, params, "worker")

    peer = Peer(ws, on_call, "test")
    return peer, await server.accept(), entered


def call_frame(id_: Any, name: str) -> str:
    return wire.request(id_, "execute_tool", {"namespace": "c", "name": name, "args": {}})


async def test_pings_unknown_methods_and_garbage(server: Server) -> None:
    peer, conn, _ = await connect_peer(server)
    await conn.send(json.dumps({"jsonrpc": "2.0", "id": 900, "method": "ping"}))
    assert await server.recv(conn) == {"jsonrpc": "2.0", "id": 900, "result": {}}
    await conn.send(json.dumps({"jsonrpc": "2.0", "id": 901, "method": "nope", "params": {}}))
    reply = await server.recv(conn)
    assert (reply["id"], reply["error"]["code"]) == (901, -32601)
    # Garbage, a non-object, an answer nobody asked for and a notification of no interest
    # are logged and dropped; the connection keeps serving.
    for frame in [
        "{not json",
        "[1]",
        '{"jsonrpc":"2.0","id":5,"result":1}',
        wire.notification("x", {}),
    ]:
        await conn.send(frame)
    await conn.send(call_frame(1, "quick"))
    assert await server.recv(conn) == {"jsonrpc": "2.0", "id": 1, "result": {"value": "ok"}}
    assert not peer.closed.is_set()
    await peer.close()


async def test_cancel_notification_cancels_the_call_and_sends_no_answer(server: Server) -> None:
    peer, conn, entered = await connect_peer(server)
    await conn.send(call_frame("slow", "forever"))
    await entered.wait()
    task = peer._calls["slow"]
    await conn.send(wire.notification("cancel", {"id": "slow", "reason": "timeout"}))
    with pytest.raises(asyncio.CancelledError):
        await task
    await conn.send(call_frame(2, "quick"))
    # The next frame is the quick call's answer: the cancelled call got none.
    assert await server.recv(conn) == {"jsonrpc": "2.0", "id": 2, "result": {"value": "ok"}}
    await peer.close()


async def test_results_and_requests_over_the_limit(server: Server) -> None:
    peer, conn, _ = await connect_peer(server)
    peer.max_message = 1024  # as pctx's initialize announces it
    await conn.send(call_frame(3, "big"))
    err = (await server.recv(conn))["error"]
    assert err["code"] == -32000
    frame_size = len(wire.result(3, {"value": "x" * 2048}).encode())
    assert err["message"] == f"the result is {frame_size} bytes, over pctx's limit of 1024 bytes"
    assert err["data"] == {"type": "ResultTooLarge"}
    # A request pctx would refuse (closing the whole connection) is refused here.
    with pytest.raises(ValueError, match="over pctx's limit of 1024 bytes"):
        await peer.request("execute_typescript", {"code": "//" + "x" * 2048})
    assert not peer.closed.is_set()
    await peer.close()


async def test_errors_answers_and_cancelled_requests(server: Server) -> None:
    peer, conn, _ = await connect_peer(server)
    pending = asyncio.create_task(peer.request("list_functions", {}))
    sent = await server.recv(conn)
    await conn.send(wire.error(sent["id"], -32011, "too busy", {"limit": 8}))
    with pytest.raises(RemoteError) as info:
        await pending
    assert (info.value.method, info.value.code, info.value.remote_message) == (
        "list_functions",
        -32011,
        "too busy",
    )
    assert info.value.data == {"limit": 8}
    # Cancelling the wait tells pctx to stop the work.
    waiting = asyncio.create_task(peer.request("execute_typescript", {"code": "1"}))
    sent = await server.recv(conn)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await server.recv(conn) == {
        "jsonrpc": "2.0",
        "method": "cancel",
        "params": {"id": sent["id"]},
    }
    await peer.close()


async def test_connection_loss_fails_requests_and_cancels_calls(server: Server) -> None:
    peer, conn, entered = await connect_peer(server)
    await conn.send(call_frame("held", "forever"))
    await entered.wait()
    call = peer._calls["held"]
    pending = asyncio.create_task(peer.request("execute_typescript", {"code": "1"}))
    await server.recv(conn)
    await conn.close(1001, "going away")
    with pytest.raises(ConnectionLostError, match="pctx connection ended"):
        await pending
    with pytest.raises(asyncio.CancelledError):
        await call  # nobody could receive its answer
    with pytest.raises(ConnectionLostError, match="not connected"):
        await peer.request("list_functions", {})
    await peer.close()  # safe after the loss


async def test_upgrade_refusals(server: Server) -> None:
    for status, error in [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, UpgradeRefused),
    ]:
        server.status = status
        with pytest.raises(error, match=rf"HTTP {status}\)?: refused by the script"):
            await open_websocket(server.url, {}, "test")
    with pytest.raises(ConnectionError, match=r"Failed to connect to ws://127\.0\.0\.1:9/ws"):
        await open_websocket("ws://127.0.0.1:9/ws", {}, "test")


async def test_worker_refuses_another_protocol_version(server: Server) -> None:
    worker = Worker(
        server.url,
        list(tools(asyncio.Event()).values()),
        headers={},
        client_name="test",
        connect_timeout=30,
        reconnect=False,
        backoff=(0.1, 1),
    )
    start = asyncio.create_task(worker.start())
    conn = await server.accept()
    init = await server.recv(conn)
    assert init["method"] == "initialize"
    assert init["params"]["protocolVersion"] == "pctx/1"
    assert init["params"]["client"]["name"] == "test"
    await conn.send(wire.result(init["id"], {"protocolVersion": "pctx/0"}))
    with pytest.raises(ConnectionError, match="this client speaks 'pctx/1'"):
        await start
    assert not worker.connected
