"""A real pctx with an upstream MCP server (server-everything) and one Python tool.

Every framework test drives its agent loop against it: the scripted model calls
list_functions, then execute_typescript with PROGRAM, which calls the Python tool
``weather.forecast`` and the MCP tool ``everything.get_sum`` together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pctx_client import Pctx, tool
from tests.integration.conftest import (
    Launcher,
    PctxProcess,
    npm_bin,
    pctx_binary,
    wait_for_namespaces,
)

PROGRAM = """
const [forecast, sum] = await Promise.all([
  weather.forecast("Oslo"),
  everything.get_sum({ a: 19, b: 23 }),
]);
return { city: forecast.city, condition: forecast.condition, sum };
"""

QUESTION = "What is the weather in Oslo, and what is 19 + 23?"


@tool(namespace="weather")
def forecast(city: str) -> dict[str, Any]:
    """Today's forecast for a city: condition and high temperature in Celsius."""
    return {"city": city, "condition": "sunny", "high_c": 21}


def check_answer(answer: str) -> None:
    """The final answer carries what only running PROGRAM against both backends yields."""
    assert "Oslo" in answer, answer
    assert "sunny" in answer, answer  # from the Python tool
    assert "42" in answer, answer  # from the MCP tool


def check_listing(listing: str) -> None:
    assert "forecast" in listing, listing
    assert "get_sum" in listing, listing


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
        await wait_for_namespaces(client, ["weather", "everything"])
        yield client
