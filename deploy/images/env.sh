# Sourced by the image scripts: the project's own podman configuration, written under var/containers/.
# Several podman commands may start at once (the tests do): each writes its own temporary file and renames
# it, so none reads a half-written configuration.
# shellcheck shell=bash
MCF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MCF_CONTAINERS="$MCF_ROOT/var/containers"
mkdir -p "$MCF_CONTAINERS/tmp"
for conf in containers storage; do
  wanted=$(sed "s|@ROOT@|$MCF_ROOT|g" "$MCF_ROOT/deploy/images/$conf.conf.in")
  if [ "$(cat "$MCF_CONTAINERS/$conf.conf" 2>/dev/null)" != "$wanted" ]; then
    tmp=$(mktemp "$MCF_CONTAINERS/$conf.conf.XXXXXX")
    printf '%s\n' "$wanted" > "$tmp"
    mv -f "$tmp" "$MCF_CONTAINERS/$conf.conf"
  fi
done
export CONTAINERS_CONF="$MCF_CONTAINERS/containers.conf"
export CONTAINERS_STORAGE_CONF="$MCF_CONTAINERS/storage.conf"
