"""CrewAI: the Code Mode tools as ``BaseTool`` objects."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pctx_client.adapters._core import (
    call_tool_async,
    call_tool_sync,
    code_mode_tools,
    missing_extra,
)
from pctx_client.models import ToolDisclosure, ToolName

if TYPE_CHECKING:
    from crewai.tools import BaseTool

    from pctx_client._client import Pctx


@cache
def _tool_class() -> Callable[..., BaseTool]:
    """The BaseTool subclass, defined once crewai is importable."""
    from crewai.tools import BaseTool
    from pydantic import PrivateAttr

    class PctxCodeModeTool(BaseTool):
        """One Code Mode tool of a :class:`pctx_client.Pctx`."""

        _pctx: Pctx = PrivateAttr()
        _disclosure: ToolDisclosure = PrivateAttr()

        def __init__(self, pctx: Pctx, disclosure: ToolDisclosure, **data: Any) -> None:
            super().__init__(**data)
            self._pctx = pctx
            self._disclosure = disclosure

        def _run(self, **kwargs: Any) -> str:
            # CrewAI's sync path; Crew.kickoff_async runs it in a worker thread.
            return call_tool_sync(self._pctx, self.name, kwargs, self._disclosure)

        async def _arun(self, **kwargs: Any) -> str:
            return await call_tool_async(self._pctx, self.name, kwargs, self._disclosure)

    return PctxCodeModeTool


def crewai_tools(
    p: Pctx, disclosure: ToolDisclosure, descriptions: dict[ToolName, str] | None
) -> list[BaseTool]:
    """The disclosure's Code Mode tools as CrewAI ``BaseTool`` objects.

    ``run`` works from any thread but the one running the pctx connection (there, blocking
    would deadlock: use ``await crew.kickoff_async()``, ``akickoff()`` or ``arun``).

    Raises:
        ImportError: crewai is not installed.
    """
    try:
        cls = _tool_class()
    except ImportError as exc:
        raise missing_extra("CrewAI (crewai)", "crewai") from exc
    return [
        cls(
            p,
            disclosure,
            name=spec.name,
            description=spec.description,
            args_schema=spec.input_model,
        )
        for spec in code_mode_tools(disclosure, descriptions)
    ]
