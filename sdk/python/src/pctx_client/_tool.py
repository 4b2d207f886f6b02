"""Tool classes: what a Python tool is and how pctx calls it."""

from __future__ import annotations

import asyncio
import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from pctx_client._docstring import Docstring, parse_docstring
from pctx_client._schema import (
    DictInput,
    InputSpec,
    ModelInput,
    OutputSpec,
    SignatureInput,
    accepted_keywords,
    output_spec,
    return_annotation,
)

DEFAULT_NAMESPACE = "tools"
"""Namespace of tools that do not name one (``@tool`` bare): TypeScript calls ``tools.fn()``."""


class ArgumentsInvalid(Exception):
    """A call's arguments did not match the tool's input schema (JSON-RPC -32602).

    Raised before the tool runs, so a ``ValidationError`` from the tool's own body is
    never mistaken for the caller's mistake.
    """

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class ToolSpec:
    """Everything derived once from a tool's declaration."""

    name: str
    namespace: str
    description: str
    input: InputSpec
    output: OutputSpec

    def wire(self) -> dict[str, Any]:
        """The tool as sent in a ``register`` request."""
        tool: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input.json_schema,
        }
        if self.input.params is not None:
            tool["params"] = self.input.params
        if self.output.json_schema is not None:
            tool["outputSchema"] = self.output.json_schema
        return tool


