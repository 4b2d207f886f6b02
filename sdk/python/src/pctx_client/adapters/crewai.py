"""CrewAI: the Code Mode tools as ``BaseTool`` objects."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pctx_client.adapters._core import (
    args_model,
    call_tool_async,
    call_tool_sync,
    code_mode_tools,
    missing_extra,
)

if TYPE_CHECKING:
    from crewai.tools import BaseTool

    from pctx_client._client import Pctx


@cache
def _tool_class() -> Callable[..., BaseTool]:
    """The BaseTool subclass, defined once crewai is importable."""
    from crewai.tools import BaseTool
    from pydantic import PrivateAttr

    class PctxCodeModeTool(BaseTool):
        """One Code Mode tool of a connected :class:`pctx_client.Pctx`."""

        _pctx: Pctx = PrivateAttr()

        def __init__(self, pctx: Pctx, **data: Any) -> None:
            super().__init__(**data)
            self._pctx = pctx

        def _run(self, **kwargs: Any) -> str:
            # CrewAI's sync path; Crew.kickoff_async runs it in a worker thread.
            return call_tool_sync(self._pctx, self.name, kwargs)

        async def _arun(self, **kwargs: Any) -> str:
            return await call_tool_async(self._pctx, self.name, kwargs)

    return PctxCodeModeTool


def crewai_tools(p: Pctx) -> list[BaseTool]:
    """The Code Mode tools as CrewAI ``BaseTool`` objects, for ``Agent(tools=...)``.

    ``run`` works from any thread but the one running the pctx connection (there, blocking
    would deadlock: use ``await crew.kickoff_async()`` or ``akickoff()``, or ``arun``).
    Bad arguments and pctx's refusals (an unknown function, too busy) raise
    ``ValueError``, which CrewAI reports to the agent.

    Raises:
        ImportError: crewai is not installed.
        RuntimeError: ``p`` has not connected yet.
    """
    try:
        cls = _tool_class()
    except ImportError as exc:
        raise missing_extra("CrewAI (crewai)", "crewai") from exc
    tools: list[BaseTool] = []
    for spec in code_mode_tools(p):
        tools.append(
            cls(p, name=spec.name, description=spec.description, args_schema=args_model(spec))
        )
    return tools
