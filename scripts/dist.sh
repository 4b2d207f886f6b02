#!/usr/bin/env bash
# Release build: static, trimmed, version-stamped, reproducible pctx binaries for every
# platform, each with tsgo (the type checker, pinned in packaging/tsgo/tsgo.lock) beside it,
# as archives (tar.gz; zip for windows), npm packages and Python wheels in $DIST_DIR, with a
# SHA256SUMS file over all of them. Same source, VERSION and SOURCE_DATE_EPOCH =>
# byte-identical output (test: scripts/test-dist.sh).
#
# $DIST_DIR/bin/OS-ARCH/ keeps each platform's files unarchived (pctx, tsgo/): the npm
# packages, the wheels and the Dockerfile are built from there.
#
# Env: VERSION (default: git describe), SOURCE_DATE_EPOCH (default: last commit time),
#      DIST_DIR (default: ./dist), DIST_TARGETS (default: all six "os/arch" pairs), GO,
#      TSGO_CACHE (see scripts/fetch-tsgo.sh), PYTHON (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
PYTHON=${PYTHON:-python3}
DIST_DIR=${DIST_DIR:-dist}
DIST_TARGETS=${DIST_TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

for tool in tar gzip zip sha256sum npm node "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "dist: $tool is required" >&2; exit 1; }
done

mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Nothing from the caller's Go environment may change the bytes: flags are given here.
export CGO_ENABLED=0 GOFLAGS= GOAMD64=v1 GOARM64=v8.0 GOTOOLCHAIN=local GOEXPERIMENT=

# Every tsgo first, so a missing one fails before any build (and offline, with a clear message).
# shellcheck disable=SC2086
scripts/fetch-tsgo.sh $DIST_TARGETS >/dev/null

for target in $DIST_TARGETS; do
  os=${target%/*} arch=${target#*/}
  exe=pctx
  [ "$os" = windows ] && exe=pctx.exe
  dir="$stage/$os-$arch"
  mkdir -p "$dir/tsgo"
  echo "dist: building $os/$arch ($VERSION)"
  GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false -mod=readonly \
    -ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$dir/$exe" .
  cp README.md "$dir/README.md"
  # tsgo/ is the platform package's lib/ (the compiler and the lib.*.d.ts it reads from
  # beside itself) with its LICENSE and NOTICE.txt.
  tar -xzf "$(scripts/fetch-tsgo.sh "$target")" -C "$stage" package/lib package/LICENSE package/NOTICE.txt
  mv "$stage"/package/lib/* "$stage/package/LICENSE" "$stage/package/NOTICE.txt" "$dir/tsgo/"
  rm -rf "$stage/package"
  [ -f "$dir/tsgo/tsgo" ] || [ -f "$dir/tsgo/tsgo.exe" ] || { echo "dist: the $target tsgo package has no tsgo" >&2; exit 1; }
  # Modes and times from nothing but the inputs.
  find "$dir" -type d -exec chmod 0755 {} +
  find "$dir" -type f -exec chmod 0644 {} +
  chmod 0755 "$dir/$exe"
  for f in "$dir/tsgo/tsgo" "$dir/tsgo/tsgo.exe"; do [ ! -f "$f" ] || chmod 0755 "$f"; done
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  rm -rf "$DIST_DIR/bin/$os-$arch"
  mkdir -p "$DIST_DIR/bin"
  cp -a "$dir" "$DIST_DIR/bin/$os-$arch" # unarchived, for npm, wheels and Docker
  rm "$DIST_DIR/bin/$os-$arch/README.md"
  name="pctx-$os-$arch"
  if [ "$os" = windows ]; then
    rm -f "$DIST_DIR/$name.zip"
    # -X: no uid/gid or extended timestamps; DOS times are local time, so pin TZ; the file
    # list is sorted here, not in directory order.
    (cd "$dir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | TZ=UTC zip -q -X -D "$DIST_DIR/$name.zip" -@)
  else
    tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
      --format=gnu -C "$dir" -cf - README.md "$exe" tsgo | gzip -n -9 >"$DIST_DIR/$name.tar.gz"
  fi
done

# npm wants semver: a release tag vX.Y.Z[-pre] as is, anything else 0.0.0-dev.
npm_version=0.0.0-dev
if [[ $VERSION =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)$ ]]; then npm_version=${BASH_REMATCH[1]}; fi
rm -rf "$DIST_DIR/npm"
echo "dist: npm packages $npm_version"
node packaging/npm/build.mjs "$DIST_DIR" "$npm_version"

rm -rf "$DIST_DIR/pypi"
echo "dist: Python wheels"
"$PYTHON" packaging/pypi/build_wheels.py "$DIST_DIR" "$VERSION"

(cd "$DIST_DIR" && LC_ALL=C ls -1 pctx-*.tar.gz pctx-*.zip npm/*.tgz pypi/*.whl 2>/dev/null | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
echo "dist: wrote SHA256SUMS ($(wc -l <"$DIST_DIR/SHA256SUMS") files) to $DIST_DIR"
