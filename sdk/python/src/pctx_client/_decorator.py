"""The ``@tool`` decorator."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, overload

from pydantic import BaseModel

from pctx_client._tool import (
    DEFAULT_NAMESPACE,
    AsyncFunctionTool,
    FunctionTool,
    P,
    R,
    Tool,
)


class _Decorator:
    """What ``@tool(...)`` returns: applied to a function, it makes the tool."""

    def __init__(self, **options: Any) -> None:
        self._options = options

    @overload
    def __call__(  # type: ignore[overload-overlap]  # a coroutine function is also a Callable
        self, fn: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncFunctionTool[P, R]: ...

    @overload
    def __call__(self, fn: Callable[P, R], /) -> FunctionTool[P, R]: ...

    def __call__(self, fn: Callable[..., Any], /) -> Any:
        if not callable(fn):
            raise TypeError(f"@tool(...) must decorate a callable, got {type(fn).__name__}")
        return Tool.from_func(fn, **self._options)


@overload
def tool(  # type: ignore[overload-overlap]  # a coroutine function is also a Callable
    fn: Callable[P, Coroutine[Any, Any, R]],
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any | None = None,
) -> AsyncFunctionTool[P, R]: ...


@overload
def tool(
    fn: Callable[P, R],
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any | None = None,
) -> FunctionTool[P, R]: ...


@overload
def tool(
    fn: None = None,
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any | None = None,
) -> _Decorator: ...


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any | None = None,
) -> FunctionTool[Any, Any] | AsyncFunctionTool[Any, Any] | _Decorator:
    """Make a function (sync or ``async def``) a pctx tool; bare or with options.

    The result is a :class:`~pctx_client.Tool` (or :class:`~pctx_client.AsyncTool`) that is
    still callable exactly like the function, with its signature intact for type checkers.
    Schemas and descriptions are derived as :meth:`Tool.from_func` describes.

    Args:
        fn: The function (bare ``@tool`` only).
        name: The tool's name (default: the function's ``__name__``).
        namespace: Its namespace (default ``"tools"``, shown as ``Tools``).
        description: Replaces the docstring's description.
        input_schema: A pydantic model class or JSON Schema dict instead of the signature.
        output_schema: A type or JSON Schema dict instead of the return annotation.

    Returns:
        The tool (bare form), or a decorator that makes it.

    Raises:
        TypeError: ``fn`` is not callable, or a parameter's type cannot be described.

    Example:
        ```python
        @tool
        def add_numbers(a: int, b: int) -> int:
            \"\"\"Add two numbers together.\"\"\"
            return a + b

        add_numbers(1, 2)  # 3: still the function
        ```
    """
    options: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "description": description,
        "input_schema": input_schema,
        "output_schema": output_schema,
    }
    if fn is None:
        return _Decorator(**options)
    if not callable(fn):
        raise TypeError(
            f"@tool's positional argument must be the decorated callable, got {type(fn).__name__}"
        )
    made: FunctionTool[Any, Any] | AsyncFunctionTool[Any, Any] = Tool.from_func(fn, **options)
    return made
