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
# mounts are unmounted.  Exit status: bun test's.  The engine itself (start,
# stop, its isolation and live-restore) is scripts/engine.sh, which bun test
# also gets as PIDWARDEN_TEST_ENGINE_CTL to stop/start dockerd from a test.
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
    gcc libc6-dev tar
    strace # audit.test.ts: proves the binary executes no program on the host
    logrotate docker-compose systemd qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross groff man-db zsh # logrotate..systemd: examples.test.ts; qemu..zsh: release.test.ts, cli-docs.test.ts
    prometheus tmux) missing=() p # prometheus.test.ts: a real Prometheus, promtool; top.test.ts: tmux
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

# ------------------------------------------------------------- engine
# pick_rundir, start_engine, wait_engine, stop_engine and helpers
# shellcheck source=scripts/engine.sh
source "$ROOT/scripts/engine.sh"

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

# Leftovers of this checkout's runs: a test runner, host trees, the engine.
stop_all() {
  local bpid
  bpid="$(pid_from "$STATE/bun.pid" "bun")"
  if [[ -n "$bpid" ]]; then
    log "stopping leftover test runner ($bpid)"
    stop_pid "$bpid" "bun" 10
  fi
  kill_host_trees
  stop_engine
  rm -f "$STATE/bun.pid"
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
    stop_all
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
stop_all # leftovers of an interrupted run
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
# the same engine on 127.0.0.1, for tests of the remote-engine paths (see engine.sh)
export PIDWARDEN_TEST_DOCKER_TCP="tcp://127.0.0.1:$(cat "$STATE/tcp-port")"
# lets a test stop/start dockerd under a running monitor (see scripts/engine.sh)
export PIDWARDEN_TEST_ENGINE_CTL="$ROOT/scripts/engine.sh"
BUN=(npx bun)
[[ -x node_modules/.bin/bun ]] && BUN=(node_modules/.bin/bun)

# `scripts/test.sh --run CMD ARGS...` runs CMD against the private engine and images instead of the
# suite (the benchmark uses it: `npm run bench`), with the same set-up and clean-up.
if [[ "${1:-}" == "--run" ]]; then
  shift
  log "running $*"
  set +e
  "$@" </dev/null &
  BUN_PID=$!
  wait "$BUN_PID"
  rc=$?
  BUN_PID=""
  exit "$rc"
fi

log "tsc --noEmit"
node_modules/.bin/tsc --noEmit -p . || fail "type check failed"

log "bun test $*"
OUT="$STATE/bun.out"
: >"$OUT"
set +e
# bun writes its report to stderr; keep a copy to print the plain closing line CI reads.
"${BUN[@]}" test "$@" </dev/null 2> >(tee -a "$OUT" >&2) &
BUN_PID=$!
echo "$BUN_PID" >"$STATE/bun.pid"
wait "$BUN_PID"
rc=$?
set -e
BUN_PID=""
rm -f "$STATE/bun.pid"
sleep 0.2 # let tee drain
passed=$(sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' "$OUT" | tail -n 1)
failed=$(sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' "$OUT" | tail -n 1)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
[[ -n "$passed" ]] || { log "bun test reported no result"; [[ $rc -ne 0 ]] || rc=1; }
exit "$rc"
