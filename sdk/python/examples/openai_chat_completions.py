"""Chat Completions without an agent framework: ``tools=`` dicts and ``p.call_tool``.

Needs a running pctx (``pctx start``), ``OPENAI_API_KEY`` and ``pip install pctx-client
openai``. For the Responses API use ``p.openai_tool_schemas("responses")`` instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _shared import MODEL, PCTX_URL, QUESTION, TOOLS, require_api_key
from openai import AsyncOpenAI

from pctx_client import Pctx

MAX_TURNS = 8


async def main() -> None:
    """Loop: the model asks for tool calls, pctx runs them, until it answers."""
    require_api_key()
    client = AsyncOpenAI()
    async with Pctx(tools=TOOLS, url=PCTX_URL) as p:
        tools = p.openai_tool_schemas("chat")
        messages: list[Any] = [{"role": "user", "content": QUESTION}]
        for _ in range(MAX_TURNS):
            reply = await client.chat.completions.create(
                model=MODEL, messages=messages, tools=tools
            )
            message = reply.choices[0].message
            messages.append(message)
            if not message.tool_calls:
                print(message.content)
                return
            for call in message.tool_calls:
                if call.type != "function":
                    continue
                try:
                    output = await p.call_tool(call.function.name, call.function.arguments)
                except ValueError as exc:  # bad arguments: tell the model, let it retry
                    output = f"Error: {exc}"
                messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
        print(f"no answer after {MAX_TURNS} turns")


if __name__ == "__main__":
    asyncio.run(main())
