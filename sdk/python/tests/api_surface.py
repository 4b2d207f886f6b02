"""Dump and compare the public API of an installed ``pctx_client``.

Run as a script (``python tests/api_surface.py``) with the interpreter of the venv whose
``pctx_client`` you want described: it prints JSON. The published package and this
repository's SDK share the import name, so each is described by its own interpreter and
the two descriptions are compared here (:func:`incompatibilities`), which needs neither.

What counts as public: the names a module defines or imports from its own package (not
starting with ``_``), its ``__all__``, the names its module ``__getattr__`` serves, and its
public submodules. For classes: the constructor, the public members defined by the
package's own classes, pydantic fields, TypedDict keys, enum members and bases.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import json
import pkgutil
import re
import sys
import typing
import warnings
from pathlib import Path
from typing import Any

PACKAGE = "pctx_client"
MODULES = ("pctx_client", "pctx_client.models", "pctx_client.exceptions")


# ------------------------------------------------------------------ dumping


def _public_names(module: Any) -> list[str]:
    names: set[str] = set(getattr(module, "__all__", ()))
    source = Path(inspect.getfile(module)).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            if node.name == "__getattr__":  # names served lazily: `if name == "X"`
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Name):
                        for c in sub.comparators:
                            if isinstance(c, ast.Constant) and isinstance(c.value, str):
                                names.add(c.value)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            own = node.level > 0 or (node.module or "").startswith(PACKAGE)
            if own:
                names.update(a.asname or a.name for a in node.names)
    if hasattr(module, "__path__"):
        names.update(m.name for m in pkgutil.iter_modules(module.__path__))
    return sorted(n for n in names if not n.startswith("_"))


def _annotation(value: Any, globalns: dict[str, Any]) -> str:
    if value is inspect.Parameter.empty:
        return ""
    if isinstance(value, str):
        try:
            value = eval(value, globalns)  # a postponed annotation: resolve it like the checker
        except Exception:
            return value
    text = value.__name__ if isinstance(value, type) else repr(value)
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def _signature(obj: Any, drop_first: bool = False) -> dict[str, Any] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    target = inspect.unwrap(obj)
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    globalns = getattr(target, "__globals__", None) or (vars(module) if module else {})
    params = []
    for i, p in enumerate(sig.parameters.values()):
        if drop_first and i == 0:
            continue
        params.append(
            {
                "name": p.name,
                "kind": p.kind.name,
                "has_default": p.default is not inspect.Parameter.empty,
                "default": None if p.default is inspect.Parameter.empty else _default(p.default),
                "annotation": _annotation(p.annotation, globalns),
            }
        )
    return {"params": params, "return": _annotation(sig.return_annotation, globalns)}


def _default(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    return repr(value)


def _own(cls: type) -> bool:
    return cls.__module__.split(".")[0] == PACKAGE


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.ismodule(obj):
        return {"kind": "module"}
    if isinstance(obj, type):
        return _describe_class(obj)
    if callable(obj) and not typing.get_origin(obj) and not isinstance(obj, typing.TypeVar):
        return {"kind": "function", "signature": _signature(obj)}
    origin = typing.get_origin(obj)
    if origin is not None or isinstance(obj, type(int | str)):
        return {"kind": "alias", "annotation": _annotation(obj, {})}
    return {"kind": "value", "type": type(obj).__name__, "repr": repr(obj)}


def _describe_class(cls: type) -> dict[str, Any]:
    d: dict[str, Any] = {
        "kind": "class",
        "mro": [c.__name__ for c in cls.__mro__],
        "signature": _signature(cls),
        "members": {},
    }
    if typing.is_typeddict(cls):
        d["kind"] = "typeddict"
        d["required"] = sorted(cls.__required_keys__)  # type: ignore[attr-defined]
        d["optional"] = sorted(cls.__optional_keys__)  # type: ignore[attr-defined]
        return d
    if issubclass(cls, enum.Enum):
        d["kind"] = "enum"
        d["values"] = {m.name: repr(m.value) for m in cls}
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        d["fields"] = {
            name: {
                "required": f.is_required(),
                "default": None if f.is_required() else _default(f.get_default()),
            }
            for name, f in fields.items()
        }
    for name in dir(cls):
        if name.startswith("_") or (isinstance(fields, dict) and name in fields):
            continue
        owner = next((c for c in cls.__mro__ if name in c.__dict__), None)
        if owner is None or not _own(owner):
            continue
        raw = owner.__dict__[name]
        if isinstance(raw, property):
            d["members"][name] = {"kind": "property"}
        elif isinstance(raw, classmethod | staticmethod):
            d["members"][name] = {
                "kind": type(raw).__name__,
                "signature": _signature(getattr(cls, name)),
            }
        elif callable(raw):
            d["members"][name] = {"kind": "method", "signature": _signature(raw, drop_first=True)}
        else:
            d["members"][name] = {"kind": "attribute"}
    return d


def dump() -> dict[str, Any]:
    """The public API of the importable ``pctx_client``."""
    out: dict[str, Any] = {}
    modules = list(MODULES)
    package = importlib.import_module(PACKAGE)
    for sub in pkgutil.iter_modules(package.__path__):
        if not sub.name.startswith("_") and f"{PACKAGE}.{sub.name}" not in modules:
            modules.append(f"{PACKAGE}.{sub.name}")
    for modname in modules:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue  # an optional part (adapters need their frameworks): compared if present
        names: dict[str, Any] = {}
        for name in _public_names(module):
            try:
                with warnings.catch_warnings():  # deprecated names are part of the API
                    warnings.simplefilter("ignore", DeprecationWarning)
                    obj = getattr(module, name)
            except AttributeError:
                names[name] = {"kind": "missing"}
                continue
            names[name] = _describe(obj)
        out[modname] = names
    return out


# ------------------------------------------------------------------ comparing

_TOKEN = re.compile(r"'[^']*'|[A-Za-z_][A-Za-z0-9_.]*")
_IGNORED = {"typing", "Optional", "Union", "Annotated", "NoneType", "None", "ForwardRef"}
_WIDER = {
    "list": {"Sequence", "Iterable", "Collection"},
    "dict": {"Mapping"},
    "tuple": {"Sequence", "Iterable"},
}


def _tokens(annotation: str) -> set[str]:
    return {t.rsplit(".", 1)[-1] for t in _TOKEN.findall(annotation)} - _IGNORED


def _accepts(ours: str, theirs: str, mro: dict[str, list[str]]) -> list[str]:
    """Tokens of the published parameter annotation that ours does not accept."""
    if not theirs or not ours:
        return []
    mine = _tokens(ours)
    if "Any" in mine:
        return []
    missing = []
    for t in _tokens(theirs):
        if t in mine or _WIDER.get(t, set()) & mine:
            continue
        if any(u in mine for u in mro.get(t, [])):  # ours takes a base class of theirs
            continue
        missing.append(t)
    return missing


def _compare_signature(
    where: str, ours: dict[str, Any] | None, theirs: dict[str, Any] | None, mro: dict[str, Any]
) -> list[str]:
    if theirs is None:
        return []
    if ours is None:
        return [f"{where}: has no signature"]
    problems: list[str] = []
    mine = {p["name"]: (i, p) for i, p in enumerate(ours["params"])}
    var_kw = any(p["kind"] == "VAR_KEYWORD" for p in ours["params"])
    positional = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
    for i, p in enumerate(theirs["params"]):
        name = p["name"]
        if p["kind"] in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            if not any(q["kind"] == p["kind"] for q in ours["params"]):
                problems.append(
                    f"{where}: lacks {'*' if p['kind'] == 'VAR_POSITIONAL' else '**'}{name}"
                )
            continue
        if name not in mine:
            if not (var_kw and p["kind"] == "KEYWORD_ONLY"):
                problems.append(f"{where}: parameter {name!r} is missing")
            continue
        j, q = mine[name]
        if p["kind"] in positional and (q["kind"] not in positional or j != i):
            problems.append(f"{where}: parameter {name!r} is not positional at index {i}")
        if p["kind"] != "POSITIONAL_ONLY" and q["kind"] == "POSITIONAL_ONLY":
            problems.append(f"{where}: parameter {name!r} cannot be passed by keyword")
        if p["has_default"] and not q["has_default"]:
            problems.append(f"{where}: parameter {name!r} is required (it has a default)")
        elif p["has_default"] and q["default"] != p["default"]:
            problems.append(
                f"{where}: parameter {name!r} defaults to {q['default']}, not {p['default']}"
            )
        bad = _accepts(q["annotation"], p["annotation"], mro)
        if bad:
            problems.append(
                f"{where}: parameter {name!r} is {q['annotation']!r}, which does not accept "
                f"{', '.join(sorted(bad))} of {p['annotation']!r}"
            )
    published = {p["name"] for p in theirs["params"]}
    for q in ours["params"]:
        extra = q["name"] not in published and q["kind"] in (*positional, "KEYWORD_ONLY")
        if extra and not q["has_default"]:
            problems.append(f"{where}: extra parameter {q['name']!r} is required")
    return problems


def incompatibilities(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Every way ``ours`` fails to be a superset of ``theirs`` (both from :func:`dump`)."""
    mro = {
        name: d["mro"]
        for names in ours.values()
        for name, d in names.items()
        if d.get("kind") in ("class", "typeddict", "enum")
    }
    problems: list[str] = []
    for modname, names in theirs.items():
        mine_mod = ours.get(modname)
        if mine_mod is None:
            problems.append(f"{modname}: module is missing")
            continue
        for name, t in names.items():
            where = f"{modname}.{name}"
            o = mine_mod.get(name)
            if o is None or o.get("kind") == "missing":
                problems.append(f"{where}: missing")
                continue
            problems += _compare(where, o, t, mro)
    return problems


