"""Our SDK's published-API surface against a real pctx: sessions, search, errors, scope,
reconnection. (The same scenarios with the published client: tests/compat/.)"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pctx_client import Pctx, ToolContext, tool
from pctx_client.exceptions import (
    ConnectionError,
    ConnectionLostError,
    HTTPStatusError,
    RemoteError,
    SessionError,
)
from tests.integration.conftest import Launcher, PctxProcess, pctx_binary

CALLS: list[tuple[str, float, float]] = []


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two numbers together"""
    return a + b


@tool
def greet(name: str, greeting: str = "Hello") -> str:
    """Greet someone with a custom greeting"""
    return f"{greeting}, {name}!"


@tool(name="foo_bar", namespace="namespaced_with_underscore")
def namespaced_fn(val: str) -> str:
    return f"Hello {val}"


@tool
async def nap(ctx: ToolContext, label: str) -> str:
    """Sleep a quarter second (async)."""
    start = time.monotonic()
    await asyncio.sleep(0.25)
    CALLS.append((label, start, time.monotonic()))
    return f"{ctx.name}:{label}"


@tool
def fail(item: str) -> float:
    """Always fails."""
    raise KeyError(f"no such item {item}")


TOOLS = [add_numbers, greet, namespaced_fn, nap, fail]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PctxProcess]:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("pctx"))
    try:
        yield launcher({})
    finally:
        launcher.stop_all()


def client(server: PctxProcess, **kw: Any) -> Pctx:
    return Pctx(tools=TOOLS, url=server.url, **kw)


async def test_before_connect_the_adapters_build_and_calls_say_connect(
    server: PctxProcess,
) -> None:
    p = client(server)
    names = [t.name for t in p.langchain_tools()]
    assert names == [
        "execute_typescript",
        "list_functions",
        "search_functions",
        "get_function_details",
    ]
    assert [t.name for t in p.langchain_tools(disclosure="filesystem")] == [
        "execute_bash",
        "execute_typescript",
    ]
    with pytest.raises(SessionError, match="connect"):
        await p.list_functions()


async def test_session_tools_listed_searched_detailed_and_called(server: PctxProcess) -> None:
    async with client(server) as p:
        listed = await p.list_functions()
        names = {f"{f.namespace}.{f.name}" for f in listed.functions}
        assert len(names) == 5, names
        found = await p.search_functions("Add numbers together", 3)
        assert [f.description for f in found] == ["Add two numbers together"]
        assert len(await p.search_functions("namespaced", 3)) == 1
        assert len(await p.search_functions("bar", 3)) == 1
        assert len(await p.search_functions("Greet number", 5)) == 2
        fn = next(f for f in listed.functions if f.description == "Add two numbers together")
        details = await p.get_function_details([f"{fn.namespace}.{fn.name}"])
        assert details.functions[0].types
        assert fn.name in details.code
        out = await p.execute_typescript(
            f"async function run() {{ console.log('hi'); console.warn('careful');"
            f" return await {fn.namespace}.{fn.name}({{ a: 10, b: 32 }}); }}"
        )
        assert (out.success, out.output, out.stdout, out.stderr) == (True, 42, "hi", "careful")
        assert out.markdown().startswith(
            "Code Executed Successfully: True\n\n# Return Value\n```json\n42\n```"
        )
        shell = await p.execute_bash("cat README.md")
        assert shell.exit_code == 0
        assert fn.name in shell.stdout


async def test_errors_as_the_published_client_formats_them(server: PctxProcess) -> None:
    async with client(server) as p:
        fn = next(
            f for f in (await p.list_functions()).functions if f.description == "Always fails."
        )
        call = f"{fn.namespace}.{fn.name}"
        out = await p.execute_typescript(f'return await {call}({{ item: "unicorn" }})')
        assert not out.success
        assert f"{call}: Failed executing tool: 'no such item unicorn'" in out.stderr
        bad = await p.execute_typescript(f"return await {call}({{ item: 5 }})")
        assert not bad.success
        assert "item" in bad.stderr
        thrown = await p.execute_typescript('throw new Error("Intentional test error")')
        assert not thrown.success
        assert "Intentional test error" in thrown.stderr
        assert "Code Executed Successfully: False" in thrown.markdown()
        with pytest.raises(HTTPStatusError) as info:
            await p.get_function_details(["Nope.nothing"])
        assert isinstance(info.value, httpx.HTTPStatusError)
        assert info.value.status_code == 400


