"""The seed announcement end to end: its Python tools and its two programs, verbatim.

One pctx runs for the module with `github`, `stripe` and `zendesk` served by small local
MCP servers (tests/fixtures/) and server-everything; one client registers the seed's tools
with ``scope="global"``, so every MCP client of the server sees them under the names the
announcement's programs use (`data.analyze_sentiment("...")`, positional arguments). The
programs run verbatim through an MCP client over streamable HTTP (the agent's path); the
same tools seen from a code-mode session follow the original pctx's naming
(`Data.analyzeSentiment({ text })`), as the published client's users expect.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp import Client

from pctx_client import Pctx
from tests import seed_tools
from tests.integration.conftest import (
    Launcher,
    PctxProcess,
    first_json,
    mcp_calls,
    npm_bin,
    python_server,
    read_events,
    wait_for_namespaces,
)
from tests.seed_programs import PROGRAM_ONE, PROGRAM_TWO

pytestmark = pytest.mark.asyncio(loop_scope="module")

# As a session names them (the original's conventions).
NAMESPACES = ["Data", "Ml", "Search", "Tools", "Github", "Stripe", "Zendesk", "Everything"]


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
    async with server.client(seed_tools.SEED_TOOLS, scope="global") as p:
        await wait_for_namespaces(p, NAMESPACES)
        yield p


async def run_over_mcp(server: PctxProcess, code: str) -> tuple[Any, int]:
    """Run ``code`` as an agent does (MCP over HTTP); its return value and call count."""
    async with Client(f"{server.url}/mcp", mode="legacy") as mcp:
        result = await mcp.call_tool("execute_typescript", {"code": code})
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    return first_json(text), mcp_calls(text)


async def test_listings_show_python_and_mcp_functions(worker: Pctx, server: PctxProcess):
    assert worker.registered == {
        "tools": ["get_weather"],
        "data": ["analyze_sentiment", "fetch_database_metrics", "update_risk_score"],
        "search": ["vector_search"],
        "ml": ["predict_churn"],
    }
    # An agent over MCP sees the names as registered, which the programs call (in the
    # catalog disclosure, which offers list_functions; auto puts them in a description).
    async with Client(f"{server.url}/mcp?disclosure=catalog", mode="legacy") as mcp:
        listing = await mcp.call_tool("list_functions", {})
    text = listing.content[0].text  # type: ignore[union-attr]
    for fn in [
        "analyze_sentiment(text)",
        "fetch_database_metrics()",
        "update_risk_score(customer_id, score)",
        "predict_churn(customer_id)",
        "vector_search({query, top_k?})",
        "get_weather(city)",
        "create_issue({repo, title, body?})",
        "get_customer(",
        "create_ticket(",
        "get_sum({a, b})",
    ]:
        assert fn in text, text
    # A session sees the same functions under the original's names.
    listed = {
        f"{f.namespace}.{f.name}": f.description for f in (await worker.list_functions()).functions
    }
    assert listed["Data.analyzeSentiment"] == "Analyze sentiment of text using ML model"
    assert listed["Search.vectorSearch"] == "Semantic search over document embeddings"
    assert "Github.createIssue" in listed
    details = await worker.get_function_details(["Data.updateRiskScore", "Search.vectorSearch"])
    assert [f"{f.namespace}.{f.name}" for f in details.functions] == [
        "Data.updateRiskScore",
        "Search.vectorSearch",
    ]
    for word in ["customer_id", "score", "query", "top_k", "relevance"]:
        assert word in details.code, details.code
    assert "Update customer risk score in database" in details.code


async def test_program_one_files_an_issue_on_negative_sentiment(
    worker: Pctx, server: PctxProcess, state_dir: Path
):
    seed_tools.SENTIMENT.scores = [0.05, 0.9, 0.05]
    before = len(read_events(state_dir, "github"))
    value, calls = await run_over_mcp(server, PROGRAM_ONE)
    assert value is None  # the program returns nothing
    assert calls == 4
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


async def test_program_one_files_nothing_on_positive_sentiment(
    worker: Pctx, server: PctxProcess, state_dir: Path
):
    seed_tools.SENTIMENT.scores = [0.9, 0.05, 0.05]
    before = len(read_events(state_dir, "github"))
    _, calls = await run_over_mcp(server, PROGRAM_ONE)
    assert calls == 3
    assert read_events(state_dir, "github")[before:] == []


async def test_program_two_mixes_python_and_mcp(worker: Pctx, server: PctxProcess, state_dir: Path):
    before = len(read_events(state_dir, "zendesk"))
    value, calls = await run_over_mcp(server, PROGRAM_TWO)
    assert value is None
    assert calls == 4
    assert seed_tools.DB.risk_score("cust_12345") == 0.85
    tickets = read_events(state_dir, "zendesk")[before:]
    assert [(t["subject"], t["customer"], t["priority"]) for t in tickets] == [
        ("High churn risk customer", "ada@example.com", "high")
    ]
    assert {"tool": "get_customer", "customer_id": "cust_12345"} in read_events(state_dir, "stripe")


async def test_program_two_from_a_session_in_the_original_naming(worker: Pctx, state_dir: Path):
    """The announcement's second workflow as the published client's users write it."""
    before = len(read_events(state_dir, "zendesk"))
    out = await worker.execute_typescript(
        """
        async function run() {
          const [prediction, customer] = await Promise.all([
            Ml.predictChurn({ customer_id: "cust_12345" }),
            Stripe.getCustomer({ customer_id: "cust_12345" }),
          ]);
          if (prediction.churn_probability > 0.8) {
            await Data.updateRiskScore({ customer_id: customer.id, score: prediction.churn_probability });
            const ticket = await Zendesk.createTicket({
              subject: "High churn risk customer", customer: customer.email, priority: "high",
            });
            console.log("filed", ticket.id ?? "a ticket");
          }
          return prediction;
        }
        """
    )
    assert out.success, out.stderr
    assert out.output == {
        "churn_probability": 0.85,
        "factors": ["low engagement", "payment issues"],
    }
    assert out.stdout.startswith("filed ")
    assert seed_tools.DB.risk_score("cust_12345") == 0.85
    assert len(read_events(state_dir, "zendesk")[before:]) == 1


async def test_positional_and_object_calls_over_mcp(worker: Pctx, server: PctxProcess):
    value, calls = await run_over_mcp(
        server,
        """
        const w = await tools.get_weather("Paris");
        await data.update_risk_score("cust_12345", 0.42);
        const hits = await search.vector_search({ query: "caching", top_k: 1 });
        const churn = await ml.predict_churn("cust_1");
        return { w, hits, churn };
        """,
    )
    assert calls == 4
    assert value == {
        "w": "It's sunny in Paris",
        "hits": [
            {
                "title": "Caching guide",
                "url": "https://docs.example/perf/caching",
                "relevance": value["hits"][0]["relevance"],
            }
        ],
        "churn": {"churn_probability": 0.85, "factors": ["low engagement", "payment issues"]},
    }
    assert seed_tools.DB.risk_score("cust_12345") == 0.42


async def test_python_and_upstream_npm_server_in_one_session_program(worker: Pctx):
    out = await worker.execute_typescript(
        """
        const [s, sum] = await Promise.all([
          Data.analyzeSentiment({ text: "fine" }),
          Everything.getSum({ a: 2, b: 3 }),
        ]);
        console.log("sum says", JSON.stringify(sum));
        return { negative: s.negative, sum };
        """
    )
    assert out.success, out.stderr
    assert out.output["negative"] == 0.8
    assert "5" in str(out.output["sum"])
    assert out.stdout.startswith("sum says")


async def test_invalid_arguments_reject_with_the_validation_message(worker: Pctx):
    out = await worker.execute_typescript(
        """
        // @ts-expect-error: the run-time validation is under test, not the type check
        try { await Data.updateRiskScore({ customer_id: "cust_12345", score: "very high" }); return "no error"; }
        catch (e) { return e.message; }
        """
    )
    assert out.success, out.stderr
    assert out.output.startswith("Data.updateRiskScore: "), out.output
    assert "score" in out.output
    assert seed_tools.DB.risk_score("cust_12345") is None  # the tool never ran


@pytest.fixture(scope="module")
def bare(launch: Launcher) -> PctxProcess:
    return launch({})


async def test_framework_integration_snippet(bare: PctxProcess):
    """The announcement's "Framework Integration": session tools handed to LangChain."""
    pytest.importorskip("langchain_core")
    p = Pctx(
        tools=[
            seed_tools.get_weather,
            seed_tools.analyze_sentiment,
            seed_tools.fetch_database_metrics,
        ],
        url=bare.url,
    )
    await p.connect()
    try:
        langchain_tools = {t.name: t for t in p.langchain_tools()}
        listing = await langchain_tools["list_functions"].ainvoke({})
        for fn in ["getWeather({city})", "analyzeSentiment({text})", "fetchDatabaseMetrics()"]:
            assert fn in listing, listing
        text = await langchain_tools["execute_typescript"].ainvoke(
            {"code": 'return await Tools.getWeather({ city: "Lisbon" })'}
        )
        assert "It's sunny in Lisbon" in text
    finally:
        await p.disconnect()
