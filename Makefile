# The two commands of the README. Both install what they need first (deploy/local/setup.sh).
.PHONY: run test test-faults setup lint contracts clean

PY := .venv/bin/python

setup:
	@bash deploy/local/setup.sh

run: setup
	@$(PY) deploy/local/run.py

test: setup
	@bash tests/run_all.sh

# Holders' journeys while services, the broker, Redis and SMTP fail (docs/faults.md); a few minutes.
test-faults: setup
	.venv/bin/pytest -p no:cacheprovider -s tests/faults

lint: setup
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/mypy

# Regenerate the committed JSON Schemas and AsyncAPI documents after changing an event.
contracts: setup
	$(PY) scripts/generate_contracts.py

clean:
	-$(PY) deploy/local/stack.py down
	rm -rf var
