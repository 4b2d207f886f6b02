"""Build a file:// Go module proxy holding this module and what `go install` of it needs.

The proxy serves the working tree (tracked and untracked-but-not-ignored files, as they are
now) as github.com/pctx-dev/pctx at a pseudo-version made from HEAD, answered for @latest,
and every dependency copied from the local module cache: the go.mod of each module version
in `go mod graph` and the zip of each module that provides a package of the build. So

    GOPROXY=file://DIR GOFLAGS=-mod=mod go install github.com/pctx-dev/pctx@latest

runs offline and proves what a user's `go install` gets: no replace directives to drop, no
nested modules leaking in, no file missing from the module.

Usage: python3 scripts/goproxy.py OUT_DIR   (run from anywhere; GO names the go command)
Prints the pseudo-version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GO = os.environ.get("GO", "go")


def run(*args: str) -> str:
    """Run a command in the repository root and return its standard output."""
    return subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def escape(s: str) -> str:
    """Escape a module path or version as the module cache and proxies spell it (A -> !a)."""
    return "".join("!" + c.lower() if c.isupper() else c for c in s)


def pseudo_version() -> tuple[str, str]:
    """Return v0.0.0-TIME-HASH for HEAD and its RFC 3339 commit time (UTC)."""
    stamp, commit = run("git", "log", "-1", "--format=%ct %H").split()
    t = time.gmtime(int(stamp))
    return f"v0.0.0-{time.strftime('%Y%m%d%H%M%S', t)}-{commit[:12]}", time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", t
    )


def module_files() -> list[str]:
    """Return the files of this module, sorted: what git would ship, minus nested modules.

    A directory with its own go.mod (sdk/go, examples/go-worker) is another module and is not
    part of this one's zip, as the go command's own zips leave them out; vendor/ likewise.
    """
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    files = [f for f in listed.split("\0") if f]
    nested = [f[: -len("go.mod")] for f in files if f.endswith("/go.mod")]
    keep = []
    for f in files:
        p = ROOT / f
        if p.is_symlink() or not p.is_file():
            continue
        if any(f.startswith(n) for n in nested) or f.startswith("vendor/") or "/vendor/" in f:
            continue
        keep.append(f)
    return sorted(keep)


def write_module(out: Path, path: str, version: str, when: str) -> None:
    """Write this module's .info, .mod, .zip, list and @latest into the proxy."""
    d = out / escape(path) / "@v"
    d.mkdir(parents=True, exist_ok=True)
    info = json.dumps({"Version": version, "Time": when})
    (d / f"{version}.info").write_text(info)
    (d / f"{version}.mod").write_bytes((ROOT / "go.mod").read_bytes())
    (d / "list").write_text("")  # no release tags: @latest answers, as for an untagged repo
    (out / escape(path) / "@latest").write_text(info)
    prefix = f"{path}@{version}/"
    with zipfile.ZipFile(d / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for f in module_files():
            z.write(ROOT / f, prefix + f)


def copy_dependencies(out: Path, main_path: str) -> None:
    """Copy each dependency's go.mod and zip in, from the local module cache.

    `go mod graph` lists the requirements of every go.mod it read, including versions whose
    own go.mod graph pruning never reads; the build list (`go list -m all`) includes modules
    whose zips only settle that an import path is not theirs (regexp2 beside regexp2/v2).
    Those are copied when the cache has them, and a `go install` that needed a missing one
    fails naming it; a module that provides a package of the build must be there.
    """
    cache = Path(run(GO, "env", "GOMODCACHE").strip()) / "cache" / "download"
    graph = set(run(GO, "mod", "graph").split())
    selected = {
        f"{m['Path']}@{m['Version']}"
        for m in json_stream(run(GO, "list", "-m", "-json", "all"))
        if not m.get("Main") and "Version" in m
    }
    build = set(
        run(
            GO,
            "list",
            "-deps",
            "-f",
            "{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}",
            ".",
        ).split()
    )
    for node in sorted(graph | selected | build):
        path, _, version = node.partition("@")
        if not version or path in (main_path, "go", "toolchain"):
            continue
        src = cache / escape(path) / "@v"
        dst = out / escape(path) / "@v"
        dst.mkdir(parents=True, exist_ok=True)
        for ext in [".mod", ".info", ".zip"] if node in selected | build else [".mod", ".info"]:
            f = src / (escape(version) + ext)
            if f.exists():
                shutil.copyfile(f, dst / f.name)
            elif node in build and ext != ".info":
                raise SystemExit(f"goproxy: {node}: no {f} in the module cache (run make deps)")


def json_stream(text: str) -> list[dict[str, Any]]:
    """Decode a stream of concatenated JSON objects, as `go list -json` prints them."""
    dec = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return out


def main(argv: list[str]) -> int:
    """Build the proxy in argv[0] and print the pseudo-version it serves."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    main_path = run(GO, "list", "-m").strip()
    version, when = pseudo_version()
    write_module(out, main_path, version, when)
    copy_dependencies(out, main_path)
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
