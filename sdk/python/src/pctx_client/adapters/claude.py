"""Claude Agent SDK: the Code Mode tools as ``SdkMcpTool`` objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pctx_client.adapters._core import call_tool_async, code_mode_tools, missing_extra
from pctx_client.models import ToolDisclosure, ToolName

if TYPE_CHECKING:
    from claude_agent_sdk import SdkMcpTool

    from pctx_client._client import Pctx


def claude_agent_sdk_tools(
    p: Pctx, disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[SdkMcpTool[Any]]:
    """The disclosure's Code Mode tools for the Claude Agent SDK.

    Serve them with ``create_sdk_mcp_server(name="pctx", tools=...)`` in
    ``ClaudeAgentOptions(mcp_servers=...)``. Each returns one text content block;
    arguments that do not fit and pctx's refusals come back as an error result
    (``is_error``) the model can correct.

    Raises:
        ImportError: claude-agent-sdk is not installed.
    """
    try:
        from claude_agent_sdk import tool
    except ImportError as exc:
        raise missing_extra("The Claude Agent SDK (claude-agent-sdk)", "claude") from exc

    def handler(name: str) -> Any:
        async def run(args: dict[str, Any]) -> dict[str, Any]:
            try:
                text = await call_tool_async(p, name, args, disclosure)
            except ValueError as exc:
                return {"content": [{"type": "text", "text": str(exc)}], "is_error": True}
            return {"content": [{"type": "text", "text": text}]}

        return run

    return [
        tool(spec.name, spec.description, spec.input_schema)(handler(spec.name))
        for spec in code_mode_tools(disclosure, descriptions)
    ]
