# The two commands of the README. Both install what they need first (deploy/local/setup.sh).
.PHONY: run test test-faults setup lint contracts clean images test-containers bench-peers

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

# Container images from Debian 12 packages (no registry needed): podman, runc and mmdebstrap are installed
# first; a second run with nothing changed takes about a second (docs/deploy.md, "Images on this machine").
images:
	@nice -n 10 bash deploy/images/build.sh

# The dev overlay played by podman from those images, the journey through them (docs/deploy.md says why this
# is not part of `make test`).
test-containers: setup images
	@PATH="$(CURDIR)/.venv/bin:$$PATH" nice -n 10 pytest -p no:cacheprovider tests/containers

# Our platform and Keycloak side by side (bench/README.md): about 15 minutes; ARGS=--quick for a smoke run,
# ARGS=--profile for py-spy flame graphs of the services under sign-ups (bench/profiles/).
bench-peers: setup
	@nice -n 10 $(PY) bench/peers/run.py $(ARGS)

clean:
	-$(PY) deploy/local/stack.py down
	rm -rf var
