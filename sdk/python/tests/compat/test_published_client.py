"""The published pctx-client, unmodified, against pctx (docs/protocol.md §10).

Run with each published version's own venv (see conftest.py). Version differences the
tests follow: 0.1.x executes with `execute()` over `execute_code` and has no `headers`
(so it cannot send an API key); 0.4.x executes with `execute_typescript()` and passes
`headers` to REST and the websocket.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from typing import Any

import httpx
import pytest

from pctx_client import Pctx, Tool, tool
from tests.compat.conftest import Server, client_version, everything_bin


@tool
def get_weather(city: str) -> str:
    """Get weather for a given city."""
    return f"It's always sunny in {city}!"


@tool
def get_time(city: str) -> str:
    """Get time for a given city."""
    return f"It is midnight in {city}!"


def _price(item: str) -> float:
    """Price of an item."""
    if item == "unicorn":
        raise KeyError("no such item")
    return 2.5


# `@tool(namespace=...)` differs between versions (0.1.0 requires the name first);
# Tool.from_func is the same in all of them.
price = Tool.from_func(_price, name="price", namespace="shop")


HAS_HEADERS = "headers" in inspect.signature(Pctx.__init__).parameters


async def run(p: Pctx, code: str) -> Any:
    """Execute with whichever method this version has."""
    execute = getattr(p, "execute_typescript", None) or p.execute
    return await execute(code)


async def test_connect_register_list_details(pctx: Server) -> None:
    async with Pctx(tools=[get_weather, price], url=pctx.url) as p:
        listed = await p.list_functions()
        names = {(f.namespace, f.name) for f in listed.functions}
        assert {("Tools", "getWeather"), ("Shop", "price"), ("Everything", "getSum")} <= names
        assert "getWeather({city})" in listed.code
        assert "namespace Everything" in listed.code
        weather = next(f for f in listed.functions if f.name == "getWeather")
        assert weather.description == "Get weather for a given city."

        details = await p.get_function_details(["Tools.getWeather", "Everything.getSum"])
        assert [(f.namespace, f.name) for f in details.functions] == [
            ("Tools", "getWeather"),
            ("Everything", "getSum"),
        ]
        assert details.functions[0].input_type
        assert details.functions[0].output_type
        assert "function getWeather(" in details.functions[0].types
        assert "function getSum(" in details.code


async def test_execute_mixes_its_tool_and_an_upstream_tool(pctx: Server) -> None:
    async with Pctx(tools=[get_weather, price], url=pctx.url) as p:
        out = await run(
            p,
            """
