"""Pctx against the fake pctx endpoint: the protocol round trips, no Go needed."""

import asyncio
import json
import socket
import threading

import pytest
from pydantic import BaseModel

from pctx_client import AsyncTool, Pctx, tool
from pctx_client.errors import (
    AuthenticationError,
    ConnectError,
    ConnectionLostError,
    RegistrationError,
    RemoteError,
)
from tests import seed_tools
from tests.fakepctx import FakePctx


@tool(namespace="t")
def boom(customer_id: str) -> None:
    raise KeyError(f"customer {customer_id} not found")


@tool(namespace="t")
def silent() -> None:
    raise RuntimeError


class _Row(BaseModel):
    id: int


@tool(namespace="t")
def parse_row(raw: str) -> int:
    """The tool's own body fails pydantic validation: a tool error, not bad arguments."""
    return _Row.model_validate_json(raw).id


async def test_connect_initializes_and_registers_per_namespace(fake):
    async with Pctx(tools=seed_tools.SEED_TOOLS, url=fake.url) as p:
        assert p.connected
        first = fake.received[0]
        assert first["method"] == "initialize"
        assert first["params"]["protocolVersion"] == "pctx/1"
        assert first["params"]["client"]["name"] == "pctx-client-python"
        assert p.server_info["connectionId"] == "c1"
        assert sorted(fake.registered) == ["data", "ml", "search", "tools"]
        data = fake.registered["data"]
        assert "scope" not in data
        assert [t["name"] for t in data["tools"]] == [
            "analyze_sentiment",
            "fetch_database_metrics",
            "update_risk_score",
        ]
        assert data["tools"][2]["params"] == ["customer_id", "score"]
        assert p.registered["search"] == ["vector_search"]
    assert not p.connected
    await fake.closed.wait()


async def test_execute_tool_round_trip(fake):
    async with Pctx(tools=seed_tools.SEED_TOOLS, url=fake.url):
        reply = await fake.call("data", "analyze_sentiment", {"text": "meh"})
        assert reply["result"] == {"value": {"positive": 0.1, "negative": 0.8, "neutral": 0.1}}
        reply = await fake.call("search", "vector_search", {"query": "performance", "top_k": 2})
        hits = reply["result"]["value"]
        assert [h["title"] for h in hits] == ["Connection pooling", "Caching guide"]
        reply = await fake.call(
            "data", "update_risk_score", {"customer_id": "cust_12345", "score": 0.85}
        )
        assert reply["result"] == {"value": None}
        assert seed_tools.DB.risk_score("cust_12345") == 0.85
        reply = await fake.call("data", "fetch_database_metrics", {})
        assert [m["name"] for m in reply["result"]["value"]] == ["p99_latency_ms", "error_rate"]


@pytest.mark.parametrize(
    ("namespace", "name", "args", "code", "message", "type_"),
    [
        ("t", "boom", {"customer_id": "cust_9"}, -32000, "'customer cust_9 not found'", "KeyError"),
        ("t", "silent", {}, -32000, "(no message)", "RuntimeError"),
        (
            "t",
            "boom",
            {},
            -32602,
            "invalid arguments: customer_id: Field required",
            "ValidationError",
        ),
        (
            "t",
            "parse_row",
            {"raw": '{"id": "x"}'},
            -32000,
            "1 validation error for _Row",
            "ValidationError",
        ),
        ("t", "parse_row", {}, -32602, "invalid arguments: raw: Field required", "ValidationError"),
        ("t", "nope", {}, -32601, "no tool t.nope on this worker", None),
        ("t", "boom", [1], -32602, "t.boom: args must be an object", None),
    ],
)
async def test_execute_tool_errors(fake, namespace, name, args, code, message, type_):
    async with Pctx(tools=[boom, silent, parse_row], url=fake.url):
        reply = await fake.call(namespace, name, args)
        err = reply["error"]
        assert err["code"] == code
        # A tool's own message is long (pydantic lists every problem): its start suffices.
        assert err["message"] == message or (code == -32000 and message in err["message"])
        assert (err.get("data") or {}).get("type") == type_
        if code == -32000:
            assert "Traceback" in err["data"]["traceback"]


