#!/usr/bin/env bash
# `npm test`: builds everything and runs `bun test` against private, throw-away
# engines that cannot touch anybody else's, one LANE per kind of host:
#
#   docker20-v1          the whole suite against a private Docker 20.10 on this
#                        cgroup v1 host (containerd + dockerd, scripts/engine.sh)
#   podman-v1            test/lanes/ against a private rootful Podman 4.3 on this
#                        host, through its Docker-compatible API (scripts/podman.sh)
#   v2-docker20          test/lanes/ in cgroup v2 VMs (scripts/vm-lane.sh; skipped
#   v2-docker26-podman5  with a line saying why when that script is absent or the
#                        machine cannot boot the VM; under CI=true lane 3 must run)
#
#   npm test                            every lane, in that order
#   npm test -- --lane podman-v1        one lane alone (repeatable)
#   npm test -- test/unit               extra arguments go to `bun test`; a path
#                                       given without --lane runs lane 1 only
#   npm test -- -t 'storm'              options alone go to every lane's bun test
#   PIDWARDEN_TEST_KEEP_ENGINE=1        leave the engines running at exit (debugging)
#
# The last lines: one per lane (`lane NAME: N passed, N failed in S s`, or why it
# was skipped), then ONE plain `tests: N passed, N failed` summing every lane (CI
# reads it). Exit status: 0 only when every lane that ran passed.
#
# What each lane's tests get: PIDWARDEN_TEST_DOCKER_HOST (the engine's unix
# socket), PIDWARDEN_TEST_DOCKER_TCP (the same engine on 127.0.0.1),
# PIDWARDEN_TEST_ENGINE_KIND (docker | podman), PIDWARDEN_TEST_LANE.
#
# Steps of lane 1: install missing Debian packages -> stop a leftover private
# engine of an interrupted run -> start our own containerd + dockerd (in the
# background) -> build the workload and dist/pidwarden -> wait for the engine ->
# build the test images -> bun test.  On exit (also on Ctrl-C / SIGTERM) every
# container is removed, dockerd and containerd (and Podman's services) are
# stopped and waited for, and leftover mounts are unmounted.  The engine itself
# (start, stop, its isolation and live-restore) is scripts/engine.sh, which bun
# test also gets as PIDWARDEN_TEST_ENGINE_CTL to stop/start dockerd from a test.
#
# Isolation of the private engine: own containerd (own config, root, state and
# socket: dockerd would otherwise silently use a system containerd running on
# /run/containerd/containerd.sock), dockerd with its own --data-root,
# --exec-root, -H unix://<our socket>, --pidfile, --config-file and key file,
# --bridge=none --iptables=false --ip-masq=false --ip6tables=false, and every
# test container runs with --network none.  Logs go to .tmp/dockerd/*.log.
# Podman's isolation: see scripts/podman.sh.
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
    time # npm run bench: each run's own peak RSS and CPU (scripts/bench/common.ts, timed)
    strace # audit.test.ts: proves the binary executes no program on the host
    logrotate docker-compose systemd qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross groff man-db zsh # logrotate..systemd: examples.test.ts; qemu..zsh: release.test.ts, cli-docs.test.ts
    prometheus tmux # prometheus.test.ts: a real Prometheus, promtool; top.test.ts: tmux
    podman catatonit) missing=() p # lane podman-v1; catatonit: a pod's infra container (test/lanes/layouts.test.ts)
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
# start_podman, wait_podman, stop_podman (lane podman-v1)
# shellcheck source=scripts/podman.sh
source "$ROOT/scripts/podman.sh"

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
  if [[ "${PIDWARDEN_TEST_KEEP_ENGINE:-}" != 1 && -n "${PM_RUN:-}" ]]; then
    log "cleaning up the private podman"
    stop_podman
  fi
  rm -f "$STATE/owner.pid"
  log "done in $(($(date +%s) - T0)) s (exit $rc)"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------- lanes
