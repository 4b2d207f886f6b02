"""Our SDK against the published pctx-client 0.4.5: the same public API, and more.

Both packages are imported as ``pctx_client``, so each is described by the interpreter of
its own venv (tests/api_surface.py, tests/published_parity_tools.py run as scripts) and the
descriptions are compared here. The published venv is the Makefile's
.cache/venv-pctx-client-latest ($PCTX_CLIENT_LATEST_VENV); without it the comparisons are
skipped, unless $CI or $PCTX_REQUIRE_PUBLISHED is set, where they fail.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api_surface import incompatibilities

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def published_python() -> Path:
    env = os.environ.get("PCTX_CLIENT_LATEST_VENV")
    venv = Path(env) if env else REPO / ".cache/venv-pctx-client-latest"
    python = venv / "bin/python"
    if not python.exists():
        reason = f"the published pctx-client's venv is missing ({venv}); run `make deps`"
        if os.environ.get("CI") or os.environ.get("PCTX_REQUIRE_PUBLISHED"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


def run_json(python: Path | str, script: str) -> Any:
    # cwd outside the repo: `import pctx_client` must find the venv's own package.
    out = subprocess.run(
        [str(python), str(HERE / script)],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def published() -> Any:
    return run_json(published_python(), "api_surface.py")


@pytest.fixture(scope="module")
def ours() -> Any:
    return run_json(sys.executable, "api_surface.py")


def test_every_published_name_is_ours_with_a_compatible_signature(
    published: Any, ours: Any
) -> None:
    assert published["pctx_client"]["Pctx"]["kind"] == "class"  # a real description
    assert len(published["pctx_client.models"]) > 40
    problems = incompatibilities(ours, published)
    assert problems == [], "\n".join(problems)


def test_the_same_tools_derive_the_same_names_descriptions_and_schemas() -> None:
    theirs = run_json(published_python(), "published_parity_tools.py")
    mine = run_json(sys.executable, "published_parity_tools.py")
    assert len(theirs) == 11
    assert mine == theirs


def _mutations(published: dict[str, Any]) -> list[tuple[str, Any]]:
    """Ways to break the published API, and the problem each must produce."""

    def pctx(d: dict[str, Any]) -> dict[str, Any]:
        return d["pctx_client"]["Pctx"]

    def param(d: dict[str, Any], method: str, name: str) -> dict[str, Any]:
        sig = pctx(d)["members"][method]["signature"]
        return next(p for p in sig["params"] if p["name"] == name)

    def drop_name(d: dict[str, Any]) -> None:
        del d["pctx_client.models"]["ListedFunction"]

    def drop_method(d: dict[str, Any]) -> None:
        del pctx(d)["members"]["search_functions"]

    def require_default(d: dict[str, Any]) -> None:
        p = param(d, "search_functions", "k")
        p["has_default"], p["default"] = False, None

    def change_default(d: dict[str, Any]) -> None:
        param(d, "search_functions", "k")["default"] = "5"

    def reorder(d: dict[str, Any]) -> None:
        sig = pctx(d)["members"]["execute_typescript"]["signature"]
        sig["params"].reverse()

    def narrow(d: dict[str, Any]) -> None:
        param(d, "execute_typescript", "disclosure")["annotation"] = "ToolDisclosure"

    def extra_required(d: dict[str, Any]) -> None:
        sig = pctx(d)["members"]["list_functions"]["signature"]
        sig["params"].append(
            {
                "name": "x",
                "kind": "POSITIONAL_OR_KEYWORD",
                "has_default": False,
                "default": None,
                "annotation": "int",
            }
        )

    def require_key(d: dict[str, Any]) -> None:
        td = d["pctx_client.models"]["StdioServerConfig"]
        td["optional"].remove("env")
        td["required"].append("env")

    def drop_field(d: dict[str, Any]) -> None:
        del d["pctx_client.models"]["ExecuteTypescriptOutput"]["fields"]["stderr"]

    def lose_base(d: dict[str, Any]) -> None:
        d["pctx_client.exceptions"]["SessionError"]["mro"].remove("PctxError")

    def drop_enum_member(d: dict[str, Any]) -> None:
        del d["pctx_client.models"]["ToolDisclosure"]["values"]["FS"]

    return [
        ("pctx_client.models.ListedFunction: missing", drop_name),
        ("pctx_client.Pctx.search_functions: missing", drop_method),
        ("parameter 'k' is required", require_default),
        ("parameter 'k' defaults to 5, not 10", change_default),
        ("is not positional at index 0", reorder),
        ("does not accept", narrow),
        ("extra parameter 'x' is required", extra_required),
        ("StdioServerConfig: key 'env' is required", require_key),
        ("field 'stderr' is missing", drop_field),
        ("SessionError: is not a subclass of PctxError", lose_base),
        ("ToolDisclosure.FS: member missing", drop_enum_member),
    ]


@pytest.mark.parametrize("index", range(11))
def test_the_comparison_fails_on_a_missing_or_incompatible_name(published: Any, index: int) -> None:
    expected, mutate = _mutations(published)[index]
    broken = copy.deepcopy(published)
    mutate(broken)
    problems = incompatibilities(broken, published)
    assert any(expected in p for p in problems), problems
    assert incompatibilities(published, published) == []
