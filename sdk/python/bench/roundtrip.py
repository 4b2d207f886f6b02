"""Python callback round trip through a real pctx: Go sandbox → Python tool → Go.

Usage:
    PCTX_BIN=.cache/bin/pctx python sdk/python/bench/roundtrip.py [-n 300] [--scope session]
    python sdk/python/bench/roundtrip.py --url http://127.0.0.1:8080   # a running pctx

It starts pctx on a free loopback port (unless --url is given) and, for each scope, connects
one client with an async and a sync `echo` tool and times three programs, each run N times
with ``execute_typescript`` over the client's session:

- trivial:      `return 1`                                 (execution overhead, no callback)
- one call:     `return await Bench.echo({ x: 1 })`        (one Go → Python → Go round trip)
- 100 parallel: Promise.all of 100 echo calls              (throughput of one client)

Scopes: ``session`` (the tools travel over the session's websocket, as the published
client's do) and ``global`` (over a pctx/1 worker connection). `server ms` is the
execution's span as pctx reports it (``trace``); `client ms` adds the websocket request
from Python. The callback round trip is estimated as one-call minus trivial (server side).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pctx_client import Pctx, Scope, tool

REPO = Path(__file__).resolve().parents[3]


@tool(namespace="bench")
async def echo(x: int) -> int:
    """Return x."""
    return x


@tool(namespace="bench")
def echo_sync(x: int) -> int:
    """Return x (runs in a worker thread)."""
    return x


PROGRAMS = {
    "trivial": "return 1",
    "one call (async tool)": "return await Bench.echo({ x: 1 })",
    "one call (sync tool)": "return await Bench.echoSync({ x: 1 })",
    "100 parallel (async)": (
        "const r = await Promise.all(Array.from({ length: 100 }, (_, x) => Bench.echo({ x })));"
        " return r.length"
    ),
    "100 parallel (sync)": (
        "const r = await Promise.all("
        "Array.from({ length: 100 }, (_, x) => Bench.echoSync({ x }))); return r.length"
    ),
}

Samples = dict[str, tuple[list[float], list[float]]]
"""Program → (client ms, server ms) per run."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_pctx(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = workdir / "pctx.toml"
    config.write_text(f'[server]\nhttp = "127.0.0.1:{port}"\n')
    log = (workdir / "pctx.log").open("wb")
    proc = subprocess.Popen(
        [binary, "start", "--config", str(config), "--log-level", "warn"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"pctx exited early; see {workdir / 'pctx.log'}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("pctx did not become healthy in 60 s")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def measure(url: str, n: int, scope: Scope) -> Samples:
    out: Samples = {}
    async with Pctx(tools=[echo, echo_sync], url=url, scope=scope) as p:
        for name, code in PROGRAMS.items():
            for _ in range(max(20, n // 10)):  # warm-up (esbuild cache, threads, sandboxes)
                await p.execute_typescript(code)
            client: list[float] = []
            server: list[float] = []
            for _ in range(n):
                t0 = time.perf_counter()
                res = await p.execute_typescript(code)
                client.append((time.perf_counter() - t0) * 1000)
                if not res.success:
                    sys.exit(f"{scope} {name}: {res.stderr}")
                span = res.trace.ended_at - res.trace.started_at
                server.append(span.total_seconds() * 1000)
            out[name] = (client, server)
    return out


def report(scope: str, results: Samples) -> None:
    print(f"\nscope={scope}")
    print(f"{'program':<24} {'server p50':>10} {'p90':>8} {'client p50':>11} {'p90':>8}  (ms)")
    for name, (client, server) in results.items():
        print(
            f"{name:<24} {pct(server, 50):>10.3f} {pct(server, 90):>8.3f} "
            f"{pct(client, 50):>11.3f} {pct(client, 90):>8.3f}"
        )
    trivial = pct(results["trivial"][1], 50)
    for kind in ("async", "sync"):
        one = pct(results[f"one call ({kind} tool)"][1], 50)
        hundred = pct(results[f"100 parallel ({kind})"][1], 50)
        print(
            f"{kind} tool: callback round trip ~ {one - trivial:.3f} ms (one call - trivial); "
            f"100 parallel: {hundred:.3f} ms total, "
            f"{(hundred - trivial) / 100 * 1000:.1f} us per call"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=300, help="runs per program (default 300)")
    ap.add_argument("--url", help="use a running pctx instead of starting one")
    ap.add_argument(
        "--scope",
        choices=["session", "global", "both"],
        default="both",
        help="where the tools are registered (default both, session first)",
    )
    args = ap.parse_args()
    scopes: list[Scope] = ["session", "global"] if args.scope == "both" else [args.scope]

    proc = None
    if args.url:
        url = args.url
    else:
        binary = os.environ.get("PCTX_BIN") or str(REPO / ".cache/bin/pctx")
        if not Path(binary).exists():
            sys.exit(f"pctx binary not found at {binary}; set PCTX_BIN or pass --url")
        proc, url = start_pctx(binary, Path(tempfile.mkdtemp(prefix="pctx-bench-")))
    try:
        results = {scope: asyncio.run(measure(url, args.n, scope)) for scope in scopes}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    print(
        f"pctx Python callback round trip, n={args.n} per program, Python {sys.version.split()[0]}"
    )
    for scope, samples in results.items():
        report(scope, samples)


if __name__ == "__main__":
    main()
