"""Tools: what a Python tool is, how its schemas are derived, and how pctx calls it."""

from __future__ import annotations

import asyncio
import inspect
import textwrap
import time
import typing
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, ParamSpec, TypeVar, overload

import jsonschema
from docstring_parser import Docstring
from docstring_parser import parse as parse_docstring
from jsonschema import Draft202012Validator
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    PydanticUserError,
    SkipValidation,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic._internal._model_construction import ModelMetaclass  # the public BaseModel's
from pydantic.errors import PydanticSchemaGenerationError
from pydantic_core import PydanticSerializationError

if TYPE_CHECKING:
    from pctx_client.models import ToolConfig

P = ParamSpec("P")
R = TypeVar("R")

Binder = Callable[[dict[str, Any], "ToolContext"], tuple[list[Any], dict[str, Any]]]
"""Validates a call's arguments into the function's positional and keyword arguments."""
Executor = Callable[[list[Any], dict[str, Any]], Awaitable[Any]]
"""Runs the tool with bound arguments."""
Server = Callable[[dict[str, Any], "ToolContext"], Awaitable[Any]]
"""Serves one call from pctx: validated arguments in, a JSON-ready result out."""

DEFAULT_NAMESPACE = "tools"
"""The namespace of a tool that names none; sessions show it as ``Tools``."""

_ANY: TypeAdapter[Any] = TypeAdapter(Any)
_MODEL_CONFIG = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


@dataclass(frozen=True)
class ToolContext:
    """The call a tool is serving, for a tool that declares a parameter of this type.

    A parameter annotated ``ToolContext`` is not part of the tool's input schema; pctx's
    calls fill it in (a direct ``invoke`` passes an empty one). The call's task is
    cancelled when pctx stops waiting for it, so ``async`` tools need no polling.

    Attributes:
        namespace: The namespace as registered.
        name: The tool's name as registered.
        call_id: pctx's id for the call (None outside a call from pctx).
        timeout: Seconds pctx said it would wait for the answer, when it said.
        deadline: ``time.monotonic()`` at which pctx stops waiting, when known.
    """

    namespace: str = ""
    name: str = ""
    call_id: str | int | None = None
    timeout: float | None = None
    deadline: float | None = None

    def remaining(self) -> float | None:
        """Seconds left before pctx stops waiting (never negative), or None if unknown."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


class ArgumentsInvalid(Exception):
    """A call's arguments did not fit the tool's input schema; raised before it runs."""

    def __init__(self, error: ValidationError | jsonschema.ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


class _ToolMeta(ModelMetaclass):
    """Lets subclasses annotate the schema fields as they like.

    ``output_schema: type[list[Hit]] = list[Hit]`` is how tools are commonly declared, but
    pydantic cannot build a field of that type; the annotation only documents the value,
    so it is replaced by the base class's.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> type:
        annotations = namespace.get("__annotations__", {})
        for field in ("input_schema", "output_schema"):
            if field in annotations and bases and bases[0] is not BaseModel:
                annotations[field] = Annotated[Any, SkipValidation]
        return super().__new__(mcs, name, bases, namespace, **kwargs)


