# Sourced by the image scripts: the project's own podman configuration, written under var/containers/.
# shellcheck shell=bash
MCF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MCF_CONTAINERS="$MCF_ROOT/var/containers"
mkdir -p "$MCF_CONTAINERS/tmp"
for conf in containers storage; do
  sed "s|@ROOT@|$MCF_ROOT|g" "$MCF_ROOT/deploy/images/$conf.conf.in" > "$MCF_CONTAINERS/$conf.conf.tmp"
  mv "$MCF_CONTAINERS/$conf.conf.tmp" "$MCF_CONTAINERS/$conf.conf"
done
export CONTAINERS_CONF="$MCF_CONTAINERS/containers.conf"
export CONTAINERS_STORAGE_CONF="$MCF_CONTAINERS/storage.conf"
