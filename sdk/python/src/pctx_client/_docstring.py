"""Just enough docstring parsing for tool descriptions.

The first paragraph becomes the tool's description; Google-style ``Args:`` sections and
NumPy-style ``Parameters`` sections give per-parameter descriptions; ``Returns`` gives
the output description. Anything else is left alone: a docstring that does not follow
either style still yields a description, never an error.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_GOOGLE_HEADER = re.compile(
    r"^(?P<name>Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns|Return"
    r"|Yields|Raises|Examples?|Notes?|Attributes|See Also|Warnings?|Todo|References)\s*:\s*$",
    re.IGNORECASE,
)
_NUMPY_UNDERLINE = re.compile(r"^-{3,}\s*$")
_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments"}
_RETURN_SECTIONS = {"returns", "return"}
# Google: `name (type): text` or `name: text`; the name may carry `*`/`**` (ignored later).
_GOOGLE_PARAM = re.compile(r"^(?P<name>\*{0,2}[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)$")
# NumPy: `name : type` or just `name`.
_NUMPY_PARAM = re.compile(r"^(?P<name>\*{0,2}[A-Za-z_]\w*)\s*(?::.*)?$")


@dataclass(frozen=True)
class Docstring:
    """The parts of a docstring a tool needs."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: str = ""


def parse_docstring(doc: str | None) -> Docstring:
    """Parse ``doc`` (raw ``__doc__``, any indentation) into its useful parts."""
    if not doc or not doc.strip():
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    sections = _split_sections(lines)
    _, intro = sections.pop("", ("", []))
    params: dict[str, str] = {}
    returns = ""
    for title, (style, body) in sections.items():
        if title in _PARAM_SECTIONS:
            params.update(_parse_params(body, style))
        elif title in _RETURN_SECTIONS:
            returns = _join(_dedent(body))
    return Docstring(description=_first_paragraph(intro), params=params, returns=returns)


def _split_sections(lines: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Split into {"": intro lines, "args": ("google"|"numpy", body lines), ...}."""
    sections: dict[str, tuple[str, list[str]]] = {"": ("", [])}
    current = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        header = _GOOGLE_HEADER.match(stripped)
        if header and line == stripped:
            current = header.group("name").lower()
            sections[current] = ("google", [])
        elif stripped and line == stripped and _NUMPY_UNDERLINE.match(nxt.strip()):
            current = stripped.lower()
            sections[current] = ("numpy", [])
            i += 1  # skip the underline
        else:
            sections[current][1].append(line)
        i += 1
    return sections


def _parse_params(body: list[str], style: str) -> dict[str, str]:
    body = _dedent(body)
    pattern = _GOOGLE_PARAM if style == "google" else _NUMPY_PARAM
    params: dict[str, list[str]] = {}
    name: str | None = None
    for line in body:
        if line and not line[0].isspace():
            m = pattern.match(line.strip())
            if m:
                name = m.group("name").lstrip("*")
                first = m.groupdict().get("text") or ""
                params[name] = [first] if first else []
                continue
        if name is not None and line.strip():
            params[name].append(line.strip())
    return {k: " ".join(v) for k, v in params.items() if v}


def _dedent(body: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in body]


def _first_paragraph(lines: list[str]) -> str:
    para: list[str] = []
    for line in lines:
        if not line.strip():
            if para:
                break
            continue
        para.append(line.strip())
    return " ".join(para)


def _join(lines: list[str]) -> str:
    return " ".join(line.strip() for line in lines if line.strip())
