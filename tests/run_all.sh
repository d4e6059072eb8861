#!/usr/bin/env bash
# The whole suite, as `make test` runs it: static checks, then unit, contract, integration, end-to-end
# and browser tests (pytest starts the real stack itself, on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy --strict"; mypy
echo "== architecture boundaries"; lint-imports
echo "== pytest"; pytest -p no:cacheprovider "$@"
