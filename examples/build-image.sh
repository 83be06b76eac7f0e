#!/usr/bin/env bash
# Builds the image pidwarden:local (for compose.yaml) without any registry: a root filesystem
# holding dist/pidwarden and the shared libraries `ldd` lists for it, brought in with
# `docker import`.  Nothing else is in the image: no shell, no package manager.
#
#   examples/build-image.sh [BINARY] [TAG]      (defaults: dist/pidwarden, pidwarden:local)
#
# Uses DOCKER_HOST like the docker CLI.  Skips the import when TAG already holds this binary
# (label pidwarden.binary.sha256).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/dist/pidwarden}"
TAG="${2:-pidwarden:local}"
[[ -x "$BIN" ]] || { echo "build-image: $BIN missing (npm run build)" >&2; exit 1; }

sum="$(sha256sum "$BIN" | cut -d' ' -f1)"
if [[ "$(docker image inspect -f '{{index .Config.Labels "pidwarden.binary.sha256"}}' "$TAG" 2>/dev/null || true)" == "$sum" ]]; then
  echo "build-image: $TAG is up to date" >&2
  docker image inspect -f '{{.Id}}' "$TAG"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/var/log/pidwarden" \
  "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/host/sys/fs/cgroup"
chmod 1777 "$rootfs/tmp"
cp "$BIN" "$rootfs/usr/local/bin/pidwarden"
# the dynamic loader and libraries, at the paths the binary asks for
for lib in $(ldd "$BIN" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"

tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/pidwarden"]' \
  --change 'CMD ["monitor"]' \
  --change "LABEL pidwarden.binary.sha256=$sum" \
  - "$TAG"
