#!/usr/bin/env bash
# Offline tests of the release path (make test-dist; make deps fetches what they need first):
#  1. tsgo: the pinned tarballs verify; a corrupted one is refused and deleted.
#  2. reproducibility: scripts/dist.sh for two targets (the host's and windows/amd64, which
#     is also CI's Windows build of the command), then again from a copy of the tree at
#     another path; SHA256SUMS (archives, npm packages, wheels) must be identical, and every
#     artifact carries tsgo beside pctx. (`make dist` builds all six targets; building two
#     twice keeps CI's cost modest.)
#  3. install.sh against a local HTTP server serving that output: installs pctx and tsgo/
#     and runs them, updates an install, keeps a tsgo/ that is not ours; refuses a corrupted
#     archive, an archive missing from SHA256SUMS, and a binary that cannot run here,
#     leaving nothing installed.
#  4. npm: the packed tarballs (main + this platform's) install offline into an empty
#     project with an empty npm cache; `npx pctx version`, an MCP initialize over
#     `npx pctx start --stdio` (what a Claude Desktop config runs), tsgo in the package.
#  5. pip: this platform's wheel installs offline into a fresh venv: pctx on PATH, an
#     execution, tsgo under lib/pctx/, a clean uninstall; and pctx-client[server] (the SDK's
#     wheel built offline) pulls the wheel in.
#  6. go install github.com/pctx-dev/pctx@latest from a file:// module proxy holding this
#     tree at a pseudo-version and its dependencies from the module cache: no replace
#     directives, and the installed binary reports that version and runs an execution (in a
#     sandbox worker, so it re-executes itself).
#  7. docker: both Dockerfile targets (scripts/test-docker.sh; skipped without a daemon).
#  8. the Windows build of every package and test (GOOS=windows go vet ./...).
# Where the tree has the type checker (internal/typecheck), each installed pctx must also
# find its tsgo and refuse an ill-typed program.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
export TSGO_CACHE=${TSGO_CACHE:-$root/.cache/tsgo}
WHEELHOUSE=${WHEELHOUSE:-$root/.cache/wheelhouse}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true # the Go module cache is read-only
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
section() { echo "== $* ($(date +%T))"; }

host=$($GO env GOOS)/$($GO env GOARCH)
targets="$host windows/amd64"
[ "$host" = windows/amd64 ] && targets="$host linux/amd64"
export VERSION=v0.1.0 SOURCE_DATE_EPOCH=1767225600 DIST_TARGETS="$targets"
case $host in
  linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64) ;;
  *) fail "the release tests need a Linux or macOS host" ;;
esac
exe_tsgo=tsgo

# The installed binaries must find tsgo where the release put it, not through the
# developer's environment: no $PCTX_TSGO, and a PATH with node and the system only.
unset PCTX_TSGO
node_dir=$(dirname "$(command -v node)")
clean_path=$node_dir:/usr/bin:/bin
PATH=$clean_path command -v tsgo >/dev/null && fail "a tsgo on $clean_path would hide where pctx finds its own"
printf 'const n: number = "two";\nexport {};\n' >"$work/bad.ts"
has_typecheck=false
[ -d internal/typecheck ] && has_typecheck=true

# tsgo_works DIR: the tsgo in DIR runs with its lib files and finds a type error.
tsgo_works() {
  local out
  [ -x "$1/$exe_tsgo" ] || fail "no executable $1/$exe_tsgo"
  [ -f "$1/lib.es2022.d.ts" ] || fail "$1 lacks the lib.*.d.ts files"
  if out=$("$1/$exe_tsgo" --noEmit --lib es2022 "$work/bad.ts" 2>&1); then fail "$1/$exe_tsgo accepted an ill-typed file"; fi
  case $out in *TS2322*) ;; *) fail "$1/$exe_tsgo: $out" ;; esac
}
# checks_types NAME CMD...: pctx run by CMD finds its tsgo and refuses an ill-typed program.
checks_types() {
  local name=$1 out; shift
  $has_typecheck || return 0
  if out=$(env PATH="$clean_path" "$@" exec -e 'const n: number = "two"; return n' 2>&1); then
    fail "$name: pctx ran an ill-typed program (did it find its tsgo?): $out"
  fi
  case $out in *TS2322*) ;; *) fail "$name: pctx exec of an ill-typed program: $out" ;; esac
}

