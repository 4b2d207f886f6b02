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
from tests.adapters.conftest import (
    CATALOG,
    PROGRAM,
    QUESTION,
    check_answer,
    check_listing,
    description,
    properties,
)


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
    """Calls the given tools in turn, then answers with the last tool output."""

    def __init__(self, steps: list[tuple[str, dict[str, Any]]]) -> None:
        self.steps = steps
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
        n = len(self.outputs)
        if n < len(self.steps):
            return self._call(*self.steps[n], n + 1)
        text = ResponseOutputText(
            text=f"Result: {self.outputs[-1]}", type="output_text", annotations=[]
        )
        message = ResponseOutputMessage(
            id="msg_1", content=[text], role="assistant", status="completed", type="message"
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the test runs without streaming")


def test_tools_are_the_published_adapters(server: Any) -> None:
    p = Pctx(url=server.url)  # built before connect(), as the published adapters can be
    tools = p.openai_agents_tools()
    assert [t.name for t in tools] == CATALOG
    for t in tools:
        assert isinstance(t, FunctionTool)
        assert t.description == description(t.name)
        assert t.params_json_schema["properties"] == properties(t.name)
    with pytest.warns(DeprecationWarning, match="openai_agents_tools"):
        assert [t.name for t in p.openai_tools()] == CATALOG


async def test_runner_searches_then_executes(p: Pctx) -> None:
    model = CodeModeScript(
        [
            ("list_functions", {}),
            ("search_functions", {"query": "sum of two numbers"}),
            ("get_function_details", {"functions": ["Everything.getSum", "Weather.forecast"]}),
            ("execute_typescript", {"code": PROGRAM}),
        ]
    )
    agent = Agent(
        name="analyst", instructions="Use Code Mode.", model=model, tools=p.openai_agents_tools()
    )
    result = await Runner.run(agent, QUESTION, run_config=RunConfig(tracing_disabled=True))

    assert model.tool_names == CATALOG
    check_listing(model.outputs[0])
    assert model.outputs[1].splitlines()[0].startswith("Everything.getSum: "), model.outputs[1]
    assert "city: string" in model.outputs[2]
    check_answer(str(result.final_output))


async def test_bad_arguments_come_back_as_error_output(p: Pctx) -> None:
    details = next(t for t in p.openai_agents_tools() if t.name == "get_function_details")
    out = await details.on_invoke_tool(None, json.dumps({"functions": 3}))  # type: ignore[arg-type]
    assert out.startswith("Error: get_function_details: "), out
    assert "valid list" in out
    out = await details.on_invoke_tool(None, "{not json")  # type: ignore[arg-type]
    assert out.startswith("Error: get_function_details: arguments are not valid JSON"), out


async def test_unknown_function_comes_back_as_error_output(p: Pctx) -> None:
    details = next(t for t in p.openai_agents_tools() if t.name == "get_function_details")
    out = await details.on_invoke_tool(None, json.dumps({"functions": ["Weather.forcast"]}))  # type: ignore[arg-type]
    assert out.startswith("Error: "), out
    assert 'unknown function "Weather.forcast" (did you mean Weather.forecast?)' in out


@pytest.mark.parametrize(
    ("api", "shape"),
    [
        ("chat", lambda t: t["function"]),
        ("responses", lambda t: t),
    ],
)
async def test_tool_schemas_and_dispatcher(p: Pctx, api, shape) -> None:
    schemas = p.openai_tool_schemas(api)
    assert [t["type"] for t in schemas] == ["function"] * 4
    assert [shape(t)["name"] for t in schemas] == CATALOG
    for t in schemas:
        assert shape(t)["description"] == description(shape(t)["name"])
        assert shape(t)["parameters"]["properties"] == properties(shape(t)["name"])

    # The loop a Chat Completions / Responses user writes: arguments arrive as JSON text.
    check_listing(await p.call_tool("list_functions", "{}"))
    check_listing(await p.call_tool("list_functions", ""))
    check_answer(await p.call_tool("execute_typescript", json.dumps({"code": PROGRAM})))
    assert "city: string" in await p.call_tool(
        "get_function_details", {"functions": ["Weather.forecast"]}
    )
    found = await p.call_tool("search_functions", {"query": "forecast", "k": 1})
    assert found.startswith("Weather.forecast: ")
    assert "Exit Code: 0" in await p.call_tool("execute_bash", {"command": "ls"}, "filesystem")


async def test_tool_schemas_reject_unknown_api(p: Pctx) -> None:
    with pytest.raises(ValueError, match="api must be 'chat' or 'responses'"):
        p.openai_tool_schemas("completions")  # type: ignore[arg-type]
