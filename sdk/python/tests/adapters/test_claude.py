"""Claude Agent SDK: the tools served by ``create_sdk_mcp_server`` inside a real ``query()``.

No model and no Claude Code process: ``ScriptedCLI`` is a Transport that plays the CLI's
side of the SDK's stdio protocol. It answers the SDK's ``initialize``, and when the prompt
arrives it does what the CLI does when the model uses the in-process server's tools: sends
``mcp_message`` control requests (``initialize``, ``tools/list``, ``tools/call``) that the
SDK routes to the server, then reports an assistant message and a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("claude_agent_sdk")

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ResultMessage,
    TextBlock,
    create_sdk_mcp_server,
    query,
)
from claude_agent_sdk._internal.transport import Transport

from pctx_client import Pctx
from tests.adapters.conftest import (
    CATALOG,
    FILESYSTEM,
    PROGRAM,
    check_answer,
    check_listing,
    description,
    properties,
)

SERVER = "pctx"


class ScriptedCLI(Transport):
    """Claude Code's side of the SDK protocol, calling the SDK server's tools in turn."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.calls = calls
        self.listed: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._turn: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        pass

    def is_ready(self) -> bool:
        return True

    async def write(self, data: str) -> None:
        for line in data.splitlines():
            msg = json.loads(line)
            if msg["type"] == "control_request" and msg["request"]["subtype"] == "initialize":
                self._send_control_response(msg["request_id"], {})
            elif msg["type"] == "control_response":
                answer = msg["response"]
                self._answers.pop(answer["request_id"]).set_result(answer)
            elif msg["type"] == "user":
                self._turn = asyncio.create_task(self._play())

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        while (msg := await self._out.get()) is not None:
            yield msg

    async def end_input(self) -> None:
        self._out.put_nowait(None)  # the CLI exits once its stdin closes

    async def close(self) -> None:
        self._out.put_nowait(None)
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._turn

    def _send_control_response(self, request_id: str, response: dict[str, Any]) -> None:
        self._out.put_nowait(
            {
                "type": "control_response",
                "response": {"subtype": "success", "request_id": request_id, "response": response},
            }
        )

    async def _mcp(self, method: str, params: dict[str, Any], notify: bool = False) -> Any:
        """One JSON-RPC message to the SDK server, as the CLI sends it; its result."""
        request_id = f"cli_{next(self._ids)}"
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            message["id"] = request_id
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[request_id] = answer
        self._out.put_nowait(
            {
                "type": "control_request",
                "request_id": request_id,
                "request": {"subtype": "mcp_message", "server_name": SERVER, "message": message},
            }
        )
        reply = await answer
        assert reply["subtype"] == "success", reply
        mcp_response = reply["response"]["mcp_response"]
        assert "error" not in mcp_response, mcp_response
        return mcp_response.get("result")

    async def _play(self) -> None:
        await self._mcp(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "scripted-claude-code", "version": "0"},
            },
        )
        await self._mcp("notifications/initialized", {}, notify=True)
        self.listed = (await self._mcp("tools/list", {}))["tools"]
        for name, args in self.calls:
            self.results.append(await self._mcp("tools/call", {"name": name, "arguments": args}))
        last = self.results[-1]["content"][0]["text"] if self.results else ""
        self._out.put_nowait(
            {
                "type": "assistant",
                "message": {"model": "scripted", "content": [{"type": "text", "text": last}]},
                "parent_tool_use_id": None,
            }
        )
        self._out.put_nowait(
            {
                "type": "result",
                "subtype": "success",
                "duration_ms": 1,
                "duration_api_ms": 1,
                "is_error": False,
                "num_turns": len(self.calls) + 1,
                "session_id": "scripted",
                "result": last,
            }
        )


async def run_query(p: Pctx, cli: ScriptedCLI, **adapter: Any) -> str:
    """Run one query() with the pctx tools as an SDK MCP server; the assistant's text."""
    server = create_sdk_mcp_server(name=SERVER, tools=p.claude_agent_sdk_tools(**adapter))
    options = ClaudeAgentOptions(mcp_servers={SERVER: server})
    texts: list[str] = []
    results: list[ResultMessage] = []
    async with asyncio.timeout(60):  # only catches a hang
        async for message in query(prompt="Use pctx.", options=options, transport=cli):
            if isinstance(message, AssistantMessage):
                texts += [b.text for b in message.content if isinstance(b, TextBlock)]
            elif isinstance(message, ResultMessage):
                results.append(message)
    assert [r.is_error for r in results] == [False]
    return "\n".join(texts)


def text_of(result: dict[str, Any]) -> str:
    assert [c["type"] for c in result["content"]] == ["text"]
    return str(result["content"][0]["text"])


def test_tools_are_the_published_adapters(server: Any) -> None:
    p = Pctx(url=server.url)  # built before connect(), as the published adapters can be
    tools = p.claude_agent_sdk_tools()
    assert [t.name for t in tools] == CATALOG
    for t in tools:
        assert t.description == description(t.name)
        assert isinstance(t.input_schema, dict)
        assert t.input_schema["properties"] == properties(t.name)
    assert [t.name for t in p.claude_agent_sdk_tools(disclosure="filesystem")] == FILESYSTEM


async def test_query_lists_details_then_executes(p: Pctx) -> None:
    cli = ScriptedCLI(
        [
            ("list_functions", {}),
            ("search_functions", {"query": "forecast"}),
            ("get_function_details", {"functions": ["Weather.forecast"]}),
            ("execute_typescript", {"code": PROGRAM}),
        ]
    )
    answer = await run_query(p, cli)
    assert [t["name"] for t in cli.listed] == CATALOG
    assert {t["name"]: t["description"] for t in cli.listed} == {n: description(n) for n in CATALOG}
    assert [r.get("isError", False) for r in cli.results] == [False] * 4
    check_listing(text_of(cli.results[0]))
    assert text_of(cli.results[1]).startswith("Weather.forecast: ")
    assert "city: string" in text_of(cli.results[2])
    check_answer(answer)


async def test_query_with_the_filesystem_disclosure(p: Pctx) -> None:
    cli = ScriptedCLI(
        [
            ("execute_bash", {"command": "grep -rl forecast ."}),
            ("execute_typescript", {"code": PROGRAM}),
        ]
    )
    answer = await run_query(p, cli, disclosure="filesystem")
    assert [t["name"] for t in cli.listed] == FILESYSTEM
    assert "Weather/forecast.d.ts" in text_of(cli.results[0])
    check_answer(answer)


async def test_refusals_are_error_results_the_model_reads(p: Pctx) -> None:
    cli = ScriptedCLI(
        [
            ("get_function_details", {"functions": ["Weather.forcast"]}),  # pctx: 400
            ("get_function_details", {"functions": "Weather.forecast"}),  # the SDK's schema
            ("execute_typescript", {"code": "throw new Error('boom')"}),  # a failed program
        ]
    )
    await run_query(p, cli)
    unknown, misfit, failed = cli.results
    assert unknown["isError"] is True
    assert 'unknown function "Weather.forcast" (did you mean Weather.forecast?)' in text_of(unknown)
    assert misfit["isError"] is True
    assert "is not of type 'array'" in text_of(misfit)
    # A program that fails is a result, as the published adapter returns it.
    assert not failed.get("isError", False)
    assert text_of(failed).startswith("Code Executed Successfully: False")
    assert "boom" in text_of(failed)
