"""OpenAI: Agents SDK ``FunctionTool`` objects, and plain ``tools=`` dicts for the APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pctx_client.adapters._core import call_tool_async, code_mode_tools, missing_extra
from pctx_client.models import ToolDisclosure, ToolName

if TYPE_CHECKING:
    from agents import FunctionTool, RunContextWrapper

    from pctx_client._client import Pctx


def openai_agents_tools(
    p: Pctx, disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[FunctionTool]:
    """The disclosure's Code Mode tools as OpenAI Agents SDK ``FunctionTool`` objects.

    Arguments that do not fit and pctx's refusals come back to the model as an
    ``Error: ...`` output it can correct.

    Raises:
        ImportError: openai-agents is not installed.
    """
    try:
        from agents import FunctionTool
    except ImportError as exc:
        raise missing_extra("The OpenAI Agents SDK (openai-agents)", "openai") from exc

    def invoker(name: str) -> Any:
        async def invoke(ctx: RunContextWrapper[Any], arguments: str) -> str:
            try:
                return await call_tool_async(p, name, arguments, disclosure)
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
        for spec in code_mode_tools(disclosure, descriptions)
    ]


def openai_tool_schemas(
    p: Pctx,
    api: Literal["chat", "responses"],
    disclosure: ToolDisclosure,
    descriptions: dict[ToolName, str] | None,
) -> list[dict[str, Any]]:
    """The Code Mode tools as ``tools=`` entries for Chat Completions or the Responses API.

    Needs no OpenAI package. Run the model's calls with ``await p.call_tool(name,
    arguments)``, which takes the arguments' JSON text as the API returns it.

    Raises:
        ValueError: ``api`` is neither ``"chat"`` nor ``"responses"``.
    """
    if api not in ("chat", "responses"):
        raise ValueError(f"api must be 'chat' or 'responses', got {api!r}")
    tools: list[dict[str, Any]] = []
    for spec in code_mode_tools(disclosure, descriptions):
        fn = {"name": spec.name, "description": spec.description, "parameters": spec.input_schema}
        tools.append(
            {"type": "function", "function": fn} if api == "chat" else {"type": "function", **fn}
        )
    return tools
