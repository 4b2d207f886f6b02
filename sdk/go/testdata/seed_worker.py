"""The Python seed worker for the Go SDK's integration tests.

Registers the seed announcement's tools (sdk/python/tests/seed_tools.py) with the pctx at
argv[1], prints "ready" once registered, and serves until pctx goes away or it is killed.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python", "tests"))

from pctx_client import Pctx  # noqa: E402
from seed_tools import SEED_TOOLS  # noqa: E402


async def main() -> None:
    async with Pctx(
        tools=SEED_TOOLS, url=sys.argv[1], client_name="go-sdk-test-seed", scope="global"
    ) as p:
        print("ready", flush=True)
        await p.wait_closed()


asyncio.run(main())
