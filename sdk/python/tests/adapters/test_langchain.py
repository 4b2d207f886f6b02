"""LangChain: a create_agent loop with a scripted GenericFakeChatModel against real pctx."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

pytest.importorskip("langchain_core")
agents = pytest.importorskip("langchain.agents")

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402
from langchain_core.tools import StructuredTool  # noqa: E402

from pctx_client import Pctx, ToolDisclosure  # noqa: E402
from tests.adapters.conftest import (  # noqa: E402
    CATALOG,
    FILESYSTEM,
    PROGRAM,
    QUESTION,
    check_answer,
    check_listing,
    description,
    properties,
)

Step = Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(GenericFakeChatModel):
    """GenericFakeChatModel whose replies may depend on the conversation so far."""

    script: list[Step]
    seen: list[list[BaseMessage]] = []

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        reply = self.script[len(self.seen) - 1](messages)
        return ChatResult(generations=[ChatGeneration(message=reply)])


def call(name: str, args: dict[str, Any], id_: str) -> Step:
    return lambda _: AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": id_}])


def answer_from_last_tool(messages: list[BaseMessage]) -> AIMessage:
    last = messages[-1]
    assert isinstance(last, ToolMessage)
    return AIMessage(content=f"Here is what I found: {last.content}")


async def run_agent(tools: list[Any], script: list[Step]) -> tuple[dict[str, str], str]:
    """Run the agent loop; each tool call's output by call id, and the final answer."""
    model = ScriptedChatModel(messages=iter([]), script=script, seen=[])
    agent = agents.create_agent(model, tools)
    state = await agent.ainvoke({"messages": [HumanMessage(QUESTION)]})
    outputs = {
        m.tool_call_id: str(m.content) for m in state["messages"] if isinstance(m, ToolMessage)
    }
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    return outputs, str(final.content)


def test_tools_are_the_published_adapters(server: Any) -> None:
    # Built before connect(), as the published adapters can be.
    p = Pctx(url=server.url)
    tools = p.langchain_tools()
    assert [t.name for t in tools] == CATALOG
    for t in tools:
        assert isinstance(t, StructuredTool)
        assert t.description == description(t.name)
        assert t.args == properties(t.name)
    fs = p.langchain_tools(disclosure="filesystem")
    assert [t.name for t in fs] == FILESYSTEM
    assert fs[1].description == description("execute_typescript", ToolDisclosure.FS)
    custom = p.langchain_tools(descriptions={"execute_typescript": "Run it."})
    assert custom[0].description == "Run it."


async def test_agent_lists_searches_details_then_executes(p: Pctx) -> None:
    outputs, final = await run_agent(
        p.langchain_tools(),
        [
            call("list_functions", {}, "c1"),
            call("search_functions", {"query": "weather forecast for a city", "k": 3}, "c2"),
            call("get_function_details", {"functions": ["Weather.forecast"]}, "c3"),
            call("execute_typescript", {"code": PROGRAM}, "c4"),
            answer_from_last_tool,
        ],
    )
    check_listing(outputs["c1"])
    assert outputs["c2"].splitlines()[0] == (
        "Weather.forecast: Today's forecast for a city: condition and high temperature in Celsius."
    )
    assert "city: string" in outputs["c3"], outputs["c3"]
    check_answer(final)


async def test_agent_with_the_filesystem_disclosure(p: Pctx) -> None:
    outputs, final = await run_agent(
        p.langchain_tools(disclosure="filesystem"),
        [
            call("execute_bash", {"command": "grep -i 'forecast for a city' README.md"}, "c1"),
            call("execute_bash", {"command": "cat Weather/forecast.d.ts"}, "c2"),
            call("execute_typescript", {"code": PROGRAM}, "c3"),
            answer_from_last_tool,
        ],
    )
    assert outputs["c1"].startswith("Exit Code: 0\n"), outputs["c1"]
    assert "Weather/forecast.d.ts" in outputs["c1"]
    assert "city: string" in outputs["c2"]
    check_answer(final)


async def test_bad_arguments_come_back_as_tool_error_text(p: Pctx) -> None:
    by_name = {t.name: t for t in p.langchain_tools()}
    failed = await by_name["execute_typescript"].ainvoke({"code": "throw new Error('boom')"})
    # A failing program is a result the model reads, not an exception.
    assert failed.startswith("Code Executed Successfully: False")
    assert "boom" in failed
    # Arguments that do not fit never reach pctx; the model reads why.
    text = await by_name["get_function_details"].ainvoke({"functions": 3})
    assert text.startswith("get_function_details: "), text
    assert "functions" in text
    assert "valid list" in text


async def test_sync_invoke_from_a_thread_and_refused_on_the_loop(p: Pctx) -> None:
    tool = next(t for t in p.langchain_tools() if t.name == "execute_typescript")
    text = await asyncio.to_thread(tool.invoke, {"code": PROGRAM})
    check_answer(text)
    with pytest.raises(RuntimeError, match="would deadlock"):
        tool.invoke({"code": "return 1"})


async def test_unknown_function_comes_back_as_tool_error_text(p: Pctx) -> None:
    by_name = {t.name: t for t in p.langchain_tools()}
    # pctx answers 400; the model reads the reason and can correct the name.
    text = await by_name["get_function_details"].ainvoke({"functions": ["Weather.forcast"]})
    assert 'unknown function "Weather.forcast"' in text
    assert "did you mean Weather.forecast" in text


async def test_a_call_before_connect_says_connect(server: Any) -> None:
    p = Pctx(url=server.url)
    tool = next(t for t in p.langchain_tools() if t.name == "list_functions")
    with pytest.raises(Exception, match=r"connect\(\) before calling"):
        await tool.ainvoke({})
