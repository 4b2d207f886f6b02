"""A real pctx with an upstream MCP server (server-everything) and one Python tool.

Every framework test drives its agent loop against it: the scripted model calls
list_functions (or search_functions), get_function_details, then execute_typescript with
PROGRAM, which calls the session's Python tool ``Weather.forecast`` and the MCP tool
``Everything.getSum`` together, in the original pctx's naming that a code-mode session
shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pctx_client import Pctx, ToolDisclosure, tool
from pctx_client.adapters._core import INPUTS
from pctx_client.descriptions import get_tool_description
from tests.integration.conftest import (
    Launcher,
    PctxProcess,
    npm_bin,
    pctx_binary,
    wait_for_namespaces,
)

PROGRAM = """
const [forecast, sum] = await Promise.all([
  Weather.forecast({ city: "Oslo" }),
  Everything.getSum({ a: 19, b: 23 }),
]);
return { city: forecast.city, condition: forecast.condition, sum };
"""

QUESTION = "What is the weather in Oslo, and what is 19 + 23?"

# The catalog disclosure's tools, in the order the published adapters return them.
CATALOG = ["execute_typescript", "list_functions", "search_functions", "get_function_details"]
FILESYSTEM = ["execute_bash", "execute_typescript"]


@tool(namespace="weather")
def forecast(city: str) -> dict[str, Any]:
    """Today's forecast for a city: condition and high temperature in Celsius."""
    return {"city": city, "condition": "sunny", "high_c": 21}


def check_answer(answer: str) -> None:
    """The final answer carries what only running PROGRAM against both backends yields."""
    assert "Oslo" in answer, answer
    assert "sunny" in answer, answer  # from the Python tool
    assert "42" in answer, answer  # from the MCP tool
    assert "Code Executed Successfully: True" in answer, answer  # the published markdown


def check_listing(listing: str) -> None:
    assert "namespace Weather {" in listing, listing
    assert "forecast({city})" in listing, listing
    assert "getSum({a, b})" in listing, listing


def description(name: str, disclosure: ToolDisclosure = ToolDisclosure.CATALOG) -> str:
    """The description the published adapters give tool ``name``."""
    return get_tool_description(name, disclosure=disclosure)  # type: ignore[arg-type]


def properties(name: str) -> dict[str, Any]:
    """The JSON Schema properties of tool ``name``'s input, as the published client has them."""
    return dict(INPUTS[name].model_json_schema().get("properties", {}))  # type: ignore[index]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PctxProcess]:
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("pctx"))
    try:
        yield launcher({"everything": {"command": str(npm_bin("mcp-server-everything"))}})
    finally:
        launcher.stop_all()


@pytest.fixture
async def p(server: PctxProcess) -> AsyncIterator[Pctx]:
    async with server.client([forecast]) as client:
        await wait_for_namespaces(client, ["Weather", "Everything"])
        yield client
