"""The Python tools and settings every example shares."""

from __future__ import annotations

import os
import sys

from pctx_client import tool

PCTX_URL = os.environ.get("PCTX_URL", "http://localhost:8080")
MODEL = os.environ.get("MODEL", "gpt-4.1-mini")
QUESTION = (
    "Customer cust_12345 lives in Oslo. What is their churn risk, and what is the weather "
    "there? Use one execute_typescript program."
)


@tool
def get_weather(city: str) -> str:
    """Get weather for a city."""
    return f"It's sunny in {city}"


@tool(namespace="ml")
def predict_churn(customer_id: str) -> dict[str, object]:
    """Predict customer churn probability."""
    return {"churn_probability": 0.85, "factors": ["low engagement", "payment issues"]}


TOOLS = [get_weather, predict_churn]


def require_api_key() -> None:
    """Exit with a clear message when no LLM key is set: the examples talk to a real model."""
    if not os.environ.get("OPENAI_API_KEY"):
        sys.exit("set OPENAI_API_KEY (these examples call a real LLM); start pctx first")
