#!/usr/bin/env bash
# Builds both Dockerfile targets from a dist directory (scripts/dist.sh output holding this
# machine's linux/ARCH) and runs them: the static image (non-root, distroless) reports its
# version, runs a program in a sandbox worker and has a working tsgo beside pctx; the node
# image runs a stdio upstream with node (server-everything from $PCTX_NPM_DIR, mounted
# read-only).
#
# Skipped, with a message saying why, where there is no Docker daemon or a base image is
# neither present nor pullable (CI without network): exit 0 and "SKIP" on stdout.
#
# Usage: scripts/test-docker.sh DIST_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:?usage: scripts/test-docker.sh DIST_DIR}
fail() { echo "FAIL: docker: $*" >&2; exit 1; }
skip() { echo "SKIP: docker: $*"; exit 0; }

command -v docker >/dev/null || skip "no docker command"
if ! err=$(docker info 2>&1 >/dev/null); then
  skip "no Docker daemon ($(printf '%s\n' "$err" | grep -v '^$' | tail -1))"
fi
for image in $(sed -n 's/^FROM \([^ ]*\) AS .*/\1/p' Dockerfile); do
  docker image inspect "$image" >/dev/null 2>&1 || docker pull -q "$image" >/dev/null 2>&1 \
    || skip "base image $image is not present and cannot be pulled"
done
arch=$(docker info -f '{{.Architecture}}')
case $arch in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; esac
[ -x "$dist/bin/linux-$arch/pctx" ] || fail "$dist/bin/linux-$arch/pctx missing: build linux/$arch with scripts/dist.sh"
npm_dir=${PCTX_NPM_DIR:-.cache/npm}
everything=node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$npm_dir/$everything" ] || fail "$npm_dir/$everything missing (make deps)"
npm_dir=$(cd "$npm_dir" && pwd)

tag=pctx-test-$$
work=$(mktemp -d)
cleanup() {
  docker image rm -f "$tag:static" "$tag:node" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
printf 'const n: number = "two";\nexport {};\n' >"$work/bad.ts"
printf '[servers.everything]\ncommand = "node"\nargs = ["/npm/%s", "stdio"]\n' "$everything" >"$work/pctx.toml"
chmod 0755 "$work" && chmod 0644 "$work"/*

export DOCKER_BUILDKIT=1
docker build -q -f Dockerfile --target static -t "$tag:static" "$dist" >/dev/null || fail "build --target static"
docker build -q -f Dockerfile --target node -t "$tag:node" "$dist" >/dev/null || fail "build --target node"

want=$("$dist/bin/linux-$arch/pctx" version)
got=$(docker run --rm "$tag:static" version) || fail "static: pctx version"
[ "$got" = "$want" ] || fail "static: version printed '$got', want '$want'"
user=$(docker image inspect -f '{{.Config.User}}' "$tag:static")
case $user in "" | root | 0 | 0:* | root:*) fail "static: runs as '$user', want a non-root user" ;; esac
got=$(docker run --rm "$tag:static" exec -e 'return 1 + 1') || fail "static: pctx exec"
[ "$got" = 2 ] || fail "static: exec printed '$got', want 2"
# tsgo beside pctx runs with its lib files: it finds the type error in a file.
if got=$(docker run --rm -v "$work:/w:ro" --entrypoint /opt/pctx/tsgo/tsgo "$tag:static" --noEmit --lib es2022 /w/bad.ts); then
  fail "static: tsgo accepted an ill-typed file"
fi
case $got in *TS2322*) ;; *) fail "static: tsgo printed '$got', want TS2322" ;; esac
if [ -d internal/typecheck ]; then # pctx with its type checker finds tsgo and refuses the program
  if got=$(docker run --rm "$tag:static" exec -e 'const n: number = "two"; return n' 2>&1); then
    fail "static: pctx ran an ill-typed program: $got"
  fi
  case $got in *TS2322*) ;; *) fail "static: pctx exec of an ill-typed program printed '$got'" ;; esac
fi
echo "ok: static image (user $user): $want, exec, tsgo beside pctx"

got=$(docker run --rm -v "$work/pctx.toml:/etc/pctx/pctx.toml:ro" -v "$npm_dir:/npm:ro" "$tag:node" \
  exec -e 'return await everything.get_sum({ a: 2, b: 3 })') || fail "node: exec against a node stdio upstream"
[ "$got" = '"The sum of 2 and 3 is 5."' ] || fail "node: exec printed '$got'"
echo "ok: node image: a stdio upstream run by node"
