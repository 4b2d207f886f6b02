"""Tests of the *published* pctx-client (PyPI) against a real pctx.

They run only in a venv where pctx_client is the published package (the Makefile makes
.cache/venv-pctx-client-latest and .cache/venv-pctx-client-0.1 and runs
`python -m pytest tests/compat --confcutdir=tests/compat` with each). In the main venv,
where pctx_client is this repository's SDK (same import name), the folder is skipped.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[4]


def _is_published_client() -> bool:
    spec = importlib.util.find_spec("pctx_client")
    if spec is None or spec.origin is None:
        return False
    return not Path(spec.origin).resolve().is_relative_to(REPO / "sdk" / "python" / "src")


if not _is_published_client():
    collect_ignore_glob = ["test_*.py"]

START_TIMEOUT = 30.0


def client_version() -> tuple[int, ...]:
    return tuple(int(x) for x in importlib.metadata.version("pctx-client").split(".")[:3])


def _need(what: str, path: Path) -> Path:
    if path.exists():
        return path
    reason = f"{what} not found ({path}); run `make test`"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def pctx_binary() -> Path:
    env = os.environ.get("PCTX_BIN")
    return _need("pctx binary ($PCTX_BIN)", Path(env) if env else REPO / ".cache/bin/pctx")


def everything_bin() -> Path:
    env = os.environ.get("PCTX_NPM_BIN")
    base = Path(env) if env else REPO / ".cache/npm/node_modules/.bin"
    return _need("server-everything ($PCTX_NPM_BIN)", base / "mcp-server-everything")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `pctx start` with server-everything as the upstream "everything"."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(server_table: dict[str, Any], workdir: Path) -> Server:
    port = _free_port()
    lines = ["[server]", f'http = "127.0.0.1:{port}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in server_table.items()]
    lines += ["", "[servers.everything]", f"command = {json.dumps(str(everything_bin()))}"]
    config = workdir / "pctx.toml"
    config.write_text("\n".join(lines) + "\n")
    log = workdir / "pctx.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(pctx_binary()), "start", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    srv = Server(url, proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pctx exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return srv
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    srv.stop()
    raise RuntimeError(f"pctx did not answer /healthz:\n{log.read_text()}")


@pytest.fixture(scope="module")
def pctx() -> Iterator[Server]:
    """pctx with server-everything configured in pctx.toml; no API key."""
    srv = start({}, Path(tempfile.mkdtemp()))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keyed_pctx() -> Iterator[Server]:
    """pctx with an API key ("k") that accepts client-registered servers."""
    srv = start({"api_key": "k", "allow_client_servers": True}, Path(tempfile.mkdtemp()))
    yield srv
    srv.stop()
