"""OpenAI Agents SDK agent with Code Mode over your Python tools and pctx's MCP servers.

Needs a running pctx (``pctx start``), ``OPENAI_API_KEY`` and
``pip install "pctx-client[openai]"``.
"""

from __future__ import annotations

import asyncio

from _shared import MODEL, PCTX_URL, QUESTION, TOOLS, require_api_key
from agents import Agent, Runner

from pctx_client import Pctx


async def main() -> None:
    """Connect, build the agent with the Code Mode tools, run it once."""
    require_api_key()
    async with Pctx(tools=TOOLS, url=PCTX_URL) as p:
        agent = Agent(
            name="analyst",
            instructions="Find the functions you need, then answer with one execute_typescript.",
            model=MODEL,
            tools=p.openai_agents_tools(),
        )
        result = await Runner.run(agent, QUESTION)
        print(result.final_output)


if __name__ == "__main__":
    asyncio.run(main())
