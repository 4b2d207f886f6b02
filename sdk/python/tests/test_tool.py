"""Tools: the decorator, the Tool/AsyncTool classes, schemas and serialisation."""

import asyncio
import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError

import pctx_client
from pctx_client import AsyncTool, Pctx, Tool, tool
from tests import seed_tools

SNAPSHOT = Path(__file__).parent / "snapshots" / "seed_schemas.json"


def test_public_names():
    assert sorted(pctx_client.__all__) == ["AsyncTool", "Pctx", "Tool", "tool"]
    for name in pctx_client.__all__:
        assert getattr(pctx_client, name) is not None


def test_seed_schemas_snapshot():
    """The register payload of every seed tool, pinned (UPDATE_SNAPSHOTS=1 rewrites it)."""
    got = {f"{t.spec.namespace}.{t.spec.name}": t.spec.wire() for t in seed_tools.SEED_TOOLS}
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(SNAPSHOT.read_text())


def test_bare_decorator_uses_default_namespace_and_stays_callable():
    assert seed_tools.get_weather.spec.namespace == "tools"
    assert seed_tools.get_weather.spec.name == "get_weather"
    assert seed_tools.get_weather("Oslo") == "It's sunny in Oslo"
    assert seed_tools.get_weather.__name__ == "get_weather"
    assert isinstance(seed_tools.get_weather, Tool)
    assert isinstance(seed_tools.analyze_sentiment, AsyncTool)


def test_decorator_options_override():
    @tool(name="weather", namespace="wx", description="Override.")
    def get_weather(city: str) -> str:
        """Original."""
        return city

    spec = get_weather.spec
    assert (spec.namespace, spec.name, spec.description) == ("wx", "weather", "Override.")
    assert get_weather.spec.wire()["params"] == ["city"]