async def test_concurrent_async_calls_overlap(server: PctxProcess) -> None:
    CALLS.clear()
    async with client(server) as p:
        fn = next(
            f for f in (await p.list_functions()).functions if "quarter" in (f.description or "")
        )
        call = f"{fn.namespace}.{fn.name}"
        out = await p.execute_typescript(
            f"return await Promise.all(['a','b','c','d'].map((l) => {call}({{ label: l }})))"
        )
        assert out.success, out.stderr
        assert out.output == [f"nap:{x}" for x in "abcd"]
    assert len(CALLS) == 4
    # Every call started before any ended: they ran at once, whatever the machine's speed.
    assert max(s for _, s, _ in CALLS) < min(e for _, _, e in CALLS)


async def test_execute_timeout_raises_timeout_error(server: PctxProcess) -> None:
    async with Pctx(url=server.url, execute_timeout=0.2) as p:
        with pytest.raises(TimeoutError, match=r"timed out after 0\.2s"):
            await p.execute_typescript("while (true) {}")
        out = await p.execute_typescript("return 1")  # the session still works
        assert out.output == 1


async def test_global_scope_is_visible_to_other_clients(server: PctxProcess) -> None:
    async with client(server, scope="global") as owner, Pctx(url=server.url) as other:
        assert owner.registered["tools"] == ["add_numbers", "greet", "nap", "fail"]
        listed = await other.list_functions()
        # Naming depends on the server's conventions for sessions (add_numbers, addNumbers).
        fn = next(f for f in listed.functions if f.name.replace("_", "").lower() == "addnumbers")
        out = await other.execute_typescript(
            f"return await {fn.namespace}.{fn.name}({{ a: 1, b: 2 }})"
        )
        assert out.output == 3, out.stderr
    async with Pctx(url=server.url) as later:
        names = {f.name.replace("_", "").lower() for f in (await later.list_functions()).functions}
        assert "addnumbers" not in names  # gone with its owner


async def test_reconnects_after_pctx_restarts(tmp_path_factory: pytest.TempPathFactory) -> None:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("restart"))
    try:
        proc = launcher({})
        p = client(proc, connect_timeout=30.0)
        p._backoff = (0.05, 0.5)
        await p.connect()
        try:
            first = p.session_id
            proc.stop()
            proc.start()  # same port: the session is gone, the client makes a new one
            deadline = time.monotonic() + 30
            while p.session_id == first or not p.connected:
                assert time.monotonic() < deadline, "no reconnection"
                await asyncio.sleep(0.05)
            out = await p.execute_typescript("return 7")
            assert out.output == 7
            assert p.session_id != first
            listed = await p.list_functions()
            assert len(listed.functions) == 5  # tools registered again
        finally:
            await p.disconnect()
    finally:
        launcher.stop_all()


async def test_sync_calls_run_in_parallel_threads(server: PctxProcess) -> None:
    barrier = threading.Barrier(3, timeout=60)

    @tool
    def meet() -> int:
        return barrier.wait()  # needs three threads at once; the loop stays free

    async with Pctx(tools=[meet], url=server.url) as p:
        out = await p.execute_typescript(
            "return await Promise.all([1, 2, 3].map(() => Tools.meet()))"
        )
    assert out.success, out.stderr
    assert sorted(out.output) == [0, 1, 2]