class BaseTool(BaseModel, metaclass=_ToolMeta):
    """What :class:`Tool` and :class:`AsyncTool` share: a name and the schemas pctx shows.

    A pydantic model: subclasses declare ``name``, ``namespace`` (default ``"tools"``),
    ``description``, ``input_schema`` (a pydantic model class or a JSON Schema dict) and
    ``output_schema`` (any type pydantic's ``TypeAdapter`` accepts, or a JSON Schema dict)
    as fields with defaults, and may add fields of their own (or set other attributes in
    ``__init__``). Without ``input_schema``, the schema comes from the signature of
    ``_invoke``/``_ainvoke``; without ``output_schema``, from its return annotation.
    """

    # Tools keep state of their own (`self.index = ...` in __init__).
    model_config = ConfigDict(extra="allow")

    name: str
    """The function's name; sessions show it in camelCase (``add_numbers`` → ``addNumbers``)."""

    namespace: str = DEFAULT_NAMESPACE
    """The namespace the function belongs to; sessions show it in PascalCase."""

    description: str = ""
    """What the function does, shown to the model."""

    input_schema: Annotated[type[BaseModel] | dict[str, Any] | None, SkipValidation] = Field(
        default=None,
        description=(
            "The tool input schema. Either a Pydantic BaseModel class or a JSON Schema dict."
        ),
    )

    output_schema: Annotated[Any | None, SkipValidation] = Field(
        default=None,
        description=(
            "The return type schema. Either a JSON Schema dict, or any Python type / typing "
            "construct accepted by pydantic.TypeAdapter."
        ),
    )

    _input_validator: Draft202012Validator | None = PrivateAttr(default=None)
    _output_validator: Draft202012Validator | None = PrivateAttr(default=None)
    _output_adapter: TypeAdapter[Any] | None = PrivateAttr(default=None)
    # Positional order for a global registration (pctx/1 `params`): set for functions
    # whose input schema comes from their signature, None for one object argument.
    _params: list[str] | None = PrivateAttr(default=None)
    _server: Server | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile_schema_validators(self) -> BaseTool:
        """Check JSON Schema dicts against the 2020-12 metaschema and compile them once.

        Raises:
            jsonschema.SchemaError: A dict is not a valid JSON Schema.
        """
        if self.input_schema is None and not isinstance(self, _FunctionMixin):
            impl = getattr(self, "_ainvoke", None) or getattr(self, "_invoke", None)
            if impl is not None and not getattr(impl, "__isabstractmethod__", False):
                model, _, _ = infer_input_model(f"{self.name}_Input", impl)
                if not is_empty_schema(model):
                    self.input_schema = model
                if self.output_schema is None:
                    ret = infer_output_type(impl)
                    if typing.get_args(ret)[0] is not Any:
                        self.output_schema = ret
        if isinstance(self.input_schema, dict):
            Draft202012Validator.check_schema(self.input_schema)
            self._input_validator = Draft202012Validator(self.input_schema)
        if isinstance(self.output_schema, dict):
            Draft202012Validator.check_schema(self.output_schema)
            self._output_validator = Draft202012Validator(self.output_schema)
        return self

    # ----------------------------------------------------------------- published API

    def validate_input(self, obj: Any) -> None:
        """Raise ``ValidationError`` (pydantic or jsonschema) if ``obj`` does not fit."""
        check = self._input_check()
        if check is not None:
            check(obj)

    def validate_output(self, obj: Any) -> None:
        """Raise ``ValidationError`` (pydantic or jsonschema) if ``obj`` does not fit."""
        check = self._output_check()
        if check is not None:
            check(obj)

    def input_json_schema(self) -> dict[str, Any] | None:
        """The input schema as JSON Schema, None when the tool takes no arguments."""
        if self.input_schema is None:
            return None
        if isinstance(self.input_schema, dict):
            return self.input_schema
        return self.input_schema.model_json_schema()

    def output_json_schema(self) -> dict[str, Any] | None:
        """The output schema as JSON Schema, None when not declared."""
        if self.output_schema is None:
            return None
        if isinstance(self.output_schema, dict):
            return self.output_schema
        return self._adapter().json_schema()

    @overload
    @classmethod
    def from_func(  # type: ignore[overload-overlap]  # a coroutine function is also a Callable
        cls,
        func: Callable[P, Coroutine[Any, Any, R]],
        name: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        description: str | None = None,
        input_schema: type[BaseModel] | dict[str, Any] | None = None,
        output_schema: Any | None = None,
    ) -> AsyncFunctionTool[P, R]: ...

    @overload
    @classmethod
    def from_func(
        cls,
        func: Callable[P, R],
        name: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        description: str | None = None,
        input_schema: type[BaseModel] | dict[str, Any] | None = None,
        output_schema: Any | None = None,
    ) -> FunctionTool[P, R]: ...

    @classmethod
    def from_func(
        cls,
        func: Callable[..., Any],
        name: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        description: str | None = None,
        input_schema: type[BaseModel] | dict[str, Any] | None = None,
        output_schema: Any | None = None,
    ) -> FunctionTool[Any, Any] | AsyncFunctionTool[Any, Any]:
        """Make a tool of ``func`` (sync or ``async def``); the tool stays callable like it.

        The input schema comes from the signature's type hints (one property per parameter;
        ``*args``/``**kwargs`` and a :class:`ToolContext` parameter are left out), the
        output schema from the return annotation, the description and the parameter and
        return descriptions from the docstring (Google, NumPy, reST or Epydoc style).
        ``input_schema`` / ``output_schema`` replace the inference when given.

        Raises:
            TypeError: ``func`` is not callable, or a parameter's type cannot be described
                as JSON Schema.
        """
        if not callable(func):
            raise TypeError(f"a tool needs a function, got {type(func).__name__}")
        target = inspect.unwrap(func)
        doc = parse_docstring(textwrap.dedent(func.__doc__ or ""))
        text = parse_docstring(textwrap.dedent(description)) if description else doc
        tool_name = name or getattr(func, "__name__", None) or type(func).__name__
        params: list[str] | None = None
        context_param: str | None = None
        plan: list[tuple[str, str | None, bool]] = []
        if input_schema is None:
            model, context_param, positional_only = infer_input_model(
                f"{tool_name}_Input", func, docstring=doc
            )
            if not is_empty_schema(model):
                input_schema = model
                fields = {alias_of(model, f): f for f in model.model_fields}
                names = list(inspect.signature(func).parameters)
                params = [n for n in names if n in fields]
                # How each call's validated input becomes the call's arguments, worked
                # out once: (parameter, its model field or None for the context,
                # positional-only). *args and **kwargs take nothing.
                plan = [
                    (n, fields.get(n), n in positional_only)
                    for n in names
                    if n in fields or n == context_param
                ]
        if output_schema is None:
            output_schema = infer_output_type(func, docstring=doc)
        options: dict[str, Any] = {
            "name": tool_name,
            "namespace": namespace,
            "description": text.description or "",
            "input_schema": input_schema,
            "output_schema": output_schema,
        }
        is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
            getattr(target, "__call__", None)  # noqa: B004 - async callable objects
        )
        made: FunctionTool[Any, Any] | AsyncFunctionTool[Any, Any] = (
            AsyncFunctionTool(**options) if is_async else FunctionTool(**options)
        )
        made._fn = func
        made._params = params
        made._context_param = context_param
        made._plan = tuple(plan)
        made._inferred = params is not None
        return made

    # ----------------------------------------------------------------- serving

    def config(self) -> ToolConfig:
        """The tool as ``POST /register/tools`` sends it."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "description": self.description,
            "input_schema": self.input_json_schema(),
            "output_schema": self.output_json_schema(),
        }

    def wire(self) -> dict[str, Any]:
        """The tool as a pctx/1 ``register`` request sends it (docs/protocol.md §3.2)."""
        tool: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_json_schema() or {"type": "object", "properties": {}},
        }
        if self._params:
            tool["params"] = list(self._params)
        out = self.output_json_schema()
        if out is not None:
            tool["outputSchema"] = out
        return tool

    def _adapter(self) -> TypeAdapter[Any]:
        if self._output_adapter is None:
            self._output_adapter = TypeAdapter(typing.cast(Any, self.output_schema))
        return self._output_adapter

    def _input_check(self) -> Callable[[Any], object] | None:
        if self.input_schema is None:
            return None
        if isinstance(self.input_schema, dict):
            assert self._input_validator is not None
            return self._input_validator.validate
        return self.input_schema.model_validate

    def _output_check(self) -> Callable[[Any], object] | None:
        if self.output_schema is None:
            return None
        if isinstance(self.output_schema, dict):
            assert self._output_validator is not None
            return self._output_validator.validate
        return self._adapter().validate_python

    def _binder(self) -> Binder:
        """Validates a call's arguments; binds them as the tool's ``_invoke`` takes them.

        Class-based tools get the arguments as sent (after validation), as the published
        client passes them; a tool without an input schema gets none.
        """
        check = self._input_check()

        def bind(args: dict[str, Any], ctx: ToolContext) -> tuple[list[Any], dict[str, Any]]:
            if check is None:
                return [], {}
            try:
                check(args)
            except (ValidationError, jsonschema.ValidationError) as exc:
                raise ArgumentsInvalid(exc) from exc
            return [], dict(args)

        return bind

    def _executor(self) -> Executor:
        raise NotImplementedError

    def _dumper(self) -> Callable[[Any], Any]:
        """Makes a result JSON-ready, by its declared type where it has one."""
        declared = self.output_schema is not None and not isinstance(self.output_schema, dict)
        adapter = self._adapter() if declared else _ANY

        def dump(value: Any) -> Any:
            try:
                return adapter.dump_python(value, mode="json", warnings=False)
            except PydanticSerializationError:
                if adapter is _ANY:
                    raise
                return _ANY.dump_python(value, mode="json", warnings=False)

        return dump

    async def _serve(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        """Run a call from pctx and return its JSON-ready result.

        Raises:
            ArgumentsInvalid: The arguments do not fit the input schema.
            Exception: Whatever the tool raised, or a ValidationError when its result does
                not fit its output schema.
        """
        server = self._server
        if server is None:
            server = self._server = self._make_server()
        return await server(args, ctx)

    def _make_server(self) -> Server:
        """:meth:`_serve`'s work with the tool's parts looked up once, not on every call.

        A tool's schemas and function are not meant to change once it serves.
        """
        bind, execute = self._binder(), self._executor()
        check, dump = self._output_check(), self._dumper()

        async def serve(args: dict[str, Any], ctx: ToolContext) -> Any:
            pos, kw = bind(args, ctx)
            out = await execute(pos, kw)
            if check is not None:
                check(out)
            return dump(out)

        return serve


class Tool(BaseTool, ABC):
    """A synchronous tool: implement ``_invoke(self, **kwargs)``; pctx runs it in a thread.

    Example:
        ```python
        class Calculator(Tool):
            name: str = "calculator"
            namespace: str = "math"
            input_schema: type[BaseModel] = CalculatorInput
            output_schema: type[float] = float

            def _invoke(self, operation: str, x: float, y: float) -> float: ...
        ```
    """

    @abstractmethod
    def _invoke(self, **kwargs: Any) -> Any:
        """Do the work; the keyword arguments are the validated input."""

    def invoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` and the result against the schemas, and run the tool.

        Raises:
            pydantic.ValidationError | jsonschema.ValidationError: Input or output misfit.
        """
        self.validate_input(kwargs)
        out = self._invoke(**kwargs)
        self.validate_output(out)
        return out

    async def ainvoke(self, **kwargs: Any) -> Any:
        """:meth:`invoke` in a worker thread."""
        return await asyncio.to_thread(self.invoke, **kwargs)

    def _call(self, pos: list[Any], kw: dict[str, Any]) -> Any:
        return self._invoke(*pos, **kw)

    def _executor(self) -> Executor:
        call = self._call

        async def execute(pos: list[Any], kw: dict[str, Any]) -> Any:
            # A thread keeps the event loop (other calls, websocket pings) running meanwhile.
            return await asyncio.to_thread(call, pos, kw)

        return execute