section "tsgo pin"
lock_version=$(awk '$1 == "version" { print $2 }' packaging/tsgo/tsgo.lock)
if grep -q '@typescript/native-preview@' Makefile; then
  grep -q "@typescript/native-preview@$lock_version" Makefile \
    || fail "Makefile's tsgo for tests is not packaging/tsgo/tsgo.lock's $lock_version (the one shipped)"
fi
host_tgz=$(scripts/fetch-tsgo.sh "$host")
mkdir "$work/tsgo-cache"
cp "$host_tgz" "$work/tsgo-cache/"
printf 'X' | dd of="$work/tsgo-cache/$(basename "$host_tgz")" bs=1 seek=1000 conv=notrunc status=none
if out=$(TSGO_CACHE=$work/tsgo-cache scripts/fetch-tsgo.sh "$host" 2>&1); then fail "a corrupted tsgo tarball was accepted: $out"; fi
case $out in *"refused"*) ;; *) fail "corrupted tsgo tarball: $out" ;; esac
[ ! -e "$work/tsgo-cache/$(basename "$host_tgz")" ] || fail "the corrupted tsgo tarball was kept"
echo "ok: tsgo $lock_version verified; a corrupted tarball refused and deleted"

section "reproducibility ($targets, built twice)"
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
[ "$(grep -c ' pypi/pctx-0\.1\.0-py3-none-.*\.whl$' "$work/a/SHA256SUMS")" = 2 ] || fail "SHA256SUMS lacks the wheels"
(cd "$work/a" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the files"
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  if [ "$os" = windows ]; then
    list=$(unzip -Z1 "$work/a/pctx-$os-$arch.zip") want="pctx.exe tsgo/tsgo.exe"
  else
    list=$(tar -tzf "$work/a/pctx-$os-$arch.tar.gz") want="pctx tsgo/tsgo"
  fi
  for f in $want README.md tsgo/lib.d.ts tsgo/LICENSE tsgo/NOTICE.txt; do
    grep -qx "$f" <<<"$list" || fail "pctx-$os-$arch archive lacks $f"
  done
done
echo "ok: identical SHA256SUMS; every archive carries tsgo/ beside pctx"

section "install.sh"
serve() { # serve DIR: a static HTTP server on 127.0.0.1, ephemeral port; sets base
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  : >"$work/http.log"
  "$PYTHON" -u -m http.server 0 --bind 127.0.0.1 --directory "$1" >>"$work/http.log" 2>&1 &
  server_pid=$!
  port=
  for _ in $(seq 600); do # a minute: only a hang fails
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "http.server did not start: $(cat "$work/http.log")"
  base=http://127.0.0.1:$port
}
# run_install NAME WANT_EXIT WANT_STDERR [env...]: one install.sh case into $work/install-NAME.
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
serve "$work/a"
run_install good 0 "installed pctx v0.1.0 with tsgo"
tsgo_works "$work/install-good/tsgo"
checks_types install.sh "$work/install-good/pctx"
# Again over it (an update): tsgo/ is replaced whole, nothing stale is left beside.
touch "$work/install-good/tsgo/stale.d.ts"
run_install good 0 "installed pctx v0.1.0 with tsgo"
[ ! -e "$work/install-good/tsgo/stale.d.ts" ] || fail "update: the old tsgo/ was not replaced"
[ -z "$(find "$work/install-good" -name '.*new*')" ] || fail "update: left temporary files"
# A tsgo that is not ours (a file of the user's) stays.
mkdir -p "$work/install-mine" && echo mine >"$work/install-mine/tsgo"
run_install mine 0 "is not from pctx: left as it is"
[ "$(cat "$work/install-mine/tsgo")" = mine ] || fail "mine: the user's tsgo was replaced"

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
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=

section "npm"
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
tsgo_works "$proj/node_modules/@pctx-dev/pctx-$npm_platform/bin/tsgo"
(cd "$proj" && checks_types npm npx "${npmc[@]}" pctx)
echo "ok: tsgo in @pctx-dev/pctx-$npm_platform"

section "pip"
wheel=$(ls "$work/a"/pypi/pctx-0.1.0-py3-none-*.whl | grep -v win_) || fail "no wheel for $host"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel" || fail "pip install $wheel"
[ "$("$work/venv/bin/pctx" version)" = "pctx v0.1.0" ] || fail "venv: pctx version printed '$("$work/venv/bin/pctx" version)'"
got=$("$work/venv/bin/pctx" exec -e 'return 1 + 1') || fail "venv: pctx exec"
[ "$got" = 2 ] || fail "venv: pctx exec printed '$got'"
# On PATH, as an activated venv (or uv tool's bin) has it.
[ "$(PATH="$work/venv/bin:$clean_path" pctx version)" = "pctx v0.1.0" ] || fail "venv: pctx not on the venv's PATH"
tsgo_works "$work/venv/lib/pctx/tsgo"
checks_types pip "$work/venv/bin/pctx"
"$work/venv/bin/pip" uninstall --quiet --disable-pip-version-check -y pctx || fail "pip uninstall pctx"
[ ! -e "$work/venv/bin/pctx" ] && [ -z "$(find "$work/venv/lib/pctx" -type f 2>/dev/null)" ] \
  || fail "pip uninstall left files: $(find "$work/venv/bin/pctx" "$work/venv/lib/pctx" -type f 2>/dev/null)"
echo "ok: pip install of $(basename "$wheel"): pctx on PATH, exec, tsgo; uninstalled clean"
# The SDK's server extra, offline: its wheel built from the tree, its dependencies and build
# backend from the wheelhouse (make deps), pctx from dist.
[ -d "$WHEELHOUSE" ] || fail "no wheelhouse at $WHEELHOUSE (make deps)"
"$work/venv/bin/pip" wheel --quiet --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" \
  --no-deps -w "$work/sdk-wheel" "$work/src/sdk/python" || fail "building the SDK's wheel offline"
"$PYTHON" -m venv "$work/venv-sdk"
sdk_wheel=$(ls "$work"/sdk-wheel/pctx_client-*.whl)
"$work/venv-sdk/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" \
  --find-links "$work/a/pypi" "pctx-client[server] @ file://$sdk_wheel" || fail "pip install pctx-client[server]"
[ "$("$work/venv-sdk/bin/pctx" version)" = "pctx v0.1.0" ] || fail "pctx-client[server] did not put pctx on PATH"
"$work/venv-sdk/bin/python" -c 'import pctx_client' || fail "pctx-client[server]: import pctx_client"
echo "ok: pip install pctx-client[server] brings pctx"

section "go install"
grep -q '^replace\|^[[:space:]]*replace[[:space:]]' go.mod && fail "go.mod has replace directives: go install ...@latest ignores them"
pseudo=$("$PYTHON" scripts/goproxy.py "$work/goproxy") || fail "building the module proxy"
# GOSUMDB=off: the proxy's dependencies come from the module cache, which `go mod download`
# checked against go.sum; a user's go install checks them against sum.golang.org, which an
# offline test cannot reach. -trimpath lets the build reuse the compile cache of the dist
# builds above, whose sources sit at other paths.
(cd "$work" && env GOPROXY="file://$work/goproxy" GOFLAGS="-mod=mod -trimpath" GOSUMDB=off \
  GOMODCACHE="$work/gomodcache" GOBIN="$work/gobin" GOTOOLCHAIN=local CGO_ENABLED=0 \
  "$GO" install github.com/pctx-dev/pctx@latest) 2>"$work/goinstall.err" \
  || fail "go install github.com/pctx-dev/pctx@latest: $(grep -v '^go: downloading' "$work/goinstall.err" | tail -5)"
[ "$("$work/gobin/pctx" version)" = "pctx $pseudo" ] || fail "go install: pctx version printed '$("$work/gobin/pctx" version)', want pctx $pseudo"
# (No tsgo comes with go install: pctx says so on stderr and runs the program unchecked.)
got=$("$work/gobin/pctx" exec -e 'return 1 + 1' 2>"$work/goexec.err") || fail "go install: pctx exec: $(cat "$work/goexec.err")"
[ "$got" = 2 ] || fail "go install: pctx exec printed '$got'"
echo "ok: go install github.com/pctx-dev/pctx@latest ($pseudo): version, exec"

section "docker"
scripts/test-docker.sh "$work/a"

section "windows: go vet ./..."
GOOS=windows $GO vet ./...
echo "ok: windows vet (the windows/amd64 build of the command is part of the reproducibility test)"
echo "test-dist: all passed ($(date +%T))"
