"""Pydantic AI agent with Code Mode over your Python tools and pctx's MCP servers.

Needs a running pctx (``pctx start``), ``OPENAI_API_KEY`` and
``pip install "pctx-client[pydantic-ai]" "pydantic-ai-slim[openai]"``.
"""

from __future__ import annotations

import asyncio

from _shared import MODEL, PCTX_URL, QUESTION, TOOLS, require_api_key
from pydantic_ai import Agent

from pctx_client import Pctx


async def main() -> None:
    """Connect, build the agent with the Code Mode tools, run it once."""
    require_api_key()
    async with Pctx(tools=TOOLS, url=PCTX_URL) as p:
        agent = Agent(f"openai:{MODEL}", tools=p.pydantic_ai_tools())
        result = await agent.run(QUESTION)
        print(result.output)


if __name__ == "__main__":
    asyncio.run(main())
