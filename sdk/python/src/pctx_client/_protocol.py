"""Wire constants of the pctx worker protocol (docs/protocol.md, version "pctx/1")."""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = "pctx/1"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

# JSON-RPC 2.0 error codes used by pctx.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TOOL_ERROR = -32000
CALL_CANCELLED = -32001
NOT_INITIALIZED = -32002
NAMESPACE_TAKEN = -32010
TOO_BUSY = -32011


def encode(message: dict[str, Any]) -> str:
    """Serialise one JSON-RPC message (strict JSON: NaN/Infinity are refused)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def request(id_: int, method: str, params: dict[str, Any]) -> str:
    """A JSON-RPC request frame."""
    return encode({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})


def notification(method: str, params: dict[str, Any]) -> str:
    """A JSON-RPC notification frame (no id, no answer)."""
    return encode({"jsonrpc": "2.0", "method": method, "params": params})


def result(id_: Any, value: Any) -> str:
    """A JSON-RPC success response frame."""
    return encode({"jsonrpc": "2.0", "id": id_, "result": value})


def error(id_: Any, code: int, message: str, data: Any = None) -> str:
    """A JSON-RPC error response frame."""
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return encode({"jsonrpc": "2.0", "id": id_, "error": err})
