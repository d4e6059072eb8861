#!/usr/bin/env bash
# Installs everything the platform and its tests need on a fresh Debian machine of the `polyglot`
# kind: Debian packages, the Python virtual environment, MailDev (npm), the Kafka and OpenID Connect provider
# jars (Maven).
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WANT_NODE=${WANT_NODE:-1}

need_debs=()
for pkg in redis-server nginx espeak-ng sox libsox-fmt-base fonts-noto-color-emoji fonts-dejavu-core chromium \
           openjdk-17-jre-headless maven golang-go curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_debs+=("$pkg")
done
# The machine may ship java and mvn outside Debian's packages: don't install them twice.
if command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
  need_debs=("${need_debs[@]/openjdk-17-jre-headless}")
fi
command -v mvn >/dev/null && need_debs=("${need_debs[@]/maven}")
command -v go >/dev/null && need_debs=("${need_debs[@]/golang-go}")
command -v curl >/dev/null && need_debs=("${need_debs[@]/curl}")
need_debs=($(printf '%s\n' "${need_debs[@]}" | grep -v '^$' || true))
if [ ${#need_debs[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${need_debs[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_debs[@]}"
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "[setup] creating the Python environment (.venv)"
  [ -x .venv/bin/python ] || python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ "$WANT_NODE" = 1 ] && [ ! -f deploy/local/node_modules/.package-lock.json ]; then
  echo "[setup] installing MailDev and axe-core (npm)"
  (cd deploy/local && npm ci --no-audit --no-fund --loglevel=error)
fi

# Kafka broker jars from Maven Central, cached under var/cache.
.venv/bin/python -c "import sys; sys.path.insert(0, 'deploy/local'); import stack; from pathlib import Path; stack.kafka_libs(Path('var/cache').resolve())"
# The OpenID Connect provider playing FranceConnect (mock-oauth2-server jars), cached the same way.
.venv/bin/python -c "import sys; sys.path.insert(0, 'deploy/local'); import oidc_provider; from pathlib import Path; oidc_provider.libs(Path('var/cache').resolve())"
# Strimzi and KEDA CRD schemas for the offline manifest validation (Maven Central, Go module proxy).
bash deploy/k8s/fetch-schemas.sh >/dev/null
# kustomize itself, built from the Go module proxy, to check the test suite's own manifest renderer against it.
KUSTOMIZE_VERSION=v5.8.1
if [ ! -x "var/cache/kustomize-$KUSTOMIZE_VERSION/kustomize" ]; then
  echo "[setup] building kustomize $KUSTOMIZE_VERSION (Go module proxy)"
  GOBIN="$PWD/var/cache/kustomize-$KUSTOMIZE_VERSION" GOTOOLCHAIN=local GOFLAGS=-modcacherw \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
echo "[setup] done"