async def test_many_calls_run_concurrently(fake):
    n = 200
    started = 0
    all_started = asyncio.Event()

    @tool(namespace="c")
    async def wait_for_all(i: int) -> int:
        nonlocal started
        started += 1
        if started == n:
            all_started.set()
        await all_started.wait()  # deadlocks unless every call is in flight at once
        return i * 2

    async with Pctx(tools=[wait_for_all], url=fake.url):
        replies = await asyncio.gather(
            *(fake.call("c", "wait_for_all", {"i": i}) for i in range(n))
        )
    assert [r["result"]["value"] for r in replies] == [i * 2 for i in range(n)]


async def test_sync_calls_run_in_parallel_threads(fake):
    barrier = threading.Barrier(3, timeout=10)

    @tool(namespace="c")
    def meet() -> int:
        return barrier.wait()  # needs three threads at once; the loop stays free

    async with Pctx(tools=[meet], url=fake.url):
        replies = await asyncio.gather(*(fake.call("c", "meet", {}) for _ in range(3)))
    assert sorted(r["result"]["value"] for r in replies) == [0, 1, 2]


async def test_cancel_notification_cancels_the_call(fake):
    entered, cancelled = asyncio.Event(), asyncio.Event()

    @tool(namespace="c")
    async def forever() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @tool(namespace="c")
    async def quick() -> str:
        return "ok"

    async with Pctx(tools=[forever, quick], url=fake.url):
        id_, fut = fake.start_call("c", "forever", {})
        await entered.wait()
        await fake.cancel(id_)
        await cancelled.wait()
        # The connection still serves, and the cancelled call got no answer.
        assert (await fake.call("c", "quick", {}))["result"] == {"value": "ok"}
        assert not fut.done()


async def test_namespace_taken_is_a_registration_error(fake):
    @tool(namespace="github")
    def create_issue(title: str) -> None: ...

    p = Pctx(tools=[create_issue], url=fake.url)
    with pytest.raises(RegistrationError) as info:
        await p.connect()
    assert info.value.code == -32010
    assert info.value.data == {"namespace": "github", "owner": "upstream:github"}
    assert 'namespace "github" is taken by upstream:github' in str(info.value)
    assert not p.connected
    await fake.closed.wait()


async def test_api_key():
    async with FakePctx(api_key="k") as server:
        with pytest.raises(AuthenticationError, match=r"HTTP 401.*check api_key"):
            await Pctx(url=server.url, api_key="wrong").connect()
        with pytest.raises(AuthenticationError, match="requires api_key"):
            await Pctx(url=server.url).connect()
        async with Pctx(url=server.url, api_key="k") as p:
            assert p.connected


async def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectError, match=f"cannot connect to pctx at ws://127.0.0.1:{port}/ws"):
        await Pctx(url=f"http://127.0.0.1:{port}").connect()


async def test_code_mode_requests(fake):
    async def execute(params):
        assert params == {"code": "return 1"}
        return {
            "value": {"a": 1},
            "console": [{"level": "log", "text": "hi"}],
            "durationMs": 1.5,
            "calls": 2,
            "text": '{"a":1}',
        }

    async def failing(params):
        return {
            "value": None,
            "console": [],
            "error": {"kind": "runtime", "message": "x is not defined", "line": 1, "column": 8},
            "durationMs": 0.2,
            "calls": 0,
            "text": "Error",
        }

    fake.handlers["execute_typescript"] = execute
    async with Pctx(url=fake.url) as p:
        assert await p.list_functions() == "listing {}"
        assert await p.list_functions(namespace="data", query="risk") == (
            'listing {"namespace": "data", "query": "risk"}'
        )
        assert await p.get_function_details(["data.a", "ml.b"]) == "details data.a,ml.b"
        res = await p.execute("return 1")
        assert res.ok
        assert (res.value, res.duration_ms, res.calls, res.text) == ({"a": 1}, 1.5, 2, '{"a":1}')
        assert [(c.level, c.text) for c in res.console] == [("log", "hi")]
        fake.handlers["execute_typescript"] = failing
        res = await p.execute("return x")
        assert not res.ok
        assert res.error is not None
        assert (res.error.kind, res.error.message, res.error.line, res.error.column) == (
            "runtime",
            "x is not defined",
            1,
            8,
        )
        with pytest.raises(RemoteError, match=r"code_mode_tools: method not found") as info:
            await p.code_mode_tools()
        assert info.value.code == -32601