class AsyncTool(BaseTool, ABC):
    """An asynchronous tool: implement ``async def _ainvoke(self, **kwargs)``."""

    @abstractmethod
    async def _ainvoke(self, **kwargs: Any) -> Any:
        """Do the work; the keyword arguments are the validated input."""

    async def ainvoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` and the result against the schemas, and run the tool.

        Raises:
            pydantic.ValidationError | jsonschema.ValidationError: Input or output misfit.
        """
        self.validate_input(kwargs)
        out = await self._ainvoke(**kwargs)
        self.validate_output(out)
        return out

    async def _acall(self, pos: list[Any], kw: dict[str, Any]) -> Any:
        return await self._ainvoke(*pos, **kw)

    def _executor(self) -> Executor:
        return self._acall


class _FunctionMixin:
    """What both function tools share: the wrapped function and binding by its signature."""

    if TYPE_CHECKING:  # provided by the pydantic classes it is mixed into
        _fn: Callable[..., Any]
        _context_param: str | None
        _plan: tuple[tuple[str, str | None, bool], ...]
        _inferred: bool
        input_schema: type[BaseModel] | dict[str, Any] | None
        name: str
        namespace: str

        def _input_check(self) -> Callable[[Any], object] | None: ...

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        """The decorated function (``inspect.signature`` and ``inspect.unwrap`` follow it)."""
        return self._fn

    @property
    def __name__(self) -> str:
        """The decorated function's name."""
        return str(getattr(self._fn, "__name__", self.name))

    def _binder(self) -> Binder:
        context_param = self._context_param
        if not self._inferred:  # an explicit input schema: the arguments as sent
            check = self._input_check()

            def bind_as_sent(
                args: dict[str, Any], ctx: ToolContext
            ) -> tuple[list[Any], dict[str, Any]]:
                kw: dict[str, Any] = {}
                if check is not None:
                    try:
                        check(args)
                    except (ValidationError, jsonschema.ValidationError) as exc:
                        raise ArgumentsInvalid(exc) from exc
                    kw = dict(args)
                if context_param:
                    kw[context_param] = ctx
                return [], kw

            return bind_as_sent
        # Validated and coerced by the signature's model: a `datetime` parameter gets a
        # datetime, a pydantic-model parameter an instance.
        model, plan = self.input_schema, self._plan
        assert isinstance(model, type)

        def bind(args: dict[str, Any], ctx: ToolContext) -> tuple[list[Any], dict[str, Any]]:
            try:
                validated = model.model_validate(args)
            except ValidationError as exc:
                raise ArgumentsInvalid(exc) from exc
            pos: list[Any] = []
            kw: dict[str, Any] = {}
            for pname, field, positional in plan:
                value = ctx if field is None else getattr(validated, field)
                if positional:
                    pos.append(value)
                else:
                    kw[pname] = value
            return pos, kw

        return bind


class FunctionTool(_FunctionMixin, Tool, Generic[P, R]):
    """A sync function made a tool by :func:`pctx_client.tool`; calling it calls the function."""

    _fn: Callable[..., Any] = PrivateAttr()
    _context_param: str | None = PrivateAttr(default=None)
    _plan: tuple[tuple[str, str | None, bool], ...] = PrivateAttr(default=())
    _inferred: bool = PrivateAttr(default=False)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function itself (no validation)."""
        return self._fn(*args, **kwargs)  # type: ignore[no-any-return]

    def _invoke(self, **kwargs: Any) -> Any:
        return self._fn(**kwargs)

    def invoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` (coerced to the parameters' types) and call the function.

        Raises:
            pydantic.ValidationError | jsonschema.ValidationError: Input or output misfit.
        """
        try:
            pos, kw = self._binder()(kwargs, ToolContext(self.namespace, self.name))
        except ArgumentsInvalid as exc:
            raise exc.error from None
        out = self._fn(*pos, **kw)
        self.validate_output(out)
        return out

    def _call(self, pos: list[Any], kw: dict[str, Any]) -> Any:
        return self._fn(*pos, **kw)


class AsyncFunctionTool(_FunctionMixin, AsyncTool, Generic[P, R]):
    """An ``async def`` made a tool by :func:`pctx_client.tool`; calling it calls the function."""

    _fn: Callable[..., Any] = PrivateAttr()
    _context_param: str | None = PrivateAttr(default=None)
    _plan: tuple[tuple[str, str | None, bool], ...] = PrivateAttr(default=())
    _inferred: bool = PrivateAttr(default=False)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]:
        """Call the coroutine function itself (no validation)."""
        return self._fn(*args, **kwargs)  # type: ignore[no-any-return]

    async def _ainvoke(self, **kwargs: Any) -> Any:
        return await self._fn(**kwargs)

    async def ainvoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` (coerced to the parameters' types) and await the function.

        Raises:
            pydantic.ValidationError | jsonschema.ValidationError: Input or output misfit.
        """
        try:
            pos, kw = self._binder()(kwargs, ToolContext(self.namespace, self.name))
        except ArgumentsInvalid as exc:
            raise exc.error from None
        out = await self._fn(*pos, **kw)
        self.validate_output(out)
        return out

    async def _acall(self, pos: list[Any], kw: dict[str, Any]) -> Any:
        return await self._fn(*pos, **kw)


# ------------------------------------------------------------------ inference


def infer_input_model(
    model_name: str, func: Callable[..., Any], docstring: Docstring | None = None
) -> tuple[type[BaseModel], str | None, set[str]]:
    """A pydantic model of ``func``'s parameters, its ToolContext parameter, positional-only names.

    Fields are stored under internal names aliased to the parameter names, so a parameter
    may be called ``json`` or ``schema`` without clashing with pydantic's own attributes.

    Raises:
        TypeError: The signature or a parameter's type cannot be described.
    """
    label = model_name.removesuffix("_Input")
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"tool {label!r}: cannot read the signature: {exc}") from exc
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        hints = {}  # unresolvable string annotations: fall back to the raw ones
    described = {
        p.arg_name: p.description for p in (docstring.params if docstring else []) if p.description
    }
    fields: dict[str, Any] = {}
    context_param: str | None = None
    positional_only: set[str] = set()
    for i, (pname, param) in enumerate(sig.parameters.items()):
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(pname, param.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional_only.add(pname)
        if annotation is ToolContext:
            context_param = pname
            continue
        default: Any = ... if param.default is inspect.Parameter.empty else param.default
        fields[f"p{i}"] = (
            annotation,
            Field(default, alias=pname, description=described.get(pname)),
        )
    try:
        model = create_model(model_name, __config__=_MODEL_CONFIG, **fields)
        model.model_json_schema()
    except (PydanticSchemaGenerationError, PydanticUserError) as exc:
        raise TypeError(
            f"tool {label!r}: a parameter type cannot be described as JSON Schema: {exc}"
        ) from exc
    return model, context_param, positional_only


def infer_output_type(func: Callable[..., Any], docstring: Docstring | None = None) -> Any:
    """``func``'s return annotation (``Any`` if none), carrying the docstring's return text."""
    try:
        ret = typing.get_type_hints(func).get("return", Any)
    except Exception:
        sig = inspect.signature(func)
        ret = sig.return_annotation if sig.return_annotation is not sig.empty else Any
    returns = docstring.returns.description if docstring and docstring.returns else None
    return Annotated[ret, Field(description=returns)]


def is_empty_schema(schema: type[BaseModel]) -> bool:
    """Whether the model takes no properties at all."""
    json_schema = schema.model_json_schema()
    return json_schema.get("type") == "object" and not json_schema.get("properties")


def alias_of(model: type[BaseModel], field: str) -> str:
    """The wire name of ``field`` in ``model``."""
    return model.model_fields[field].alias or field
