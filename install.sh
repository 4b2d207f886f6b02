#!/bin/sh
# pctx installer: detects OS and architecture, downloads the release archive, verifies it
# against SHA256SUMS and installs the binary, with tsgo (the type checker pctx runs) in a
# tsgo/ directory beside it.
#
#   curl -fsSL https://raw.githubusercontent.com/pctx-dev/pctx/main/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --dir /usr/local/bin
#
# Options (or env): --dir DIR (PCTX_INSTALL_DIR, default $HOME/.local/bin),
#   --base-url URL (PCTX_BASE_URL, default the latest GitHub release),
#   --version vX.Y.Z (PCTX_VERSION: that release instead of the latest).
set -eu

base_url=${PCTX_BASE_URL:-}
install_dir=${PCTX_INSTALL_DIR:-${HOME:-}/.local/bin}
version=${PCTX_VERSION:-}

die() { echo "pctx install: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --dir) [ $# -ge 2 ] || die "--dir needs a value"; install_dir=$2; shift 2 ;;
    --base-url) [ $# -ge 2 ] || die "--base-url needs a value"; base_url=$2; shift 2 ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [ -z "$base_url" ]; then
  if [ -n "$version" ]; then
    base_url=https://github.com/pctx-dev/pctx/releases/download/$version
  else
    base_url=https://github.com/pctx-dev/pctx/releases/latest/download
  fi
fi
[ -n "$install_dir" ] || die "no install directory: set --dir or PCTX_INSTALL_DIR"

case $(uname -s) in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW*|MSYS*|CYGWIN*|Windows_NT) os=windows ;;
  *) die "unsupported OS: $(uname -s) (prebuilt: Linux, macOS, Windows)" ;;
esac
case $(uname -m) in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64|armv8*) arch=arm64 ;;
  *) die "unsupported architecture: $(uname -m) (prebuilt: amd64, arm64)" ;;
esac
# A shell under Rosetta reports x86_64 on Apple silicon: take the native binary.
if [ "$os" = darwin ] && [ "$arch" = amd64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || true)" = 1 ]; then
  arch=arm64
fi

exe=pctx
archive=pctx-$os-$arch.tar.gz
if [ "$os" = windows ]; then
  exe=pctx.exe
  archive=pctx-$os-$arch.zip
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "curl or wget is required"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256() { openssl dgst -sha256 "$1" | sed 's/.*= *//'; }
else
  die "sha256sum, shasum or openssl is required to verify the download"
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t pctx)
new= new_tsgo=
trap 'rm -rf "$tmp" ${new:+"$new"} ${new_tsgo:+"$new_tsgo"}' EXIT
trap 'exit 130' INT TERM

echo "pctx install: downloading $base_url/$archive" >&2
fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download $base_url/SHA256SUMS"
fetch "$base_url/$archive" "$tmp/$archive" || die "cannot download $base_url/$archive"

want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")
[ -n "$want" ] || die "$archive is not listed in SHA256SUMS: refusing to install"
got=$(sha256 "$tmp/$archive")
[ "$got" = "$want" ] || die "checksum mismatch for $archive (want $want, got $got): refusing to install"

mkdir "$tmp/x"
case $archive in
  *.zip) command -v unzip >/dev/null 2>&1 || die "unzip is required"; unzip -q "$tmp/$archive" -d "$tmp/x" ;;
  *) tar -xzf "$tmp/$archive" -C "$tmp/x" ;;
esac
[ -f "$tmp/x/$exe" ] || die "$archive has no $exe"

mkdir -p "$install_dir" || die "cannot create $install_dir"
# Copy beside the target, check it runs here, then rename: never a half-written or
# foreign binary at the final path.
new=$install_dir/.$exe.new.$$
cp "$tmp/x/$exe" "$new" || die "cannot write to $install_dir"
chmod 0755 "$new"
if ! out=$("$new" version 2>&1); then
  die "the downloaded $exe does not run on this machine: $out"
fi
# tsgo/ replaces a tsgo/ of an earlier install (it holds lib.d.ts); anything else by that
# name is the user's, and stays.
with=
if [ -d "$tmp/x/tsgo" ]; then
  if [ ! -e "$install_dir/tsgo" ] || [ -f "$install_dir/tsgo/lib.d.ts" ]; then
    new_tsgo=$install_dir/.tsgo.new.$$
    cp -R "$tmp/x/tsgo" "$new_tsgo" || die "cannot write to $install_dir"
    with=" with tsgo"
  else
    echo "pctx install: $install_dir/tsgo is not from pctx: left as it is, no type checker installed" >&2
  fi
fi
mv -f "$new" "$install_dir/$exe"
new=
if [ -n "$new_tsgo" ]; then
  rm -rf "$install_dir/tsgo"
  mv "$new_tsgo" "$install_dir/tsgo"
  new_tsgo=
fi
echo "pctx install: installed $out$with to $install_dir/$exe" >&2
case ":${PATH:-}:" in
  *":$install_dir:"*) ;;
  *) echo "pctx install: $install_dir is not on your PATH; add it, e.g. export PATH=\"$install_dir:\$PATH\"" >&2 ;;
esac
