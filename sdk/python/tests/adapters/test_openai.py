"""OpenAI: the Agents SDK's Runner with a scripted Model, and the plain tools= dicts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("agents")

from agents import Agent, FunctionTool, Model, ModelResponse, RunConfig, Runner, Usage
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from pctx_client import Pctx
from tests.adapters.conftest import PROGRAM, QUESTION, check_answer, check_listing


def tool_outputs(items: Any) -> list[str]:
    """The function_call_output items the runner fed back to the model, in order."""
    if isinstance(items, str):
        return []
    return [
        str(item["output"])
        for item in items
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]


class CodeModeScript(Model):
    """Calls list_functions, then execute_typescript, then answers with the result."""

    def __init__(self) -> None:
        self.tool_names: list[str] = []
        self.outputs: list[str] = []

    def _call(self, name: str, args: dict[str, Any], n: int) -> ModelResponse:
        call = ResponseFunctionToolCall(
            id=f"fc_{n}",
            call_id=f"call_{n}",
            name=name,
            arguments=json.dumps(args),
            type="function_call",
        )
        return ModelResponse(output=[call], usage=Usage(), response_id=None)

    async def get_response(
        self, system_instructions, input, model_settings, tools, *args, **kwargs
    ):  # type: ignore[no-untyped-def]
        self.tool_names = [t.name for t in tools]
        self.outputs = tool_outputs(input)
        if not self.outputs:
            return self._call("list_functions", {}, 1)
        if len(self.outputs) == 1:
            return self._call("execute_typescript", {"code": PROGRAM}, 2)
        text = ResponseOutputText(
            text=f"Result: {self.outputs[-1]}", type="output_text", annotations=[]
        )
        message = ResponseOutputMessage(
            id="msg_1", content=[text], role="assistant", status="completed", type="message"
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the test runs without streaming")


async def test_runner_lists_then_executes(p: Pctx):
    tools = p.openai_tools()
    published = {t["name"]: t for t in await p.code_mode_tools()}
    for t in tools:
        assert isinstance(t, FunctionTool)
        assert t.description == published[t.name]["description"]
        assert t.params_json_schema == published[t.name]["inputSchema"]

    model = CodeModeScript()
    agent = Agent(name="analyst", instructions="Use Code Mode.", model=model, tools=tools)
    result = await Runner.run(agent, QUESTION, run_config=RunConfig(tracing_disabled=True))

    assert model.tool_names == ["list_functions", "get_function_details", "execute_typescript"]
    check_listing(model.outputs[0])
    check_answer(str(result.final_output))


async def test_bad_arguments_come_back_as_error_output(p: Pctx):
    details = next(t for t in p.openai_tools() if t.name == "get_function_details")
    out = await details.on_invoke_tool(None, json.dumps({"functions": 3}))  # type: ignore[arg-type]
    assert out.startswith("Error: get_function_details: functions must be a list")


@pytest.mark.parametrize(
    ("api", "shape"),
    [
        ("chat", lambda t: t["function"]),
        ("responses", lambda t: t),
    ],
)
async def test_tool_schemas_and_dispatcher(p: Pctx, api, shape):
    published = await p.code_mode_tools()
    schemas = p.openai_tool_schemas(api)
    assert [t["type"] for t in schemas] == ["function"] * 3
    assert [
        (shape(t)["name"], shape(t)["description"], shape(t)["parameters"]) for t in schemas
    ] == [(t["name"], t["description"], t["inputSchema"]) for t in published]

    # The loop a Chat Completions / Responses user writes: arguments arrive as JSON text.
    check_listing(await p.call_tool("list_functions", "{}"))
    check_answer(await p.call_tool("execute_typescript", json.dumps({"code": PROGRAM})))
    assert "forecast(city: string)" in await p.call_tool(
        "get_function_details", {"functions": ["weather.forecast"]}
    )


async def test_tool_schemas_reject_unknown_api(p: Pctx):
    with pytest.raises(ValueError, match="api must be 'chat' or 'responses'"):
        p.openai_tool_schemas("completions")  # type: ignore[arg-type]


async def test_unknown_function_comes_back_as_error_output(p: Pctx):
    details = next(t for t in p.openai_tools() if t.name == "get_function_details")
    out = await details.on_invoke_tool(None, json.dumps({"functions": ["weather.forcast"]}))  # type: ignore[arg-type]
    assert out.startswith('Error: get_function_details: unknown function "weather.forcast"')
