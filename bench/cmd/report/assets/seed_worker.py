"""pctx bench: the seed announcement's Python tools, served through the pctx Python SDK.

    python seed_worker.py schemas              print every tool's registration JSON
    python seed_worker.py serve URL DATA.json  register the tools with the pctx at URL and
                                               serve them until standard input closes

The declarations (names, namespaces, signatures, docstrings, pydantic models) are the
seed's; the bodies return the canned payloads in DATA.json, so the live Code Mode run and
the modelled sequential run see the same data. DATA.json also names stand-in MCP tools
(GitHub, Stripe, Zendesk), served here with the JSON Schemas it gives, and the worker
adds bench.echo for the callback round trip.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from pctx_client import AsyncTool, Pctx, tool
from pydantic import BaseModel, Field

DATA: dict[str, Any] = {}


@tool(namespace="data")
async def analyze_sentiment(text: str) -> dict[str, float]:
    """Analyze sentiment of text using ML model"""
    return DATA["sentiment"]


@tool(namespace="data")
async def fetch_database_metrics() -> list[dict]:
    """Query PostgreSQL for performance metrics"""
    return DATA["metrics"]


class SearchQuery(BaseModel):
    query: str
    top_k: int = Field(default=10)


class SearchResult(BaseModel):
    title: str
    url: str
    relevance: float


class VectorSearch(AsyncTool):
    name: str = "vector_search"
    namespace: str = "search"
    description: str = "Semantic search over document embeddings"
    input_schema: type[BaseModel] = SearchQuery
    output_schema: type[list[SearchResult]] = list[SearchResult]

    async def _ainvoke(self, query: str, top_k: int = 10) -> list[SearchResult]:
        return [SearchResult(**r) for r in DATA["search"][:top_k]]


@tool(namespace="ml")
def predict_churn(customer_id: str) -> dict:
    """Predict customer churn probability"""
    return DATA["churn"]


@tool(namespace="data")
async def update_risk_score(customer_id: str, score: float) -> None:
    """Update customer risk score in database"""


@tool
def get_weather(city: str) -> str:
    """Get weather for a city"""
    return f"It's sunny in {city}"


SEED_TOOLS = [
    get_weather,
    analyze_sentiment,
    fetch_database_metrics,
    VectorSearch(),
    predict_churn,
    update_risk_score,
]


@tool(namespace="bench")
async def echo(x: int) -> int:
    """Return x."""
    return x


class StandIn(AsyncTool):
    """An MCP tool of the seed's programs (GitHub, Stripe, Zendesk) with a canned answer."""

    def __init__(self, spec: dict[str, Any], result: Any) -> None:
        super().__init__(
            name=spec["name"],
            namespace=spec["namespace"],
            description=spec["description"],
            input_schema=spec["inputSchema"],
        )
        self._result = result

    async def _ainvoke(self, **kwargs: Any) -> dict:
        return self._result


def schemas() -> None:
    out = [{"namespace": t.spec.namespace, **t.spec.wire()} for t in SEED_TOOLS]
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


async def serve(url: str) -> None:
    results = {
        "github": DATA["issue"],
        "stripe": DATA["customer"],
        "zendesk": DATA["ticket"],
    }
    stand_ins = [StandIn(s, results[s["namespace"]]) for s in DATA["standins"]]
    # Global scope: every MCP client of the pctx sees them, as the benchmark's do.
    async with Pctx(
        tools=[*SEED_TOOLS, *stand_ins, echo],
        url=url,
        client_name="pctx-bench",
        scope="global",
    ) as p:
        print(json.dumps({"ready": True, "registered": p.registered}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "schemas":
        schemas()
    elif len(sys.argv) == 4 and sys.argv[1] == "serve":
        with open(sys.argv[3], encoding="utf-8") as f:
            DATA.update(json.load(f))
        asyncio.run(serve(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