def _compare(where: str, o: dict[str, Any], t: dict[str, Any], mro: dict[str, Any]) -> list[str]:
    kind = t["kind"]
    if kind in ("alias", "value", "module") or o["kind"] != kind:
        if o["kind"] != kind:
            return [f"{where}: is a {o['kind']}, the published one a {kind}"]
        if kind == "value" and o["type"] != t["type"]:
            return [f"{where}: is a {o['type']}, the published one a {t['type']}"]
        if kind == "alias":
            lost = _tokens(t["annotation"]) - _tokens(o["annotation"])
            if lost:
                return [f"{where}: {o['annotation']!r} lacks {', '.join(sorted(lost))}"]
        return []
    if kind == "function":
        return _compare_signature(where, o["signature"], t["signature"], mro)
    problems: list[str] = []
    lost_bases = [b for b in t["mro"] if b not in o["mro"]]
    if lost_bases:
        problems.append(f"{where}: is not a subclass of {', '.join(lost_bases)}")
    if kind == "typeddict":
        keys = set(t["required"]) | set(t["optional"])
        mine = set(o["required"]) | set(o["optional"])
        problems += [f"{where}: key {k!r} is missing" for k in sorted(keys - mine)]
        extra = sorted(set(o["required"]) - set(t["required"]))
        problems += [f"{where}: key {k!r} is required" for k in extra]
        return problems
    for m, v in t.get("values", {}).items():
        if o.get("values", {}).get(m) != v:
            problems.append(f"{where}.{m}: member missing or with another value")
    tf, of = t.get("fields"), o.get("fields") or {}
    if tf is not None:
        for f, spec in tf.items():
            mine = of.get(f)
            if mine is None:
                problems.append(f"{where}: field {f!r} is missing")
            elif mine["required"] and not spec["required"]:
                problems.append(f"{where}: field {f!r} is required")
            elif not spec["required"] and mine["default"] != spec["default"]:
                problems.append(
                    f"{where}: field {f!r} defaults to {mine['default']}, not {spec['default']}"
                )
        for f, mine in of.items():
            if f not in tf and mine["required"]:
                problems.append(f"{where}: extra field {f!r} is required")
    else:
        problems += _compare_signature(where, o["signature"], t["signature"], mro)
    for m, spec in t["members"].items():
        mine = o["members"].get(m)
        if mine is None:
            problems.append(f"{where}.{m}: missing")
        elif mine["kind"] != spec["kind"]:
            problems.append(f"{where}.{m}: is a {mine['kind']}, the published one a {spec['kind']}")
        elif "signature" in spec:
            problems += _compare_signature(
                f"{where}.{m}", mine.get("signature"), spec["signature"], mro
            )
    return problems


if __name__ == "__main__":
    json.dump(dump(), sys.stdout, indent=1, sort_keys=True)


__all__: list[str] = ["dump", "incompatibilities"]
