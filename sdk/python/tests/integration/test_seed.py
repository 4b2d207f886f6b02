"""The seed announcement end to end: its Python tools and its two programs, verbatim.

One pctx runs for the module with `github`, `stripe` and `zendesk` served by small local
MCP servers (tests/fixtures/) and server-everything; one Python worker registers the
seed's tools. Programs run both through the worker's own connection (`Pctx.execute`) and
through an MCP client over streamable HTTP (the agent's path).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from mcp import Client

from pctx_client import Pctx
from tests import seed_tools
from tests.integration.conftest import (
    Launcher,
    PctxProcess,
    first_json,
    npm_bin,
    python_server,
    read_events,
    wait_for_namespaces,
)
from tests.seed_programs import PROGRAM_ONE, PROGRAM_TWO

pytestmark = pytest.mark.asyncio(loop_scope="module")

NAMESPACES = ["data", "ml", "search", "tools", "github", "stripe", "zendesk", "everything"]


@pytest.fixture(scope="module")
def server(launch: Launcher, state_dir: Path) -> PctxProcess:
    return launch(
        {
            "github": python_server("github_server.py", state_dir),
            "stripe": python_server("stripe_server.py", state_dir),
            "zendesk": python_server("zendesk_server.py", state_dir),
            "everything": {"command": str(npm_bin("mcp-server-everything"))},
        }
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def worker(server: PctxProcess) -> AsyncIterator[Pctx]:
    async with server.client(seed_tools.SEED_TOOLS) as p:
        await wait_for_namespaces(p, NAMESPACES)
        yield p


async def test_listing_shows_python_and_mcp_functions(worker: Pctx):
    text = await worker.list_functions()
    for fn in [
        "analyze_sentiment",
        "fetch_database_metrics",
        "update_risk_score",
        "predict_churn",
        "vector_search",
        "get_weather",
        "create_issue",
        "get_customer",
        "create_ticket",
        "get_sum",
    ]:
        assert fn in text, text
    details = await worker.get_function_details(["data.update_risk_score", "search.vector_search"])
    for word in [
        "customer_id",
        "score",
        "query",
        "top_k",
        "relevance",
        "Update customer risk score in database",
    ]:
        assert word in details, details


async def test_program_one_files_an_issue_on_negative_sentiment(worker: Pctx, state_dir: Path):
    seed_tools.SENTIMENT.scores = [0.05, 0.9, 0.05]
    before = len(read_events(state_dir, "github"))
    res = await worker.execute(PROGRAM_ONE)
    assert res.ok, res.text
    assert res.calls == 4
    issues = read_events(state_dir, "github")[before:]
    assert len(issues) == 1
    issue = issues[0]
    assert (issue["repo"], issue["title"]) == ("product/api", "Negative sentiment spike detected")
    metrics, docs = issue["body"].removeprefix("Metrics: ").split("\nRelated docs: ")
    # The last hour's rows only (stale_metric is older), newest first, as the tool returned.
    assert [(m["name"], m["value"]) for m in json.loads(metrics)] == [
        ("p99_latency_ms", 412.0),
        ("error_rate", 0.021),
    ]
    assert docs.split(", ") == [
        "https://docs.example/perf/caching",
        "https://docs.example/perf/planner",
        "https://docs.example/perf/pooling",
    ]


async def test_program_one_files_nothing_on_positive_sentiment(worker: Pctx, state_dir: Path):
    seed_tools.SENTIMENT.scores = [0.9, 0.05, 0.05]
    before = len(read_events(state_dir, "github"))
    res = await worker.execute(PROGRAM_ONE)
    assert res.ok, res.text
    assert res.calls == 3
    assert read_events(state_dir, "github")[before:] == []


async def test_program_two_over_mcp_http(worker: Pctx, server: PctxProcess, state_dir: Path):
    """The agent's path: an MCP client runs the program; Python and MCP tools mix."""
    before = len(read_events(state_dir, "zendesk"))
    async with Client(f"{server.url}/mcp", mode="legacy") as mcp:
        result = await mcp.call_tool("execute_typescript", {"code": PROGRAM_TWO})
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    assert first_json(text) is None  # the program returns nothing
    assert seed_tools.DB.risk_score("cust_12345") == 0.85
    tickets = read_events(state_dir, "zendesk")[before:]
    assert [(t["subject"], t["customer"], t["priority"]) for t in tickets] == [
        ("High churn risk customer", "ada@example.com", "high")
    ]
    assert {"tool": "get_customer", "customer_id": "cust_12345"} in read_events(state_dir, "stripe")


async def test_positional_and_object_calls(worker: Pctx):
    res = await worker.execute(
        """
        const w = await tools.get_weather("Paris");
        await data.update_risk_score("cust_12345", 0.42);
        const hits = await search.vector_search({ query: "caching", top_k: 1 });
        const churn = await ml.predict_churn("cust_1");
        return { w, hits, churn };
        """
    )
    assert res.ok, res.text
    assert res.value == {
        "w": "It's sunny in Paris",
        "hits": [
            {
                "title": "Caching guide",
                "url": "https://docs.example/perf/caching",
                "relevance": res.value["hits"][0]["relevance"],
            }
        ],
        "churn": {"churn_probability": 0.85, "factors": ["low engagement", "payment issues"]},
    }
    assert seed_tools.DB.risk_score("cust_12345") == 0.42


async def test_python_and_upstream_npm_server_in_one_program(worker: Pctx):
    res = await worker.execute(
        """
        const [s, sum] = await Promise.all([
          data.analyze_sentiment("fine"),
          everything.get_sum({ a: 2, b: 3 }),
        ]);
        console.log("sum says", JSON.stringify(sum));
        return { negative: s.negative, sum };
        """
    )
    assert res.ok, res.text
    assert res.value["negative"] == 0.8
    assert "5" in str(res.value["sum"])
    assert next(c.text for c in res.console).startswith("sum says")


async def test_invalid_arguments_reject_with_the_validation_message(worker: Pctx):
    res = await worker.execute(
        """
        // @ts-expect-error: the run-time validation is under test, not the type check
        try { await data.update_risk_score("cust_12345", "very high"); return "no error"; }
        catch (e) { return e.message; }
        """
    )
    assert res.ok, res.text
    assert "update_risk_score" in res.value
    assert "score" in res.value
