"""examples/ end to end: each example runs as a user runs it, against a real pctx, with a
scripted OpenAI API on loopback (tests/adapters/fake_openai.py) in place of the model.

The model lists the functions, then runs one program over the examples' Python tools;
the example prints the answer quoting the program's result. An example whose framework is
not installed here is skipped (CrewAI's runs in scripts/test-crewai.sh).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tests.adapters.fake_openai import Script, fake_openai
from tests.integration.conftest import PctxProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROGRAM = """
const [weather, churn] = await Promise.all([
  Tools.getWeather({ city: "Oslo" }),
  Ml.predictChurn({ customer_id: "cust_12345" }),
]);
return { weather, churn: churn.churn_probability };
"""
CATALOG = ["execute_typescript", "list_functions", "search_functions", "get_function_details"]

# example → (the modules it needs, the API its model client uses)
CASES = {
    "openai_chat_completions.py": (["openai"], "chat"),
    "openai_agents.py": (["agents"], "responses"),
    "pydantic_ai_agent.py": (["pydantic_ai", "openai"], "responses"),
    "langchain_agent.py": (["langchain", "langchain_openai"], "chat"),
    "crewai_crew.py": (["crewai"], "chat"),
}


async def run_example(name: str, pctx_url: str, openai_url: str) -> str:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "test",
        "OPENAI_BASE_URL": openai_url,
        "PCTX_URL": pctx_url,
        "MODEL": "scripted",
        "OPENAI_AGENTS_DISABLE_TRACING": "1",
        "CREWAI_DISABLE_TELEMETRY": "true",
        "OTEL_SDK_DISABLED": "true",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        name,
        cwd=EXAMPLES,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)  # only catches a hang
    assert proc.returncode == 0, err.decode()
    return out.decode()


def test_every_example_is_exercised() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")) == sorted(
        CASES
    )


@pytest.mark.parametrize("name", sorted(CASES))
async def test_example(server: PctxProcess, name: str) -> None:
    modules, api = CASES[name]
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{name} needs {module}, not installed in this venv")
    script = Script(PROGRAM)
    with fake_openai(script) as openai_url:
        answer = await run_example(name, server.url, openai_url)
    assert "Answer: " in answer, answer
    assert "It's sunny in Oslo" in answer, answer
    assert "0.85" in answer, answer
    assert script.offered(0) == CATALOG
    key = "messages" if api == "chat" else "input"
    assert all(key in r for r in script.requests), script.requests
    listing = script.tool_outputs(1)[0]
    assert "getWeather({city})" in listing, listing
    assert "predictChurn({customer_id})" in listing, listing


async def test_examples_need_an_api_key(server: PctxProcess) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "openai_chat_completions.py",
        cwd=EXAMPLES,
        env={**env, "PCTX_URL": server.url},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 1
    assert "set OPENAI_API_KEY" in err.decode()
