"""pctx as an MCP server, seen by the Python `mcp` client over stdio and streamable HTTP.

Upstreams are the npm reference servers server-everything (`get-sum` → `everything.get_sum`)
and server-memory (stateful: create_entities then read_graph).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.integration.conftest import (
    Launcher,
    PctxProcess,
    first_json,
    free_port,
    npm_bin,
    pctx_binary,
    render_config,
)

PROGRAM = """
const [sum, created] = await Promise.all([
  everything.get_sum({ a: 2, b: 3 }),
  memory.create_entities({ entities: [{ name: "pctx-%s", entityType: "tool", observations: ["runs TypeScript"] }] }),
]);
const graph = await memory.read_graph({});
return { sum, entities: graph.entities.map((e) => e.name) };
"""

CODE_MODE_TOOLS = {"list_functions", "get_function_details", "execute_typescript"}


def upstreams(tmp: Path) -> dict[str, dict[str, object]]:
    return {
        "everything": {"command": str(npm_bin("mcp-server-everything"))},
        "memory": {
            "command": str(npm_bin("mcp-server-memory")),
            "env": {"MEMORY_FILE_PATH": str(tmp / "memory.jsonl")},
        },
    }


async def exercise(client: Client, tag: str) -> None:
    tools = await client.list_tools()
    assert {t.name for t in tools.tools} == CODE_MODE_TOOLS
    assert len(tools.tools) == 3
    listing = await client.call_tool("list_functions", {})
    text = listing.content[0].text  # type: ignore[union-attr]
    assert "get_sum" in text, text
    assert "read_graph" in text, text
    result = await client.call_tool("execute_typescript", {"code": PROGRAM % tag})
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    value = first_json(text)
    assert "5" in json.dumps(value["sum"])
    assert f"pctx-{tag}" in value["entities"]
    failed = await client.call_tool("execute_typescript", {"code": "throw new Error('nope ' + 1)"})
    assert failed.is_error
    assert "nope 1" in failed.content[0].text  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def http_server(launch: Launcher, tmp_path_factory: pytest.TempPathFactory) -> PctxProcess:
    return launch(upstreams(tmp_path_factory.mktemp("mem-http")))


async def test_streamable_http(http_server: PctxProcess):
    # The catalog disclosure, chosen by the session: exercise() reads list_functions.
    async with Client(f"{http_server.url}/mcp?disclosure=catalog", mode="legacy") as client:
        await exercise(client, "http")


async def test_stdio(tmp_path: Path):
    binary = pctx_binary()
    config = tmp_path / "pctx.toml"
    config.write_text(
        render_config(free_port(), upstreams(tmp_path)) + '\n[codemode]\ndisclosure = "catalog"\n'
    )
    params = StdioServerParameters(
        command=str(binary), args=["start", "--stdio", "--config", str(config)], cwd=str(tmp_path)
    )
    async with Client(params, mode="legacy") as client:
        await exercise(client, "stdio")
