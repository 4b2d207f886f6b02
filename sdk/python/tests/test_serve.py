"""Answering pctx's execute_tool calls: results and every error, in both wordings.

The session wording is the published client's (its websocket, docs/protocol.md §10.1);
the worker wording is pctx/1's (§4.1), which carries the exception's type.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from pydantic import BaseModel

from pctx_client import ToolContext, tool
from pctx_client._serve import Style, answer


class _Row(BaseModel):
    id: int


@tool(namespace="t")
def boom(customer_id: str) -> None:
    raise KeyError(f"customer {customer_id} not found")


@tool(namespace="t")
def silent() -> None:
    raise RuntimeError


@tool(namespace="t")
def parse_row(raw: str) -> int:
    """The tool's own body fails pydantic validation: a tool error, not bad arguments."""
    return _Row.model_validate_json(raw).id


@tool(namespace="t")
def nan() -> float:
    return math.nan


@tool(namespace="t")
async def deadline(ctx: ToolContext) -> dict[str, Any]:
    return {"call_id": ctx.call_id, "timeout": ctx.timeout, "left": ctx.remaining() is not None}


TOOLS = {(t.namespace, t.name): t for t in [boom, silent, parse_row, nan, deadline]}


def call(style: Style, params: Any, id_: Any = 7) -> dict[str, Any]:
    return json.loads(asyncio.run(answer(TOOLS, id_, params, style)))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("params", "session", "worker"),
    [
        (
            {"namespace": "t", "name": "boom", "args": {"customer_id": "cust_9"}},
            (-32603, "Failed executing tool: 'customer cust_9 not found'", None),
            (-32000, "'customer cust_9 not found'", "KeyError"),
        ),
        (
            {"namespace": "t", "name": "silent", "args": {}},
            (-32603, "Failed executing tool: ", None),
            (-32000, "(no message)", "RuntimeError"),
        ),
        (
            {"namespace": "t", "name": "boom", "args": {}},
            (-32602, "Failed validating tool params: 1 validation error", None),
            (-32602, "invalid arguments: customer_id: Field required", "ValidationError"),
        ),
        (
            {"namespace": "t", "name": "parse_row", "args": {"raw": '{"id": "x"}'}},
            (-32603, "Failed executing tool: 1 validation error for _Row", None),
            (-32000, "1 validation error for _Row", "ValidationError"),
        ),
        (
            {"namespace": "t", "name": "nan", "args": None},  # no args: none needed
            (-32603, "Failed executing tool: Out of range float values are not JSON", None),
            (-32000, "Out of range float values are not JSON", "ValueError"),
        ),
        (
            {"namespace": "t", "name": "nope", "args": {}},
            (-32601, "No tool `nope` exists in namespace `t`", None),
            (-32601, "No tool `nope` exists in namespace `t`", None),
        ),
        (
            {"namespace": "t", "name": "boom", "args": [1]},
            (-32602, "t.boom: args must be an object", None),
            (-32602, "t.boom: args must be an object", None),
        ),
        (
            "not an object",
            (-32602, "execute_tool params must be an object", None),
            (-32602, "execute_tool params must be an object", None),
        ),
    ],
    ids=[
        "raises",
        "no-message",
        "bad-args",
        "own-validation",
        "nan",
        "unknown",
        "args-list",
        "params",
    ],
)
@pytest.mark.parametrize("style", ["session", "worker"])
def test_errors(style: Style, params: Any, session: Any, worker: Any) -> None:
    code, message, type_ = session if style == "session" else worker
    reply = call(style, params)
    assert reply["id"] == 7
    err = reply["error"]
    assert err["code"] == code
    assert err["message"].startswith(message), err["message"]
    data = err.get("data") or {}
    assert data.get("type") == type_
    if code in (-32000, -32603):  # a tool's own failure carries its traceback
        assert "Traceback" in data["traceback"]


@pytest.mark.parametrize(("style", "key"), [("session", "output"), ("worker", "value")])
def test_results_and_the_call_context(style: Style, key: str) -> None:
    reply = call(style, {"namespace": "t", "name": "deadline", "args": {}, "timeoutMs": 1500}, "c1")
    assert reply == {
        "jsonrpc": "2.0",
        "id": "c1",
        "result": {key: {"call_id": "c1", "timeout": 1.5, "left": True}},
    }
    reply = call(style, {"namespace": "t", "name": "deadline", "args": {}})
    assert reply["result"][key] == {"call_id": 7, "timeout": None, "left": False}


def test_a_call_outliving_pctx_deadline_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pctx_client._serve._DEADLINE_GRACE", 0.0)
    cancelled: list[bool] = []

    @tool(namespace="t")
    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    @tool(namespace="t")
    async def own_timeout() -> None:
        raise TimeoutError("the database did not answer")

    served = {("t", "hang"): hang, ("t", "own_timeout"): own_timeout}
    params = {"namespace": "t", "name": "hang", "args": {}, "timeoutMs": 1}
    reply = json.loads(asyncio.run(answer(served, 1, params, "session")))
    assert reply["error"]["code"] == -32001
    assert reply["error"]["message"].startswith("cancelled: still running")
    assert cancelled == [True]
    # A tool's own TimeoutError is its failure, as any other exception.
    params = {"namespace": "t", "name": "own_timeout", "args": {}, "timeoutMs": 60000}
    reply = json.loads(asyncio.run(answer(served, 2, params, "session")))
    assert reply["error"]["message"] == "Failed executing tool: the database did not answer"


def test_worker_wording_lists_each_problem() -> None:
    @tool(namespace="t")
    def pair(a: int, b: list[int]) -> int:
        return a

    @tool(
        namespace="t",
        input_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
    )
    def raw(**kwargs: Any) -> int:
        return 0

    served = {("t", "pair"): pair, ("t", "raw"): raw}
    params = {"namespace": "t", "name": "pair", "args": {"a": "x", "b": [1, "y"]}}
    reply = json.loads(asyncio.run(answer(served, 1, params, "worker")))
    assert reply["error"]["message"] == (
        "invalid arguments: a: Input should be a valid integer, unable to parse string as an "
        "integer; b.1: Input should be a valid integer, unable to parse string as an integer"
    )
    params = {"namespace": "t", "name": "raw", "args": {"n": "x"}}
    reply = json.loads(asyncio.run(answer(served, 2, params, "worker")))
    assert reply["error"]["message"] == "invalid arguments: n: 'x' is not of type 'integer'"
