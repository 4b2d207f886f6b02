"""What all adapters share, against the fake server: errors, dispatch, missing extras."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from pctx_client import Pctx
from pctx_client.adapters import _core, crewai
from pctx_client.errors import RemoteError
from tests.fakepctx import CallFailed, FakePctx

SPECS = [
    {
        "name": "list_functions",
        "description": "List them.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string", "description": "Only this namespace."},
                "query": {"type": "string"},
            },
        },
    },
    {
        "name": "get_function_details",
        "description": "Details.",
        "inputSchema": {
            "type": "object",
            "properties": {"functions": {"type": "array", "items": {"type": "string"}}},
            "required": ["functions"],
        },
    },
    {
        "name": "execute_typescript",
        "description": "Run it.",
        "inputSchema": {
            "type": "object",
            "properties": {"code": {"type": "string"}},
            "required": ["code"],
        },
    },
]

ADAPTERS: dict[str, Callable[[Pctx], Any]] = {
    "langchain": Pctx.langchain_tools,
    "crewai": Pctx.crewai_tools,
    "openai": Pctx.openai_tools,
    "pydantic-ai": Pctx.pydantic_ai_tools,
}
# What each adapter imports, to hide it as if the extra were not installed.
FRAMEWORK_MODULES = {
    "langchain": "langchain_core",
    "crewai": "crewai",
    "openai": "agents",
    "pydantic-ai": "pydantic_ai",
}


async def publish(fake: FakePctx, specs: list[dict[str, Any]]) -> None:
    async def code_mode_tools(params: dict[str, Any]) -> dict[str, Any]:
        return {"tools": specs}

    fake.handlers["code_mode_tools"] = code_mode_tools


@pytest.mark.parametrize("extra", sorted(ADAPTERS))
def test_missing_extra_names_the_pip_command(monkeypatch, extra):
    top = FRAMEWORK_MODULES[extra]
    for name in [top, *(m for m in list(sys.modules) if m.startswith(top + "."))]:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it now fails
    crewai._tool_class.cache_clear()
    with pytest.raises(ImportError, match=rf'pip install "pctx-client\[{extra}\]"'):
        ADAPTERS[extra](Pctx())


@pytest.mark.parametrize("extra", sorted(ADAPTERS))
def test_adapters_need_a_connection(extra):
    pytest.importorskip(FRAMEWORK_MODULES[extra])
    with pytest.raises(RuntimeError, match=r"await p.connect\(\) first"):
        ADAPTERS[extra](Pctx())


def test_tool_schemas_need_a_connection():
    with pytest.raises(RuntimeError, match=r"await p.connect\(\) first"):
        Pctx().openai_tool_schemas()


async def test_server_without_code_mode_tools(fake: FakePctx):
    async with Pctx(url=fake.url) as p:  # the fake does not know code_mode_tools
        assert p.connected
        with pytest.raises(RuntimeError, match=r"did not publish its Code Mode tools.*not found"):
            p.openai_tool_schemas()


async def test_server_missing_one_tool(fake: FakePctx):
    await publish(fake, SPECS[:2])
    async with Pctx(url=fake.url) as p:
        with pytest.raises(RuntimeError, match=r"did not publish the Code Mode tool.*execute_"):
            p.openai_tool_schemas()


async def test_specs_come_from_the_server_and_are_copies(fake: FakePctx):
    await publish(fake, [*SPECS, {"name": "something_new", "description": "x"}])
    async with Pctx(url=fake.url) as p:
        first = p.openai_tool_schemas()
        assert [t["function"]["description"] for t in first] == [
            "List them.",
            "Details.",
            "Run it.",
        ]
        first[0]["function"]["parameters"]["properties"].clear()
        assert p.openai_tool_schemas() != first


async def test_call_tool_dispatches_and_validates(fake: FakePctx):
    async with Pctx(url=fake.url) as p:
        assert await p.call_tool("list_functions") == "listing {}"
        assert await p.call_tool("list_functions", '{"namespace": "ml", "query": null}') == (
            'listing {"namespace": "ml"}'
        )
        assert await p.call_tool("get_function_details", {"functions": "ml.a"}) == "details ml.a"
        bad = [
            ("nope", {}, "unknown Code Mode tool 'nope'"),
            ("list_functions", "{oops", "arguments are not valid JSON"),
            ("list_functions", "[1]", "arguments must be an object, got list"),
            ("list_functions", {"namespace": 3}, "namespace must be a string, got int"),
            ("get_function_details", {}, "functions must be a list"),
            ("get_function_details", {"functions": [1]}, "functions must be a list"),
            ("execute_typescript", {"code": ""}, "code must be a non-empty string"),
            ("execute_typescript", {}, "code must be a non-empty string"),
        ]
        for name, args, message in bad:
            with pytest.raises(ValueError, match=message):
                await p.call_tool(name, args)


@pytest.mark.parametrize(
    ("code", "model_reads"),
    [
        (-32602, True),  # unknown function
        (-32011, True),  # too busy
        (-32010, True),  # session clash
        (-32603, False),  # pctx's own failure: not the model's to fix
    ],
)
async def test_call_tool_surfaces_pctx_errors_to_the_model(
    fake: FakePctx, code: int, model_reads: bool
):
    async def refuse(params: dict[str, Any]) -> dict[str, Any]:
        raise CallFailed({"code": code, "message": f"refused {code}"})

    fake.handlers["get_function_details"] = refuse
    async with Pctx(url=fake.url) as p:
        expected: type[Exception] = ValueError if model_reads else RemoteError
        with pytest.raises(expected, match=f"refused {code}"):
            await p.call_tool("get_function_details", {"functions": ["ml.a"]})


def test_args_model_follows_the_schema():
    tools = {s["name"]: _core.CodeModeTool(s["name"], "", s["inputSchema"]) for s in SPECS}
    listing = _core.args_model(tools["list_functions"])
    assert listing().model_dump() == {"namespace": None, "query": None}
    assert listing.model_fields["namespace"].description == "Only this namespace."
    details = _core.args_model(tools["get_function_details"])
    assert details(functions=["a.b"]).functions == ["a.b"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="functions"):
        details()
    with pytest.raises(ValueError, match="functions"):
        details(functions=[1])


def test_sync_call_without_a_connection():
    with pytest.raises(RuntimeError, match="not connected"):
        _core.call_tool_sync(Pctx(), "list_functions", {})