class BaseTool(ABC):
    """What :class:`Tool` and :class:`AsyncTool` share.

    Subclasses declare, as class attributes (or instance attributes set in ``__init__``):

    - ``name``: the function name TypeScript calls (required).
    - ``namespace``: the TypeScript namespace (default ``"tools"``).
    - ``description``: shown to the model (default: the class docstring's first paragraph).
    - ``input_schema``: a pydantic model class, or a JSON Schema dict (arguments then pass
      through unvalidated). Default: derived from the ``_invoke``/``_ainvoke`` signature.
    - ``output_schema``: any type pydantic's ``TypeAdapter`` accepts (``list[SearchResult]``)
      or a JSON Schema dict. Default: the ``_invoke``/``_ainvoke`` return annotation.

    With ``input_schema`` set, TypeScript passes one object (``search.vector_search({query:
    "x", top_k: 5})``), as for MCP tools. Without it, the schema comes from the
    ``_invoke``/``_ainvoke`` signature and TypeScript calls it positionally
    (``ns.fn(a, b)``), like a ``@tool`` function.
    """

    name: str
    namespace: str = DEFAULT_NAMESPACE
    description: str = ""
    input_schema: type[BaseModel] | dict[str, Any] | None = None
    output_schema: Any = None

    _is_async: ClassVar[bool]

    def __init__(
        self,
        *,
        name: str | None = None,
        namespace: str | None = None,
        description: str | None = None,
        input_schema: type[BaseModel] | dict[str, Any] | None = None,
        output_schema: Any = None,
    ) -> None:
        if name is not None:
            self.name = name
        if namespace is not None:
            self.namespace = namespace
        if description is not None:
            self.description = description
        if input_schema is not None:
            self.input_schema = input_schema
        if output_schema is not None:
            self.output_schema = output_schema

    def __repr__(self) -> str:
        name = getattr(self, "name", "?")
        return f"<{type(self).__name__} {self.namespace}.{name}>"

    @functools.cached_property
    def spec(self) -> ToolSpec:
        """The tool's derived schemas; raises TypeError when the declaration is unusable."""
        return self._build_spec()

    def _implementation(self) -> Callable[..., Any]:
        """The callable whose signature and annotations describe this tool."""
        return self._ainvoke if self._is_async else self._invoke  # type: ignore[attr-defined,no-any-return]

    def _doc_source(self) -> str | None:
        """The docstring that describes the tool: the subclass's own."""
        return type(self).__doc__

    def _build_spec(self) -> ToolSpec:
        cls = type(self).__name__
        name = getattr(self, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls}: set a non-empty string `name` on the tool")
        if not isinstance(self.namespace, str) or not self.namespace:
            raise TypeError(f"tool {name!r}: `namespace` must be a non-empty string")
        impl = self._implementation()
        doc = parse_docstring(self._doc_source())
        impl_doc = parse_docstring(impl.__doc__)
        doc = Docstring(
            description=doc.description,
            params={**doc.params, **impl_doc.params},
            returns=doc.returns or impl_doc.returns,
        )
        description = self.description or doc.description

        schema = self.input_schema
        inp: InputSpec
        if schema is None:
            inp = SignatureInput(name, impl, doc)
        elif isinstance(schema, dict):
            inp = DictInput(schema)
        elif isinstance(schema, type) and issubclass(schema, BaseModel):
            inp = ModelInput(name, schema, accepted_keywords(impl))
        else:
            raise TypeError(
                f"tool {name!r}: input_schema must be a pydantic model class or a JSON Schema "
                f"dict, got {schema!r}"
            )
        out_type = self.output_schema
        if out_type is None:
            out_type = return_annotation(name, impl)
        out = output_spec(name, out_type, doc.returns)
        return ToolSpec(
            name=name, namespace=self.namespace, description=description, input=inp, output=out
        )

    def _bind_json(self, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validate JSON ``args`` into call arguments; raises :class:`ArgumentsInvalid`."""
        try:
            return self.spec.input.bind(args)
        except ValidationError as exc:
            raise ArgumentsInvalid(exc) from exc

    async def _run_json(self, pos: list[Any], kw: dict[str, Any]) -> Any:
        """Run the tool on bound arguments and return its JSON-ready result.

        Sync tools run in a worker thread so they never block the event loop.
        """
        if self._is_async:
            value = await self._ainvoke(*pos, **kw)  # type: ignore[attr-defined]
        else:
            value = await asyncio.to_thread(self._invoke, *pos, **kw)  # type: ignore[attr-defined]
        return self.spec.output.dump(value)

    async def _serve(self, args: dict[str, Any]) -> Any:
        """Run a call from pctx.

        Bad arguments raise :class:`ArgumentsInvalid`; whatever else is raised came from
        the tool (or from its result not fitting its output schema).
        """
        pos, kw = self._bind_json(args)
        return await self._run_json(pos, kw)

    async def acall(self, args: dict[str, Any]) -> Any:
        """Run the tool as pctx does: JSON arguments in, JSON-ready value out.

        Arguments are validated (and coerced) by pydantic first; a ``ValidationError``
        raised then means they did not match the input schema (the tool's own body may
        raise one too).
        """
        pos, kw = self.spec.input.bind(args)
        return await self._run_json(pos, kw)


class Tool(BaseTool):
    """A synchronous tool: implement ``_invoke``; pctx runs it in a worker thread.

    Example:
        ```python
        class Add(Tool):
            name = "add"
            namespace = "math"

            def _invoke(self, a: int, b: int) -> int:
                return a + b
        ```
    """

    _is_async = False

    @abstractmethod
    def _invoke(self, *args: Any, **kwargs: Any) -> Any:
        """Do the work; parameters are the validated arguments."""

    def invoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` against the input schema and run the tool synchronously."""
        pos, kw = self.spec.input.bind(kwargs)
        return self._invoke(*pos, **kw)

    async def ainvoke(self, **kwargs: Any) -> Any:
        """Like :meth:`invoke`, in a worker thread."""
        return await asyncio.to_thread(self.invoke, **kwargs)


class AsyncTool(BaseTool):
    """An asynchronous tool: implement ``async def _ainvoke``.

    Example:
        ```python
        class VectorSearch(AsyncTool):
            name: str = "vector_search"
            namespace: str = "search"
            description: str = "Semantic search over document embeddings"
            input_schema: type[BaseModel] = SearchQuery
            output_schema = list[SearchResult]

            async def _ainvoke(self, query: str, top_k: int = 10) -> list[SearchResult]: ...
        ```
    """

    _is_async = True

    @abstractmethod
    async def _ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        """Do the work; parameters are the validated arguments."""

    async def ainvoke(self, **kwargs: Any) -> Any:
        """Validate ``kwargs`` against the input schema and run the tool."""
        pos, kw = self.spec.input.bind(kwargs)
        return await self._ainvoke(*pos, **kw)


class FunctionTool(Tool):
    """A sync function turned into a tool by :func:`pctx_client.tool`; still callable."""

    def __init__(self, fn: Callable[..., Any], **options: Any) -> None:
        super().__init__(**options)
        self.fn = fn
        functools.update_wrapper(self, fn)

    def _implementation(self) -> Callable[..., Any]:
        return self.fn

    def _doc_source(self) -> str | None:
        return self.fn.__doc__

    def _invoke(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the original function directly (no validation)."""
        return self.fn(*args, **kwargs)


class FunctionAsyncTool(AsyncTool):
    """An ``async def`` function turned into a tool by :func:`pctx_client.tool`; still callable."""

    def __init__(self, fn: Callable[..., Awaitable[Any]], **options: Any) -> None:
        super().__init__(**options)
        self.fn = fn
        functools.update_wrapper(self, fn)

    def _implementation(self) -> Callable[..., Any]:
        return self.fn

    def _doc_source(self) -> str | None:
        return self.fn.__doc__

    async def _ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        return await self.fn(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Call the original coroutine function directly (no validation)."""
        return self.fn(*args, **kwargs)


def from_function(
    fn: Callable[..., Any],
    *,
    name: str | None,
    namespace: str,
    description: str | None,
    input_schema: type[BaseModel] | dict[str, Any] | None,
    output_schema: Any,
) -> FunctionTool | FunctionAsyncTool:
    """Wrap ``fn`` as a tool and derive its schemas now, so mistakes surface at decoration."""
    if not callable(fn):
        raise TypeError(f"@tool expects a function, got {type(fn).__name__}")
    target = inspect.unwrap(fn)
    doc = parse_docstring(fn.__doc__)
    options: dict[str, Any] = {
        "name": name or getattr(fn, "__name__", None),
        "namespace": namespace,
        "description": description if description is not None else doc.description,
        "input_schema": input_schema,
        "output_schema": output_schema,
    }
    is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    )
    made: FunctionTool | FunctionAsyncTool = (
        FunctionAsyncTool(fn, **options) if is_async else FunctionTool(fn, **options)
    )
    made.spec  # noqa: B018 - derive now: a bad signature is a decoration-time error
    return made
