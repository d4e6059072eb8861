#!/usr/bin/env bash
# `make images`: the Debian packages podman needs (catatonit: the pods' pause process), the local base image (base.sh), then one image per service
# from deploy/docker/Dockerfile with that base as its PYTHON_IMAGE build argument. Layers are cached:
# a second run with nothing changed only checks them. Prints each image's size.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVICES=(registration captcha mailer rights)
TAG=${MCF_IMAGE_TAG:-dev}

need=()
for pkg in podman runc catatonit mmdebstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[images] installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if [ "$(id -u)" -ne 0 ]; then
  # vfs storage, runc and host networking as set up here are the rootful variant (docs/deploy.md).
  echo "[images] building images needs root on this machine kind: run \`sudo make images\`" >&2
  exit 1
fi

source deploy/images/env.sh
start=$(date +%s)
base=$(bash deploy/images/base.sh)
# pip in the build stage trusts the machine's CA bundle, as pip on the machine does (an egress proxy may
# re-sign TLS). Mounted for the RUN steps only; the argument's value is a path, not the certificates.
ca_args=()
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$host_ca" ]; then
  ca_args=(--volume "$host_ca:/run/host-ca/ca.crt:ro" --build-arg PIP_CERT=/run/host-ca/ca.crt)
fi
# Everything the build reads: the base, the Dockerfile, the allow-listed context (.dockerignore). With vfs,
# even a fully cached `podman build` copies each stage's files (~45 s per image), so an image is not rebuilt
# when its stamp (var/containers/built/<name>) holds this digest and the image's current id.
inputs=$( { echo "$base"; cat deploy/docker/Dockerfile .dockerignore;
            find pyproject.toml contracts eventing services -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
                 ! -path 'services/*/tests/*' -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
mkdir -p "$MCF_CONTAINERS/built"
rebuilt=0
for svc in "${SERVICES[@]}"; do
  ref="localhost/mcf/$svc:$TAG"
  stamp="$MCF_CONTAINERS/built/$svc-$TAG"
  id=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if [ -n "$id" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs $id" ]; then
    echo "[images] $ref is up to date"
    continue
  fi
  t0=$(date +%s)
  # --network host: RUN steps (pip from PyPI) use the machine's network, no bridge is set up.
  podman build --quiet --layers --network host \
    --build-arg "PYTHON_IMAGE=$base" "${ca_args[@]}" \
    -f deploy/docker/Dockerfile --target "$svc" -t "$ref" . >/dev/null
  echo "$inputs $(podman image inspect --format '{{.Id}}' "$ref")" > "$stamp"
  echo "[images] $ref built in $(( $(date +%s) - t0 )) s"
  rebuilt=1
done
if [ "$rebuilt" = 1 ]; then
  # vfs stores every layer as a full copy (~400 MB each): keep one generation, not every build's. This drops
  # the build stage's cache too, so the next source change installs the wheels again (about a minute).
  podman image prune --force >/dev/null
  for old in $(podman image ls --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/mcf/base:bookworm-' | grep -vx "$base"); do
    podman rmi "$old" >/dev/null || true
  done
  podman image prune --force >/dev/null
fi
echo "[images] done in $(( $(date +%s) - start )) s"
podman image ls --filter reference='localhost/mcf/*' --format '{{.Repository}}:{{.Tag}}\t{{.Size}}'