async function run() {
  const [weather, sum] = await Promise.all([
    Tools.getWeather({ city: "nyc" }),
    Everything.getSum({ a: 2, b: 3 }),
  ]);
  let missing = "";
  try { await Shop.price({ item: "unicorn" }); } catch (e) { missing = e.message; }
  console.log("priced", await Shop.price({ item: "apple" }));
  return { weather, sum, missing };
}
""",
        )
        assert out.success, out.stderr
        assert out.output["weather"] == "It's always sunny in nyc!"
        assert out.output["sum"] == "The sum of 2 and 3 is 5."
        assert "Shop.price" in out.output["missing"]
        assert "no such item" in out.output["missing"]
        assert out.stdout == "priced 2.5"

        failed = await run(p, "async function run() { return await Nosuch.fn(); }")
        assert not failed.success
        # Refused by the type check when pctx has tsgo, else failing when it runs.
        assert (
            "Nosuch is not defined" in failed.stderr or "Cannot find name 'Nosuch'" in failed.stderr
        ), failed.stderr


async def test_type_errors_are_refused_before_any_call(pctx: Server) -> None:
    if not os.environ.get("PCTX_TSGO"):
        if os.environ.get("CI"):
            pytest.fail("CI is set and $PCTX_TSGO is not: pctx would run programs unchecked")
        pytest.skip("no $PCTX_TSGO: pctx runs programs unchecked")
    cities: list[str] = []

    @tool
    def record_city(city: str) -> str:
        """Record a city."""
        cities.append(city)
        return city

    async with Pctx(tools=[record_city], url=pctx.url) as p:
        bad = await run(
            p,
            "async function run() {\n"
            '  await Tools.recordCity({ city: "Oslo" });\n'
            "  return Tools.recordCity({ city: 5 });\n"
            "}",
        )
        assert not bad.success
        assert "does not type-check, so nothing ran" in bad.stderr, bad.stderr
        assert "\n3:29 TS2769 No overload matches this call." in bad.stderr
        assert "Type 'number' is not assignable to type 'string'." in bad.stderr
        assert cities == []  # the first, correct call was not made either
        good = await run(
            p, 'async function run() { return await Tools.recordCity({ city: "Oslo" }); }'
        )
        assert good.success, good.stderr
        assert cities == ["Oslo"]


async def test_sessions_are_isolated(pctx: Server) -> None:
    # Both use the default namespace "tools" (Tools); each session sees only its own.
    a = Pctx(tools=[get_weather], url=pctx.url)
    b = Pctx(tools=[get_time], url=pctx.url)
    await a.connect()
    await b.connect()
    try:
        oa, ob = await asyncio.gather(
            run(a, 'async function run() { return await Tools.getWeather({city: "Oslo"}); }'),
            run(b, 'async function run() { return await Tools.getTime({city: "Oslo"}); }'),
        )
        assert oa.output == "It's always sunny in Oslo!"
        assert ob.output == "It is midnight in Oslo!"
        names_b = {f.name for f in (await b.list_functions()).functions}
        assert "getTime" in names_b
        assert "getWeather" not in names_b
    finally:
        await a.disconnect()
        await b.disconnect()
    # A closed session is gone.
    gone = await a._client.post("/code-mode/functions/list")  # its session header is still set
    assert gone.status_code == 404
    assert "unknown code-mode session" in gone.text


def scripted_model(responses: list[Any]) -> Any:
    """A LangChain chat model that plays back responses and accepts any tools."""
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel

    class Scripted(FakeMessagesListChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

    return Scripted(responses=responses)


async def test_readme_example_with_langchain(pctx: Server) -> None:
    """The README's main.py, with a scripted model instead of an OpenRouter one."""
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, ToolMessage

    p = Pctx(tools=[get_weather, get_time], url=pctx.url)
    tools = p.langchain_tools()
    names = [t.name for t in tools]
    execute = "execute_typescript" if "execute_typescript" in names else "execute"
    assert {"list_functions", "get_function_details", execute} <= set(names)
    code = """async function run() {
  const [w, t] = await Promise.all([Tools.getWeather({ city: "nyc" }), Tools.getTime({ city: "nyc" })]);
  return { w, t };
}"""
    llm = scripted_model(
        [
            AIMessage("", tool_calls=[{"name": "list_functions", "args": {}, "id": "c1"}]),
            AIMessage(
                "",
                tool_calls=[
                    {
                        "name": "get_function_details",
                        "args": {"functions": ["Tools.getWeather", "Tools.getTime"]},
                        "id": "c2",
                    }
                ],
            ),
            AIMessage("", tool_calls=[{"name": execute, "args": {"code": code}, "id": "c3"}]),
            AIMessage("It is sunny and midnight in NYC."),
        ]
    )
    agent = create_agent(llm, tools=tools, system_prompt="You are a helpful assistant")
    await p.connect()
    try:
        result = await agent.ainvoke(
            {"messages": [{"role": "user", "content": "what is the weather and time in nyc"}]}
        )
    finally:
        await p.disconnect()
    by_id = {m.tool_call_id: m.content for m in result["messages"] if isinstance(m, ToolMessage)}
    assert "getWeather" in by_id["c1"]
    assert "function getTime(" in by_id["c2"]
    assert "Code Executed Successfully: True" in by_id["c3"]
    assert "It's always sunny in nyc!" in by_id["c3"]
    assert "It is midnight in nyc!" in by_id["c3"]
    assert result["messages"][-1].content == "It is sunny and midnight in NYC."


