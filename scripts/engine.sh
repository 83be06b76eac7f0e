#!/usr/bin/env bash
# The private test engine (own containerd + dockerd) that scripts/test.sh runs
# the suite against.  Sourced by test.sh for its functions; also a small
# command, so that a test can stop and start the Docker daemon under a running
# pidwarden (test.sh exports its path as PIDWARDEN_TEST_ENGINE_CTL):
#
#   scripts/engine.sh stop-daemon    stop dockerd only (SIGTERM, waited for):
#                                    its socket goes away; containerd and,
#                                    thanks to live-restore, every container
#                                    keep running
#   scripts/engine.sh start-daemon   start dockerd again with the same flags
#                                    and wait until it answers (it re-attaches
#                                    to the running containers)
#   scripts/engine.sh status         "up" / "down" (exit 0 / 1)
#   scripts/engine.sh start | stop   the whole engine (containerd + dockerd;
#                                    stop also removes every container): for
#                                    debugging, test.sh does this itself
#
# Only ever acts on the engine of this checkout (.tmp/dockerd): processes are
# found through our pid files AND their command lines, never by name.
#
# Isolation: own containerd (own config, root, state and socket: dockerd would
# otherwise silently use a system containerd running on
# /run/containerd/containerd.sock), dockerd with its own --data-root,
# --exec-root, -H unix://<our socket>, --pidfile, --config-file and key file,
# --bridge=none --iptables=false --ip-masq=false --ip6tables=false, and every
# test container runs with --network none.  Logs go to .tmp/dockerd/*.log.
#
# live-restore (in our daemon.json): dockerd stopping leaves the containers
# running, as on a production host where `systemctl restart docker` must not
# take the workloads down; the monitor test relies on it.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
STATE="${STATE:-$ROOT/.tmp/dockerd}" # logs, pid files, data-root, configs
DATA="${DATA:-$STATE/data}"
declare -F log >/dev/null || log() { printf '[engine.sh] %s\n' "$*" >&2; }
declare -F fail >/dev/null || fail() { log "ERROR: $*"; exit 1; }

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
  for ((i = 0; i < n; i++)); do
    pid_alive "$1" || return 0
    # a dockerd started by `engine.sh start-daemon` is not our child: once it
    # has exited it is a zombie until PID 1 reaps it, which counts as gone
    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
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

dockerd_pid() { pid_from "$STATE/dockerd.pid" "$DATA"; }

# Stops dockerd only; containerd and (live-restore) the containers stay.
stop_dockerd() {
  local dpid
  dpid="$(dockerd_pid)"
  [[ -n "$dpid" ]] && stop_pid "$dpid" dockerd 30
  rm -f "$SOCK"
}

# Stops the engine described by the pid files (ours from this run, or a
# leftover of an interrupted one): containers, dockerd, containerd, mounts.
stop_engine() {
  local dpid cpid ids
  dpid="$(dockerd_pid)"
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
    # containers dockerd did not get to remove (e.g. dockerd was SIGKILLed, or
    # was stopped with live-restore on)
    local t
    for t in $(timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks ls -q 2>/dev/null || true); do
      timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true
      timeout 10 ctr -a "$CTRD_SOCK" -n moby tasks delete -f "$t" >/dev/null 2>&1 || true
    done
    stop_pid "$cpid" containerd 20
  fi
  unmount_leftovers
  rm -f "$STATE/dockerd.pid" "$STATE/containerd.pid" "$SOCK" "$CTRD_SOCK"
}

start_containerd() {
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
  # setsid: Ctrl-C must reach test.sh, not the engine (it is stopped in order)
  setsid containerd --config "$STATE/containerd.toml" >>"$STATE/containerd.log" 2>&1 </dev/null &
  echo $! >"$STATE/containerd.pid"
  local i
  for ((i = 0; i < 100; i++)); do [[ -S "$CTRD_SOCK" ]] && break; sleep 0.1; done
  [[ -S "$CTRD_SOCK" ]] || { tail -n 30 "$STATE/containerd.log" >&2; fail "containerd did not start"; }
}

# Starts dockerd in the background (DOCKERD_PID); wait_engine waits for it.
start_dockerd() {
  # own daemon config instead of /etc/docker/daemon.json; the legacy trust key
  # goes to our state dir instead of /etc/docker/key.json
  # One extra runtime: runc with a slow `start` (test/workload/slow-start-runtime), for the test of
  # an init that started long before the engine's StartedAt.
  printf '{"deprecated-key-path": "%s", "live-restore": true, "runtimes": {"pidwarden-slow-start": {"path": "%s"}}}\n' \
    "$STATE/key.json" "$ROOT/test/workload/slow-start-runtime" >"$STATE/daemon.json"
  # Also on loopback TCP, so tests can drive pidwarden as against a remote engine (no /proc, no
  # cgroup fs: the API and exec paths). 127.0.0.1 only; the port is kept in $STATE/tcp-port.
  [[ -s "$STATE/tcp-port" ]] || echo $((20000 + RANDOM % 10000)) >"$STATE/tcp-port"
  TCP_HOST="tcp://127.0.0.1:$(cat "$STATE/tcp-port")"
  setsid dockerd \
    --data-root "$DATA" \
    --exec-root "$EXEC_ROOT" \
    -H "unix://$SOCK" \
    -H "$TCP_HOST" \
    --pidfile "$STATE/dockerd.pid" \
    --containerd "$CTRD_SOCK" \
    --config-file "$STATE/daemon.json" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    --userland-proxy=false \
    >>"$STATE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
}

start_engine() {
  : >"$STATE/dockerd.log"
  start_containerd
  start_dockerd
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

engine_main() {
  set -euo pipefail
  [[ $(id -u) -eq 0 ]] || fail "must run as root"
  [[ -f "$STATE/rundir" ]] || [[ "${1:-}" == start ]] || fail "no private engine recorded in $STATE (run npm test)"
  mkdir -p "$STATE"
  pick_rundir
  case "${1:-}" in
    stop-daemon)
      stop_dockerd
      log "dockerd stopped (containerd and the containers keep running)"
      ;;
    start-daemon)
      [[ -n "$(pid_from "$STATE/containerd.pid" "$STATE/containerd.toml")" ]] || fail "containerd is not running: start the whole engine"
      if [[ -n "$(dockerd_pid)" ]]; then
        log "dockerd already running"
      else
        start_dockerd
        wait_engine
        log "dockerd answers again on $SOCK"
      fi
      ;;
    status)
      if docker version >/dev/null 2>&1; then echo up; else echo down; exit 1; fi
      ;;
    start)
      stop_engine
      start_engine
      wait_engine
      log "engine up: DOCKER_HOST=unix://$SOCK"
      ;;
    stop)
      stop_engine
      ;;
    *)
      echo "usage: $0 stop-daemon|start-daemon|status|start|stop" >&2
      exit 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  engine_main "$@"
fi
