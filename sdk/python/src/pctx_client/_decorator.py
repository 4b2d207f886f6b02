"""The ``@tool`` decorator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from pydantic import BaseModel

from pctx_client._tool import DEFAULT_NAMESPACE, FunctionAsyncTool, FunctionTool, from_function

AnyFunctionTool = FunctionTool | FunctionAsyncTool


@overload
def tool(fn: Callable[..., Any], /) -> AnyFunctionTool: ...


@overload
def tool(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any = None,
) -> Callable[[Callable[..., Any]], AnyFunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    input_schema: type[BaseModel] | dict[str, Any] | None = None,
    output_schema: Any = None,
) -> AnyFunctionTool | Callable[[Callable[..., Any]], AnyFunctionTool]:
    """Turn a function (sync or ``async def``) into a pctx tool.

    Works bare (``@tool``) and with options (``@tool(namespace="data")``). The input
    schema comes from the signature's type hints (positional order kept, so TypeScript
    may call ``data.update_risk_score(id, 0.85)``), the output schema from the return
    annotation, the description from the docstring's first paragraph and parameter
    descriptions from its ``Args:`` (Google) or ``Parameters`` (NumPy) section.
    ``*args``/``**kwargs`` are refused here with a TypeError, as are types pydantic
    cannot describe. The decorated object stays callable like the original function.

    Args:
        fn: The function (bare form only).
        name: Function name in TypeScript (default: the Python name).
        namespace: TypeScript namespace (default ``"tools"``).
        description: Overrides the docstring.
        input_schema: A pydantic model class or JSON Schema dict instead of the signature.
        output_schema: A type or JSON Schema dict instead of the return annotation.

    Returns:
        The tool (bare form), or a decorator producing it.
    """

    def make(f: Callable[..., Any]) -> AnyFunctionTool:
        return from_function(
            f,
            name=name,
            namespace=namespace,
            description=description,
            input_schema=input_schema,
            output_schema=output_schema,
        )

    if fn is None:
        return make
    return make(fn)