def test_positional_order_and_docstring_params():
    @tool(namespace="data")
    def f(b: int, a: str = "x", *, c: float = 1.5) -> int:
        """Do f.

        Args:
            b: the b.
            c: the c.
        """
        return b

    wire = f.spec.wire()
    assert wire["params"] == ["b", "a", "c"]
    assert wire["description"] == "Do f."
    props = wire["inputSchema"]["properties"]
    assert list(props) == ["b", "a", "c"]
    assert props["b"]["description"] == "the b."
    assert props["c"] == {"default": 1.5, "description": "the c.", "title": "C", "type": "number"}
    assert wire["inputSchema"]["required"] == ["b"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: tool(lambda *args: None), r"parameter \*args is not supported"),
        (lambda: tool(lambda x, **kw: None), r"parameter \*\*kw is not supported"),
        (lambda: tool(namespace="x")(lambda *a, **k: None), r"\*a is not supported"),
    ],
)
def test_var_args_refused_at_decoration(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_undescribable_parameter_type_refused():
    class Opaque:
        pass

    with pytest.raises(TypeError, match="tool 'f': a parameter type cannot be described"):

        @tool
        def f(x: Opaque) -> None: ...


def test_unresolvable_hint_refused():
    with pytest.raises(TypeError, match="tool 'f': cannot resolve type hints"):

        @tool
        def f(x: "NoSuchType") -> None: ...  # type: ignore[name-defined] # noqa: F821


def test_parameter_names_that_clash_with_pydantic():
    @tool
    def f(json: str, schema: int, model_config: bool = False) -> list[Any]:
        return [json, schema, model_config]

    assert f.spec.wire()["params"] == ["json", "schema", "model_config"]
    assert asyncio.run(f.acall({"json": "j", "schema": "2"})) == ["j", 2, False]


def test_positional_only_parameters():
    @tool
    def f(a: int, /, b: int) -> int:
        return a - b

    assert asyncio.run(f.acall({"a": 5, "b": 2})) == 3


async def test_arguments_are_validated_and_coerced():
    assert (
        await seed_tools.update_risk_score.acall({"customer_id": "cust_12345", "score": "0.5"})
        is None
    )
    assert seed_tools.DB.risk_score("cust_12345") == 0.5
    with pytest.raises(ValidationError, match="score"):
        await seed_tools.update_risk_score.acall({"customer_id": "c", "score": "high"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        await seed_tools.update_risk_score.acall({"customer_id": "c", "score": 1, "x": 1})
    with pytest.raises(ValidationError, match="Field required"):
        await seed_tools.update_risk_score.acall({"customer_id": "c"})


async def test_sync_tools_run_off_the_loop():
    loop_thread = threading.get_ident()

    @tool
    def where() -> int:
        return threading.get_ident()

    assert await where.acall({}) != loop_thread


class Point(BaseModel):
    x: int
    when: dt.date


@dataclass
class Pair:
    left: Point
    right: float


@pytest.mark.parametrize(
    ("annotation", "value", "want"),
    [
        (Point, Point(x=1, when=dt.date(2026, 1, 2)), {"x": 1, "when": "2026-01-02"}),
        (list[Point], [Point(x=1, when=dt.date(2026, 1, 2))], [{"x": 1, "when": "2026-01-02"}]),
        (
            Pair,
            Pair(Point(x=2, when=dt.date(2026, 3, 4)), 0.5),
            {"left": {"x": 2, "when": "2026-03-04"}, "right": 0.5},
        ),
        (None, None, None),
        (dict[str, float], {"a": 1.0}, {"a": 1.0}),
        (Any, {"t": (1, 2), "s": {3}}, {"t": [1, 2], "s": [3]}),
        # An annotation the value does not match: serialised by inference, not refused.
        (list[dict], [Point(x=3, when=dt.date(2026, 5, 6))], [{"x": 3, "when": "2026-05-06"}]),
    ],
)
async def test_return_values_serialise_to_json(annotation, value, want):
    @tool
    async def f() -> annotation:  # type: ignore[valid-type]
        return value

    got = await f.acall({})
    assert got == want
    json.dumps(got)  # really plain JSON


async def test_output_schema_of_models_and_none():
    @tool
    def f() -> list[Point]:
        return []

    schema = f.spec.wire()["outputSchema"]
    assert schema["type"] == "array"
    assert schema["items"] == {"$ref": "#/$defs/Point"}

    @tool
    def g():
        return 1

    assert "outputSchema" not in g.spec.wire()


class Query(BaseModel):
    query: str
    top_k: int = Field(default=10, ge=1)


class Hit(BaseModel):
    title: str


async def test_async_tool_class_with_model_schema():
    class Search(AsyncTool):
        """Searches things."""

        name = "search"
        namespace = "s"
        input_schema = Query
        output_schema = list[Hit]

        def __init__(self) -> None:
            super().__init__()
            self.store = ["a", "b", "c"]

        async def _ainvoke(self, query: str, top_k: int = 10) -> list[Hit]:
            return [Hit(title=f"{query}{s}") for s in self.store[:top_k]]

    s = Search()
    wire = s.spec.wire()
    assert "params" not in wire  # a model input is one object argument, MCP style
    assert wire["description"] == "Searches things."
    assert wire["inputSchema"]["properties"]["top_k"]["minimum"] == 1
    assert await s.acall({"query": "q", "top_k": "2"}) == [{"title": "qa"}, {"title": "qb"}]
    assert await s.ainvoke(query="q", top_k=1) == [Hit(title="qa")]
    with pytest.raises(ValidationError):
        await s.acall({"query": "q", "top_k": 0})


async def test_sync_tool_class_with_signature_schema():
    class Add(Tool):
        name = "add"
        namespace = "math"
        description = "Adds."

        def _invoke(self, a: int, b: Annotated[int, Field(description="second")] = 1) -> int:
            return a + b

    add = Add()
    wire = add.spec.wire()
    assert wire["params"] == ["a", "b"]
    assert wire["inputSchema"]["properties"]["b"]["description"] == "second"
    assert wire["outputSchema"] == {"type": "integer"}
    assert await add.acall({"a": 2, "b": 3}) == 5
    assert add.invoke(a=2) == 3
    assert await add.ainvoke(a=1, b=1) == 2


async def test_json_schema_dict_input_passes_args_through():
    class Raw(AsyncTool):
        name = "raw"
        input_schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
        output_schema = {"type": "integer"}

        async def _ainvoke(self, **kwargs: Any) -> Any:
            return kwargs["n"] * 2

    raw = Raw()
    assert raw.spec.wire() == {
        "name": "raw",
        "description": "",
        "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}},
        "outputSchema": {"type": "integer"},
    }
    assert await raw.acall({"n": 4}) == 8


def test_class_declaration_errors():
    class NoName(Tool):
        def _invoke(self) -> None: ...

    with pytest.raises(TypeError, match="NoName: set a non-empty string `name`"):
        Pctx(tools=[NoName()])

    class BadSchema(Tool):
        name = "bad"
        input_schema = 42  # type: ignore[assignment]

        def _invoke(self) -> None: ...

    with pytest.raises(TypeError, match="input_schema must be a pydantic model class"):
        Pctx(tools=[BadSchema])

    class Abstract(AsyncTool):
        name = "abstract"

    with pytest.raises(TypeError, match="abstract"):
        Abstract()  # type: ignore[abstract]


def test_pctx_refuses_duplicates_and_non_tools():
    with pytest.raises(ValueError, match=r"two tools are named tools\.get_weather"):
        Pctx(tools=[seed_tools.get_weather, seed_tools.get_weather])
    with pytest.raises(TypeError, match="takes @tool functions"):
        Pctx(tools=[print])  # type: ignore[list-item]


def test_pctx_accepts_tool_classes():
    p = Pctx(tools=[seed_tools.VectorSearch], url="http://127.0.0.1:1")
    assert [t.spec.name for t in p.tools] == ["vector_search"]
    assert p.url == "ws://127.0.0.1:1/ws"
    assert not p.connected
