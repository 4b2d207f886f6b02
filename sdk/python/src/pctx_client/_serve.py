"""Answering pctx's ``execute_tool`` calls with this client's tools."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ValidationError

from pctx_client import _protocol as wire
from pctx_client._tool import ArgumentsInvalid, BaseTool, ToolContext

logger = logging.getLogger("pctx_client")

# Tracebacks go to pctx's debug log only; keep the tail, where the cause is.
_MAX_TRACEBACK_CHARS = 8192

# A call still running this long after pctx's deadline is cancelled here: pctx stopped
# waiting at the deadline and, on a session's websocket, sends no `cancel` (the published
# client could not decode it), so a hung tool would otherwise run forever. The margin
# leaves the deadline's error to pctx.
_DEADLINE_GRACE = 2.0

Style = Literal["session", "worker"]
"""How errors are worded: ``"session"`` as the published client words them (the session
websocket), ``"worker"`` with the exception's type for pctx/1 (docs/protocol.md §4.1)."""


async def answer(
    tools: Mapping[tuple[str, str], BaseTool], id_: Any, params: Any, style: Style
) -> str:
    """Run one call and return its response frame; a tool's failure is an error frame."""
    if not isinstance(params, Mapping):
        return wire.error(id_, wire.INVALID_PARAMS, "execute_tool params must be an object")
    namespace, name = str(params.get("namespace")), str(params.get("name"))
    args = params.get("args")
    args = {} if args is None else args
    t = tools.get((namespace, name))
    if t is None:
        return wire.error(
            id_,
            wire.METHOD_NOT_FOUND,
            f"No tool `{name}` exists in namespace `{namespace}`",
        )
    if not isinstance(args, Mapping):
        return wire.error(id_, wire.INVALID_PARAMS, f"{namespace}.{name}: args must be an object")
    timeout_ms = params.get("timeoutMs")
    timeout = timeout_ms / 1000 if isinstance(timeout_ms, int | float) and timeout_ms > 0 else None
    ctx = ToolContext(
        namespace=namespace,
        name=name,
        call_id=id_,
        timeout=timeout,
        deadline=time.monotonic() + timeout if timeout is not None else None,
    )
    key = "output" if style == "session" else "value"
    limit = asyncio.timeout(None if timeout is None else timeout + _DEADLINE_GRACE)
    try:
        async with limit:
            value = await t._serve(dict(args), ctx)
        # Encoded here so a result that is not JSON (NaN, say) fails like the tool did.
        return wire.result(id_, {key: value})
    except ArgumentsInvalid as exc:
        if style == "session":
            return wire.error(
                id_, wire.INVALID_PARAMS, f"Failed validating tool params: {exc.error}"
            )
        # pctx prefixes "ns.fn: ValidationError: "; one line per problem reads best there.
        return wire.error(
            id_,
            wire.INVALID_PARAMS,
            f"invalid arguments: {_problems(exc)}",
            {"type": "ValidationError"},
        )
    except Exception as exc:
        if isinstance(exc, TimeoutError) and limit.expired():  # not the tool's own
            logger.info("pctx-client: %s.%s cancelled past pctx's deadline", namespace, name)
            return wire.error(
                id_,
                wire.CALL_CANCELLED,
                f"cancelled: still running {_DEADLINE_GRACE}s after pctx's deadline of {timeout}s",
            )
        logger.info("pctx-client: tool %s.%s raised", namespace, name, exc_info=True)
        trace = "".join(traceback.format_exception(exc))[-_MAX_TRACEBACK_CHARS:]
        if style == "session":
            # The message the published client sends; pctx shows it as `Ns.fn: <message>`.
            return wire.error(
                id_,
                wire.INTERNAL_ERROR,
                f"Failed executing tool: {exc}",
                {"traceback": trace},
            )
        return wire.error(
            id_,
            wire.TOOL_ERROR,
            str(exc) or "(no message)",
            {"type": type(exc).__name__, "traceback": trace},
        )


def _problems(exc: ArgumentsInvalid) -> str:
    """``field: what is wrong`` for each problem, joined by ``; ``."""
    err = exc.error
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in err.errors()
        )
    where = ".".join(str(p) for p in err.absolute_path)
    return f"{where or 'args'}: {err.message}"