async def test_client_stdio_server_refused_without_opt_in(pctx: Server) -> None:
    servers = [{"name": "ev", "command": str(everything_bin())}]
    p = Pctx(tools=[get_weather], servers=servers, url=pctx.url)  # type: ignore[list-item]
    with pytest.raises(httpx.HTTPStatusError) as info:
        await p.connect()
    assert info.value.response.status_code == 403
    body = info.value.response.text
    assert "remote command execution" in body
    assert "allow_client_servers = true" in body


@pytest.mark.skipif(
    not HAS_HEADERS,
    reason="this client version has no `headers`, so it cannot send the API key that "
    "client-registered servers require; configure the server in pctx.toml instead",
)
async def test_client_stdio_server_with_opt_in_and_key(keyed_pctx: Server) -> None:
    servers = [{"name": "ev", "command": str(everything_bin())}]
    auth = {"Authorization": "Bearer k"}
    async with Pctx(
        tools=[get_weather],
        servers=servers,  # type: ignore[list-item]
        url=keyed_pctx.url,
        headers=auth,  # type: ignore[call-arg]
    ) as p:
        out = await run(
            p,
            'async function run() { return [await Ev.getSum({a: 1, b: 2}), await Tools.getWeather({city: "Rome"})]; }',
        )
        assert out.success, out.stderr
        assert out.output == ["The sum of 1 and 2 is 3.", "It's always sunny in Rome!"]
    # Another session does not see that server.
    async with Pctx(url=keyed_pctx.url, headers=auth) as other:  # type: ignore[call-arg]
        assert "Ev" not in {f.namespace for f in (await other.list_functions()).functions}
    # Without the key nothing is served at all.
    with pytest.raises(httpx.HTTPStatusError) as info:
        await Pctx(url=keyed_pctx.url).connect()
    assert info.value.response.status_code == 401


def test_version_is_the_one_under_test() -> None:
    assert client_version() >= (0, 1, 0)


@pytest.mark.skipif(
    not hasattr(Pctx, "execute_bash"), reason="the filesystem disclosure arrived in 0.4"
)
async def test_filesystem_disclosure_with_langchain(pctx: Server) -> None:
    """disclosure="filesystem": the model explores /sdk with execute_bash, then executes."""
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, ToolMessage

    p = Pctx(tools=[get_weather], url=pctx.url)
    tools = p.langchain_tools(disclosure="filesystem")  # type: ignore[call-arg]
    assert {t.name for t in tools} == {"execute_bash", "execute_typescript"}
    code = 'async function run() { return await Tools.getWeather({ city: "Lima" }); }'
    calls = [
        ("execute_bash", {"command": "ls"}),
        ("execute_bash", {"command": "grep -rl weather . | head -n 5"}),
        ("execute_bash", {"command": "cat Tools/getWeather.d.ts"}),
        ("execute_typescript", {"code": code}),
    ]
    llm = scripted_model(
        [
            AIMessage("", tool_calls=[{"name": n, "args": a, "id": f"c{i}"}])
            for i, (n, a) in enumerate(calls)
        ]
        + [AIMessage("Sunny in Lima.")]
    )
    agent = create_agent(llm, tools=tools)
    await p.connect()
    try:
        result = await agent.ainvoke(
            {"messages": [{"role": "user", "content": "weather in Lima?"}]}
        )
    finally:
        await p.disconnect()
    out = {m.tool_call_id: m.content for m in result["messages"] if isinstance(m, ToolMessage)}
    assert "README.md" in out["c0"]
    assert "Tools/" in out["c0"]
    assert "Everything/" in out["c0"]
    assert "./Tools/getWeather.d.ts" in out["c1"]
    assert "function getWeather(" in out["c2"]
    assert "It's always sunny in Lima!" in out["c3"]
