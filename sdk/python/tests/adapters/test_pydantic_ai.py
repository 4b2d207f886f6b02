"""Pydantic AI: an Agent run by a scripted FunctionModel against real pctx."""

from __future__ import annotations

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
from tests.adapters.conftest import PROGRAM, QUESTION, check_answer, check_listing


def returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [
        part
        for m in messages
        if isinstance(m, ModelRequest)
        for part in m.parts
        if isinstance(part, ToolReturnPart) and getattr(part, "outcome", None) != "retried"
    ]


async def test_agent_lists_then_executes(p: Pctx):
    published = {t["name"]: t for t in await p.code_mode_tools()}
    seen_tools: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        for t in info.function_tools:
            assert t.description == published[t.name]["description"]
            assert t.parameters_json_schema == published[t.name]["inputSchema"]
        seen_tools[:] = [t.name for t in info.function_tools]
        done = returns(messages)
        if not done:
            return ModelResponse(parts=[ToolCallPart("list_functions", {})])
        if done[-1].tool_name == "list_functions":
            check_listing(str(done[-1].content))
            return ModelResponse(parts=[ToolCallPart("execute_typescript", {"code": PROGRAM})])
        return ModelResponse(parts=[TextPart(f"Done: {done[-1].content}")])

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run(QUESTION)
    assert seen_tools == ["list_functions", "get_function_details", "execute_typescript"]
    check_answer(result.output)


async def test_bad_arguments_ask_the_model_to_retry(p: Pctx):
    retries: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        assert isinstance(last, ModelRequest)
        # A ModelRetry reaches the model as a RetryPromptPart (or, in newer releases, a
        # ToolReturnPart marked "retried").
        retry = [
            part
            for part in last.parts
            if isinstance(part, RetryPromptPart) or getattr(part, "outcome", None) == "retried"
        ]
        if retry:
            retries.append(str(retry[0].content))
            return ModelResponse(parts=[ToolCallPart("execute_typescript", {"code": "return 6*7"})])
        done = returns(messages)
        if done:
            return ModelResponse(parts=[TextPart(str(done[-1].content))])
        return ModelResponse(parts=[ToolCallPart("execute_typescript", {"code": " "})])

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run("compute")
    assert "code must be a non-empty string" in retries[0]
    assert result.output.startswith("42")


async def test_unknown_function_asks_the_model_to_retry(p: Pctx):
    retries: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        assert isinstance(last, ModelRequest)
        retry = [
            part
            for part in last.parts
            if isinstance(part, RetryPromptPart) or getattr(part, "outcome", None) == "retried"
        ]
        if retry:
            retries.append(str(retry[0].content))
            fixed = {"functions": ["weather.forecast"]}
            return ModelResponse(parts=[ToolCallPart("get_function_details", fixed)])
        done = returns(messages)
        if done:
            return ModelResponse(parts=[TextPart(str(done[-1].content))])
        # A mistyped name: pctx answers -32602, which must not abort the run.
        return ModelResponse(
            parts=[ToolCallPart("get_function_details", {"functions": ["weather.forcast"]})]
        )

    agent = Agent(FunctionModel(model), tools=p.pydantic_ai_tools())
    result = await agent.run("details")
    assert len(retries) == 1
    assert 'unknown function "weather.forcast"' in retries[0]
    assert "forecast" in result.output
