#!/usr/bin/env bash
# The whole suite, as `make test` runs it: static checks, then unit, contract, integration, end-to-end
# and browser tests (pytest starts the real stack itself, on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy --strict"; mypy
echo "== architecture boundaries"; lint-imports
# Two workers: the tests on the shared stack on one, the fault suite (its own stack) and the unit tests on the
# other (root conftest.py groups them); most of each is waiting on sockets, not on the CPU.
echo "== pytest"; pytest -p no:cacheprovider -n 2 --dist loadgroup "$@"
