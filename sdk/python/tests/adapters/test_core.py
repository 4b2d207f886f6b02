"""What every adapter shares: missing extras, dispatch and argument checks, and which of
pctx's refusals go back to the model (against a real pctx where pctx is involved)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pctx_client import Pctx, tool
from pctx_client.adapters import _core, crewai
from pctx_client.exceptions import RemoteError, SessionError
from tests.integration.conftest import Launcher, PctxProcess, pctx_binary

ADAPTERS: dict[str, Callable[[Pctx], Any]] = {
    "langchain": Pctx.langchain_tools,
    "crewai": Pctx.crewai_tools,
    "openai": Pctx.openai_agents_tools,
    "pydantic-ai": Pctx.pydantic_ai_tools,
    "claude": Pctx.claude_agent_sdk_tools,
}
# What each adapter imports, to hide it as if the extra were not installed.
FRAMEWORK_MODULES = {
    "langchain": "langchain_core",
    "crewai": "crewai",
    "openai": "agents",
    "pydantic-ai": "pydantic_ai",
    "claude": "claude_agent_sdk",
}


@pytest.mark.parametrize("extra", sorted(ADAPTERS))
def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    top = FRAMEWORK_MODULES[extra]
    for name in [top, *(m for m in list(sys.modules) if m.startswith(top + "."))]:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it now fails
    crewai._tool_class.cache_clear()
    try:
        with pytest.raises(ImportError, match=rf'pip install "pctx-client\[{extra}\]"'):
            ADAPTERS[extra](Pctx())
    finally:
        crewai._tool_class.cache_clear()


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("nope", {}, "unknown Code Mode tool 'nope'; expected one of execute_typescript, "),
        ("execute_bash", {"command": "ls"}, "unknown Code Mode tool 'execute_bash'"),
        ("list_functions", "{oops", "list_functions: arguments are not valid JSON"),
        ("list_functions", "[1]", "list_functions: arguments must be an object, got list"),
        ("search_functions", {}, "search_functions: 1 validation error"),
        ("search_functions", {"query": "x", "k": "many"}, "search_functions: 1 validation error"),
        ("get_function_details", {"functions": [1]}, "get_function_details: 1 validation error"),
        ("execute_typescript", {}, "execute_typescript: 1 validation error"),
    ],
)
async def test_call_tool_checks_arguments_before_connecting(
    name: str, args: Any, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        await Pctx().call_tool(name, args)


async def test_calls_before_connect_raise_session_error() -> None:
    p = Pctx()
    with pytest.raises(SessionError, match=r"run Pctx\(...\).connect\(\) before calling"):
        await p.call_tool("list_functions", None)
    # A framework's sync path, from a thread, runs the call on a loop of its own...
    with pytest.raises(SessionError):
        await asyncio.to_thread(
            _core.call_tool_sync, p, "list_functions", {}, _core.ToolDisclosure.CATALOG
        )
    # ...and refuses to block a running loop.
    with pytest.raises(RuntimeError, match="called synchronously on a running event loop"):
        _core.call_tool_sync(p, "list_functions", {}, _core.ToolDisclosure.CATALOG)


def test_parse_arguments_drops_nulls() -> None:
    assert _core.parse_arguments("t", '{"query": "x", "k": null}') == {"query": "x"}
    assert _core.parse_arguments("t", " ") == {}
    assert _core.parse_arguments("t", None) == {}


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PctxProcess]:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("pctx"))
    try:
        yield launcher({}, server={"max_executions_per_session": 1})
    finally:
        launcher.stop_all()


async def test_too_busy_goes_back_to_the_model(one_slot: PctxProcess) -> None:
    entered = asyncio.Event()

    @tool
    async def block() -> None:
        entered.set()
        await asyncio.Event().wait()

    async with Pctx(tools=[block], url=one_slot.url) as p:
        held = asyncio.create_task(p.execute_typescript("return await Tools.block()"))
        try:
            await entered.wait()  # the session's only execution slot is taken
            # The model can retry later: pctx's -32011 is a ValueError (the adapters'
            # error text), not an exception that ends the agent's run.
            with pytest.raises(ValueError, match="retry when one has finished") as info:
                await p.call_tool("execute_typescript", {"code": "return 1"})
            assert isinstance(info.value.__cause__, RemoteError)
            assert info.value.__cause__.code == -32011
        finally:
            held.cancel()
