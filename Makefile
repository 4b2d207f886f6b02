# pctx — build, test and benchmark. `make test` installs everything the tests need into
# .cache/ (Go tools, npm MCP servers and TypeScript, the Python venv) and runs every test.

SHELL      := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO         ?= go
PYTHON     ?= python3
CACHE      := $(CURDIR)/.cache
BIN        := $(CACHE)/bin
NPM_DIR    := $(CACHE)/npm
VENV       := $(CACHE)/venv
PCTX       := $(BIN)/pctx
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
STATICCHECK_VERSION := v0.8.2
FUZZTIME   ?= 10s

# The published pctx-client (PyPI), newest and oldest 0.1.x, for the compatibility tests:
# each in its own venv so it never meets this repo's SDK of the same import name.
PCTX_CLIENT_LATEST := 0.4.5
PCTX_CLIENT_OLDEST := 0.1.0
COMPAT_VENVS := $(CACHE)/venv-pctx-client-latest $(CACHE)/venv-pctx-client-0.1

# FastMCP test peers for the compatibility tests (sdk/python/tests/compat): the published
# client's users write their servers with mcp 1.x's FastMCP, which mcp 2 dropped.
FASTMCP_VENV := $(CACHE)/venv-fastmcp
MCP_FASTMCP_VERSION := 1.30.0

# CrewAI and its adapter tests in a venv of their own: CrewAI pins mcp<2 and openai<3,
# which the dev venv's test fixtures and openai-agents outgrew (sdk/python/scripts/test-crewai.sh).
CREWAI_VENV := $(CACHE)/venv-crewai

# npm peers used by tests, pinned so a run is reproducible.
NPM_PACKAGES := \
	@modelcontextprotocol/server-everything@2026.8.31 \
	@modelcontextprotocol/server-memory@2026.8.31 \
	@modelcontextprotocol/server-filesystem@2026.8.31 \
	@modelcontextprotocol/sdk@1.32.2 \
	typescript@5.9.3 \
	@typescript/native-preview@7.0.0-dev.20260707.2

# What test-dist needs offline: the module cache (for go install), the pinned tsgo for the
# two targets it builds (make dist fetches the rest), and the SDK's dependencies and build
# backend as wheels, for installing pctx-client[server] into a fresh venv.
DIST_DEPS := $(CACHE)/.go-deps $(CACHE)/tsgo/.stamp $(CACHE)/wheelhouse/.stamp

export PCTX_BIN     := $(PCTX)
export PCTX_NPM_DIR := $(NPM_DIR)
export PCTX_TSC     := $(NPM_DIR)/node_modules/.bin/tsc
# tsgo, the TypeScript checker pctx runs before every program (npm's launcher; pctx
# resolves it to the platform's native binary). The pctx binaries tests start find it here.
export PCTX_TSGO    := $(NPM_DIR)/node_modules/.bin/tsgo
export PCTX_PYTHON  := $(VENV)/bin/python
export CONF_DIR     := $(CACHE)/conformance

.PHONY: all build run test test-fast deps deps-fast chromium lint go-test go-test-fast py-test py-test-fast py-test-compat conformance fuzz bench bench-quick dist test-dist docker clean

# Go modules of their own in this repository: the Go SDK must not drag pctx's
# dependencies into a worker's build, and the example worker builds against it.
GO_MODULES := . sdk/go examples/go-worker

all: build

build: $(PCTX)

$(PCTX): $(shell find . -name '*.go' -not -path './.cache/*') go.mod go.sum
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o $@ .

## run: serve MCP over HTTP on 127.0.0.1:8080 with built-in defaults (or ./pctx.toml).
run: build $(NPM_DIR)/.stamp
	$(PCTX) start

## test: install what tests need, then lint and run every Go and Python test.
test: deps lint go-test py-test conformance bench-quick fuzz test-dist

## test-fast: the edit loop: lint, Go tests without -race, our Python SDK's tests; no fuzz,
## no compatibility venvs, no conformance, no bench.
test-fast: deps-fast lint go-test-fast py-test-fast

deps: deps-fast $(addsuffix /.stamp,$(COMPAT_VENVS)) $(FASTMCP_VENV)/.stamp $(CREWAI_VENV)/.stamp $(DIST_DEPS)

deps-fast: $(CACHE)/.go-deps $(NPM_DIR)/.stamp $(VENV)/.stamp $(BIN)/staticcheck chromium

# Headless Chromium for the dashboard's browser test (internal/dashboard), from Debian's
# packages; CI runs as root. Elsewhere, without it, that test is skipped.
chromium:
	@command -v chromium >/dev/null 2>&1 || { 	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then 	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; 	  else echo "chromium not installed (apt-get install -y chromium): the dashboard browser test will be skipped"; fi; }

$(CACHE)/.go-deps: go.mod go.sum sdk/go/go.mod examples/go-worker/go.mod
	@mkdir -p $(CACHE)
	for m in $(GO_MODULES); do (cd $$m && $(GO) mod download); done
	@touch $@

$(BIN)/staticcheck:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(NPM_DIR)/.stamp: Makefile
	@mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error $(NPM_PACKAGES)
	@touch $@

$(VENV)/.stamp: sdk/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e 'sdk/python[dev]'
	@touch $@

$(CACHE)/venv-pctx-client-latest/.stamp: Makefile
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check "pctx-client[langchain,bm25s]==$(PCTX_CLIENT_LATEST)" pytest pytest-asyncio pytest-timeout
	@touch $@

