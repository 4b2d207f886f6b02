"""A scripted OpenAI API on loopback: Chat Completions and the Responses API, not streamed.

The model it plays calls ``list_functions``, then ``execute_typescript`` with the program it
was given, then answers with the last tool output. It knows where it is from the tool
outputs the request carries, so any framework's agent loop can drive it through the real
``openai`` client (``OPENAI_BASE_URL``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What the fake model does, and every request it received."""

    program: str
    requests: list[dict[str, Any]] = field(default_factory=list)

    def step(self, outputs: list[str]) -> tuple[str, dict[str, Any]] | str:
        """The next tool call (name, arguments), or the final answer."""
        if not outputs:
            return ("list_functions", {})
        if len(outputs) == 1:
            return ("execute_typescript", {"code": self.program})
        return f"Answer: {outputs[-1]}"

    def offered(self, n: int = 0) -> list[str]:
        """The tool names request ``n`` offered the model."""
        return [t.get("function", t)["name"] for t in self.requests[n].get("tools", [])]

    def tool_outputs(self, n: int) -> list[str]:
        """The tool outputs request ``n`` carried, in order."""
        return _tool_outputs(self.requests[n])


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _tool_outputs(body: dict[str, Any]) -> list[str]:
    if "messages" in body:  # Chat Completions
        return [_text(m.get("content")) for m in body["messages"] if m.get("role") == "tool"]
    items = body.get("input")
    if not isinstance(items, list):
        return []
    return [
        _text(i.get("output"))
        for i in items
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]


_USAGE_CHAT = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
_USAGE_RESPONSES = {
    "input_tokens": 1,
    "output_tokens": 1,
    "total_tokens": 2,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}


def _chat(body: dict[str, Any], step: tuple[str, dict[str, Any]] | str, n: int) -> dict[str, Any]:
    if isinstance(step, str):
        message: dict[str, Any] = {"role": "assistant", "content": step}
        finish = "stop"
    else:
        name, args = step
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{n}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
            ],
        }
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _USAGE_CHAT,
    }


def _responses(
    body: dict[str, Any], step: tuple[str, dict[str, Any]] | str, n: int
) -> dict[str, Any]:
    if isinstance(step, str):
        item: dict[str, Any] = {
            "type": "message",
            "id": f"msg_{n}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": step, "annotations": []}],
        }
    else:
        name, args = step
        item = {
            "type": "function_call",
            "id": f"fc_{n}",
            "call_id": f"call_{n}",
            "name": name,
            "arguments": json.dumps(args),
            "status": "completed",
        }
    return {
        "id": f"resp_{n}",
        "object": "response",
        "created_at": 0,
        "status": "completed",
        "model": body.get("model", "scripted"),
        "output": [item],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": _USAGE_RESPONSES,
    }


@contextmanager
def fake_openai(script: Script) -> Iterator[str]:
    """Serve ``script`` on a loopback port; yields the base URL (``.../v1``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            n = len(script.requests)
            step = script.step(_tool_outputs(body))
            if self.path.endswith("/chat/completions"):
                reply = _chat(body, step, n)
            elif self.path.endswith("/responses"):
                reply = _responses(body, step, n)
            else:
                self.send_error(404, f"the fake OpenAI API has no {self.path}")
                return
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
