"""LangChain agent with Code Mode over your Python tools and pctx's MCP servers.

Needs a running pctx (``pctx start``), ``OPENAI_API_KEY`` and
``pip install "pctx-client[langchain]" langchain langchain-openai``.
"""

from __future__ import annotations

import asyncio

from _shared import MODEL, PCTX_URL, QUESTION, TOOLS, require_api_key
from langchain.agents import create_agent

from pctx_client import Pctx


async def main() -> None:
    """Connect, build the agent with the Code Mode tools, ask one question."""
    require_api_key()
    async with Pctx(tools=TOOLS, url=PCTX_URL) as p:
        agent = create_agent(f"openai:{MODEL}", p.langchain_tools())
        state = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})
        print(state["messages"][-1].content)


if __name__ == "__main__":
    asyncio.run(main())
