"""CrewAI crew with Code Mode over your Python tools and pctx's MCP servers.

Needs a running pctx (``pctx start``), ``OPENAI_API_KEY`` and
``pip install "pctx-client[crewai]"``. The crew runs with ``kickoff_async`` so its tool
calls reach the pctx connection on this event loop (a blocking ``kickoff()`` on the same
thread would deadlock, and the tools say so).
"""

from __future__ import annotations

import asyncio

from _shared import MODEL, PCTX_URL, QUESTION, TOOLS, require_api_key
from crewai import Agent, Crew, Task

from pctx_client import Pctx


async def main() -> None:
    """Connect, give the analyst the Code Mode tools, run one task."""
    require_api_key()
    async with Pctx(tools=TOOLS, url=PCTX_URL) as p:
        analyst = Agent(
            role="Customer risk analyst",
            goal="Answer questions about customers using the available functions",
            backstory="You write one TypeScript program instead of many tool calls.",
            llm=MODEL,
            tools=p.crewai_tools(),
        )
        task = Task(description=QUESTION, expected_output="A short answer", agent=analyst)
        result = await Crew(agents=[analyst], tasks=[task]).kickoff_async()
        print(result.raw)


if __name__ == "__main__":
    asyncio.run(main())
