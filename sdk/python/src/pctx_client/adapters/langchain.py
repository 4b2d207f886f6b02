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
from pctx_client.models import ToolDisclosure, ToolName

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from pctx_client._client import Pctx


def langchain_tools(
    p: Pctx, disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[BaseTool]:
    """The disclosure's Code Mode tools for LangChain, async (``ainvoke``) and sync.

    Arguments that do not fit and pctx's refusals (an unknown function, too busy) come
    back to the model as the tool's error text.

    Raises:
        ImportError: langchain-core is not installed.
    """
    try:
        from langchain_core.tools import StructuredTool, ToolException
    except ImportError as exc:
        raise missing_extra("LangChain (langchain-core)", "langchain") from exc

    def functions(name: str) -> tuple[Callable[..., str], Callable[..., Awaitable[str]]]:
        def call(**kwargs: Any) -> str:
            try:
                return call_tool_sync(p, name, kwargs, disclosure)
            except ValueError as exc:
                raise ToolException(str(exc)) from exc

        async def acall(**kwargs: Any) -> str:
            try:
                return await call_tool_async(p, name, kwargs, disclosure)
            except ValueError as exc:
                raise ToolException(str(exc)) from exc

        return call, acall

    tools: list[BaseTool] = []
    for spec in code_mode_tools(disclosure, descriptions):
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
