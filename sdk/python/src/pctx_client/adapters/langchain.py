"""LangChain: the Code Mode tools as ``StructuredTool`` objects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pctx_client.adapters._core import (
    call_tool_async,
    call_tool_sync,
    code_mode_tools,
    missing_extra,
)

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

    from pctx_client._client import Pctx


def langchain_tools(p: Pctx) -> list[StructuredTool]:
    """``list_functions``, ``get_function_details`` and ``execute_typescript`` for LangChain.

    Each tool is async (``ainvoke``, what agents built with ``create_agent`` use) and also
    sync (``invoke``) from threads other than the one running the pctx connection. Bad
    arguments and pctx's refusals (an unknown function, too busy) come back to the model
    as the tool's error text (``handle_tool_error``).

    Raises:
        ImportError: langchain-core is not installed.
        RuntimeError: ``p`` has not connected yet.
    """
    try:
        from langchain_core.tools import StructuredTool, ToolException
    except ImportError as exc:
        raise missing_extra("LangChain (langchain-core)", "langchain") from exc

    specs = code_mode_tools(p)

    def functions(name: str) -> tuple[Callable[..., str], Callable[..., Awaitable[str]]]:
        def call(**kwargs: Any) -> str:
            try:
                return call_tool_sync(p, name, kwargs)
            except ValueError as exc:
                raise ToolException(str(exc)) from exc

        async def acall(**kwargs: Any) -> str:
            try:
                return await call_tool_async(p, name, kwargs)
            except ValueError as exc:
                raise ToolException(str(exc)) from exc

        return call, acall

    tools: list[StructuredTool] = []
    for spec in specs:
        call, acall = functions(spec.name)
        tools.append(
            StructuredTool(
                name=spec.name,
                description=spec.description,
                args_schema=spec.input_schema,
                func=call,
                coroutine=acall,
                handle_tool_error=True,
            )
        )
    return tools
