"""Tools: the published API's Tool/AsyncTool/tool, and what ours adds (typed, context)."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pctx_client import AsyncTool, Pctx, Tool, ToolContext, tool
from pctx_client._tool import ArgumentsInvalid


class Point(BaseModel):
    x: int
    y: int


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two numbers together."""
    return a + b


@tool(name="when", namespace="time")
async def when(at: datetime, ctx: ToolContext, label: str = "") -> dict[str, Any]:
    """Echo a time."""
    return {"year": at.year, "label": label, "tool": ctx.name, "timeout": ctx.timeout}


def test_the_decorated_tool_is_a_tool_and_still_the_function() -> None:
    assert isinstance(add_numbers, Tool)
    assert add_numbers(1, 2) == 3  # the function itself, typed: mypy sees int
    assert add_numbers.__name__ == "add_numbers"
    assert (add_numbers.name, add_numbers.namespace) == ("add_numbers", "tools")
    assert add_numbers.description == "Add two numbers together."
    assert add_numbers.invoke(a=1, b="2") == 3  # validated and coerced
    with pytest.raises(ValidationError):
        add_numbers.invoke(a=1)
    assert isinstance(when, AsyncTool)


def test_context_parameter_is_left_out_of_the_schema_and_filled_in() -> None:
    schema = when.input_json_schema()
    assert schema is not None
    assert set(schema["properties"]) == {"at", "label"}
    ctx = ToolContext("time", "when", call_id=7, timeout=30.0)
    out = asyncio.run(when._serve({"at": "2026-01-02T03:04:05Z"}, ctx))
    assert out == {"year": 2026, "label": "", "tool": "when", "timeout": 30.0}
    with pytest.raises(ArgumentsInvalid):
        asyncio.run(when._serve({"at": "not a time"}, ctx))


def test_positional_only_parameters_and_wire_order() -> None:
    @tool
    def scale(p: Point, factor: float = 2.0, /) -> Point:
        return Point(x=int(p.x * factor), y=int(p.y * factor))

    assert scale.wire()["params"] == ["p", "factor"]
    out = asyncio.run(scale._serve({"p": {"x": 1, "y": 2}}, ToolContext()))
    assert out == {"x": 2, "y": 4}


def test_sync_tools_run_off_the_loop() -> None:
    seen: list[str] = []

    @tool
    def where() -> str:
        seen.append(threading.current_thread().name)
        return "ok"

    assert asyncio.run(where._serve({}, ToolContext())) == "ok"
    assert seen
    assert seen[0] != threading.main_thread().name
    assert where.input_json_schema() is None  # no parameters: no schema, as published


def test_class_tools_keep_state_and_derive_schemas_from_invoke() -> None:
    class Counter(Tool):
        name: str = "count"
        namespace: str = "stats"
        output_schema: type[list[int]] = list[int]

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def _invoke(self, **kwargs: Any) -> list[int]:
            self.calls += 1
            return [self.calls, kwargs["n"]]

    class Typed(Tool):
        name: str = "typed"

        def _invoke(self, n: int) -> int:
            return n * 2

    c = Counter()
    assert c.input_json_schema() is None
    assert c.invoke(n=3) == [1, 3]
    assert c.output_json_schema() == {"items": {"type": "integer"}, "type": "array"}
    t = Typed()
    assert t.input_json_schema()["required"] == ["n"]  # type: ignore[index]
    assert asyncio.run(t._serve({"n": 4}, ToolContext())) == 8
    assert [x.name for x in Pctx(tools=[Typed, add_numbers]).tools] == ["typed", "add_numbers"]


def test_json_schema_input_is_checked_and_passed_through() -> None:
    @tool(
        input_schema={"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    )
    def raw(**kwargs: Any) -> int:
        return int(kwargs["x"]) + 1

    assert asyncio.run(raw._serve({"x": 1}, ToolContext())) == 2
    with pytest.raises(ArgumentsInvalid):
        asyncio.run(raw._serve({"x": "no"}, ToolContext()))


def test_output_that_does_not_fit_is_an_error() -> None:
    @tool
    def liar() -> int:
        return "not a number"  # type: ignore[return-value]

    with pytest.raises(ValidationError):
        liar.invoke()


def test_duplicate_tools_and_non_tools_are_refused() -> None:
    with pytest.raises(ValueError, match=r"two tools are named tools\.add_numbers"):
        Pctx(tools=[add_numbers, add_numbers])
    with pytest.raises(TypeError, match="takes @tool functions"):
        Pctx(tools=[print])  # type: ignore[list-item]


def test_deprecated_positional_url() -> None:
    with pytest.warns(DeprecationWarning, match="second parameter is servers"):
        p = Pctx([add_numbers], "http://127.0.0.1:9")  # type: ignore[arg-type]
    assert p.url == "http://127.0.0.1:9"
