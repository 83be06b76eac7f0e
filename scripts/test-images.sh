#!/usr/bin/env bash
# Builds the pidwarden test images with `docker import` from root filesystems
# assembled here out of the host's Debian packages (no registry involved).
#
#   pidwarden-test/busybox  Debian's static BusyBox + one symlink per applet
#                           (`busybox --list-full`); /bin/sh is BusyBox ash
#   pidwarden-test/toybox   Debian's toybox 0.8.9 + the libraries ldd lists,
#                           one symlink per applet in /bin; no shell at all
#   pidwarden-test/procps   procps-ng ps/kill/top/pgrep/pkill + libraries (libproc2 ...),
#                           dash as /bin/sh, coreutils cat/env/sleep/ls, terminfo,
#                           C.utf8 locale; usr-merged layout (/bin -> usr/bin)
#   pidwarden-test/nops     no ps, no kill, no cat, no shell: only the workload
#   pidwarden-test/hangps   the BusyBox image whose `ps` never returns (a script that sleeps),
#                           like a ps stuck in a container at its pids limit
#
# Every image: the workload as /usr/local/bin/node (+ /usr/local/lib/fakeproc/{dash,sh}),
# /app (WORKDIR) with dist/index.js and a /app/fakenode symlink, /etc/passwd with
# root, nobody, node (1000), metamcp-worker (1001);
# ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,
# ENTRYPOINT ["node"], CMD ["dist/index.js"] (so PID 1 is `node dist/index.js`).
#
# Idempotent and fast: the rootfs tarball is built reproducibly and its sha256
# is stored as the image label pidwarden.test.rootfs; an image whose label
# matches is not imported again.
#
# Usage: DOCKER_HOST=unix:///path/to/private.sock scripts/test-images.sh [NAME...]
# Refuses to run without DOCKER_HOST / PIDWARDEN_TEST_DOCKER_HOST (never the
# default engine).
#   --tar-only NAME...     only build .tmp/images/NAME/rootfs.tar (no engine needed)
#   --import-only NAME...  only import those tarballs, built before by --tar-only
# The VM lanes (scripts/vm-lane.sh) build the tarballs on the host and import them
# in the guest: assembling a rootfs there costs ~400 s (one ln exec per applet
# under QEMU's TCG), importing it ~10 s.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=all
case "${1:-}" in --tar-only | --import-only) MODE=${1#--}; shift ;; esac
export DOCKER_HOST="${PIDWARDEN_TEST_DOCKER_HOST:-${DOCKER_HOST:-}}"
if [[ -z "$DOCKER_HOST" && "$MODE" != tar-only ]]; then
  echo "test-images: set PIDWARDEN_TEST_DOCKER_HOST (or DOCKER_HOST) to the private engine" >&2
  exit 2
fi

WORK="$ROOT/.tmp/images"
mkdir -p "$WORK"
FAKENODE=""
[[ "$MODE" == import-only ]] || FAKENODE="$(bash "$ROOT/scripts/build-workload.sh")"
IMG_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LIBDIR=x86_64-linux-gnu

log() { printf '[test-images] %s\n' "$*" >&2; }

# --- helpers ---------------------------------------------------------------

# copy FILE (dereferenced) to ROOTFS/DEST, creating parents
put() { # rootfs src dest [mode]
  local r="$1" src="$2" dest="$3"
  mkdir -p "$r/$(dirname "$dest")"
  cp -L "$src" "$r/$dest"
  [[ -n "${4:-}" ]] && chmod "$4" "$r/$dest"
  return 0
}

# shared libraries ldd lists for the given binaries (absolute paths, unique)
libs_of() {
  local b
  for b in "$@"; do
    ldd "$b" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'
  done | sort -u
}

# absolute path of a host executable (never a shell builtin)
host_bin() {
  local d
  for d in /usr/bin /bin /usr/sbin /sbin; do
    [[ -x "$d/$1" && ! -d "$d/$1" ]] && { echo "$d/$1"; return 0; }
  done
  log "host executable $1 not found"
  exit 1
}

common() { # rootfs
  local r="$1"
  mkdir -p "$r"/{etc,tmp,root,proc,sys,dev,app/dist,usr/local/bin,usr/local/lib/fakeproc}
  chmod 1777 "$r/tmp"
  chmod 700 "$r/root"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
metamcp-worker:x:1001:1001:MetaMCP worker:/home/metamcp-worker:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
node:x:1000:
metamcp-worker:x:1001:
nogroup:x:65534:
EOF
  echo metamcp >"$r/etc/hostname"
  # the workload: a regular file named node, plus the fake sh (sh -> dash)
  cp "$FAKENODE" "$r/usr/local/bin/node"
  chmod 755 "$r/usr/local/bin/node"
  ln "$r/usr/local/bin/node" "$r/usr/local/lib/fakeproc/dash"
  ln -s dash "$r/usr/local/lib/fakeproc/sh"
  ln -s /usr/local/bin/node "$r/app/fakenode"
  cp "$ROOT/test/workload/fakenode.c" "$r/app/fakenode.c"
  printf '// stand-in for the MetaMCP app; PID 1 is the fakenode workload (see /app/fakenode.c)\n' \
    >"$r/app/dist/index.js"
  printf '{"name":"metamcp-stand-in","private":true,"main":"dist/index.js"}\n' >"$r/app/package.json"
}

rootfs_busybox() {
  local r="$1" bb p
  bb="$(host_bin busybox)"
  if [[ "$(ldd "$bb" 2>&1 || true)" != *"not a dynamic executable"* ]]; then
    log "$bb is not the static BusyBox (apt-get install busybox-static)"
    exit 1
  fi
  common "$r"
  put "$r" "$bb" bin/busybox 755
  while read -r p; do
    [[ -z "$p" || "$p" == bin/busybox ]] && continue
    mkdir -p "$r/$(dirname "$p")"
    [[ -e "$r/$p" || -L "$r/$p" ]] || ln -s /bin/busybox "$r/$p"
  done < <("$bb" --list-full)
}

rootfs_toybox() {
  local r="$1" tb a l
  tb="$(host_bin toybox)"
  common "$r"
  put "$r" "$tb" usr/bin/toybox 755
  for l in $(libs_of "$tb"); do put "$r" "$l" "${l#/}"; done
  mkdir -p "$r/bin"
  for a in $("$tb"); do
    [[ "$a" == toybox ]] && continue
    [[ -e "$r/bin/$a" || -L "$r/bin/$a" ]] || ln -s /usr/bin/toybox "$r/bin/$a"
  done
}

rootfs_procps() {
  local r="$1" b l bins=()
  common "$r"
  mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib/$LIBDIR" "$r/usr/lib64"
  ln -s usr/bin "$r/bin"
  ln -s usr/sbin "$r/sbin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  for b in ps kill top pgrep pkill dash cat env sleep ls; do bins+=("$(host_bin "$b")"); done
  for b in "${bins[@]}"; do put "$r" "$b" "usr/bin/$(basename "$b")" 755; done
  ln -s dash "$r/usr/bin/sh"
  for l in $(libs_of "${bins[@]}"); do
    case "$l" in
      /lib64/* | /usr/lib64/*) put "$r" "$l" "usr/lib64/$(basename "$l")" ;;
      *) put "$r" "$l" "usr/lib/$LIBDIR/$(basename "$l")" ;;
    esac
  done
  # terminfo (ncurses-base) and the C.utf8 locale, as in a Debian slim image
  if [[ -d /usr/lib/terminfo || -d /lib/terminfo ]]; then
    mkdir -p "$r/usr/lib/terminfo"
    cp -a "$(readlink -f /lib/terminfo)/." "$r/usr/lib/terminfo/"
  fi
  if [[ -d /usr/lib/locale/C.utf8 ]]; then
    mkdir -p "$r/usr/lib/locale"
    cp -a /usr/lib/locale/C.utf8 "$r/usr/lib/locale/"
  fi
}

rootfs_nops() {
  common "$1"
}

rootfs_hangps() {
  local r="$1"
  rootfs_busybox "$r"
  rm -f "$r/bin/ps"
  # a ps that never answers: it sleeps until it is killed; each call leaves a line in /tmp/ps-calls
  printf '#!/bin/sh\necho "$$" >>/tmp/ps-calls\nexec sleep 86400\n' >"$r/bin/ps"
  chmod 755 "$r/bin/ps"
}

build_one() { # name
  local name="$1" tag="pidwarden-test/$1" dir="$WORK/$1" sum have
  if [[ "$MODE" != import-only ]]; then
    rm -rf "$dir"
    mkdir -p "$dir/rootfs"
    "rootfs_$name" "$dir/rootfs"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
      -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
    rm -rf "$dir/rootfs"
  fi
  [[ "$MODE" != tar-only ]] || return 0
  [[ -f "$dir/rootfs.tar" ]] || { log "$dir/rootfs.tar missing (build it with --tar-only)"; exit 1; }
  sum="$(sha256sum "$dir/rootfs.tar" | cut -c1-64)"
  have="$(docker image inspect -f '{{index .Config.Labels "pidwarden.test.rootfs"}}' "$tag" 2>/dev/null || true)"
  if [[ "$have" == "$sum" ]]; then
    log "$tag up to date (${sum:0:12})"
  else
    docker import \
      -c "ENV PATH=$IMG_PATH" \
      -c 'WORKDIR /app' \
      -c 'ENTRYPOINT ["node"]' \
      -c 'CMD ["dist/index.js"]' \
      -c "LABEL pidwarden.test.rootfs=$sum" \
      -m "pidwarden test image $name" \
      "$dir/rootfs.tar" "$tag" >/dev/null
    log "$tag imported (${sum:0:12}, $(du -h "$dir/rootfs.tar" | cut -f1))"
  fi
}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(busybox toybox procps nops hangps)
for n in "${names[@]}"; do
  case "$n" in
    busybox | toybox | procps | nops | hangps) build_one "$n" ;;
    *) log "unknown image $n"; exit 2 ;;
  esac
done
