#!/usr/bin/env bash
# Release build: static, trimmed, version-stamped, reproducible pctx binaries for every
# platform, archived (tar.gz; zip for windows) into $DIST_DIR with a SHA256SUMS file.
# Same source, VERSION and SOURCE_DATE_EPOCH => byte-identical archives (test: scripts/test-dist.sh).
#
# Env: VERSION (default: git describe), SOURCE_DATE_EPOCH (default: last commit time),
#      DIST_DIR (default: ./dist), DIST_TARGETS (default: all six "os/arch" pairs), GO.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DIST_DIR=${DIST_DIR:-dist}
DIST_TARGETS=${DIST_TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

for tool in tar gzip zip sha256sum npm node; do
  command -v "$tool" >/dev/null || { echo "dist: $tool is required" >&2; exit 1; }
done

mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Nothing from the caller's Go environment may change the bytes: flags are given here.
export CGO_ENABLED=0 GOFLAGS= GOAMD64=v1 GOARM64=v8.0 GOTOOLCHAIN=local GOEXPERIMENT=

for target in $DIST_TARGETS; do
  os=${target%/*} arch=${target#*/}
  exe=pctx
  [ "$os" = windows ] && exe=pctx.exe
  dir="$stage/$os-$arch"
  mkdir -p "$dir"
  echo "dist: building $os/$arch ($VERSION)"
  GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false -mod=readonly \
    -ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$dir/$exe" .
  mkdir -p "$DIST_DIR/bin/$os-$arch"
  cp "$dir/$exe" "$DIST_DIR/bin/$os-$arch/$exe" # unarchived, for the npm packages
  cp README.md "$dir/README.md"
  chmod 0755 "$dir/$exe"
  chmod 0644 "$dir/README.md"
  touch -d "@$SOURCE_DATE_EPOCH" "$dir/$exe" "$dir/README.md"
  name="pctx-$os-$arch"
  if [ "$os" = windows ]; then
    rm -f "$DIST_DIR/$name.zip"
    # -X: no uid/gid or extended timestamps; DOS times are local time, so pin TZ.
    (cd "$dir" && TZ=UTC zip -q -X -D "$DIST_DIR/$name.zip" README.md "$exe")
  else
    tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
      --format=gnu -C "$dir" -cf - README.md "$exe" | gzip -n -9 >"$DIST_DIR/$name.tar.gz"
  fi
done

# npm wants semver: a release tag vX.Y.Z[-pre] as is, anything else 0.0.0-dev.
npm_version=0.0.0-dev
if [[ $VERSION =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)$ ]]; then npm_version=${BASH_REMATCH[1]}; fi
rm -rf "$DIST_DIR/npm"
echo "dist: npm packages $npm_version"
node packaging/npm/build.mjs "$DIST_DIR" "$npm_version"

(cd "$DIST_DIR" && LC_ALL=C ls -1 pctx-*.tar.gz pctx-*.zip npm/*.tgz 2>/dev/null | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
echo "dist: wrote SHA256SUMS ($(wc -l <"$DIST_DIR/SHA256SUMS") files) to $DIST_DIR"
