#!/usr/bin/env bash
# Prints the path of the verified tsgo tarball (@typescript/native-preview-PLATFORM, pinned
# in packaging/tsgo/tsgo.lock) for each target given, one line each, fetching any missing one
# into $TSGO_CACHE with `npm pack`. A tarball whose sha512 is not the pinned one is deleted
# and refused. With every tarball already in the cache this needs no network (make deps
# fills it for the test targets; make dist for all six).
#
# Usage: scripts/fetch-tsgo.sh GOOS/GOARCH...   (e.g. linux/amd64 windows/arm64)
# Env: TSGO_CACHE (default: .cache/tsgo in this repository).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lock=$repo/packaging/tsgo/tsgo.lock
cache=${TSGO_CACHE:-$repo/.cache/tsgo}

die() { echo "fetch-tsgo: $*" >&2; exit 1; }
[ $# -gt 0 ] || die "usage: $0 GOOS/GOARCH..."
command -v node >/dev/null || die "node is required"
version=$(awk '$1 == "version" { print $2 }' "$lock")
[ -n "$version" ] || die "$lock names no version"

sha512() { # the npm integrity string of a file
  node -e 'const c = require("node:crypto"), f = require("node:fs");
    process.stdout.write("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

mkdir -p "$cache"
for target in "$@"; do
  case $target in
    linux/amd64) platform=linux-x64 ;; linux/arm64) platform=linux-arm64 ;;
    darwin/amd64) platform=darwin-x64 ;; darwin/arm64) platform=darwin-arm64 ;;
    windows/amd64) platform=win32-x64 ;; windows/arm64) platform=win32-arm64 ;;
    *) die "no tsgo for $target (pctx ships it for linux, darwin, windows x amd64, arm64)" ;;
  esac
  want=$(awk -v p="$platform" '$1 == p { print $2 }' "$lock")
  [ -n "$want" ] || die "$lock has no integrity for $platform"
  pkg=@typescript/native-preview-$platform@$version
  tgz=$cache/native-preview-$platform-$version.tgz
  if [ ! -f "$tgz" ]; then
    command -v npm >/dev/null || die "npm is required to fetch $pkg"
    echo "fetch-tsgo: npm pack $pkg" >&2
    tmp=$(mktemp -d "$cache/.pack.XXXXXX")
    name=$(npm pack --silent --pack-destination "$tmp" "$pkg" 2>"$tmp/err") \
      || { err=$(tail -3 "$tmp/err"); rm -rf "$tmp"; die "npm pack $pkg failed (offline? run make deps with network first): $err"; }
    mv "$tmp/$name" "$tgz"
    rm -rf "$tmp"
  fi
  got=$(sha512 "$tgz")
  if [ "$got" != "$want" ]; then
    rm -f "$tgz"
    die "$pkg: integrity $got is not the pinned $want: refused (deleted $tgz)"
  fi
  echo "$tgz"
done