async def test_a_result_that_is_not_json_fails_the_call(server: PctxProcess) -> None:
    @tool
    def ratio() -> float:
        return math.nan

    async with Pctx(tools=[ratio], url=server.url) as p:
        out = await p.execute_typescript(
            "try { return await Tools.ratio(); } catch (e) { return e.message; }"
        )
    assert out.success, out.stderr
    assert out.output.startswith("Tools.ratio: Failed executing tool: Out of range float"), (
        out.output
    )


async def test_a_request_over_pctx_limit_is_refused_here(server: PctxProcess) -> None:
    async with Pctx(url=server.url) as p:
        with pytest.raises(ValueError, match="over pctx's limit of 16777216 bytes"):
            await p.execute_typescript("//" + "x" * (16 << 20))
        assert p.connected  # nothing was sent; the connection lives on
        assert (await p.execute_typescript("return 2")).output == 2


async def test_unreachable_server_says_how_to_start_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = Pctx(url=f"http://127.0.0.1:{port}")
    with pytest.raises(
        ConnectionError, match=f"Failed to connect to PCTX server at http://127.0.0.1:{port}"
    ):
        await p.connect()
    assert not p.connected
    with pytest.raises(SessionError):
        await p.list_functions()


def test_scope_is_checked() -> None:
    with pytest.raises(ValueError, match="scope must be 'session' or 'global'"):
        Pctx(scope="everywhere")  # type: ignore[arg-type]


async def test_connection_loss_fails_the_run_and_connect_starts_over(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    entered = asyncio.Event()

    @tool
    async def hang() -> None:
        entered.set()
        await asyncio.Event().wait()

    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("loss"))
    try:
        proc = launcher({})
        p = Pctx(tools=[hang], url=proc.url, reconnect=False)
        await p.connect()
        run = asyncio.create_task(p.execute_typescript("return await Tools.hang()"))
        await entered.wait()
        assert proc.proc is not None
        proc.proc.kill()  # no goodbye
        with pytest.raises(ConnectionLostError, match="pctx connection ended"):
            await run
        async with asyncio.timeout(60):  # only catches a hang
            await p.wait_closed()
        assert not p.connected
        with pytest.raises(ConnectionLostError, match="connection lost"):
            await p.execute_typescript("return 1")
        proc.proc.wait()
        proc.start()
        await p.connect()  # starts over: a new session, the tools registered again
        assert [f.name for f in (await p.list_functions()).functions] == ["hang"]
        await p.disconnect()
        await p.disconnect()  # idempotent
    finally:
        launcher.stop_all()


async def test_reconnection_refused_by_the_key_stops_the_client(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("refused"))
    try:
        proc = launcher({})
        p = client(proc, connect_timeout=30.0)
        p._backoff = (0.05, 0.5)
        await p.connect()
        proc.stop()
        proc.config.write_text(proc.config.read_text() + 'api_key = "k"\n')
        proc.start()  # the same port, now with a key this client does not send
        async with asyncio.timeout(60):  # only catches a hang
            await p.wait_closed()
        with pytest.raises(ConnectionLostError, match=r"reconnect refused.*401"):
            await p.execute_typescript("return 1")
        await p.disconnect()
    finally:
        launcher.stop_all()


async def test_a_timed_out_run_is_stopped_in_pctx(tmp_path_factory: pytest.TempPathFactory) -> None:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("one"))
    try:
        proc = launcher({}, server={"max_executions_per_session": 1})
        async with Pctx(url=proc.url, execute_timeout=0.5) as p:
            with pytest.raises(TimeoutError):
                await p.execute_typescript("while (true) {}")
            # The client told pctx to stop (a cancel notification); the session's only
            # execution slot is free again well before pctx's own 30 s limit.
            deadline = time.monotonic() + 20

            async def run() -> Any:
                try:
                    return await p.execute_typescript("return 3")
                except RemoteError as exc:
                    return exc

            while isinstance(out := await run(), RemoteError):
                assert out.code == -32011, out  # too busy: the old run still holds the slot
                assert time.monotonic() < deadline, "the timed-out run kept its slot"
                await asyncio.sleep(0.05)
            assert out.output == 3
    finally:
        launcher.stop_all()
