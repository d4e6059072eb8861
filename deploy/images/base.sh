#!/usr/bin/env bash
# The local base image, made from Debian 12 packages with mmdebstrap (no image registry is needed):
# what python:3.11-slim-bookworm plus the Dockerfile's apt-get lines provide (base-packages.txt).
# The apt sources are the machine's own (/etc/apt/sources.list*), read now, never written in the repo.
# Prints the image reference. Skipped when an image built from the same inputs already exists.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/env.sh"

sources=()
[ -s /etc/apt/sources.list ] && grep -qE '^[[:space:]]*deb ' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || { echo "[images] no apt source configured in /etc/apt/sources.list*" >&2; exit 1; }

packages=$(grep -vE '^\s*(#|$)' "$HERE/base-packages.txt" | paste -sd, -)
digest=$(cat "$HERE/base.sh" "$HERE/base-packages.txt" "${sources[@]}" | sha256sum | cut -c1-12)
ref="localhost/mcf/base:bookworm-$digest"

if podman image exists "$ref"; then
  echo "[images] base image $ref is up to date" >&2
else
  echo "[images] building $ref from Debian 12 packages (mmdebstrap, sources: ${sources[*]})" >&2
  start=$(date +%s)
  # --variant=apt: Essential packages + apt, then only the listed ones, without recommends.
  # Documentation and translations are left out (copyright files kept); apt lists are cleaned by mmdebstrap.
  mmdebstrap --quiet --mode=root --variant=apt --format=tar \
    --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm - "${sources[@]}" \
  | podman import --quiet \
      --change 'ENV LANG=C.UTF-8' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'LABEL org.opencontainers.image.description="mcf base: Debian 12, python3.11, tini, captcha tools"' \
      --change 'CMD ["/usr/bin/python3"]' \
      - "$ref" >/dev/null
  echo "[images] base image built in $(( $(date +%s) - start )) s" >&2
fi
podman tag "$ref" localhost/mcf/base:bookworm
echo "$ref"