$(CACHE)/venv-pctx-client-0.1/.stamp: Makefile
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check "pctx-client[langchain]==$(PCTX_CLIENT_OLDEST)" pytest pytest-asyncio pytest-timeout
	@touch $@

$(FASTMCP_VENV)/.stamp: Makefile
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check "mcp==$(MCP_FASTMCP_VERSION)"
	@touch $@

$(CACHE)/tsgo/.stamp: packaging/tsgo/tsgo.lock
	TSGO_CACHE=$(@D) scripts/fetch-tsgo.sh $$($(GO) env GOOS)/$$($(GO) env GOARCH) windows/amd64 >/dev/null
	@touch $@

$(CACHE)/wheelhouse/.stamp: sdk/python/pyproject.toml $(VENV)/.stamp
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --dest $(@D) hatchling ./sdk/python
	@touch $@

$(CREWAI_VENV)/.stamp: sdk/python/pyproject.toml
	PYTHON=$(PYTHON) PCTX_CREWAI_VENV=$(@D) sdk/python/scripts/test-crewai.sh --install

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	for m in $(GO_MODULES); do (cd $$m && $(GO) vet ./... && $(BIN)/staticcheck ./...); done
	$(VENV)/bin/ruff check sdk/python
	$(VENV)/bin/ruff format --check sdk/python
	cd sdk/python && $(VENV)/bin/mypy
	# The release scripts, under the SDK's rules.
	$(VENV)/bin/ruff check --config sdk/python/pyproject.toml packaging scripts
	$(VENV)/bin/ruff format --check --config sdk/python/pyproject.toml packaging scripts
	$(VENV)/bin/mypy --strict packaging/pypi/build_wheels.py scripts/goproxy.py

go-test: build
	for m in $(GO_MODULES); do (cd $$m && $(GO) test -race -count=1 ./...); done

go-test-fast: build
	for m in $(GO_MODULES); do (cd $$m && $(GO) test -count=1 ./...); done

py-test: py-test-fast py-test-compat $(CREWAI_VENV)/.stamp
	# Our SDK's public API against the published client's (must not skip here).
	cd sdk/python && PCTX_REQUIRE_PUBLISHED=1 PCTX_CLIENT_LATEST_VENV=$(CACHE)/venv-pctx-client-latest \
	  $(VENV)/bin/python -m pytest -q tests/test_published_api.py -p no:cacheprovider
	PCTX_CREWAI_VENV=$(CREWAI_VENV) sdk/python/scripts/test-crewai.sh

## py-test-compat: only the compatibility tests (tests/compat), with the published clients
## and with our SDK, each against a real pctx.
py-test-compat: build $(addsuffix /.stamp,$(COMPAT_VENVS)) $(FASTMCP_VENV)/.stamp $(VENV)/.stamp
	for v in $(COMPAT_VENVS) $(VENV); do \
	  (cd sdk/python && PCTX_FASTMCP_PYTHON=$(FASTMCP_VENV)/bin/python $$v/bin/python -m pytest -q tests/compat --confcutdir=tests/compat -p no:cacheprovider); \
	done

# tests/compat runs in py-test, once per client (published and ours), with its peers.
py-test-fast: build
	cd sdk/python && PCTX_CLIENT_LATEST_VENV=$(CACHE)/venv-pctx-client-latest $(VENV)/bin/python -m pytest -q --ignore=tests/compat

## conformance: the official MCP conformance suite, server and client scenarios (docs/conformance.md).
conformance: build
	GO=$(GO) scripts/conformance.sh

## fuzz: run every fuzz target briefly (FUZZTIME each) on top of its committed corpus.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: regenerate bench/REPORT.md and bench/report.json (tokens, workflows, latency, the
## peer @utcp/code-mode, Go benchmarks; ~2 min, plus ~1 min the first time to build the peer).
bench: deps build
	$(GO) run ./bench/cmd/report

## bench-quick: a ~10 s smoke run of the bench runner; its report goes to .cache/bench-quick.
bench-quick: deps build
	$(GO) run ./bench/cmd/report -quick -out $(CACHE)/bench-quick

## dist: release files for linux, darwin, windows x amd64, arm64 in dist/, each with tsgo
## beside pctx: archives, npm packages, Python wheels, SHA256SUMS; static, trimmed, stamped
## with VERSION, reproducible (scripts/dist.sh; fetches the pinned tsgo once, by npm).
dist:
	VERSION=$(VERSION) GO=$(GO) PYTHON=$(PYTHON) scripts/dist.sh

## test-dist: offline release-path tests (scripts/test-dist.sh): reproducible builds (two
## targets twice), install.sh against a local HTTP server, npm, pip, go install from a
## file:// module proxy, docker (skipped without a daemon), Windows go vet.
test-dist: $(DIST_DEPS)
	GO=$(GO) PYTHON=$(PYTHON) WHEELHOUSE=$(CACHE)/wheelhouse scripts/test-dist.sh

## docker: the container image `pctx` (Dockerfile) for this machine's CPU, from a linux dist
## build in dist/; --target node for the image with Node.js.
docker:
	DIST_TARGETS=linux/$$($(GO) env GOARCH) VERSION=$(VERSION) GO=$(GO) PYTHON=$(PYTHON) scripts/dist.sh
	docker build -f Dockerfile -t pctx dist

clean:
	rm -rf $(CACHE) dist