async def test_cancelling_execute_sends_cancel(fake):
    never = asyncio.Event()

    async def hang(params):
        await never.wait()

    fake.handlers["execute_typescript"] = hang
    async with Pctx(url=fake.url) as p:
        task = asyncio.create_task(p.execute("while(true){}"))
        await fake.wait_until(
            lambda: any(m.get("method") == "execute_typescript" for m in fake.received)
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        exec_id = next(m["id"] for m in fake.received if m.get("method") == "execute_typescript")
        await fake.wait_until(lambda: bool(fake.notifications))
        assert fake.notifications[0]["method"] == "cancel"
        assert fake.notifications[0]["params"] == {"id": exec_id}
        never.set()


async def test_connection_loss_fails_pending_work(fake):
    entered, cancelled = asyncio.Event(), asyncio.Event()

    @tool(namespace="c")
    async def forever() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def hang(params):
        await asyncio.Event().wait()

    fake.handlers["execute_typescript"] = hang
    p = Pctx(tools=[forever], url=fake.url)
    await p.connect()
    fake.start_call("c", "forever", {})
    await entered.wait()
    pending = asyncio.create_task(p.execute("return 1"))
    await fake.wait_until(
        lambda: any(m.get("method") == "execute_typescript" for m in fake.received)
    )
    assert fake.conn is not None
    await fake.conn.close(1001, "going away")
    with pytest.raises(ConnectionLostError, match="pctx connection ended"):
        await pending
    await p.wait_closed()
    await cancelled.wait()  # the running tool call was cancelled too
    assert not p.connected
    with pytest.raises(ConnectionLostError, match="not connected"):
        await p.list_functions()
    await p.disconnect()
    # connect() again re-registers everything.
    await p.connect()
    assert "c" in fake.registered
    await p.disconnect()
    await p.disconnect()  # idempotent


async def test_worker_answers_server_pings_and_unknown_methods(fake):
    async with Pctx(url=fake.url):
        assert fake.conn is not None
        await fake.conn.send(json.dumps({"jsonrpc": "2.0", "id": 900, "method": "ping"}))
        await fake.conn.send(
            json.dumps({"jsonrpc": "2.0", "id": 901, "method": "nope", "params": {}})
        )
        await fake.conn.send("{not json")
        await fake.wait_until(
            lambda: len([m for m in fake.received if m.get("id") in (900, 901, None)]) == 3
        )
    by_id = {m.get("id"): m for m in fake.received}
    assert by_id[900]["result"] == {}
    assert by_id[901]["error"]["code"] == -32601
    assert by_id[None]["error"]["code"] == -32700


async def test_result_over_the_server_limit_is_an_error(fake):
    @tool(namespace="c")
    def big() -> str:
        return "x" * (2 << 20)  # the fake announces a 1 MiB limit

    async with Pctx(tools=[big], url=fake.url):
        err = (await fake.call("c", "big", {}))["error"]
    assert err["code"] == -32000
    assert "over pctx's limit of 1048576 bytes" in err["message"]


async def test_request_over_the_server_limit_is_refused_locally(fake):
    async with Pctx(url=fake.url) as p:
        with pytest.raises(ValueError, match="over pctx's limit of 1048576 bytes"):
            await p.execute("//" + "x" * (1 << 20))
        assert p.connected  # nothing was sent; the connection lives on


async def test_non_json_result_is_an_error(fake):
    @tool(namespace="c")
    def nan() -> float:
        return float("nan")

    async with Pctx(tools=[nan], url=fake.url):
        err = (await fake.call("c", "nan", {}))["error"]
    assert err["code"] == -32000
    assert "JSON" in err["message"]


async def test_session_scope_is_sent(fake):
    class Rows(AsyncTool):
        name = "rows"
        namespace = "data"

        async def _ainvoke(self, n: int) -> list[int]:
            return list(range(n))

    async with Pctx(tools=[Rows()], url=fake.url, scope="session"):
        assert fake.registered["data"]["scope"] == "session"
    with pytest.raises(ValueError, match="scope"):
        Pctx(scope="everywhere")  # type: ignore[arg-type]


async def test_protocol_version_mismatch(fake):
    async def old(params):
        return {"protocolVersion": "pctx/0"}

    fake.handlers["initialize"] = old
    with pytest.raises(ConnectError, match="pctx speaks protocol 'pctx/0'"):
        await Pctx(url=fake.url).connect()
