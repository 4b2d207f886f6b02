"""What every framework adapter shares: the server's tool specs, dispatch, loop bridging."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, create_model

from pctx_client import _protocol as wire
from pctx_client.errors import RemoteError

if TYPE_CHECKING:
    from pctx_client._client import Pctx

LIST_FUNCTIONS = "list_functions"
GET_FUNCTION_DETAILS = "get_function_details"
EXECUTE_TYPESCRIPT = "execute_typescript"
TOOL_NAMES = (LIST_FUNCTIONS, GET_FUNCTION_DETAILS, EXECUTE_TYPESCRIPT)


@dataclass(frozen=True)
class CodeModeTool:
    """One Code Mode tool as the server publishes it (``code_mode_tools``)."""

    name: str
    description: str
    input_schema: dict[str, Any]


def missing_extra(framework: str, extra: str) -> ImportError:
    """The ImportError an adapter raises when its framework is not installed."""
    return ImportError(
        f'{framework} is not installed; install the extra with: pip install "pctx-client[{extra}]"'
    )


def code_mode_tools(p: Pctx) -> list[CodeModeTool]:
    """The three tools' specs fetched at connect, in the server's order (fresh copies).

    Raises:
        RuntimeError: ``p`` never connected, or its server did not publish the tools.
    """
    published = p._code_mode
    if isinstance(published, str):
        raise RuntimeError(f"Code Mode tool adapters need the server's descriptions: {published}")
    tools: list[CodeModeTool] = []
    for entry in published:
        name = entry.get("name")
        if name not in TOOL_NAMES:
            continue  # a newer server's extra tool: the dispatcher would not know it
        schema = entry.get("inputSchema")
        tools.append(
            CodeModeTool(
                name=str(name),
                description=str(entry.get("description") or ""),
                input_schema=copy.deepcopy(dict(schema))
                if isinstance(schema, Mapping)
                else {"type": "object", "properties": {}},
            )
        )
    missing = [n for n in TOOL_NAMES if n not in {t.name for t in tools}]
    if missing:
        raise RuntimeError(f"pctx did not publish the Code Mode tool(s) {', '.join(missing)}")
    return tools


def parse_arguments(name: str, arguments: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """A tool call's arguments as a dict; a model's JSON text is parsed.

    Raises:
        ValueError: The text is not a JSON object.
    """
    if arguments is None:
        return {}
    if isinstance(arguments, str):
        if not arguments.strip():
            return {}
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            raise ValueError(f"{name}: arguments are not valid JSON: {exc}") from None
    if not isinstance(arguments, Mapping):
        raise ValueError(f"{name}: arguments must be an object, got {type(arguments).__name__}")
    return {k: v for k, v in arguments.items() if v is not None}


def _optional_str(name: str, args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name}: {key} must be a string, got {type(value).__name__}")


async def call_tool(p: Pctx, name: str, arguments: Mapping[str, Any] | str | None) -> str:
    """Run one Code Mode tool call on ``p``'s loop and return the text the model reads.

    The text is what the MCP server returns for the same call: the listing, the
    declarations, or the execution's compact result (value, console, stats or the error).

    Raises:
        ValueError: Unknown tool name, arguments that do not fit the tool's schema, or an
            error pctx reports for the call (an unknown function, too busy, a session
            clash): the MCP server returns these as ``isError`` results the model reads.
    """
    try:
        return await _dispatch(p, name, arguments)
    except RemoteError as exc:
        if exc.code not in _MODEL_ERRORS:
            raise
        # pctx's message is what the MCP server shows for the same call.
        raise ValueError(exc.remote_message) from exc


# pctx's answers the model can act on (fix a name, retry later), as the MCP server does.
_MODEL_ERRORS = frozenset({wire.INVALID_PARAMS, wire.TOO_BUSY, wire.NAMESPACE_TAKEN})


async def _dispatch(p: Pctx, name: str, arguments: Mapping[str, Any] | str | None) -> str:
    args = parse_arguments(name, arguments)
    if name == LIST_FUNCTIONS:
        return await p.list_functions(
            namespace=_optional_str(name, args, "namespace"),
            query=_optional_str(name, args, "query"),
        )
    if name == GET_FUNCTION_DETAILS:
        functions = args.get("functions")
        if isinstance(functions, str):
            functions = [functions]
        if not isinstance(functions, list) or not all(isinstance(f, str) for f in functions):
            raise ValueError(f'{name}: functions must be a list of "namespace.function" strings')
        return await p.get_function_details(functions)
    if name == EXECUTE_TYPESCRIPT:
        code = args.get("code")
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"{name}: code must be a non-empty string of TypeScript")
        return (await p.execute(code)).text
    raise ValueError(f"unknown Code Mode tool {name!r}; expected one of {', '.join(TOOL_NAMES)}")


def _connection_loop(p: Pctx, name: str) -> asyncio.AbstractEventLoop:
    loop = p._loop
    if loop is None or loop.is_closed():
        raise RuntimeError(f"{name}: pctx is not connected: await p.connect() first")
    if not loop.is_running():  # a call handed to it would wait forever
        raise RuntimeError(f"{name}: the event loop pctx connected on is not running")
    return loop


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def call_tool_async(p: Pctx, name: str, arguments: Mapping[str, Any] | str | None) -> str:
    """:func:`call_tool` from any event loop: frameworks may run tools on a loop of their own.

    The connection belongs to the loop :meth:`Pctx.connect` ran on, so from another loop
    the call is handed over to it.
    """
    loop = _connection_loop(p, name)
    if _running_loop() is loop:
        return await call_tool(p, name, arguments)
    return await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(call_tool(p, name, arguments), loop)
    )


def call_tool_sync(p: Pctx, name: str, arguments: Mapping[str, Any] | str | None) -> str:
    """:func:`call_tool` for a framework's synchronous path, from a thread other than the loop's.

    Raises:
        RuntimeError: Called on the thread running the connection's loop, where blocking
            would deadlock: use the framework's async API there.
    """
    loop = _connection_loop(p, name)
    if _running_loop() is loop:
        raise RuntimeError(
            f"{name}: called synchronously on the event loop that runs the pctx connection, "
            "which would deadlock; use the framework's async API (ainvoke, arun, "
            "kickoff_async, Runner.run) or call it from another thread"
        )
    return asyncio.run_coroutine_threadsafe(call_tool(p, name, arguments), loop).result()


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict[str, Any],
}


def _python_type(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return Any
    kind = schema.get("type")
    if kind == "array":
        return list[_python_type(schema.get("items"))]  # type: ignore[misc]
    return _JSON_TYPES.get(kind, Any) if isinstance(kind, str) else Any


def args_model(tool: CodeModeTool) -> type[BaseModel]:
    """A pydantic model for a tool's flat JSON Schema, for frameworks that need one (CrewAI).

    Types it does not know become ``Any``; optional properties default to None.
    """
    props = tool.input_schema.get("properties")
    required = tool.input_schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    fields: dict[str, Any] = {}
    for key, prop in (props if isinstance(props, Mapping) else {}).items():
        desc = prop.get("description") if isinstance(prop, Mapping) else None
        typ = _python_type(prop)
        if key in required_names:
            fields[str(key)] = (typ, Field(description=desc))
        else:
            fields[str(key)] = (typ | None, Field(default=None, description=desc))
    model_name = "".join(part.title() for part in tool.name.split("_")) + "Args"
    return create_model(model_name, **fields)
