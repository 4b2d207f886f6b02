"""examples/openai_chat_completions.py end to end: a fake Chat Completions API on loopback
scripts the model, a real pctx runs the program over the example's Python tools."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openai")

from tests.integration.conftest import PctxProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROGRAM = """
const [weather, churn] = await Promise.all([
  tools.get_weather("Oslo"),
  ml.predict_churn("cust_12345"),
]);
return { weather, churn: churn.churn_probability };
"""


class FakeChatCompletions(BaseHTTPRequestHandler):
    """list_functions, then execute_typescript, then an answer quoting the last tool output."""

    requests: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        outputs = [m["content"] for m in body["messages"] if m.get("role") == "tool"]
        if len(outputs) < 2:
            name, args = (
                ("list_functions", {}) if not outputs else ("execute_typescript", {"code": PROGRAM})
            )
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{len(outputs)}",
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                ],
            }
        else:
            message = {"role": "assistant", "content": f"Answer: {outputs[-1]}"}
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_openai() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    handler = type("Handler", (FakeChatCompletions,), {"requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", requests
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


async def test_chat_completions_example(server: PctxProcess, fake_openai):
    base_url, requests = fake_openai
    env = {
        **os.environ,
        "OPENAI_API_KEY": "test",
        "OPENAI_BASE_URL": base_url,
        "PCTX_URL": server.url,
        "MODEL": "scripted",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "openai_chat_completions.py",
        cwd=EXAMPLES,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    answer = out.decode()
    assert "It's sunny in Oslo" in answer, answer
    assert "0.85" in answer, answer
    assert [t["function"]["name"] for t in requests[0]["tools"]] == [
        "list_functions",
        "get_function_details",
        "execute_typescript",
    ]
    listing = next(m["content"] for m in requests[1]["messages"] if m.get("role") == "tool")
    assert "get_weather" in listing, listing
    assert "predict_churn" in listing, listing
