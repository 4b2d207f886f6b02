"""The seed's Python tools (sdk/python/tests/seed_tools.py) served to a pctx for the
type-check corpus, logging every call they receive.

    python seed_worker.py URL CALLS.log    serve until standard input closes

Each call appends "namespace.name" to CALLS.log before the tool runs, so the test can
tell that a refused program reached no backend.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sdk" / "python"))

from pctx_client import Pctx
from pctx_client._tool import BaseTool
from tests.seed_tools import SEED_TOOLS

LOG = Path(sys.argv[2])
_serve = BaseTool._serve


def _record(name: str) -> None:
    with LOG.open("a") as f:
        f.write(name + "\n")


async def _logged(self: BaseTool, *args: Any, **kwargs: Any) -> Any:
    _record(f"{self.namespace}.{self.name}")
    return await _serve(self, *args, **kwargs)


BaseTool._serve = _logged  # type: ignore[method-assign]


async def main(url: str) -> None:
    async with Pctx(tools=SEED_TOOLS, url=url, scope="global"):
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
