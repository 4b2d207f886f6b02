"""Tools: the published API's Tool/AsyncTool/tool, and what ours adds (typed, context)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pctx_client import AsyncTool, Pctx, Tool, ToolContext, tool
from pctx_client._tool import ArgumentsInvalid
from tests import seed_tools


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

    @tool
    def tagged(ctx: ToolContext, /, label: str, *rest: str, **extra: str) -> str:
        return f"{ctx.name}:{label}"

    assert tagged.wire()["params"] == ["label"]
    assert asyncio.run(tagged._serve({"label": "a"}, ToolContext(name="tagged"))) == "tagged:a"


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


def google(customer_id: str, score: float, **extra: Any) -> None:
    """Update customer risk score in database.

    Writes the score and logs it.

    Args:
        customer_id: The customer's id,
            as Stripe knows it.
        score (float): Risk in [0, 1].
        **extra: Ignored (not in the schema).

    Returns:
        Nothing useful.
    """


def numpy(customer_id: str, horizon: int = 30) -> dict[str, Any]:
    """Predict churn.

    Parameters
    ----------
    customer_id : str
        The customer.
    horizon : int, optional
        Days ahead.

    Returns
    -------
    dict
        Probability and factors.
    """
    return {}


def rest(path: str, mode: str = "r") -> bytes:
    """Read a file.

    :param path: Where the file is.
    :param mode: How to open it.
    :returns: The content.
    """
    return b""


def epydoc(user_id: int, city: str) -> str:
    """Update a city.

    @param user_id: Whose city.
    @param city: The new city.
    @return: The stored city.
    """
    return city


def one_line(text: str) -> str:
    """Analyze sentiment of text using ML model"""
    return text


def undocumented(text: str) -> str:
    return text


@pytest.mark.parametrize(
    ("fn", "description", "params", "returns"),
    [
        (
            google,
            "Update customer risk score in database.\n\nWrites the score and logs it.",
            {"customer_id": "The customer's id,\nas Stripe knows it.", "score": "Risk in [0, 1]."},
            "Nothing useful.",
        ),
        (
            numpy,
            "Predict churn.\n",  # the trailing newline: as the published client has it
            {"customer_id": "The customer.", "horizon": "Days ahead."},
            "Probability and factors.",
        ),
        (
            rest,
            "Read a file.\n",
            {"path": "Where the file is.", "mode": "How to open it."},
            "The content.",
        ),
        (
            epydoc,
            "Update a city.\n",
            {"user_id": "Whose city.", "city": "The new city."},
            "The stored city.",
        ),
        (one_line, "Analyze sentiment of text using ML model", {"text": None}, None),
        (undocumented, "", {"text": None}, None),
    ],
    ids=["google", "numpy", "rest", "epydoc", "one-line", "none"],
)
def test_docstrings_of_every_style(
    fn: Any, description: str, params: dict[str, str | None], returns: str | None
) -> None:
    t = tool(fn)
    assert t.description == description
    schema = t.input_json_schema()
    assert schema is not None
    assert {k: v.get("description") for k, v in schema["properties"].items()} == params
    assert (t.output_json_schema() or {}).get("description") == returns


def test_a_description_override_keeps_the_parameter_docs() -> None:
    t = tool(description="Read a file, briefly.")(rest)
    assert t.description == "Read a file, briefly."
    schema = t.input_json_schema()
    assert schema is not None
    assert schema["properties"]["path"]["description"] == "Where the file is."


SNAPSHOT = Path(__file__).parent / "snapshots" / "seed_schemas.json"


def test_seed_schemas_snapshot() -> None:
    """What registering each seed tool sends, over REST and over pctx/1, pinned.

    ``UPDATE_SNAPSHOTS=1`` rewrites the file; review the diff.
    """
    got = {
        f"{t.namespace}.{t.name}": {"rest": t.config(), "pctx/1": t.wire()}
        for t in seed_tools.SEED_TOOLS
    }
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(SNAPSHOT.read_text())


def test_arguments_are_validated_and_coerced() -> None:
    serve = seed_tools.update_risk_score._serve
    assert asyncio.run(serve({"customer_id": "cust_12345", "score": "0.5"}, ToolContext())) is None
    assert seed_tools.DB.risk_score("cust_12345") == 0.5
    for args, problem in [
        ({"customer_id": "c", "score": "high"}, "score"),
        ({"customer_id": "c", "score": 1, "x": 1}, "Extra inputs"),
        ({"customer_id": "c"}, "Field required"),
    ]:
        with pytest.raises(ArgumentsInvalid, match=problem):
            asyncio.run(serve(args, ToolContext()))


def test_parameter_names_that_clash_with_pydantic() -> None:
    @tool
    def f(json: str, schema: int, model_config: bool = False) -> list[Any]:
        return [json, schema, model_config]

    assert f.wire()["params"] == ["json", "schema", "model_config"]
    assert asyncio.run(f._serve({"json": "j", "schema": "2"}, ToolContext())) == ["j", 2, False]


def test_undescribable_parameter_types_are_refused() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match="tool 'f': a parameter type cannot be described"):

        @tool
        def f(x: Opaque) -> None: ...

    with pytest.raises(TypeError, match="tool 'g': a parameter type cannot be described"):

        @tool
        def g(x: NoSuchType) -> None: ...  # type: ignore[name-defined] # noqa: F821


class Dated(BaseModel):
    x: int
    when: date


@dataclass
class Pair:
    left: Dated
    right: float


@pytest.mark.parametrize(
    ("annotation", "value", "want"),
    [
        (Dated, Dated(x=1, when=date(2026, 1, 2)), {"x": 1, "when": "2026-01-02"}),
        (list[Dated], [Dated(x=1, when=date(2026, 1, 2))], [{"x": 1, "when": "2026-01-02"}]),
        (
            Pair,
            Pair(Dated(x=2, when=date(2026, 3, 4)), 0.5),
            {"left": {"x": 2, "when": "2026-03-04"}, "right": 0.5},
        ),
        (None, None, None),
        (dict[str, float], {"a": 1.0}, {"a": 1.0}),
        (Any, {"t": (1, 2), "s": {3}}, {"t": [1, 2], "s": [3]}),
    ],
)
def test_return_values_serialise_to_json(annotation: Any, value: Any, want: Any) -> None:
    async def fn() -> Any:
        return value

    fn.__annotations__["return"] = annotation  # this module's annotations are strings
    got = asyncio.run(tool(fn)._serve({}, ToolContext()))
    assert got == want
    json.dumps(got)  # really plain JSON


def test_output_schemas_of_models_and_of_no_annotation() -> None:
    @tool
    def f() -> list[Dated]:
        return []

    schema = f.output_json_schema()
    assert schema is not None
    assert (schema["type"], schema["items"]) == ("array", {"$ref": "#/$defs/Dated"})

    @tool
    def g():  # type: ignore[no-untyped-def]
        return 1

    assert g.output_json_schema() == {}  # anything, as the published client derives it


def test_a_class_tool_without_a_name_is_refused() -> None:
    class NoName(Tool):
        def _invoke(self) -> None: ...

    with pytest.raises(ValidationError, match="name"):
        NoName()
