#!/usr/bin/env bash
# `npm test`: builds everything and runs `bun test` against a private,
# throw-away Docker engine that cannot touch anybody else's.
#
#   npm test                       # whole suite
#   npm test -- test/unit          # extra arguments go to `bun test`
#   PIDWARDEN_TEST_KEEP_ENGINE=1   # leave the engine running at exit (debugging)
#
# Steps: install missing Debian packages -> stop a leftover private engine of
# an interrupted run -> start our own containerd + dockerd (in the background)
# -> build the workload and dist/pidwarden -> wait for the engine -> build the
# test images -> bun test.  On exit (also on Ctrl-C / SIGTERM) every container
# is removed, dockerd and containerd are stopped and waited for, and leftover
# mounts are unmounted.  Exit status: bun test's.
#
# Isolation of the private engine: own containerd (own config, root, state and
# socket: dockerd would otherwise silently use a system containerd running on
# /run/containerd/containerd.sock), dockerd with its own --data-root,
# --exec-root, -H unix://<our socket>, --pidfile, --config-file and key file,
# --bridge=none --iptables=false --ip-masq=false --ip6tables=false, and every
# test container runs with --network none.  Logs go to .tmp/dockerd/*.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="$ROOT/.tmp/dockerd"      # logs, pid files, data-root, configs
DATA="$STATE/data"
T0=$(date +%s)

