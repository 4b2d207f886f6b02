"""Tools written against the published API only; prints what each derives, as JSON.

Run with each venv's interpreter (tests/test_published_api.py): the published client and
this SDK must derive the same names, descriptions and schemas from the same code.
"""

import json
import sys
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pctx_client import Tool, tool


class Address(BaseModel):
    street: str
    zip_code: str = Field(description="5-digit ZIP code")


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two numbers together"""
    return a + b


@tool
def greet(name: str, greeting: str = "Hello") -> str:
    """Greet someone with a custom greeting"""
    return f"{greeting}, {name}!"


@tool
def now_timestamp() -> float:
    """Returns current timestamp"""
    return datetime.now().timestamp()


@tool
def search_logs(query: str = "", level: str = "info", limit: int = 100) -> list[str]:
    """Search the logs.

    Args:
        query: Words to look for.
        level: Lowest level shown.
        limit: At most this many lines.

    Returns:
        Matching lines, newest first.
    """
    return []


@tool(name="foo_bar", namespace="namespaced_with_underscore")
def namespaced_fn(val: str) -> str:
    return f"Hello {val}"


@tool
async def fetch_data(item_id: int) -> dict[str, Any]:
    """Simulate fetching data asynchronously"""
    return {"id": item_id}


@tool
def numpy_style(city: str, days: int = 3) -> str:
    """Forecast for a city.

    A longer explanation that spans
    two lines.

    Parameters
    ----------
    city : str
        The city's name.
    days : int
        How many days ahead.

    Returns
    -------
    str
        The forecast.
    """
    return ""


@tool
def rest_style(path: str, mode: Literal["r", "w"] = "r") -> bytes:
    """Read a file.

    :param path: Where the file is.
    :param mode: How to open it.
    :returns: The content.
    """
    return b""


@tool
def epydoc_style(user_id: int, address: Address) -> Address:
    """Update an address.

    @param user_id: Whose address.
    @param address: The new address.
    @return: The stored address.
    """
    return address


@tool(description="Overridden description.")
def overridden(x: float) -> None:
    """Original text."""


def _plain(item: str) -> float:
    """Price of an item."""
    return 2.5


price = Tool.from_func(_plain, name="price", namespace="shop")

TOOLS = [
    add_numbers,
    greet,
    now_timestamp,
    search_logs,
    namespaced_fn,
    fetch_data,
    numpy_style,
    rest_style,
    epydoc_style,
    overridden,
    price,
]


def derived() -> dict[str, Any]:
    """What each tool derives, keyed namespace.name."""
    return {
        f"{t.namespace}.{t.name}": {
            "async": not isinstance(t, Tool),
            "description": t.description,
            "input_schema": t.input_json_schema(),
            "output_schema": t.output_json_schema(),
        }
        for t in TOOLS
    }


if __name__ == "__main__":
    json.dump(derived(), sys.stdout, indent=1, sort_keys=True)
