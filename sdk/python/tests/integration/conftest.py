"""Run a real pctx binary for the integration tests.

The binary comes from $PCTX_BIN (the Makefile builds it to .cache/bin/pctx and exports
it); without it these tests are skipped, unless $CI is set, where they fail. npm MCP
servers come from $PCTX_NPM_BIN (default .cache/npm/node_modules/.bin), same rule.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pctx_client import Pctx

REPO = Path(__file__).resolve().parents[4]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Only catches a hang: on a loaded machine pctx and its upstreams take a while to start.
START_TIMEOUT = 120.0


def _need(what: str, path: Path | None) -> Path:
    if path is not None and path.exists():
        return path
    reason = f"{what} not found ({path}); run `make test` or set the variable"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def pctx_binary() -> Path:
    env = os.environ.get("PCTX_BIN")
    return _need("pctx binary ($PCTX_BIN)", Path(env) if env else REPO / ".cache/bin/pctx")


def npm_bin(name: str) -> Path:
    env = os.environ.get("PCTX_NPM_BIN")
    base = Path(env) if env else REPO / ".cache/npm/node_modules/.bin"
    return _need(f"npm MCP server {name} ($PCTX_NPM_BIN)", base / name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_value(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)  # strings, numbers, booleans and lists are valid TOML this way


def render_config(
    port: int,
    servers: Mapping[str, Mapping[str, Any]],
    server: Mapping[str, Any] | None = None,
    runtime: Mapping[str, Any] | None = None,
) -> str:
    lines = ["[server]", f'http = "127.0.0.1:{port}"']
    lines += [f"{k} = {toml_value(v)}" for k, v in (server or {}).items()]
    if runtime:
        lines += ["", "[runtime]"] + [f"{k} = {toml_value(v)}" for k, v in runtime.items()]
    for name, spec in servers.items():
        lines += ["", f"[servers.{name}]"] + [f"{k} = {toml_value(v)}" for k, v in spec.items()]
    return "\n".join(lines) + "\n"


def python_server(fixture: str, state: Path) -> dict[str, Any]:
    """A [servers.NAME] table running one of tests/fixtures/ with this venv's Python."""
    return {
        "command": sys.executable,
        "args": [str(FIXTURES / fixture)],
        "env": {"PCTX_TEST_STATE": str(state)},
    }


@dataclass
class PctxProcess:
    """A running `pctx start --http`; stderr goes to ``log``."""

    binary: Path
    workdir: Path
    port: int
    config: Path
    api_key: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / "pctx.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(self.binary),
                    "start",
                    "--http",
                    f"127.0.0.1:{self.port}",
                    "--config",
                    str(self.config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pctx exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pctx did not answer /healthz in {START_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def client(self, tools: list[Any] | None = None, **kw: Any) -> Pctx:
        """A client of this pctx (session-scoped tools unless ``scope="global"``)."""
        kw.setdefault("api_key", self.api_key)
        return Pctx(tools=tools or [], url=self.url, **kw)


@dataclass
class Launcher:
    binary: Path
    root: Path
    started: list[PctxProcess] = field(default_factory=list)

    def __call__(
        self,
        servers: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        api_key: str | None = None,
        runtime: Mapping[str, Any] | None = None,
        server: Mapping[str, Any] | None = None,
    ) -> PctxProcess:
        workdir = Path(tempfile.mkdtemp(dir=self.root))
        port = free_port()
        config = workdir / "pctx.toml"
        server = {**(server or {}), **({"api_key": api_key} if api_key else {})}
        config.write_text(render_config(port, servers or {}, server, runtime))
        p = PctxProcess(self.binary, workdir, port, config, api_key)
        p.start()
        self.started.append(p)
        return p

    def stop_all(self) -> None:
        for p in self.started:
            p.stop()


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Start pctx servers; all of them stop when the module's tests are done."""
    launcher = Launcher(pctx_binary(), tmp_path_factory.mktemp("pctx"))
    yield launcher
    launcher.stop_all()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


def read_events(state: Path, server: str) -> list[dict[str, Any]]:
    path = state / f"{server}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def wait_for_namespaces(p: Pctx, namespaces: list[str], timeout: float = 120.0) -> str:
    """Wait until list_functions shows every namespace (upstreams connect in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        text = (await p.list_functions()).code
        missing = [ns for ns in namespaces if f"namespace {ns} {{" not in text]
        if not missing:
            return text
        if loop.time() > deadline:
            raise AssertionError(f"namespaces {missing} never appeared; listing:\n{text}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def connected() -> AsyncIterator[list[Pctx]]:
    """Collects clients to disconnect at teardown, even when a test fails midway."""
    clients: list[Pctx] = []
    yield clients
    for c in clients:
        await c.disconnect()


def first_json(text: str) -> Any:
    """The first JSON value of an MCP execute_typescript text result."""
    value, _ = json.JSONDecoder().raw_decode(text.lstrip())
    return value


def mcp_calls(text: str) -> int:
    """The call count of an MCP execute_typescript text result (``--- 3 ms, 4 calls ---``)."""
    found = re.search(r"--- [0-9.]+ ms, (\d+) calls? ---\s*$", text)
    assert found, text
    return int(found.group(1))


async def function_named(p: Pctx, name: str) -> str:
    """``Namespace.function`` as the session calls the one function called ``name``."""
    matches = [f for f in (await p.list_functions()).functions if f.name == name]
    assert len(matches) == 1, matches
    return f"{matches[0].namespace}.{matches[0].name}"
