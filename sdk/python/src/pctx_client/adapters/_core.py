"""What every framework adapter shares: the tools' specs, dispatch, loop bridging."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pctx_client import _protocol as wire
from pctx_client.descriptions import get_tool_description
from pctx_client.exceptions import HTTPStatusError, RemoteError
from pctx_client.models import (
    ExecuteBashInput,
    ExecuteTypescriptInput,
    GetFunctionDetailsInput,
    ListedFunction,
    SearchFunctionsInput,
    ToolDisclosure,
    ToolName,
)

if TYPE_CHECKING:
    from pctx_client._client import Pctx


class ListFunctionsInput(BaseModel):
    """``list_functions`` takes no arguments."""


# In the published adapters' order.
INPUTS: dict[ToolName, type[BaseModel]] = {
    "execute_bash": ExecuteBashInput,
    "execute_typescript": ExecuteTypescriptInput,
    "list_functions": ListFunctionsInput,
    "search_functions": SearchFunctionsInput,
    "get_function_details": GetFunctionDetailsInput,
}


@dataclass(frozen=True)
class CodeModeTool:
    """One Code Mode tool as an adapter offers it."""

    name: ToolName
    description: str
    input_model: type[BaseModel]

    @property
    def input_schema(self) -> dict[str, Any]:
        """The input as JSON Schema (a fresh dict)."""
        schema = self.input_model.model_json_schema()
        schema.setdefault("properties", {})
        return schema


def code_mode_tools(
    disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[CodeModeTool]:
    """The tools ``disclosure`` offers, with their descriptions."""
    return [
        CodeModeTool(
            name=name,
            description=get_tool_description(name, disclosure=disclosure, overrides=descriptions),
            input_model=model,
        )
        for name, model in INPUTS.items()
        if disclosure.contains_tool(name)
    ]


def missing_extra(framework: str, extra: str) -> ImportError:
    """The ImportError an adapter raises when its framework is not installed."""
    return ImportError(
        f'{framework} is not installed; install the extra with: pip install "pctx-client[{extra}]"'
    )


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


def search_text(functions: list[ListedFunction]) -> str:
    """``search_functions``' answer: one ``Namespace.name: description`` line per match."""
    return "\n".join(f"{f.namespace}.{f.name}: {f.description or ''}" for f in functions)


# pctx's refusals a model can act on: fix a name, shorten a request, retry later.
_MODEL_ERRORS = frozenset({wire.INVALID_PARAMS, wire.TOO_BUSY, wire.NAMESPACE_TAKEN})


async def call_tool(
    p: Pctx,
    name: str,
    arguments: Mapping[str, Any] | str | None,
    disclosure: ToolDisclosure = ToolDisclosure.CATALOG,
) -> str:
    """Run one Code Mode tool call on ``p`` and return the text the model reads.

    Raises:
        ValueError: Unknown tool, arguments that do not fit, or a refusal of pctx's the
            model can act on (an unknown function, too busy).
        SessionError: ``p`` is not connected.
    """
    if name not in INPUTS or not disclosure.contains_tool(name):
        offered = ", ".join(t.name for t in code_mode_tools(disclosure, None))
        raise ValueError(f"unknown Code Mode tool {name!r}; expected one of {offered}")
    raw = parse_arguments(name, arguments)  # its errors name the tool already
    try:
        args = INPUTS[name].model_validate(raw)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    try:
        return await _dispatch(p, name, args, disclosure)
    except HTTPStatusError as exc:
        if 400 <= exc.status_code < 500 and exc.status_code not in (401, 403):
            raise ValueError(exc.reason) from exc
        raise
    except RemoteError as exc:
        if exc.code not in _MODEL_ERRORS:
            raise
        raise ValueError(exc.remote_message) from exc


async def _dispatch(p: Pctx, name: str, args: BaseModel, disclosure: ToolDisclosure) -> str:
    if isinstance(args, ExecuteBashInput):
        return (await p.execute_bash(args.command)).markdown()
    if isinstance(args, ExecuteTypescriptInput):
        return (await p.execute_typescript(args.code, disclosure=disclosure)).markdown()
    if isinstance(args, SearchFunctionsInput):
        return search_text(await p.search_functions(args.query, args.k))
    if isinstance(args, GetFunctionDetailsInput):
        return (await p.get_function_details(args.functions)).code
    return (await p.list_functions()).code


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _connection_loop(p: Pctx) -> asyncio.AbstractEventLoop | None:
    loop = p._loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


async def call_tool_async(
    p: Pctx, name: str, arguments: Mapping[str, Any] | str | None, disclosure: ToolDisclosure
) -> str:
    """:func:`call_tool` from any event loop: a framework may run tools on a loop of its own.

    The connection belongs to the loop :meth:`Pctx.connect` ran on; from another loop the
    call is handed over to it.
    """
    loop = _connection_loop(p)
    if loop is None or _running_loop() is loop:
        return await call_tool(p, name, arguments, disclosure)
    return await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(call_tool(p, name, arguments, disclosure), loop)
    )


_USE_ASYNC = (
    "use the framework's async API (ainvoke, arun, kickoff_async, Runner.run) "
    "or call it from another thread"
)


def call_tool_sync(
    p: Pctx, name: str, arguments: Mapping[str, Any] | str | None, disclosure: ToolDisclosure
) -> str:
    """:func:`call_tool` for a framework's synchronous path, from a thread other than the loop's.

    Raises:
        RuntimeError: Called on a thread running an event loop (the connection's, where
            blocking would deadlock, or another, which it would block): use the
            framework's async API there.
    """
    loop, running = _connection_loop(p), _running_loop()
    if running is not None and running is loop:
        raise RuntimeError(
            f"{name}: called synchronously on the event loop that runs the pctx connection, "
            f"which would deadlock; {_USE_ASYNC}"
        )
    if loop is None:
        if running is not None:
            raise RuntimeError(
                f"{name}: called synchronously on a running event loop; {_USE_ASYNC}"
            )
        return asyncio.run(call_tool(p, name, arguments, disclosure))
    return asyncio.run_coroutine_threadsafe(
        call_tool(p, name, arguments, disclosure), loop
    ).result()
