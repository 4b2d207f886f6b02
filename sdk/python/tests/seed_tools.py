"""The seed announcement's Python tools, with tiny local stand-ins for their backends.

The tool declarations (names, namespaces, signatures, docstrings, schemas) are the seed's;
only the bodies' dependencies are replaced: a scripted sentiment "model", an in-memory
SQLite database instead of PostgreSQL, a bag-of-words vector index instead of FAISS.
"""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from pctx_client import AsyncTool, tool

# --------------------------------------------------------------------------- fake backends


class SentimentModel:
    """Stands in for a trained model: scores are set by the test."""

    def __init__(self) -> None:
        self.scores = [0.1, 0.8, 0.1]

    def predict(self, text: str) -> list[float]:
        return list(self.scores)


SENTIMENT = SentimentModel()


def load_model(name: str) -> SentimentModel:
    assert name == "sentiment-analyzer"
    return SENTIMENT


class FakeDB:
    """A tiny SQLite database playing PostgreSQL: metrics and customers tables."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(
            """
            CREATE TABLE metrics (name TEXT, value REAL, timestamp TEXT);
            CREATE TABLE customers (id TEXT PRIMARY KEY, risk_score REAL);
            """
        )
        self.reset()

    def reset(self) -> None:
        now = datetime.now(UTC)
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM metrics")
            self._conn.execute("DELETE FROM customers")
            self._conn.executemany(
                "INSERT INTO metrics VALUES (?, ?, ?)",
                [
                    ("p99_latency_ms", 412.0, (now - timedelta(minutes=5)).isoformat()),
                    ("error_rate", 0.021, (now - timedelta(minutes=20)).isoformat()),
                    ("stale_metric", 1.0, (now - timedelta(hours=3)).isoformat()),
                ],
            )
            self._conn.execute("INSERT INTO customers VALUES ('cust_12345', NULL)")

    async def fetch(self, sql: str, *args: object) -> list[dict[str, object]]:
        def run() -> list[dict[str, object]]:
            with self._lock:
                return [dict(r) for r in self._conn.execute(sql, args).fetchall()]

        return await asyncio.to_thread(run)

    async def execute(self, sql: str, *args: object) -> None:
        def run() -> None:
            with self._lock, self._conn:
                self._conn.execute(sql, args)

        await asyncio.to_thread(run)

    def risk_score(self, customer_id: str) -> float | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT risk_score FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
        return None if row is None else row["risk_score"]


DB = FakeDB()


@contextmanager
def _connect() -> Iterator[FakeDB]:
    yield DB


# --------------------------------------------------------------------------- the seed's tools


@tool(namespace="data")
async def analyze_sentiment(text: str) -> dict[str, float]:
    """Analyze sentiment of text using ML model"""
    model = load_model("sentiment-analyzer")
    scores = model.predict(text)
    return {"positive": scores[0], "negative": scores[1], "neutral": scores[2]}


@tool(namespace="data")
async def fetch_database_metrics() -> list[dict]:
    """Query PostgreSQL for performance metrics"""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with _connect() as conn:
        return await conn.fetch(
            "SELECT * FROM metrics WHERE timestamp > ? ORDER BY timestamp DESC", since
        )


class SearchQuery(BaseModel):
    query: str
    top_k: int = Field(default=10)


class SearchResult(BaseModel):
    title: str
    url: str
    relevance: float


@dataclass(frozen=True)
class Doc:
    title: str
    url: str
    text: str


DOCUMENTS = [
    Doc(
        "Tuning the query planner",
        "https://docs.example/perf/planner",
        "performance optimization of slow queries with the planner",
    ),
    Doc(
        "Connection pooling",
        "https://docs.example/perf/pooling",
        "pool connections for performance under load",
    ),
    Doc(
        "Release notes 2.3",
        "https://docs.example/releases/2.3",
        "new features and fixes in the latest release",
    ),
    Doc(
        "Caching guide",
        "https://docs.example/perf/caching",
        "cache hot data: the simplest performance optimization",
    ),
]


def _embed(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z0-9]+", text.lower()))


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in a)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


class InMemoryIndex:
    """A bag-of-words 'embedding index' over DOCUMENTS."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = [(d, _embed(d.text + " " + d.title)) for d in docs]

    def search(self, embedding: Counter[str], top_k: int) -> list[tuple[Doc, float]]:
        scored = [(d, round(_cosine(embedding, e), 4)) for d, e in self.docs]
        scored = [s for s in scored if s[1] > 0]
        scored.sort(key=lambda s: (-s[1], s[0].title))
        return scored[:top_k]


class Encoder:
    def encode(self, text: str) -> Counter[str]:
        return _embed(text)


class VectorSearch(AsyncTool):
    name: str = "vector_search"
    namespace: str = "search"
    description: str = "Semantic search over document embeddings"
    input_schema: type[BaseModel] = SearchQuery
    output_schema: type[list[SearchResult]] = list[SearchResult]

    def __init__(self):
        super().__init__()
        self.index = InMemoryIndex(DOCUMENTS)
        self.encoder = Encoder()

    async def _ainvoke(self, query: str, top_k: int = 10) -> list[SearchResult]:
        embedding = self.encoder.encode(query)
        results = self.index.search(embedding, top_k)
        return [
            SearchResult(title=doc.title, url=doc.url, relevance=score) for doc, score in results
        ]


@tool(namespace="ml")
def predict_churn(customer_id: str) -> dict:
    """Predict customer churn probability"""
    # Load features and run ML model
    return {"churn_probability": 0.85, "factors": ["low engagement", "payment issues"]}


@tool(namespace="data")
async def update_risk_score(customer_id: str, score: float) -> None:
    """Update customer risk score in database"""
    with _connect() as conn:
        await conn.execute("UPDATE customers SET risk_score = ? WHERE id = ?", score, customer_id)


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
