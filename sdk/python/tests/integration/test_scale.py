"""Many Python apps at once against a real pctx: session-scoped namespaces of the same name,
a pool of identical global workers that loses a member mid-run, and the error a client
registering a different definition gets."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from pctx_client import tool
from pctx_client.exceptions import RegistrationError
from tests.integration.conftest import Launcher, PctxProcess

CALLS = 300
LANES = 8  # calls in flight at once; see WORKER for why the victim then holds at most 3
SERVE_BEFORE_HOLDING = 30

# One pool member, run as its own process so the test can kill it. It serves data.fetch;
# the victim serves SERVE_BEFORE_HOLDING calls normally, then holds every call it gets
# (logging each to its file) until it is killed. With LANES calls in flight, least-in-
# flight dispatch stops sending it calls once it holds 3 (3 > (LANES - 3) / 2), so the
# number of calls it had in flight when killed is exactly the "held" lines in its log.
WORKER = """
import asyncio, os, sys
from pctx_client import Pctx, tool

url, victim, log, serve = sys.argv[1], sys.argv[2] == "victim", open(sys.argv[3], "a"), int(sys.argv[4])
served = 0

@tool(namespace="data")
async def fetch(i: int) -> dict:
    \"\"\"Fetch row i.\"\"\"
    global served
    if victim and served >= serve:
        log.write(f"held {i}\\n")
        log.flush()
        await asyncio.Event().wait()
    served += 1
    await asyncio.sleep(0.002)
    return {"i": i, "pid": os.getpid()}

async def main():
    async with Pctx(tools=[fetch], url=url, scope="global") as p:
        print("ready", flush=True)
        await p.wait_closed()

asyncio.run(main())
"""

AGENT = f"""
const N = {CALLS}, LANES = {LANES};
let next = 0, ok = 0, rejected = 0;
const errors = [], byPid = {{}};
async function lane() {{
  while (next < N) {{
    const i = next++;
    try {{
      const r = await Data.fetch({{ i }});
      if (r.i !== i) throw new Error(`row ${{r.i}} for call ${{i}}`);
      ok++;
      byPid[r.pid] = (byPid[r.pid] || 0) + 1;
    }} catch (e) {{
      rejected++;
      errors.push(e.message);
    }}
  }}
}}
await Promise.all(Array.from({{ length: LANES }}, lane));
return {{ ok, rejected, errors, byPid }};
"""


@pytest.fixture(scope="module")
def server(launch: Launcher) -> PctxProcess:
    return launch(runtime={"timeout": "120s", "max_calls": 5000})


async def test_two_apps_with_their_own_session_data_namespaces(server, connected):
    @tool(namespace="data")
    def rows(n: int) -> list[str]:
        """Rows of app A."""
        return [f"a{i}" for i in range(n)]

    @tool(namespace="data", name="rows")
    def rows_b(n: int, prefix: str = "b") -> list[str]:
        """Rows of app B: a different signature under the same name."""
        return [f"{prefix}{i}" for i in range(n)]

    @tool(namespace="data")
    def count() -> int:
        """Only app B has this."""
        return 42

    a = server.client([rows])  # session-scoped: the default
    b = server.client([rows_b, count])
    outsider = server.client()
    connected += [a, b, outsider]
    for c in (a, b, outsider):
        await c.connect()

    ra, rb = await asyncio.gather(
        a.execute_typescript("return await Data.rows({ n: 2 })"),
        b.execute_typescript('return [await Data.rows({ n: 2, prefix: "x" }), await Data.count()]'),
    )
    assert ra.success, ra.stderr
    assert ra.output == ["a0", "a1"]
    assert rb.success, rb.stderr
    assert rb.output == [["x0", "x1"], 42]
    assert "count" not in (await a.list_functions()).code
    assert "count()" in (await b.list_functions()).code
    # Neither is visible to anyone else.
    assert "namespace Data" not in (await outsider.list_functions()).code
    res = await outsider.execute_typescript("return typeof Data")
    assert res.output == "undefined", res.stderr


async def _start_worker(script: Path, url: str, role: str, log: Path) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        url,
        role,
        str(log),
        str(SERVE_BEFORE_HOLDING),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.strip() == b"ready", f"worker did not start: {line!r}"
    return proc


def _held_now(log: Path) -> int:
    return log.read_text().count("held ") if log.exists() else 0


async def _held(log: Path, at_least: int, timeout: float = 60) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        n = _held_now(log)
        if n >= at_least:
            return n
        assert loop.time() < deadline, f"the victim holds {n} calls, expected {at_least}"
        await asyncio.sleep(0.01)


@pytest.mark.timeout(120)
async def test_pool_serves_every_call_while_a_member_is_killed(server, connected, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    victim_log = tmp_path / "victim.log"
    procs = [
        await _start_worker(script, server.url, "victim", victim_log),
        await _start_worker(script, server.url, "steady", tmp_path / "s1.log"),
        await _start_worker(script, server.url, "steady", tmp_path / "s2.log"),
    ]
    try:
        driver = server.client()
        connected.append(driver)
        await driver.connect()
        listing = (await driver.list_functions()).code
        assert listing.count("fetch(") == 1, listing  # one namespace for the three workers

        run = asyncio.create_task(driver.execute_typescript(AGENT))
        await _held(victim_log, 3)
        procs[0].kill()  # SIGKILL: no goodbye
        await procs[0].wait()
        held = _held_now(victim_log)
        res = await run
        # The namespace survives with the two remaining members.
        after = await driver.execute_typescript("return await Data.fetch({ i: 7 })")
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()

    assert res.success, res.stderr
    v = res.output
    assert v["ok"] + v["rejected"] == CALLS
    # Only the calls the killed worker had in flight reject, each with the named error.
    assert v["rejected"] <= held, v
    for msg in v["errors"]:
        assert msg == 'Data.fetch: worker for namespace "data" disconnected', msg
    # Every member served calls before that.
    assert len(v["byPid"]) == 3, v["byPid"]
    assert v["byPid"][str(procs[0].pid)] == SERVE_BEFORE_HOLDING
    assert after.success, after.stderr
    assert after.output["pid"] in (procs[1].pid, procs[2].pid)


async def test_conflicting_global_registration_is_explained(server, connected):
    @tool(namespace="scoring")
    def predict(x: int) -> float:
        """Score x."""
        return x / 10

    @tool(namespace="scoring", name="predict")
    def predict_v2(x: str) -> float:
        """Score x, a newer signature."""
        return 0.5

    first = server.client([predict], scope="global")
    second = server.client([predict_v2], scope="global")
    connected += [first, second]
    await first.connect()
    with pytest.raises(RegistrationError) as info:
        await second.connect()
    msg = str(info.value)
    assert 'namespace "scoring" is taken by pool:scoring' in msg
    assert (
        'tool "predict" input schema differs: property "x" type is "integer" in the pool, "string" in yours'
        in msg
    )
    assert 'scope "session"' in msg
    # The same definition joins the pool instead.
    third = server.client([predict], scope="global")
    connected.append(third)
    await third.connect()
    res = await first.execute_typescript("return await Scoring.predict({ x: 5 })")
    assert res.output == 0.5, res.stderr
