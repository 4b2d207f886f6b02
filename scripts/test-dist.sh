#!/usr/bin/env bash
# Offline tests of the release path (make test-dist):
#  1. reproducibility: scripts/dist.sh for two targets (the host's and windows/amd64), then
#     again from a copy of the tree at another path; SHA256SUMS must be identical.
#     (`make dist` builds all six targets; building two twice keeps CI's cost modest.)
#  2. install.sh against a local HTTP server serving that output: installs and runs; refuses
#     a corrupted archive, an archive missing from SHA256SUMS, and a binary that cannot run
#     here, leaving nothing installed.
#  3. npm: the packed tarballs (main + this platform's) install offline into an empty
#     project with an empty npm cache; `npx pctx version` and an MCP initialize over
#     `npx pctx start --stdio` (what a Claude Desktop config runs) work.
#  4. the Windows build of every package and test (GOOS=windows go vet ./...).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GO=${GO:-go}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

host=$($GO env GOOS)/$($GO env GOARCH)
targets="$host windows/amd64"
[ "$host" = windows/amd64 ] && targets="$host linux/amd64"
export VERSION=v0.1.0 SOURCE_DATE_EPOCH=1767225600 DIST_TARGETS="$targets"

echo "== reproducibility ($targets, built twice)"
DIST_DIR=$work/a scripts/dist.sh
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -f "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -C "$work/src" -xf -
(cd "$work/src" && DIST_DIR=$work/b GO=$GO scripts/dist.sh)
diff "$work/a/SHA256SUMS" "$work/b/SHA256SUMS" || fail "two builds of the same source differ"
for t in $targets; do
  grep -q " pctx-${t%/*}-${t#*/}\.\(tar\.gz\|zip\)$" "$work/a/SHA256SUMS" || fail "SHA256SUMS lacks the $t archive"
done
grep -q ' npm/pctx-0.1.0.tgz$' "$work/a/SHA256SUMS" || fail "SHA256SUMS lacks the npm package"
echo "ok: identical SHA256SUMS"

echo "== install.sh"
serve() { # serve DIR: a static HTTP server on 127.0.0.1, ephemeral port; sets base
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$1" >"$work/http.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "http.server did not start: $(cat "$work/http.log")"
  base=http://127.0.0.1:$port
}
# run_install NAME WANT_EXIT WANT_STDERR [env...]: one install.sh case into a fresh dir.
run_install() {
  local name=$1 want_exit=$2 want_err=$3; shift 3
  local dir=$work/install-$name code=0
  env "$@" PCTX_BASE_URL="$base" sh install.sh --dir "$dir" >"$work/out" 2>"$work/err" || code=$?
  [ "$code" = "$want_exit" ] || fail "$name: exit $code, want $want_exit; stderr: $(cat "$work/err")"
  grep -q -- "$want_err" "$work/err" || fail "$name: stderr lacks '$want_err': $(cat "$work/err")"
  if [ "$want_exit" = 0 ]; then
    [ "$("$dir/pctx" version)" = "pctx v0.1.0" ] || fail "$name: installed binary reports $("$dir/pctx" version)"
  elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    fail "$name: refused install left files: $(ls -A "$dir")"
  fi
  echo "ok: $name"
}
[ "$host" = linux/amd64 ] || [ "$host" = linux/arm64 ] || [ "$host" = darwin/amd64 ] || [ "$host" = darwin/arm64 ] \
  || fail "install.sh tests need a unix host"
serve "$work/a"
run_install good 0 "installed pctx v0.1.0"

bad=$work/bad; cp -r "$work/a" "$bad"
archive=pctx-${host%/*}-${host#*/}.tar.gz
printf 'X' | dd of="$bad/$archive" bs=1 seek=100 conv=notrunc status=none
serve "$bad"
run_install corrupted 1 "checksum mismatch"

grep -v "$archive" "$work/a/SHA256SUMS" >"$bad/SHA256SUMS"
cp "$work/a/$archive" "$bad/$archive"
run_install unlisted 1 "not listed in SHA256SUMS"

# A foreign OS (a fake uname reporting Windows): the right archive is chosen, verified, and
# refused because it cannot run here.
mkdir "$work/fakebin"
printf '#!/bin/sh\ncase $1 in -s) echo MINGW64_NT-10.0;; -m) echo x86_64;; esac\n' >"$work/fakebin/uname"
chmod +x "$work/fakebin/uname"
serve "$work/a"
run_install foreign 1 "does not run on this machine" PATH="$work/fakebin:$PATH"
grep -q 'GET /pctx-windows-amd64.zip' "$work/http.log" || fail "foreign: windows archive not requested"

echo "== npm"
case $host in
  linux/amd64) npm_platform=linux-x64 ;; linux/arm64) npm_platform=linux-arm64 ;;
  darwin/amd64) npm_platform=darwin-x64 ;; darwin/arm64) npm_platform=darwin-arm64 ;;
esac
proj=$work/npm-project
mkdir "$proj"
echo '{"name":"t","version":"1.0.0","private":true}' >"$proj/package.json"
npmc=(--offline --no-audit --no-fund --cache "$work/npm-cache")
(cd "$proj" && npm install "${npmc[@]}" "$work/a/npm/pctx-0.1.0.tgz" "$work/a/npm/pctx-dev-pctx-$npm_platform-0.1.0.tgz") \
  || fail "npm install of the tarballs"
got=$(cd "$proj" && npx "${npmc[@]}" pctx version) || fail "npx pctx version"
[ "$got" = "pctx v0.1.0" ] || fail "npx pctx version printed '$got'"
echo "ok: npx pctx version"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
# stdin closes after the request: pctx must answer, then exit (timeout only catches a hang).
got=$(cd "$proj" && echo "$init" | timeout 120 npx "${npmc[@]}" pctx start --stdio --http 127.0.0.1:0 2>"$work/npx.err") \
  || fail "npx pctx start --stdio: $(tail -5 "$work/npx.err")"
case $got in *'"serverInfo":{"name":"pctx","version":"v0.1.0"}'*) ;; *) fail "stdio initialize answered: $got" ;; esac
echo "ok: npx pctx start --stdio answers initialize and exits on EOF"

echo "== windows: go vet ./..."
GOOS=windows $GO vet ./...
echo "ok: windows vet"
echo "test-dist: all passed"
