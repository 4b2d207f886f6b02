"""What goes wrong, against a real pctx: disconnects, raising tools, hijacks, bad keys,
malformed frames, cancellation, and load (1,000 concurrent calls through one client)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pctx_client import Pctx, Scope, tool
from pctx_client.exceptions import HTTPStatusError, RegistrationError, RemoteError
from tests.integration.conftest import Launcher, PctxProcess, function_named, python_server


@pytest.fixture(scope="module")
def server(launch: Launcher, state_dir: Path) -> PctxProcess:
    return launch(
        {"github": python_server("github_server.py", state_dir)},
        runtime={"max_calls": 5000, "max_calls_in_flight": 2000},
    )


@pytest.fixture(scope="module")
def keyed(launch: Launcher) -> PctxProcess:
    return launch(api_key="k")


def hanging_tool(namespace: str, entered: asyncio.Event, cancelled: asyncio.Event | None = None):
    @tool(namespace=namespace)
    async def hang() -> str:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if cancelled is not None:
                cancelled.set()
            raise
        return "unreachable"

    return hang


@pytest.mark.parametrize("abrupt", [False, True], ids=["close", "crash"])
async def test_global_worker_leaving_mid_call_rejects_the_promise(server, connected, abrupt):
    ns = f"gone_{'crash' if abrupt else 'close'}"
    call = f"Gone{'Crash' if abrupt else 'Close'}.hang"
    entered = asyncio.Event()
    worker = server.client([hanging_tool(ns, entered)], scope="global", reconnect=False)
    driver = server.client()
    connected += [worker, driver]
    await worker.connect()
    await driver.connect()
    run = asyncio.create_task(
        driver.execute_typescript(
            f'try {{ await {call}(); return "answered"; }} catch (e) {{ return e.message; }}'
        )
    )
    await entered.wait()
    if abrupt:
        # A crash: the TCP connection dies without a closing handshake.
        worker._worker._peer._ws.transport.abort()  # type: ignore[union-attr]
    else:
        await worker.disconnect()
    out = await run
    assert out.success, out.stderr
    # Rejected because the worker left, not because a timeout expired.
    assert out.output == f'{call}: worker for namespace "{ns}" disconnected'


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        # As the published client words a tool's exception (the session websocket).
        ("session", "Fails.predict: Failed executing tool: model not loaded for cust_1"),
        # pctx/1 carries the exception's type.
        ("global", "Fails.predict: ValueError: model not loaded for cust_1"),
    ],
)
async def test_raising_tool_reaches_the_agent_catch(server, connected, scope: Scope, message):
    @tool(namespace="fails")
    def predict(customer_id: str) -> dict[str, Any]:
        raise ValueError(f"model not loaded for {customer_id}")

    p = server.client([predict], scope=scope)
    connected.append(p)
    await p.connect()
    out = await p.execute_typescript(
        """
        try { await Fails.predict({ customer_id: "cust_1" }); return "no error"; }
        catch (e) { return { isError: e instanceof Error, message: e.message }; }
        """
    )
    assert out.success, out.stderr
    assert out.output == {"isError": True, "message": message}
    uncaught = await p.execute_typescript('return await Fails.predict({ customer_id: "cust_2" })')
    assert not uncaught.success
    assert message.replace("cust_1", "cust_2") in uncaught.stderr
    await p.disconnect()


async def test_global_namespace_hijack_is_refused(server, connected):
    @tool(namespace="owned")
    def first() -> str:
        return "first"

    # A different definition is refused; an identical one would join the pool (protocol.md §3.6).
    @tool(namespace="owned", name="first")
    def impostor(x: int) -> str:
        return "impostor"

    @tool(namespace="github", name="create_issue")
    def fake_issue(title: str) -> str:
        return "stolen"

    owner = server.client([first], scope="global")
    connected.append(owner)
    await owner.connect()
    for thief_tool, who in [(impostor, "pool:owned"), (fake_issue, "upstream:github")]:
        thief = server.client([thief_tool], scope="global")
        connected.append(thief)
        with pytest.raises(RegistrationError) as info:
            await thief.connect()
        assert info.value.code == -32010
        assert "taken" in str(info.value)
        assert str(info.value.data["owner"]).startswith(who)
        assert not thief.connected
        assert thief.session_id is None  # the half-made connection was closed
    out = await owner.execute_typescript("return await Owned.first()")
    assert out.output == "first"


async def test_session_tools_cannot_shadow_a_global_namespace(server, connected):
    @tool(namespace="github", name="create_issue")
    def fake_issue(title: str) -> str:
        return "stolen"

    thief = server.client([fake_issue])
    connected.append(thief)
    await thief.connect()  # registered for the session only...
    with pytest.raises(HTTPStatusError) as info:  # ...and refused where it would shadow
        await thief.list_functions()
    assert info.value.status_code == 409
    assert 'session namespace "github"' in info.value.reason
    with pytest.raises(RemoteError) as run_info:
        await thief.execute_typescript('return await Github.createIssue({ title: "x" })')
    assert run_info.value.code == -32010
    assert 'session namespace "github"' in str(run_info.value)


async def test_wrong_api_key_is_refused(keyed, connected):
    for key in ["wrong", None]:
        p = keyed.client(api_key=key)
        connected.append(p)
        with pytest.raises(HTTPStatusError) as info:  # an httpx.HTTPStatusError, as published
            await p.connect()
        assert isinstance(info.value, httpx.HTTPStatusError)
        assert info.value.status_code == 401
        assert not p.connected
    for good in [
        keyed.client(api_key="k"),
        keyed.client(api_key=None, headers={"Authorization": "Bearer k"}),  # the published way
        keyed.client(api_key="k", scope="global", tools=[hanging_tool("keyed", asyncio.Event())]),
    ]:
        connected.append(good)
        await good.connect()
        assert (await good.execute_typescript("return 6 * 7")).output == 42
    req = urllib.request.Request(
        f"{keyed.url}/mcp",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as http_info:
        await asyncio.to_thread(urllib.request.urlopen, req, timeout=5)
    assert http_info.value.code == 401


@pytest.mark.parametrize(
    ("frame", "code", "status"),
    [
        ("garbage{", -32700, 1008),
        # protocol.md §8 says -32700 for "not a JSON object"; the server answers -32600
        # (invalid request) for a batch. Either is a fatal protocol error; both accepted.
        ("[1, 2]", (-32700, -32600), 1008),
        ('{"jsonrpc":"1.0","id":1,"method":"initialize"}', -32600, 1008),
        ('{"jsonrpc":"2.0","id":{"x":1},"method":"initialize"}', -32600, 1008),
        (b"\x00\x01binary", -32600, 1003),
    ],
    ids=["not-json", "batch", "bad-version", "bad-id", "binary"],
)
async def test_malformed_frames_close_only_that_connection(
    server, connected, request, frame, code, status
):
    @tool(namespace=f"steady_{request.node.callspec.id.replace('-', '_')}")
    def ping() -> str:
        return "pong"

    bystander = server.client([ping], scope="global")
    connected.append(bystander)
    await bystander.connect()
    async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        await ws.send(frame)
        reply = json.loads(await ws.recv())
        assert reply["id"] is None
        assert reply["error"]["code"] in (code if isinstance(code, tuple) else (code,))
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == status
    # The server and its other clients are fine.
    assert bystander.connected
    call = await function_named(bystander, "ping")
    assert (await bystander.execute_typescript(f"return await {call}()")).output == "pong"
    assert server.alive()


async def test_execution_timeout_cancels_global_calls_in_flight(launch, connected):
    short = launch(runtime={"timeout": "1s"})
    entered, cancelled = asyncio.Event(), asyncio.Event()
    p = short.client([hanging_tool("left", entered, cancelled)], scope="global")
    connected.append(p)
    await p.connect()
    try:
        async with asyncio.timeout(20):  # a failure detector, far above the 1 s limit
            out = await p.execute_typescript("return await Left.hang()")
    except TimeoutError:
        pytest.fail("pctx did not end the execution at its [runtime] timeout of 1s")
    assert not out.success
    assert "exceeded the 1s time limit while waiting on Left.hang" in out.stderr, out.stderr
    assert entered.is_set()
    await cancelled.wait()  # pctx sent `cancel` and the tool's task was cancelled
    assert p.connected  # the client keeps serving
    assert (await p.execute_typescript("return 1")).output == 1


async def test_tool_timeout_ends_one_call_and_the_program_goes_on(server, connected):
    entered, cancelled = asyncio.Event(), asyncio.Event()
    p = server.client([hanging_tool("slow", entered, cancelled)])
    connected.append(p)
    await p.connect()
    async with asyncio.timeout(30):  # only catches a hang: the limit below is 1 s
        out = await p.execute_typescript(
            'try { await Slow.hang(); } catch (e) { return e.message; } return "no error"',
            tool_timeout_secs=1,
        )
        assert out.success, out.stderr
        assert out.output.startswith("Slow.hang: ")
        assert "1s" in out.output, out.output
        # pctx sends a session no cancel; the client drops the call itself soon after
        # the deadline, so a hung tool does not run forever.
        await cancelled.wait()


@pytest.mark.parametrize("scope", ["session", "global"])
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_one_thousand_concurrent_calls_through_one_client(
    server, connected, sync: bool, scope: Scope
):
    calls: list[int] = []
    ns = f"bulk_{'sync' if sync else 'async'}_{scope}"
    if sync:

        @tool(namespace=ns, name="double")
        def double(i: int) -> int:
            calls.append(i)
            return i * 2
    else:

        @tool(namespace=ns, name="double")
        async def double(i: int) -> int:
            await asyncio.sleep(0)
            calls.append(i)
            return i * 2

    p: Pctx = server.client([double], scope=scope)
    connected.append(p)
    await p.connect()
    call = await function_named(p, "double")
    out = await p.execute_typescript(
        f"const r = await Promise.all(Array.from({{ length: 1000 }}, (_, i) => {call}({{ i }})));"
        " return { n: r.length, sum: r.reduce((a, b) => a + b, 0) };"
    )
    assert out.success, out.stderr
    assert out.output == {"n": 1000, "sum": 999000}
    assert sorted(calls) == list(range(1000))
    await p.disconnect()
