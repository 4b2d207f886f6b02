"""The data the client sends and receives: server configs, Code Mode results, wire frames.

Every name the published ``pctx-client`` 0.4.5 defines here exists with the same fields, so
code written against it keeps working. Results are pydantic models; their ``markdown()``
renders what the framework adapters hand to a model.
"""

import json
import warnings
from datetime import UTC, datetime, timedelta
from enum import Enum, IntEnum
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel, BeforeValidator, Field

from pctx_client._utils import HAS_SEARCH

ToolName = Literal[
    "execute_bash",
    "execute_typescript",
    "get_function_details",
    "list_functions",
    "search_functions",
]
"""The Code Mode tools a framework adapter can offer."""

ToolDisclosureName = Literal["catalog", "filesystem"]
""":class:`ToolDisclosure` by value, for ``disclosure="filesystem"``."""


class ToolDisclosure(str, Enum):  # noqa: UP042 - str() as the published client has it
    """How the agent discovers functions: which Code Mode tools the adapters offer.

    ``CATALOG``: ``list_functions``, ``get_function_details``, ``search_functions`` and
    ``execute_typescript``. ``FS``: ``execute_bash`` over the read-only ``/sdk`` files
    (a README and one ``.d.ts`` per function) and ``execute_typescript``.
    """

    CATALOG = "catalog"
    FS = "filesystem"

    def contains_tool(self, tool_name: str) -> bool:
        """Whether this disclosure offers ``tool_name``."""
        if self is ToolDisclosure.CATALOG:
            allowed = {"list_functions", "get_function_details", "execute_typescript"}
            if HAS_SEARCH:
                allowed.add("search_functions")
            return tool_name in allowed
        return tool_name in {"execute_bash", "execute_typescript"}


# ------------------------------------------------------------------ registration


class ToolConfig(TypedDict):
    """One tool as ``POST /register/tools`` sends it."""

    name: str
    namespace: str
    description: NotRequired[str]
    input_schema: NotRequired[dict[str, Any] | None]
    output_schema: NotRequired[dict[str, Any] | None]


class BearerAuth(TypedDict):
    """``Authorization: Bearer <token>`` for an HTTP MCP server."""

    type: Literal["bearer"]
    token: str


class HeadersAuth(TypedDict):
    """Arbitrary headers for an HTTP MCP server."""

    type: Literal["headers"]
    headers: dict[str, str]


class HttpServerConfig(TypedDict):
    """An MCP server pctx connects to over streamable HTTP (or SSE)."""

    name: str
    url: str
    auth: NotRequired[BearerAuth | HeadersAuth]


class StdioServerConfig(TypedDict):
    """An MCP server pctx starts as a subprocess on its own host."""

    name: str
    command: str
    args: NotRequired[list[str]]
    env: NotRequired[dict[str, str]]


ServerConfig = HttpServerConfig | StdioServerConfig


# ------------------------------------------------------------------ Code Mode outputs


class ListedFunction(BaseModel):
    """One callable function: ``namespace.name`` is how the code calls it."""

    namespace: str
    name: str
    description: str | None = None


class ListFunctionsOutput(BaseModel):
    """Every callable function, and the TypeScript listing a model reads (``code``)."""

    functions: list[ListedFunction]
    code: str


class FunctionDetails(BaseModel):
    """One function's declarations: its parameter list, return type and own types."""

    namespace: str
    name: str
    description: str | None = None
    input_type: str
    output_type: str
    types: str


class GetFunctionDetailsInput(BaseModel):
    """Arguments of the ``get_function_details`` tool."""

    functions: list[str]


class SearchFunctionsInput(BaseModel):
    """Arguments of the ``search_functions`` tool."""

    query: str
    k: int = 10


class GetFunctionDetailsOutput(BaseModel):
    """The requested functions' declarations; ``code`` is the text a model reads."""

    functions: list[FunctionDetails]
    code: str


class ExecuteTypescriptInput(BaseModel):
    """Arguments of the ``execute_typescript`` tool."""

    code: str


class ExecuteBashInput(BaseModel):
    """Arguments of the ``execute_bash`` tool."""

    command: str


class _SystemTime(BaseModel):
    secs_since_epoch: int
    nanos_since_epoch: int


def _parse_system_time(value: Any) -> Any:
    # The server sends times as Rust's SystemTime serialises them.
    if isinstance(value, dict):
        st = _SystemTime.model_validate(value)
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            seconds=st.secs_since_epoch, microseconds=st.nanos_since_epoch // 1000
        )
    return value


SystemTime = Annotated[datetime, BeforeValidator(_parse_system_time)]
"""A UTC datetime, also parsed from ``{secs_since_epoch, nanos_since_epoch}``."""


class Diagnostic(BaseModel):
    """One TypeScript type-checking diagnostic."""

    message: str
    line: int | None = None
    column: int | None = None
    severity: str
    code: int | None = None


class TypecheckOutcomePassed(BaseModel):
    """The program type-checked."""

    type: Literal["passed"]

    def is_success(self) -> bool:
        """Always True."""
        return True


class TypecheckOutcomeFailed(BaseModel):
    """The program was refused by the type checker."""

    type: Literal["failed"]
    diagnostics: list[Diagnostic]

    def is_success(self) -> bool:
        """Always False."""
        return False


TypecheckOutcome = Annotated[
    TypecheckOutcomePassed | TypecheckOutcomeFailed, Field(discriminator="type")
]