LANES=(docker20-v1 podman-v1 v2-docker20 v2-docker26-podman5)
WANT_LANES=() BUN_ARGS=() RUN_CMD=() has_path=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --lane) [[ $# -ge 2 ]] || fail "--lane needs a NAME (${LANES[*]})"; WANT_LANES+=("$2"); shift 2 ;;
    --lane=*) WANT_LANES+=("${1#--lane=}"); shift ;;
    --run) shift; RUN_CMD=("$@"); break ;;
    *) [[ "$1" != -* && -e "$1" ]] && has_path=1; BUN_ARGS+=("$1"); shift ;;
  esac
done
for l in "${WANT_LANES[@]}"; do
  [[ " ${LANES[*]} " == *" $l "* ]] || fail "unknown lane $l (lanes: ${LANES[*]})"
done
if [[ ${#RUN_CMD[@]} -gt 0 ]]; then
  WANT_LANES=(docker20-v1)
elif [[ ${#WANT_LANES[@]} -eq 0 ]]; then
  # a subset by path (`npm test -- test/unit`) is a quick run on the default engine
  if [[ $has_path -eq 1 ]]; then WANT_LANES=(docker20-v1); else WANT_LANES=("${LANES[@]}"); fi
fi
wants() { [[ " ${WANT_LANES[*]} " == *" $1 "* ]]; }

SUMMARY=() TOTAL_PASSED=0 TOTAL_FAILED=0 FINAL_RC=0 RUN_OUTPUTS=()
lane_result() { # lane passed failed seconds rc [note]
  SUMMARY+=("lane $1: $2 passed, $3 failed in $4 s${6:+ ($6)}")
  TOTAL_PASSED=$((TOTAL_PASSED + $2))
  TOTAL_FAILED=$((TOTAL_FAILED + $3))
  [[ $5 -eq 0 ]] || FINAL_RC=$5
}
lane_skipped() { # lane why fatal
  SUMMARY+=("lane $1: skipped: $2")
  log "lane $1 skipped: $2"
  if [[ $3 -eq 1 ]]; then SUMMARY[-1]="lane $1: FAILED: $2 (CI=true: this lane must run)"; FINAL_RC=1; fi
}

# bun test in the background (so that Ctrl-C and on_exit can stop it), its report kept to
# count passes and failures: sets LANE_PASSED, LANE_FAILED, LANE_RC.
run_bun() { # lane args...
  local lane="$1" out="$STATE/bun-$1.out"
  shift
  RUN_OUTPUTS+=("$out")
  log "lane $lane: bun test $*"
  : >"$out"
  set +e
  # bun writes its report to stderr
  PIDWARDEN_TEST_LANE="$lane" "${BUN[@]}" test "$@" </dev/null 2> >(tee -a "$out" >&2) &
  BUN_PID=$!
  echo "$BUN_PID" >"$STATE/bun.pid"
  wait "$BUN_PID"
  LANE_RC=$?
  set -e
  BUN_PID=""
  rm -f "$STATE/bun.pid"
  sleep 0.2 # let tee drain
  LANE_PASSED=$(sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' "$out" | tail -n 1)
  LANE_FAILED=$(sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' "$out" | tail -n 1)
  if [[ -z "$LANE_PASSED" ]]; then
    log "lane $lane: bun test reported no result"
    [[ $LANE_RC -ne 0 ]] || LANE_RC=1
  fi
  LANE_PASSED=${LANE_PASSED:-0} LANE_FAILED=${LANE_FAILED:-0}
}

# options (not paths) of the command line, for the lanes that run test/lanes/
lane_args() {
  local a out=()
  for a in "${BUN_ARGS[@]}"; do [[ "$a" != -* && -e "$a" ]] || out+=("$a"); done
  # a path of the user's counts only when that lane was asked for by name
  if [[ ${#out[@]} -ne ${#BUN_ARGS[@]} && " ${WANT_LANES[*]} " != *" docker20-v1 "* ]]; then out=("${BUN_ARGS[@]}"); fi
  [[ ${#out[@]} -eq 0 ]] || printf '%s\n' "${out[@]}"
}

# ------------------------------------------------------------------- main
# one run per checkout: a live previous run is reported, a dead one is cleaned
owner="$(pid_from "$STATE/owner.pid" "scripts/test.sh")"
if [[ -n "$owner" && "$owner" != "$$" ]]; then
  trap - EXIT
  fail "another test run (pid $owner) is using $STATE; wait for it or stop it"
fi
echo "$$" >"$STATE/owner.pid"
ensure_packages
BUN=(npx bun)
[[ -x node_modules/.bin/bun ]] && BUN=(node_modules/.bin/bun)

log "building the workload"
bash scripts/build-workload.sh >/dev/null
build_dist() {
  if [[ -f src/main.ts ]]; then
    log "npm run build"
    npm run --silent build >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log" >&2; fail "npm run build failed"; }
  else
    log "WARNING: src/main.ts does not exist yet; dist/pidwarden not built"
  fi
}

# ---- lane 1: docker20-v1
if wants docker20-v1; then
  L0=$(date +%s)
  pick_rundir
  stop_all # leftovers of an interrupted run
  log "starting private engine (socket $SOCK, logs $STATE/*.log)"
  start_engine
  build_dist
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
  export PIDWARDEN_TEST_ENGINE_KIND=docker
  # lets a test stop/start dockerd under a running monitor (see scripts/engine.sh)
  export PIDWARDEN_TEST_ENGINE_CTL="$ROOT/scripts/engine.sh"

  # `scripts/test.sh --run CMD ARGS...` runs CMD against the private engine and images instead of the
  # suite (the benchmark uses it: `npm run bench`), with the same set-up and clean-up.
  if [[ ${#RUN_CMD[@]} -gt 0 ]]; then
    log "running ${RUN_CMD[*]}"
    set +e
    "${RUN_CMD[@]}" </dev/null &
    BUN_PID=$!
    wait "$BUN_PID"
    rc=$?
    BUN_PID=""
    exit "$rc"
  fi

  log "tsc --noEmit"
  node_modules/.bin/tsc --noEmit -p . || fail "type check failed"
  run_bun docker20-v1 "${BUN_ARGS[@]}"
  lane_result docker20-v1 "$LANE_PASSED" "$LANE_FAILED" $(($(date +%s) - L0)) "$LANE_RC"
  # the next lanes need neither this engine nor its load
  if [[ "${PIDWARDEN_TEST_KEEP_ENGINE:-}" != 1 ]] && wants podman-v1; then stop_all; fi
  unset PIDWARDEN_TEST_DOCKER_HOST PIDWARDEN_TEST_DOCKER_TCP PIDWARDEN_TEST_ENGINE_KIND PIDWARDEN_TEST_ENGINE_CTL
else
  build_dist
fi

# ---- lane 2: podman-v1
if wants podman-v1; then
  L0=$(date +%s)
  if ! command -v podman >/dev/null; then
    lane_skipped podman-v1 "podman is not installed" "$([[ "${CI:-}" == true ]] && echo 1 || echo 0)"
  else
    log "starting private podman ($(podman --version))"
    start_podman
    wait_podman
    log "podman up: API $(DOCKER_HOST="unix://$PODMAN_SOCK" docker version -f '{{.Server.APIVersion}}' 2>/dev/null) on $PODMAN_SOCK and $PODMAN_TCP"
    log "building test images for podman"
    PIDWARDEN_TEST_DOCKER_HOST="unix://$PODMAN_SOCK" bash scripts/test-images.sh
    mapfile -t largs < <(lane_args)
    [[ " ${largs[*]} " == *" test/"* ]] || largs=(test/lanes "${largs[@]}")
    PIDWARDEN_TEST_DOCKER_HOST="unix://$PODMAN_SOCK" PIDWARDEN_TEST_DOCKER_TCP="$PODMAN_TCP" \
      PIDWARDEN_TEST_ENGINE_KIND=podman PIDWARDEN_TEST_PODMAN_CLI="$PM_STATE/podman-cli" run_bun podman-v1 "${largs[@]}"
    lane_result podman-v1 "$LANE_PASSED" "$LANE_FAILED" $(($(date +%s) - L0)) "$LANE_RC"
    [[ "${PIDWARDEN_TEST_KEEP_ENGINE:-}" == 1 ]] || stop_podman
  fi
fi

# ---- lanes 3 and 4: cgroup v2 VMs ------------------------------------------------ VM LANE HOOK
# Contract of scripts/vm-lane.sh LANE [bun test args...]: boots the lane's VM, runs test/lanes/
# inside against that host's engine(s), ends its stdout with `lane LANE: N passed, N failed (S s)`
# (or `tests: N passed, N failed`), exits 0 when they passed; exit 77 = this machine cannot run
# the lane (a line says why): skipped, except under CI=true for v2-docker20.
for lane in v2-docker20 v2-docker26-podman5; do
  wants "$lane" || continue
  ci_must=0
  [[ "${CI:-}" == true && $lane == v2-docker20 ]] && ci_must=1
  if [[ ! -f scripts/vm-lane.sh ]]; then
    lane_skipped "$lane" "scripts/vm-lane.sh does not exist (no VM lanes in this checkout)" "$ci_must"
    continue
  fi
  L0=$(date +%s)
  out="$STATE/vm-$lane.out"
  RUN_OUTPUTS+=("$out")
  mapfile -t largs < <(lane_args)
  # v2-docker20 runs the Docker 20.10 of lane 1, on cgroup v2: what differs there is the cgroup
  # side (core, layouts, smoke). Restart and reap go through the engine's API alone
  # (test/lanes/ladder.test.ts, reap.test.ts) and are proven on the engines lane 1 does not have,
  # Docker 26 and Podman 5; here they would cost ~5 min of TCG time out of CI's 60.
  if [[ $lane == v2-docker20 && " ${largs[*]} " != *" test/"* ]]; then
    largs=(test/lanes/core.test.ts test/lanes/layouts.test.ts test/lanes/smoke.test.ts "${largs[@]}")
  fi
  set +e
  bash scripts/vm-lane.sh "$lane" "${largs[@]}" </dev/null > >(tee "$out") &
  BUN_PID=$!
  wait "$BUN_PID"
  vrc=$?
  sleep 0.2 # let tee drain
  set -e
  BUN_PID=""
  line="$(grep -E "^(tests|lane $lane): [0-9]+ passed, [0-9]+ failed" "$out" | tail -n 1 || true)"
  if [[ $vrc -eq 77 ]]; then
    lane_skipped "$lane" "scripts/vm-lane.sh says this machine cannot run it (see above)" "$ci_must"
  elif [[ -z "$line" ]]; then
    lane_result "$lane" 0 0 $(($(date +%s) - L0)) "$([[ $vrc -ne 0 ]] && echo "$vrc" || echo 1)" "no test result"
  else
    read -r p f < <(sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$line")
    lane_result "$lane" "$p" "$f" $(($(date +%s) - L0)) "$vrc"
  fi
done

# Each failure again, with the error bun printed just before it (at most 40 lines back to the
# previous test's line), so that the tail of a CI log, often all that is kept, names what failed.
repeat_failures() {
  local f
  for f in "${RUN_OUTPUTS[@]}"; do
    [[ -f $f ]] && grep -q '^(fail) ' "$f" || continue
    echo "=== failures in $(basename "$f" .out) ==="
    awk '/^\((pass|skip|todo)\) /{n=0; next}
         /^\(fail\) /{s=(n>40)?n-40:0; for(i=s;i<n;i++) print buf[i%40]; print; n=0; next}
         {buf[n%40]=$0; n++}' "$f"
  done
}
repeat_failures
printf '%s\n' "${SUMMARY[@]}"
echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit "$FINAL_RC"
