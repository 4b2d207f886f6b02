"""Pydantic AI: the Code Mode tools as ``Tool`` objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pctx_client.adapters._core import call_tool_async, code_mode_tools, missing_extra
from pctx_client.models import ToolDisclosure, ToolName

if TYPE_CHECKING:
    from pydantic_ai import Tool

    from pctx_client._client import Pctx


def pydantic_ai_tools(
    p: Pctx, disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[Tool[Any]]:
    """The disclosure's Code Mode tools as Pydantic AI ``Tool`` objects (async).

    Arguments that do not fit and pctx's refusals raise ``ModelRetry``, so the model is
    asked to correct them.

    Raises:
        ImportError: pydantic-ai is not installed.
    """
    try:
        from pydantic_ai import ModelRetry, Tool
    except ImportError as exc:
        raise missing_extra("Pydantic AI (pydantic-ai-slim)", "pydantic-ai") from exc

    def function(name: str) -> Any:
        async def run(**kwargs: Any) -> str:
            try:
                return await call_tool_async(p, name, kwargs, disclosure)
            except ValueError as exc:
                raise ModelRetry(str(exc)) from exc

        run.__name__ = name
        return run

    return [
        Tool.from_schema(
            function(spec.name),
            name=spec.name,
            description=spec.description,
            json_schema=spec.input_schema,
        )
        for spec in code_mode_tools(disclosure, descriptions)
    ]
