"""JSON Schemas, argument validation and result serialisation for tools.

Everything here goes through pydantic v2: a function signature becomes a pydantic model
(one field per parameter, in signature order) whose JSON Schema is the tool's input
schema, and the return annotation becomes a ``TypeAdapter`` that both describes the
output schema and turns the returned value into JSON-ready data.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, TypeAdapter, create_model
from pydantic.errors import PydanticSchemaGenerationError
from pydantic_core import PydanticSerializationError

from pctx_client._docstring import Docstring

_ANY_ADAPTER: TypeAdapter[Any] = TypeAdapter(Any)
_ARGS_CONFIG = ConfigDict(extra="forbid", populate_by_name=False)


class SignatureInput:
    """An input schema derived from a function signature.

    Fields are stored under internal names (``p0``, ``p1``…) aliased to the parameter
    names, so a parameter may be called ``json`` or ``schema`` without clashing with
    pydantic's own attributes.
    """

    def __init__(self, tool_name: str, func: Callable[..., Any], doc: Docstring) -> None:
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"tool {tool_name!r}: cannot read the signature: {exc}") from exc
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as exc:
            raise TypeError(f"tool {tool_name!r}: cannot resolve type hints: {exc}") from exc

        fields: dict[str, Any] = {}
        params: list[str] = []
        self._positional: list[bool] = []
        for i, (pname, param) in enumerate(sig.parameters.items()):
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                star = "*" if param.kind is inspect.Parameter.VAR_POSITIONAL else "**"
                raise TypeError(
                    f"tool {tool_name!r}: parameter {star}{pname} is not supported; tools need "
                    "named parameters so pctx can publish a schema (declare each argument, or "
                    "pass input_schema=)"
                )
            annotation = hints.get(pname, Any)
            default: Any = ... if param.default is inspect.Parameter.empty else param.default
            # description=None would hide one given through Annotated[..., Field(...)].
            info = (
                Field(default, alias=pname, description=doc.params[pname])
                if pname in doc.params
                else Field(default, alias=pname)
            )
            fields[f"p{i}"] = (annotation, info)
            params.append(pname)
            self._positional.append(param.kind is inspect.Parameter.POSITIONAL_ONLY)
        self._names = params
        # Positional order for TypeScript: `data.update_risk_score(id, 0.85)`.
        self.params: list[str] | None = params
        try:
            self.model: type[BaseModel] = create_model(
                f"{tool_name}Arguments", __config__=_ARGS_CONFIG, **fields
            )
            self.json_schema: dict[str, Any] = self.model.model_json_schema(by_alias=True)
        except (PydanticSchemaGenerationError, PydanticUserError) as exc:
            raise TypeError(
                f"tool {tool_name!r}: a parameter type cannot be described as JSON Schema: {exc}"
            ) from exc

    def bind(self, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validate ``args`` (keyed by parameter name) into call arguments."""
        validated = self.model.model_validate(args)
        pos: list[Any] = []
        kw: dict[str, Any] = {}
        for i, (pname, positional) in enumerate(zip(self._names, self._positional, strict=True)):
            value = getattr(validated, f"p{i}")
            if positional:
                pos.append(value)
            else:
                kw[pname] = value
        return pos, kw


class ModelInput:
    """An input schema given as a pydantic model class (``input_schema = SearchQuery``)."""

    def __init__(self, tool_name: str, model: type[BaseModel], accepts: set[str] | None) -> None:
        try:
            self.json_schema: dict[str, Any] = model.model_json_schema(by_alias=True)
        except (PydanticSchemaGenerationError, PydanticUserError) as exc:
            raise TypeError(f"tool {tool_name!r}: input_schema: {exc}") from exc
        self.model = model
        # A model is one object argument in TypeScript (`search.vector_search({query})`),
        # like an MCP tool: no positional order.
        self.params: list[str] | None = None
        # Only pass the fields the implementation accepts (None: it takes **kwargs).
        self._names = [n for n in model.model_fields if accepts is None or n in accepts]

    def bind(self, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validate ``args`` with the model and spread its fields as keyword arguments."""
        validated = self.model.model_validate(args)
        return [], {name: getattr(validated, name) for name in self._names}


class DictInput:
    """An input schema given as a raw JSON Schema dict: arguments pass through unvalidated."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.json_schema = schema
        self.params: list[str] | None = None  # one object argument, MCP style

    def bind(self, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Pass ``args`` through as keyword arguments."""
        return [], dict(args)


InputSpec = SignatureInput | ModelInput | DictInput


@dataclass(frozen=True)
class OutputSpec:
    """How a tool's return value is described and serialised."""

    json_schema: dict[str, Any] | None
    adapter: TypeAdapter[Any]

    def dump(self, value: Any) -> Any:
        """Turn ``value`` into JSON-ready data (models, dataclasses, dates, ... included)."""
        try:
            return self.adapter.dump_python(value, mode="json", warnings=False)
        except PydanticSerializationError:
            if self.adapter is _ANY_ADAPTER:
                raise
            # The value does not match its annotation; fall back to pydantic's inference.
            return _ANY_ADAPTER.dump_python(value, mode="json", warnings=False)


def output_spec(tool_name: str, annotation: Any, description: str = "") -> OutputSpec:
    """Build the output side from a type (``list[SearchResult]``) or a JSON Schema dict."""
    if isinstance(annotation, dict):
        return OutputSpec(json_schema=annotation, adapter=_ANY_ADAPTER)
    if annotation is inspect.Signature.empty or annotation is Any:
        return OutputSpec(json_schema=None, adapter=_ANY_ADAPTER)
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        schema = adapter.json_schema(mode="serialization")
    except (PydanticSchemaGenerationError, PydanticUserError) as exc:
        raise TypeError(
            f"tool {tool_name!r}: the return type cannot be described as JSON Schema: {exc}"
        ) from exc
    if description and "description" not in schema:
        schema = {**schema, "description": description}
    return OutputSpec(json_schema=schema, adapter=adapter)


def return_annotation(tool_name: str, func: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``func`` (``inspect.Signature.empty`` if none)."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        raise TypeError(f"tool {tool_name!r}: cannot resolve type hints: {exc}") from exc
    return hints.get("return", inspect.Signature.empty)


def accepted_keywords(func: Callable[..., Any]) -> set[str] | None:
    """Parameter names ``func`` accepts by keyword, or None when it takes ``**kwargs``."""
    names: set[str] = set()
    for p in inspect.signature(func).parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(p.name)
    return names
