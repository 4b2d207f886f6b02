"""Pydantic AI: an Agent run by a scripted FunctionModel against real pctx."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from pctx_client import Pctx
from tests.adapters.conftest import (
    CATALOG,
    FILESYSTEM,
    PROGRAM,
    QUESTION,
    check_answer,
    check_listing,
    description,
    properties,
)


def returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [
        part
        for m in messages
        if isinstance(m, ModelRequest)
        for part in m.parts
        if isinstance(part, ToolReturnPart) and getattr(part, "outcome", None) != "retried"
    ]


def retries(messages: list[ModelMessage]) -> list[str]:
    """What the model was asked to correct in the last request."""
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    # A ModelRetry reaches the model as a RetryPromptPart (or, in newer releases, a
    # ToolReturnPart marked "retried").
    return [
        str(part.content)
        for part in last.parts
        if isinstance(part, RetryPromptPart) or getattr(part, "outcome", None) == "retried"
    ]


def test_tools_are_the_published_adapters(server: Any) -> None:
    p = Pctx(url=server.url)  # built before connect(), as the published adapters can be
    assert [t.name for t in p.pydantic_ai_tools()] == CATALOG
    assert [t.name for t in p.pydantic_ai_tools(disclosure="filesystem")] == FILESYSTEM


async def test_agent_lists_details_then_executes(p: Pctx) -> None:
    seen_tools: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        for t in info.function_tools:
            assert t.description == description(t.name)
            assert t.parameters_json_schema.get("properties", {}) == properties(t.name)
        seen_tools[:] = [t.name for t in info.function_tools]
        done = returns(messages)
        if not done:
            return ModelResponse(parts=[ToolCallPart("list_functions", {})])
        if done[-1].tool_name == "list_functions":
            check_listing(str(done[-1].content))
            details = {"functions": ["Weather.forecast"]}
            return ModelResponse(parts=[ToolCallPart("get_function_details", details)])
        if done[-1].tool_name == "get_function_details":
            assert "city: string" in str(done[-1].content)
            return ModelResponse(parts=[ToolCallPart("execute_typescript", {"code": PROGRAM})])
        return ModelResponse(parts=[TextPart(f"Done: {done[-1].content}")])

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run(QUESTION)
    assert seen_tools == CATALOG
    check_answer(result.output)


async def test_bad_arguments_ask_the_model_to_retry(p: Pctx) -> None:
    asked: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        retry = retries(messages)
        if retry:
            asked.extend(retry)
            return ModelResponse(parts=[ToolCallPart("execute_typescript", {"code": "return 6*7"})])
        done = returns(messages)
        if done:
            return ModelResponse(parts=[TextPart(str(done[-1].content))])
        return ModelResponse(parts=[ToolCallPart("search_functions", {"k": 3})])  # no query

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run("compute")
    assert "query" in asked[0]
    assert "42" in result.output


async def test_unknown_function_asks_the_model_to_retry(p: Pctx) -> None:
    asked: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        retry = retries(messages)
        if retry:
            asked.extend(retry)
            fixed = {"functions": ["Weather.forecast"]}
            return ModelResponse(parts=[ToolCallPart("get_function_details", fixed)])
        done = returns(messages)
        if done:
            return ModelResponse(parts=[TextPart(str(done[-1].content))])
        # A mistyped name: pctx answers 400, which must not abort the run.
        return ModelResponse(
            parts=[ToolCallPart("get_function_details", {"functions": ["Weather.forcast"]})]
        )

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run("details")
    assert len(asked) == 1
    assert 'unknown function "Weather.forcast" (did you mean Weather.forecast?)' in asked[0]
    assert "city: string" in result.output