class TypeCheckEvent(BaseModel):
    """The type check of an execution."""

    type: Literal["type_check"]
    started_at: SystemTime
    ended_at: SystemTime
    outcome: TypecheckOutcome


class EventOutcomeSuccess(BaseModel):
    """A call that returned."""

    type: Literal["success"]
    output: Any | None = None

    def is_success(self) -> bool:
        """Always True."""
        return True


class EventOutcomeError(BaseModel):
    """A call that failed."""

    type: Literal["error"]
    message: str

    def is_success(self) -> bool:
        """Always False."""
        return False


EventOutcome = Annotated[EventOutcomeSuccess | EventOutcomeError, Field(discriminator="type")]


class McpToolCallEvent(BaseModel):
    """A call of an MCP server's tool during an execution."""

    type: Literal["mcp_tool_call"]
    server: str
    tool: str
    cached_client: bool
    args: Any | None = None
    outcome: EventOutcome
    started_at: SystemTime
    ended_at: SystemTime


class CallbackInvocationEvent(BaseModel):
    """A call of a client's tool during an execution."""

    type: Literal["callback_invocation"]
    id: str
    args: Any | None = None
    outcome: EventOutcome
    started_at: SystemTime
    ended_at: SystemTime


ExecutionEvent = Annotated[
    TypeCheckEvent | McpToolCallEvent | CallbackInvocationEvent, Field(discriminator="type")
]


class ExecutionTrace(BaseModel):
    """When an execution ran and what it did (pctx reports no events: the list is empty)."""

    code: str
    started_at: SystemTime
    ended_at: SystemTime
    events: list[ExecutionEvent]


class ExecuteTypescriptOutput(BaseModel):
    """What one ``execute_typescript`` run produced.

    ``stdout`` holds the ``console.log``/``info``/``debug`` lines, ``stderr`` the
    ``warn``/``error`` lines and, when the program failed, its error (with the line and
    column in the submitted code); ``output`` is the value the program returned.
    """

    success: bool
    stdout: str
    stderr: str
    output: Any | None = None
    trace: ExecutionTrace

    def markdown(self) -> str:
        """The run as the text the framework adapters give a model."""
        return f"""Code Executed Successfully: {self.success}

# Return Value
```json
{json.dumps(self.output)}
```

# STDOUT
{self.stdout}

# STDERR
{self.stderr}
"""

    @property
    def value(self) -> Any:
        """Deprecated: use ``output`` (the name before pctx-client's published API)."""
        warnings.warn(
            "ExecuteTypescriptOutput.value is deprecated, use .output",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.output

    @property
    def ok(self) -> bool:
        """Deprecated: use ``success``."""
        warnings.warn(
            "ExecuteTypescriptOutput.ok is deprecated, use .success",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.success


class ExecuteBashOutput(BaseModel):
    """What one ``execute_bash`` command over the ``/sdk`` files printed."""

    exit_code: int
    stdout: str
    stderr: str

    def markdown(self) -> str:
        """The command's result as the text the framework adapters give a model."""
        return f"""Exit Code: {self.exit_code}

# STDOUT
{self.stdout}

# STDERR
{self.stderr}
"""


# ------------------------------------------------------------------ websocket frames


class JsonRpcBase(BaseModel):
    """Fields every JSON-RPC message carries."""

    jsonrpc: Literal["2.0"] = "2.0"
    id: str | int


class ErrorCode(IntEnum):
    """JSON-RPC error codes of the session websocket."""

    RESOURCE_NOT_FOUND = -32002
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    PARSE_ERROR = -32700


class ErrorData(BaseModel):
    """A JSON-RPC error object."""

    code: ErrorCode
    message: str
    data: dict[str, Any] | None = None


class JsonRpcError(JsonRpcBase):
    """A JSON-RPC error response."""

    error: ErrorData


class ExecuteCodeParams(BaseModel):
    """Parameters of an ``execute_typescript`` request on the session websocket."""

    code: str
    disclosure: ToolDisclosure = ToolDisclosure.CATALOG
    tool_timeout_secs: int | None = None
    tool_timeout_overrides: dict[str, int] = Field(default_factory=dict)


class ExecuteCodeRequest(JsonRpcBase):
    """An ``execute_typescript`` request."""

    method: Literal["execute_typescript"]
    params: ExecuteCodeParams


class ExecuteCodeResponse(JsonRpcBase):
    """The answer to an ``execute_typescript`` request."""

    result: ExecuteTypescriptOutput


class ExecuteToolParams(BaseModel):
    """Which tool pctx calls, with which arguments."""

    namespace: str
    name: str
    args: dict[str, Any] | None


class ExecuteToolRequest(JsonRpcBase):
    """pctx calling one of the client's tools."""

    method: Literal["execute_tool"]
    params: ExecuteToolParams


class ExecuteToolResult(BaseModel):
    """A tool's return value."""

    output: Any | None


class ExecuteToolResponse(JsonRpcBase):
    """The answer to an ``execute_tool`` request."""

    result: ExecuteToolResult


def __getattr__(name: str) -> object:
    # Names of the published client's earlier versions.
    if name == "ExecuteInput":
        warnings.warn(
            "ExecuteInput is deprecated, use ExecuteTypescriptInput instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return ExecuteTypescriptInput
    if name == "ExecuteOutput":
        warnings.warn(
            "ExecuteOutput is deprecated, use ExecuteTypescriptOutput instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return ExecuteTypescriptOutput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
