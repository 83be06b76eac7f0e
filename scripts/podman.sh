#!/usr/bin/env bash
# The private Podman engine of lane 2 (`podman-v1`, see scripts/test.sh): Debian's rootful
# podman serving its Docker-compatible API on a socket of this checkout, so that dist/pidwarden,
# the docker CLI and the lane tests talk to it exactly as to a dockerd.
#
#   scripts/podman.sh start    start (after stopping a leftover) and wait until it answers
#   scripts/podman.sh stop     remove every container, stop the services, unmount leftovers
#   scripts/podman.sh status   "up" / "down" (exit 0 / 1)
#
# Sourced by test.sh for start_podman / wait_podman / stop_podman (it sets PODMAN_SOCK and
# PODMAN_TCP). Only ever acts on the engine of this checkout (.tmp/podman): processes are found
# through our pid files AND their command lines, never by name.
#
# Isolation from a system Podman: every podman invocation gets --root, --runroot, --tmpdir of
# our own, and CONTAINERS_CONF / CONTAINERS_STORAGE_CONF point at our own files (never
# /etc/containers/*.conf or /var/lib/containers). Locks are files under our tmpdir
# (lock_type "file"): the default "shm" lock is ONE segment, /dev/shm/libpod_lock, shared by
# every rootful podman on the machine whatever its --root. Events go to a file (no journald in
# this sandbox), the network config dir is ours, containers run with --network none.
#
# Why the default ulimits: in this sandbox podman cannot raise rlimits past the service's own
# (`podman run` fails "setrlimit `RLIMIT_NOFILE`: operation not permitted" without
# `--ulimit nofile=1024:1024 --ulimit nproc=4096:4096`); containers created through the
# compat API (the docker CLI, the tests) get these defaults from containers.conf.
#
# The API is served twice: on a unix socket (the local-engine paths: /proc, cgroup fs) and on
# 127.0.0.1:<port> (the remote-engine paths: API stats, exec only), like the private dockerd.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PM_STATE="$ROOT/.tmp/podman"
declare -F log >/dev/null || log() { printf '[podman.sh] %s\n' "$*" >&2; }
declare -F fail >/dev/null || fail() { log "ERROR: $*"; exit 1; }