log() { printf '[test.sh +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (a private dockerd needs it)"
mkdir -p "$STATE"

# ---------------------------------------------------------------- packages
ensure_packages() {
  local want=(docker.io containerd runc tini busybox-static toybox procps dash coreutils
    gcc libc6-dev tar) missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing missing packages: ${missing[*]}"
  # keep package maintainer scripts from starting a system dockerd/containerd
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local rc=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >"$STATE/apt.log" 2>&1 || rc=$?
  [[ $made_policy -eq 1 ]] && rm -f "$policy"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 "$STATE/apt.log" >&2
    fail "apt-get failed (full log: $STATE/apt.log)"
  fi
}

# ------------------------------------------------------- engine locations
# Unix socket paths are limited to 108 bytes: keep the sockets (dockerd's, and
# containerd's under the exec-root) in .tmp/dockerd when short enough, else in a
# short /tmp directory made with mktemp.  The choice is recorded in
# $STATE/rundir so that a later run can find and clean a leftover engine.
pick_rundir() {
  local rd=""
  [[ -f "$STATE/rundir" ]] && rd="$(cat "$STATE/rundir")"
  if [[ -n "$rd" && -d "$rd" ]]; then
    RUN="$rd"
  elif [[ $((${#STATE} + 48)) -le 100 ]]; then
    RUN="$STATE/run"
  else
    RUN="$(mktemp -d /tmp/pwdt.XXXXXX)"
  fi
  mkdir -p "$RUN"
  echo "$RUN" >"$STATE/rundir"
  SOCK="$RUN/docker.sock"
  EXEC_ROOT="$RUN/exec"
  CTRD_SOCK="$RUN/ctrd/containerd.sock"
  export DOCKER_HOST="unix://$SOCK"
  unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# pid from a pid file, only if that process is alive and its command line
# mentions MARK (so a recycled pid is never signalled)
pid_from() { # pidfile mark
  local pid cmd
  [[ -f "$1" ]] || return 0
  pid="$(tr -dc '0-9' <"$1" 2>/dev/null || true)"
  pid_alive "$pid" || return 0
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *"$2"* ]] && echo "$pid"
  return 0
}

wait_gone() { # pid seconds
  local i n=$(($2 * 10))
  for ((i = 0; i < n; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
  return 1
}

stop_pid() { # pid name seconds
  local pid="$1"
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$3"; then
    log "$2 ($pid) did not stop in $3 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || true
  fi
  wait "$pid" 2>/dev/null || true
}

unmount_leftovers() {
  local m
  # mount points (field 5 of mountinfo) under our directories, deepest first
  for m in $(awk -v a="$STATE/" -v b="$RUN/" \
    'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}

# Host process groups started by the harness' startHostTree() (recorded as
# "pgid npm-pid" lines); killed only while that npm process still runs our
# workload binary, so a recycled pid is never hit.
kill_host_trees() {
  local f="$ROOT/.tmp/host-trees" pgid npm exe
  [[ -f "$f" ]] || return 0
  while read -r pgid npm; do
    [[ "$pgid" =~ ^[0-9]+$ && "$npm" =~ ^[0-9]+$ ]] || continue
    exe="$(readlink "/proc/$npm/exe" 2>/dev/null || true)"
    if [[ "$exe" == "$ROOT/.tmp/workload/"* ]]; then
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
  done <"$f"
  rm -f "$f"
}

# Stops the engine described by the pid files (ours from this run, or a
# leftover of an interrupted one): containers, dockerd, containerd, mounts.
stop_engine() {
  local dpid cpid bpid ids
  bpid="$(pid_from "$STATE/bun.pid" "bun")"
  if [[ -n "$bpid" ]]; then
    log "stopping leftover test runner ($bpid)"
    stop_pid "$bpid" "bun" 10
  fi
  kill_host_trees
  dpid="$(pid_from "$STATE/dockerd.pid" "$DATA")"
  cpid="$(pid_from "$STATE/containerd.pid" "$STATE/containerd.toml")"
  if [[ -n "$dpid" ]]; then
    ids="$(timeout 20 docker ps -aq 2>/dev/null || true)"
    if [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086
      timeout 60 docker rm -f -v $ids >/dev/null 2>&1 || log "docker rm -f failed"
    fi
    stop_pid "$dpid" dockerd 30
  fi
  if [[ -n "$cpid" ]]; then
    # containers dockerd did not get to remove (e.g. dockerd was SIGKILLed)
    local t
    for t in $(timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks ls -q 2>/dev/null || true); do
      timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true
      timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks delete -f "$t" >/dev/null 2>&1 || true
    done
    stop_pid "$cpid" containerd 20
  fi
  unmount_leftovers
  rm -f "$STATE/dockerd.pid" "$STATE/containerd.pid" "$STATE/bun.pid" "$SOCK" "$CTRD_SOCK"
}

start_engine() {
  : >"$STATE/dockerd.log"
  : >"$STATE/containerd.log"
  mkdir -p "$DATA" "$EXEC_ROOT" "$(dirname "$CTRD_SOCK")" "$RUN/ctrd-state"
  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "$DATA/containerd"
state = "$RUN/ctrd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = ""
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
EOF
  # own (empty) daemon config instead of /etc/docker/daemon.json; the legacy
  # trust key goes to our state dir instead of /etc/docker/key.json
  printf '{"deprecated-key-path": "%s"}\n' "$STATE/key.json" >"$STATE/daemon.json"
  # setsid: Ctrl-C must reach us, not the engine (we stop it in order)
  setsid containerd --config "$STATE/containerd.toml" >>"$STATE/containerd.log" 2>&1 </dev/null &
  echo $! >"$STATE/containerd.pid"
  local i
  for ((i = 0; i < 100; i++)); do [[ -S "$CTRD_SOCK" ]] && break; sleep 0.1; done
  [[ -S "$CTRD_SOCK" ]] || { tail -n 30 "$STATE/containerd.log" >&2; fail "containerd did not start"; }
  setsid dockerd \
    --data-root "$DATA" \
    --exec-root "$EXEC_ROOT" \
    -H "unix://$SOCK" \
    --pidfile "$STATE/dockerd.pid" \
    --containerd "$CTRD_SOCK" \
    --config-file "$STATE/daemon.json" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    --userland-proxy=false \
    >>"$STATE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
}

wait_engine() {
  local deadline=$(($(date +%s) + ${PIDWARDEN_TEST_ENGINE_TIMEOUT:-60}))
  until docker version >/dev/null 2>&1; do
    if ! pid_alive "$DOCKERD_PID"; then
      tail -n 40 "$STATE/dockerd.log" >&2
      fail "dockerd exited during start-up (log: $STATE/dockerd.log)"
    fi
    if [[ $(date +%s) -ge $deadline ]]; then
      tail -n 40 "$STATE/dockerd.log" >&2
      fail "private dockerd did not answer on $SOCK within ${PIDWARDEN_TEST_ENGINE_TIMEOUT:-60} s (log: $STATE/dockerd.log)"
    fi
    sleep 0.2
  done
}

BUN_PID=""
on_exit() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  if [[ -n "$BUN_PID" ]] && pid_alive "$BUN_PID"; then
    kill -TERM "$BUN_PID" 2>/dev/null
    wait_gone "$BUN_PID" 5 || kill -KILL "$BUN_PID" 2>/dev/null
  fi
  if [[ "${PIDWARDEN_TEST_KEEP_ENGINE:-}" == 1 && -n "${SOCK:-}" ]]; then
    log "engine left running: DOCKER_HOST=unix://$SOCK (stop it by running this script again)"
  elif [[ -n "${RUN:-}" ]]; then
    log "cleaning up the private engine"
    stop_engine
    # a short /tmp run dir is only needed while an engine lives
    if [[ "$RUN" != "$STATE/run" && "$RUN" == /tmp/pwdt.* ]] &&
      ! awk -v a="$RUN/" 'index($5, a) == 1 {f=1} END {exit !f}' /proc/self/mountinfo; then
      rm -rf "$RUN" "$STATE/rundir"
    fi
  fi
  rm -f "$STATE/owner.pid"
  log "done in $(($(date +%s) - T0)) s (exit $rc)"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------- main
# one run per checkout: a live previous run is reported, a dead one is cleaned
owner="$(pid_from "$STATE/owner.pid" "scripts/test.sh")"
if [[ -n "$owner" && "$owner" != "$$" ]]; then
  trap - EXIT
  fail "another test run (pid $owner) is using $STATE; wait for it or stop it"
fi
echo "$$" >"$STATE/owner.pid"
ensure_packages
pick_rundir
stop_engine # leftovers of an interrupted run
log "starting private engine (socket $SOCK, logs $STATE/*.log)"
start_engine

log "building the workload"
bash scripts/build-workload.sh >/dev/null
if [[ -f src/main.ts ]]; then
  log "npm run build"
  npm run --silent build >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log" >&2; fail "npm run build failed"; }
else
  log "WARNING: src/main.ts does not exist yet; dist/pidwarden not built"
fi

wait_engine
log "engine up: $(docker version -f '{{.Server.Version}}' 2>/dev/null), storage $(docker info -f '{{.Driver}}' 2>/dev/null)"
# containers of an interrupted run (dockerd normally removes them on restart)
ids="$(docker ps -aq)"
# shellcheck disable=SC2086
[[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null

log "building test images"
bash scripts/test-images.sh

export PIDWARDEN_TEST_DOCKER_HOST="unix://$SOCK"
BUN=(npx bun)
[[ -x node_modules/.bin/bun ]] && BUN=(node_modules/.bin/bun)
log "bun test $*"
set +e
"${BUN[@]}" test "$@" </dev/null &
BUN_PID=$!
echo "$BUN_PID" >"$STATE/bun.pid"
wait "$BUN_PID"
rc=$?
set -e
BUN_PID=""
rm -f "$STATE/bun.pid"
exit "$rc"
