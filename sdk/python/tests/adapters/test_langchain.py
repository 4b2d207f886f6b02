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

from pctx_client import Pctx  # noqa: E402
from tests.adapters.conftest import PROGRAM, QUESTION, check_answer, check_listing  # noqa: E402

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


async def test_agent_lists_then_executes(p: Pctx):
    tools = p.langchain_tools()
    assert [t.name for t in tools] == [
        "list_functions",
        "get_function_details",
        "execute_typescript",
    ]
    published = {t["name"]: t for t in await p.code_mode_tools()}
    for t in tools:
        assert t.description == published[t.name]["description"]
        assert t.args == published[t.name]["inputSchema"]["properties"]

    model = ScriptedChatModel(
        messages=iter([]),
        script=[
            call("list_functions", {}, "c1"),
            call("get_function_details", {"functions": ["weather.forecast"]}, "c2"),
            call("execute_typescript", {"code": PROGRAM}, "c3"),
            answer_from_last_tool,
        ],
        seen=[],
    )
    agent = agents.create_agent(model, tools)
    state = await agent.ainvoke({"messages": [HumanMessage(QUESTION)]})

    outputs = {
        m.tool_call_id: str(m.content) for m in state["messages"] if isinstance(m, ToolMessage)
    }
    check_listing(outputs["c1"])
    assert "city: string" in outputs["c2"], outputs["c2"]
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    check_answer(str(final.content))
    assert "2 calls" in str(final.content)


async def test_namespace_and_query_reach_the_server(p: Pctx):
    by_name = {t.name: t for t in p.langchain_tools()}
    text = await by_name["list_functions"].ainvoke({"namespace": "weather"})
    assert "forecast" in text
    assert "get_sum" not in text
    text = await by_name["list_functions"].ainvoke({"query": "sum"})
    assert "get_sum" in text
    assert "forecast" not in text


async def test_bad_arguments_come_back_as_tool_error_text(p: Pctx):
    by_name = {t.name: t for t in p.langchain_tools()}
    text = await by_name["execute_typescript"].ainvoke({"code": "  "})
    assert "code must be a non-empty string" in text
    failed = await by_name["execute_typescript"].ainvoke({"code": "throw new Error('boom')"})
    assert "boom" in failed  # a failing program is a result the model reads, not an exception


async def test_sync_invoke_from_a_thread_and_refused_on_the_loop(p: Pctx):
    tool = next(t for t in p.langchain_tools() if t.name == "execute_typescript")
    assert isinstance(tool, StructuredTool)
    text = await asyncio.to_thread(tool.invoke, {"code": PROGRAM})
    check_answer(text)
    with pytest.raises(RuntimeError, match="would deadlock"):
        tool.invoke({"code": "return 1"})


async def test_unknown_function_comes_back_as_tool_error_text(p: Pctx):
    by_name = {t.name: t for t in p.langchain_tools()}
    # pctx answers -32602; the model reads it and can correct the name.
    text = await by_name["get_function_details"].ainvoke({"functions": ["weather.forcast"]})
    assert 'unknown function "weather.forcast"' in text
    assert "did you mean weather.forecast" in text
