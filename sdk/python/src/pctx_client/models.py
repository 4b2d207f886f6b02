"""Results returned by :meth:`pctx_client.Pctx.execute`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConsoleLine:
    """One ``console.*`` call made by the program."""

    level: str
    text: str


@dataclass(frozen=True)
class ExecutionError:
    """Why a program failed: a thrown error, a limit, a syntax error...

    ``line``/``column`` point into the submitted code when known.
    """

    kind: str
    message: str
    line: int | None = None
    column: int | None = None
    stack: str | None = None


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one ``execute_typescript`` run.

    Attributes:
        value: The program's return value (parsed JSON), None when it returned nothing.
        console: Console output in order.
        error: Set when the program failed; ``value`` is then None.
        duration_ms: Wall-clock time of the run on the server.
        calls: Number of tool calls the program made.
        text: The compact text an MCP client would see for the same run.
    """

    value: Any = None
    console: list[ConsoleLine] = field(default_factory=list)
    error: ExecutionError | None = None
    duration_ms: float = 0.0
    calls: int = 0
    text: str = ""

    @property
    def ok(self) -> bool:
        """True when the program finished without error."""
        return self.error is None