pm_pick_dirs() {
  mkdir -p "$PM_STATE"
  # Unix socket paths are limited to 108 bytes (see engine.sh): a short /tmp dir when needed.
  local rd=""
  [[ -f "$PM_STATE/rundir" ]] && rd="$(cat "$PM_STATE/rundir")"
  if [[ -n "$rd" && -d "$rd" ]]; then
    PM_RUN="$rd"
  elif [[ $((${#PM_STATE} + 40)) -le 100 ]]; then
    PM_RUN="$PM_STATE/run"
  else
    PM_RUN="$(mktemp -d /tmp/pwdp.XXXXXX)"
  fi
  mkdir -p "$PM_RUN" "$PM_STATE/root" "$PM_STATE/tmp" "$PM_STATE/net"
  echo "$PM_RUN" >"$PM_STATE/rundir"
  PODMAN_SOCK="$PM_RUN/podman.sock"
  [[ -s "$PM_STATE/tcp-port" ]] || echo $((30000 + RANDOM % 10000)) >"$PM_STATE/tcp-port"
  PODMAN_TCP="tcp://127.0.0.1:$(cat "$PM_STATE/tcp-port")"
  export CONTAINERS_CONF="$PM_STATE/containers.conf"
  export CONTAINERS_STORAGE_CONF="$PM_STATE/storage.conf"
  # podman also reads the user's ~/.config/containers/*.conf unless told otherwise
  export CONTAINERS_REGISTRIES_CONF="$PM_STATE/registries.conf"
  PM=(podman --root "$PM_STATE/root" --runroot "$PM_RUN/runroot" --tmpdir "$PM_STATE/tmp"
    --cgroup-manager cgroupfs --events-backend file)
}

pm_write_config() {
  cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_STATE/events.log"
lock_type = "file"
[network]
network_config_dir = "$PM_STATE/net"
EOF
  cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM_STATE/root"
runroot = "$PM_RUN/runroot"
EOF
  # no registry at all: images come from `docker import` (scripts/test-images.sh)
  printf 'unqualified-search-registries = []\n' >"$CONTAINERS_REGISTRIES_CONF"
}

# pid from a pid file, only if alive and its command line mentions MARK
pm_pid_from() { # pidfile mark
  local pid cmd
  [[ -f "$1" ]] || return 0
  pid="$(tr -dc '0-9' <"$1" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *"$2"* ]] && echo "$pid"
  return 0
}

pm_stop_pid() { # pid seconds
  local i
  kill -TERM "$1" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}

start_podman() {
  pm_pick_dirs
  stop_podman
  pm_write_config
  pm_write_cli
  : >"$PM_STATE/service.log"
  local what
  for what in unix tcp; do
    local uri="unix://$PODMAN_SOCK"
    [[ $what == tcp ]] && uri="$PODMAN_TCP"
    # setsid: Ctrl-C must reach test.sh, not the engine (it is stopped in order)
    setsid "${PM[@]}" system service --time=0 "$uri" >>"$PM_STATE/service.log" 2>&1 </dev/null &
    echo $! >"$PM_STATE/service-$what.pid"
  done
}

# $PM_STATE/podman-cli: the podman CLI on this engine (our --root, --runroot, configs), for
# what the Docker API cannot do (pods: test/lanes/layouts.test.ts gets it as PIDWARDEN_TEST_PODMAN_CLI).
pm_write_cli() {
  {
    echo '#!/bin/bash'
    printf 'export CONTAINERS_CONF=%q CONTAINERS_STORAGE_CONF=%q CONTAINERS_REGISTRIES_CONF=%q\n' \
      "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_REGISTRIES_CONF"
    printf 'exec'
    printf ' %q' "${PM[@]}"
    echo ' "$@"'
  } >"$PM_STATE/podman-cli"
  chmod 755 "$PM_STATE/podman-cli"
}

wait_podman() {
  local deadline=$(($(date +%s) + ${PIDWARDEN_TEST_ENGINE_TIMEOUT:-60}))
  until DOCKER_HOST="unix://$PODMAN_SOCK" docker version >/dev/null 2>&1 &&
    DOCKER_HOST="$PODMAN_TCP" docker version >/dev/null 2>&1; do
    if [[ $(date +%s) -ge $deadline ]]; then
      tail -n 30 "$PM_STATE/service.log" >&2
      fail "private podman did not answer on $PODMAN_SOCK and $PODMAN_TCP (log: $PM_STATE/service.log)"
    fi
    sleep 0.2
  done
}

stop_podman() {
  [[ -n "${PM_RUN:-}" ]] || pm_pick_dirs
  local what pid m any=0
  for what in unix tcp; do
    pid="$(pm_pid_from "$PM_STATE/service-$what.pid" "$PM_STATE/root")"
    [[ -n "$pid" ]] && any=1
  done
  # containers (also those of a killed service: they are in our storage, with their conmon)
  if [[ -d "$PM_STATE/root/libpod" || $any -eq 1 ]]; then
    timeout 60 "${PM[@]}" rm -a -f -t 0 >/dev/null 2>&1 || log "podman rm -a -f failed"
  fi
  for what in unix tcp; do
    pid="$(pm_pid_from "$PM_STATE/service-$what.pid" "$PM_STATE/root")"
    [[ -n "$pid" ]] && pm_stop_pid "$pid" 20
    rm -f "$PM_STATE/service-$what.pid"
  done
  # conmon of every exec outlives it by --exit-delay 300 s (measured: podman 4.3.1 passes it to
  # each exec's conmon), and `rm -a -f` does not stop those: ours mention our storage.
  local f cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd="$(tr '\0' ' ' 2>/dev/null <"$f" || true)"
    [[ "$cmd" == *conmon*" $PM_STATE/root/overlay-containers/"* ]] || continue
    pid="${f#/proc/}" && pid="${pid%/cmdline}"
    kill -KILL "$pid" 2>/dev/null || true
  done
  # overlay mounts left by an interrupted run, deepest first
  for m in $(awk -v a="$PM_STATE/" -v b="$PM_RUN/" \
    'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
  rm -f "$PODMAN_SOCK"
}

podman_main() {
  set -euo pipefail
  [[ $(id -u) -eq 0 ]] || fail "must run as root"
  command -v podman >/dev/null || fail "podman is not installed (apt-get install podman)"
  case "${1:-}" in
    start)
      start_podman
      wait_podman
      log "podman up: DOCKER_HOST=unix://$PODMAN_SOCK (also $PODMAN_TCP)"
      ;;
    stop) stop_podman ;;
    status)
      pm_pick_dirs
      if DOCKER_HOST="unix://$PODMAN_SOCK" docker version >/dev/null 2>&1; then echo up; else echo down; exit 1; fi
      ;;
    *)
      echo "usage: $0 start|stop|status" >&2
      exit 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  podman_main "$@"
fi
