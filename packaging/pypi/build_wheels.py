"""Build pctx's Python wheels, one per platform, from DIST_DIR/bin/OS-ARCH (scripts/dist.sh).

The ruff and uv pattern: a ``py3-none-PLATFORM`` wheel without Python code whose
``.data/scripts/`` holds the pctx binary, so ``pip install pctx`` (or ``uvx pctx``) puts
``pctx`` on PATH. tsgo and the ``lib.*.d.ts`` files it reads from beside itself go to
``.data/data/lib/pctx/tsgo/``, which installs as ``PREFIX/lib/pctx/tsgo/`` next to
``PREFIX/bin/pctx`` (``PREFIX/Scripts/pctx.exe`` on Windows): the scripts directory takes no
subdirectories (uv refuses such a wheel) and everything in it is linked onto PATH by
``uv tool install``, which a hundred ``.d.ts`` files should not be.

Reproducible: entries in a fixed order (dist-info last), times from SOURCE_DATE_EPOCH, modes
from the files' executable bits only, RECORD with sha256 hashes.

Usage: python3 packaging/pypi/build_wheels.py DIST_DIR VERSION
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import stat
import sys
import time
import zipfile
from pathlib import Path

NAME = "pctx"

# Platform tags per Go target. The binaries are static Go programs (pctx and tsgo), so one
# Linux wheel serves glibc and musl; Go 1.25+ needs macOS 12.
PLATFORM_TAGS: dict[str, tuple[str, ...]] = {
    "linux-amd64": ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64"),
    "linux-arm64": ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "musllinux_1_1_aarch64"),
    "darwin-amd64": ("macosx_12_0_x86_64",),
    "darwin-arm64": ("macosx_12_0_arm64",),
    "windows-amd64": ("win_amd64",),
    "windows-arm64": ("win_arm64",),
}

SUMMARY = (
    "pctx, the Code Mode MCP server: agents write one TypeScript program that calls many tools"
)
HERE = Path(__file__).resolve().parent


def pep440(version: str) -> str:
    """Return the wheel version for a release tag: v1.2.3 -> 1.2.3, v1.2.3-rc.1 -> 1.2.3rc1.

    Anything that is not a release tag (a commit, a dirty tree) is 0.0.0.dev0, as npm's
    packages are 0.0.0-dev.
    """
    m = re.fullmatch(r"v(\d+\.\d+\.\d+)(?:-(alpha|a|beta|b|rc)\.?(\d+))?", version)
    if m is None:
        return "0.0.0.dev0"
    release, pre, num = m.groups()
    if pre is None:
        return release
    pre = {"alpha": "a", "beta": "b"}.get(pre, pre)
    return f"{release}{pre}{num}"


def record_hash(data: bytes) -> str:
    """Return a RECORD hash field: sha256, urlsafe base64 without padding."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def metadata(version: str) -> str:
    """Return the METADATA file (core metadata 2.1, which every pip and uv reads)."""
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    headers = [
        ("Metadata-Version", "2.1"),
        ("Name", NAME),
        ("Version", version),
        ("Summary", SUMMARY),
        ("Home-page", "https://github.com/pctx-dev/pctx"),
        ("License", "MIT AND Apache-2.0 (tsgo, in lib/pctx/tsgo)"),
        ("Keywords", "mcp,code-mode,agents,typescript"),
        ("Classifier", "Environment :: Console"),
        ("Classifier", "License :: OSI Approved :: MIT License"),
        ("Classifier", "License :: OSI Approved :: Apache Software License"),
        ("Classifier", "Topic :: Software Development"),
        ("Project-URL", "Source, https://github.com/pctx-dev/pctx"),
        ("Description-Content-Type", "text/markdown"),
    ]
    return "".join(f"{k}: {v}\n" for k, v in headers) + "\n" + readme


class Wheel:
    """A wheel being written: entries in call order, each recorded for RECORD."""

    def __init__(self, path: Path, date_time: tuple[int, int, int, int, int, int]) -> None:
        self.zip = zipfile.ZipFile(path, "w")
        self.date_time = date_time
        self.record: list[str] = []

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        """Add a file; only the executable bit of its mode survives."""
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.create_system = 3  # Unix, so installers honour the mode below
        info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data, compresslevel=9)
        self.record.append(f"{name},{record_hash(data)},{len(data)}")

    def close(self, record_name: str) -> None:
        """Write RECORD (listing itself without a hash) and close the archive."""
        lines = [*self.record, f"{record_name},,"]
        self.add(record_name, ("\n".join(lines) + "\n").encode())
        self.zip.close()


def build(bin_dir: Path, target: str, version: str, out: Path, epoch: int) -> Path:
    """Build the wheel for one target from its unarchived dist files; return its path."""
    tags = PLATFORM_TAGS[target]
    exe = "pctx.exe" if target.startswith("windows-") else "pctx"
    tsgo_dir = bin_dir / "tsgo"
    if not (bin_dir / exe).is_file() or not tsgo_dir.is_dir():
        raise SystemExit(f"build_wheels: {bin_dir} lacks {exe} or tsgo/")
    path = out / f"{NAME}-{version}-py3-none-{'.'.join(tags)}.whl"
    # ZIP times start in 1980 and are local: take UTC, clamp.
    date_time = time.gmtime(max(epoch, 315532800))[:6]
    wheel = Wheel(path, date_time)
    data = f"{NAME}-{version}.data"
    dist_info = f"{NAME}-{version}.dist-info"
    wheel.add(f"{data}/scripts/{exe}", (bin_dir / exe).read_bytes(), executable=True)
    for f in sorted(tsgo_dir.iterdir(), key=lambda p: p.name):
        if not f.is_file():
            raise SystemExit(f"build_wheels: {f} is not a file")
        executable = f.name in ("tsgo", "tsgo.exe")
        wheel.add(f"{data}/data/lib/pctx/tsgo/{f.name}", f.read_bytes(), executable)
    wheel.add(f"{dist_info}/METADATA", metadata(version).encode())
    wheel_file = [
        "Wheel-Version: 1.0",
        "Generator: pctx (packaging/pypi/build_wheels.py)",
        "Root-Is-Purelib: false",
        *(f"Tag: py3-none-{t}" for t in tags),
    ]
    wheel.add(f"{dist_info}/WHEEL", ("\n".join(wheel_file) + "\n").encode())
    wheel.close(f"{dist_info}/RECORD")
    return path


def main(argv: list[str]) -> int:
    """Build a wheel for every platform present under DIST_DIR/bin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dist_dir", type=Path)
    parser.add_argument("version", help="pctx's version, e.g. v0.1.0 (a git tag)")
    args = parser.parse_args(argv)
    version = pep440(args.version)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    out = args.dist_dir / "pypi"
    out.mkdir(parents=True, exist_ok=True)
    built = 0
    for target in PLATFORM_TAGS:
        bin_dir = args.dist_dir / "bin" / target
        if bin_dir.is_dir():
            print(f"pypi: {build(bin_dir, target, version, out, epoch).name}")
            built += 1
    if built == 0:
        print(f"build_wheels: nothing under {args.dist_dir / 'bin'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
