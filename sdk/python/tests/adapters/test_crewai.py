"""CrewAI: the tools through CrewAI's BaseTool API (run from a worker thread, arun) and a Crew.

crewai is not in the dev extra (its pins conflict with the test fixtures' mcp 2); run these
with scripts/test-crewai.sh, which makes a venv of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest

pytest.importorskip("crewai")

from crewai import Agent, Crew, Task
from crewai.llms.base_llm import BaseLLM
from crewai.tools import BaseTool

from pctx_client import Pctx
from tests.adapters.conftest import (
    CATALOG,
    FILESYSTEM,
    PROGRAM,
    QUESTION,
    check_answer,
    check_listing,
    description,
    properties,
)

os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")


def tools_by_name(p: Pctx) -> dict[str, BaseTool]:
    return {t.name: t for t in p.crewai_tools()}


def test_tools_are_the_published_adapters(server: Any) -> None:
    p = Pctx(url=server.url)  # built before connect(), as the published adapters can be
    tools = p.crewai_tools()
    assert [t.name for t in tools] == CATALOG
    for t in tools:
        assert isinstance(t, BaseTool)
        # crewai < 1.15 prefixes the name and arguments to the description.
        assert description(t.name) in t.description
        assert set(t.args_schema.model_fields) == set(properties(t.name))
    assert [t.name for t in p.crewai_tools(disclosure="filesystem")] == FILESYSTEM


async def test_run_from_a_worker_thread(p: Pctx) -> None:
    # What Crew.kickoff_async does: the crew, and so tool.run, in a thread off the loop.
    by_name = tools_by_name(p)
    check_listing(await asyncio.to_thread(by_name["list_functions"].run))
    found = await asyncio.to_thread(lambda: by_name["search_functions"].run(query="sum", k=1))
    assert found.startswith("Everything.getSum: "), found
    details = await asyncio.to_thread(
        lambda: by_name["get_function_details"].run(functions=["Weather.forecast"])
    )
    assert "city: string" in details
    check_answer(await asyncio.to_thread(lambda: by_name["execute_typescript"].run(code=PROGRAM)))


async def test_run_on_the_loop_thread_is_refused(p: Pctx) -> None:
    with pytest.raises(RuntimeError, match="would deadlock"):
        tools_by_name(p)["execute_typescript"].run(code="return 1")


async def test_arun(p: Pctx) -> None:
    tool = tools_by_name(p)["execute_typescript"]
    if not hasattr(BaseTool, "arun"):
        pytest.skip("this crewai has no BaseTool.arun")
    check_answer(await tool.arun(code=PROGRAM))


async def test_bad_arguments_are_rejected_by_the_schema(p: Pctx) -> None:
    tool = tools_by_name(p)["get_function_details"]
    with pytest.raises(ValueError, match="functions"):
        await asyncio.to_thread(lambda: tool.run(functions=3))


async def test_unknown_function_raises_value_error(p: Pctx) -> None:
    tool = tools_by_name(p)["get_function_details"]
    with pytest.raises(ValueError, match=r'unknown function "Weather\.forcast"'):
        await asyncio.to_thread(lambda: tool.run(functions=["Weather.forcast"]))


class ScriptedLLM(BaseLLM):
    """A text (ReAct) LLM: list_functions, then execute_typescript, then the answer."""

    def supports_function_calling(self) -> bool:
        return False

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        turns = (
            [m for m in messages if m.get("role") == "assistant"]
            if isinstance(messages, list)
            else []
        )
        observations = [str(m["content"]).split("Observation:", 1)[-1].strip() for m in turns]
        if not observations:
            return "Thought: I need the functions.\nAction: list_functions\nAction Input: {}"
        if len(observations) == 1:
            check_listing(observations[0])
            code = json.dumps({"code": PROGRAM})
            return (
                f"Thought: One program does it.\nAction: execute_typescript\nAction Input: {code}"
            )
        return f"Thought: I now know the final answer\nFinal Answer: {observations[-1]}"


@pytest.mark.parametrize("kickoff", ["kickoff_async", "akickoff"])
async def test_crew_runs_the_code_mode_loop(p: Pctx, kickoff: str) -> None:
    # kickoff_async runs the crew (and tool.run) in a thread; akickoff is native async.
    if not hasattr(Crew, kickoff):
        pytest.skip(f"this crewai has no Crew.{kickoff}")
    agent = Agent(
        role="analyst",
        goal="Answer with Code Mode",
        backstory="Writes one TypeScript program instead of many tool calls.",
        llm=ScriptedLLM(model="scripted"),
        tools=p.crewai_tools(),
    )
    task = Task(description=QUESTION, expected_output="the weather and the sum", agent=agent)
    out = await getattr(Crew(agents=[agent], tasks=[task]), kickoff)()
    check_answer(out.raw)
