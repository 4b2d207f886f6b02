#!/usr/bin/env bash
# Runs the CrewAI adapter tests and the CrewAI example in a venv of their own (default
# .cache/venv-crewai at the repository root). CrewAI is not in the dev extra: current
# CrewAI pins mcp<2 and openai<3, which conflict with the test fixtures' mcp 2 and with
# current openai-agents.
# Needs the pctx binary and server-everything as the other integration tests do
# (PCTX_BIN, PCTX_NPM_BIN). `--install` only makes the venv (make deps); other arguments
# go to pytest.
set -euo pipefail
sdk="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$sdk/../.." && pwd)"
venv="${PCTX_CREWAI_VENV:-$repo/.cache/venv-crewai}"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
if [ ! -f "$venv/.stamp" ] || [ "$sdk/pyproject.toml" -nt "$venv/.stamp" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -e "$sdk[crewai]" \
    "pytest>=8.3" "pytest-asyncio>=1.0" "pytest-timeout>=2.3"
  touch "$venv/.stamp"
fi
if [ "${1:-}" = "--install" ]; then
  exit 0
fi
cd "$sdk"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning \
  tests/adapters/test_crewai.py "tests/adapters/test_examples.py::test_example[crewai_crew.py]" "$@"
