"""Python callback round trip through a real pctx: Go sandbox → Python tool → Go.

Usage:
    PCTX_BIN=.cache/bin/pctx python sdk/python/bench/roundtrip.py [-n 300]
    python sdk/python/bench/roundtrip.py --url http://127.0.0.1:8080   # a running pctx

It starts pctx on a free loopback port (unless --url is given), connects one worker with
an async and a sync `echo` tool, and times three programs, each run N times through the
worker's own `execute` request:

- trivial:      `return 1`                       (execution overhead, no callback)
- one call:     `return await bench.echo(1)`     (one Go → Python → Go round trip)
- 100 parallel: Promise.all of 100 echo calls    (throughput of one worker)

`server ms` is the execution's durationMs measured inside pctx; `client ms` adds the
websocket request from Python. The callback round trip is estimated as one-call minus
trivial (server side).
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

from pctx_client import Pctx, tool

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
    "one call (async tool)": "return await bench.echo(1)",
    "one call (sync tool)": "return await bench.echo_sync(1)",
    "100 parallel (async)": (
        "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => bench.echo(i)));"
        " return r.length"
    ),
    "100 parallel (sync)": (
        "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => bench.echo_sync(i)));"
        " return r.length"
    ),
}


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
    deadline = time.monotonic() + 30
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
    sys.exit("pctx did not become healthy in 30 s")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def measure(url: str, n: int) -> dict[str, tuple[list[float], list[float]]]:
    out: dict[str, tuple[list[float], list[float]]] = {}
    async with Pctx(tools=[echo, echo_sync], url=url) as p:
        for name, code in PROGRAMS.items():
            for _ in range(max(20, n // 10)):  # warm-up (esbuild cache, threads, JIT-free VM)
                await p.execute(code)
            client: list[float] = []
            server: list[float] = []
            for _ in range(n):
                t0 = time.perf_counter()
                res = await p.execute(code)
                client.append((time.perf_counter() - t0) * 1000)
                if not res.ok:
                    sys.exit(f"{name}: {res.text}")
                server.append(res.duration_ms)
            out[name] = (client, server)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=300, help="runs per program (default 300)")
    ap.add_argument("--url", help="use a running pctx instead of starting one")
    args = ap.parse_args()

    proc = None
    if args.url:
        url = args.url
    else:
        binary = os.environ.get("PCTX_BIN") or str(REPO / ".cache/bin/pctx")
        if not Path(binary).exists():
            sys.exit(f"pctx binary not found at {binary}; set PCTX_BIN or pass --url")
        proc, url = start_pctx(binary, Path(tempfile.mkdtemp(prefix="pctx-bench-")))
    try:
        results = asyncio.run(measure(url, args.n))
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


if __name__ == "__main__":
    main()
