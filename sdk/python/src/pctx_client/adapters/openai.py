"""OpenAI: Agents SDK ``FunctionTool`` objects, and plain ``tools=`` dicts for the APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pctx_client.adapters._core import call_tool_async, code_mode_tools, missing_extra

if TYPE_CHECKING:
    from agents import FunctionTool, RunContextWrapper

    from pctx_client._client import Pctx


def openai_tools(p: Pctx) -> list[FunctionTool]:
    """The Code Mode tools as OpenAI Agents SDK ``FunctionTool`` objects (async).

    Schemas are not strict (``list_functions`` has optional parameters). Arguments that do
    not fit, and pctx's refusals (an unknown function, too busy), come back to the model as
    an ``Error: ...`` tool output it can correct.

    Raises:
        ImportError: openai-agents is not installed.
        RuntimeError: ``p`` has not connected yet.
    """
    try:
        from agents import FunctionTool
    except ImportError as exc:
        raise missing_extra("The OpenAI Agents SDK (openai-agents)", "openai") from exc

    def invoker(name: str) -> Any:
        async def invoke(ctx: RunContextWrapper[Any], arguments: str) -> str:
            try:
                return await call_tool_async(p, name, arguments)
            except ValueError as exc:
                return f"Error: {exc}"

        return invoke

    return [
        FunctionTool(
            name=spec.name,
            description=spec.description,
            params_json_schema=spec.input_schema,
            on_invoke_tool=invoker(spec.name),
            strict_json_schema=False,
        )
        for spec in code_mode_tools(p)
    ]


def openai_tool_schemas(
    p: Pctx, api: Literal["chat", "responses"] = "chat"
) -> list[dict[str, Any]]:
    """The Code Mode tools as ``tools=`` entries for Chat Completions or the Responses API.

    Needs no OpenAI package. Run each tool call the model makes with ``await
    p.call_tool(name, arguments)``, which takes the arguments' JSON text as the API returns it.

    Args:
        p: A connected client.
        api: ``"chat"`` for ``chat.completions.create(tools=...)`` (``{"type": "function",
            "function": {...}}``) or ``"responses"`` for ``responses.create(tools=...)``
            (``{"type": "function", "name": ..., ...}``).

    Raises:
        ValueError: ``api`` is neither.
        RuntimeError: ``p`` has not connected yet.
    """
    if api not in ("chat", "responses"):
        raise ValueError(f"api must be 'chat' or 'responses', got {api!r}")
    tools: list[dict[str, Any]] = []
    for spec in code_mode_tools(p):
        fn = {"name": spec.name, "description": spec.description, "parameters": spec.input_schema}
        if api == "chat":
            tools.append({"type": "function", "function": fn})
        else:
            tools.append({"type": "function", **fn})
    return tools
