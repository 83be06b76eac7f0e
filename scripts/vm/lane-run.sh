#!/bin/bash
# Runs inside a VM lane's guest once its init has started the engine(s): per engine, waits for its
# API, imports the test images there (scripts/test-images.sh --import-only: the host assembled their
# root filesystems before the boot, see scripts/vm-lane.sh), runs `bun test` with the lane's
# arguments, and writes to the lane share (/lane):
#   bun-<kind>.out                 bun's report (stderr) and the tests' stdout
#   result-<kind>                  "<passed> <failed> <bun exit status> <seconds>"
#   images-<kind>.log              scripts/test-images.sh's output
#   timings                        guest uptime at each step
#   results/<lane>-<kind>.json     the figures of test/lanes/core.test.ts (README: Tested hosts)
# then powers the guest off. Engines: "docker" on /run/docker.sock, and with LANE_PODMAN=1
# "podman" on /run/podman/podman.sock (its Docker-compatible API, socket-activated by systemd).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
# shellcheck source=/dev/null
. /lane/env
uptime_s() { cut -d' ' -f1 /proc/uptime; }
say() { echo "pidwarden-vm [$(uptime_s)] $*" >/dev/console; echo "guest $(uptime_s) s: $*" >>/lane/timings; }

power_off() {
  [[ -f /run/engine.log ]] && cp /run/engine.log /lane/engine.log
  sync
  if [[ "$LANE_INIT" == systemd ]]; then
    journalctl -b --no-pager -u containerd -u docker -u podman -u podman.socket >/lane/engine.log 2>&1
    systemctl poweroff -ff
  fi
  poweroff -f
  sleep 5
  echo o >/proc/sysrq-trigger
}

# Polls with the CLI's own exit status; a fresh engine under TCG needs 15-40 s.
wait_engine() { # DOCKER_HOST value, deadline in seconds
  local until=$(($(date +%s) + $2))
  while (($(date +%s) < until)); do
    DOCKER_HOST=$1 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# After a failed run, where dockerd and containerd wait: SIGUSR1 makes each write its goroutine
# stacks (dockerd to <exec-root>/goroutine-stacks-*.log, containerd to its log). Seen once in a
# loaded run: after a test's cleanup every `docker run` of the lane timed out and dockerd logged
# nothing more; the stacks are what would say why.
dump_engine_stacks() {
  pkill -USR1 -x dockerd
  pkill -USR1 -x containerd
  sleep 3
  mkdir -p /lane/stacks
  cp /run/docker/goroutine-stacks-*.log /lane/stacks/ 2>/dev/null
  say "docker: goroutine stacks in stacks/ and engine.log"
}

run_engine() { # kind, DOCKER_HOST value
  local kind=$1 host=$2 t0 rc passed failed
  if ! wait_engine "$host" 300; then
    say "$kind: engine at $host did not answer in 300 s"
    echo "$kind: engine at $host did not answer in 300 s" >"/lane/bun-$kind.out"
    echo "0 1 1 0" >"/lane/result-$kind"
    return
  fi
  say "$kind ready: $(DOCKER_HOST=$host docker info --format 'server {{.ServerVersion}}, cgroup v{{.CgroupVersion}} driver {{.CgroupDriver}}, storage {{.Driver}}' 2>&1)"
  # shellcheck disable=SC2086 # LANE_IMAGES is a list of image names
  if ! PIDWARDEN_TEST_DOCKER_HOST=$host bash scripts/test-images.sh --import-only $LANE_IMAGES >"/lane/images-$kind.log" 2>&1; then
    say "$kind: scripts/test-images.sh failed"
    { echo "$kind: scripts/test-images.sh failed:"; tail -n 20 "/lane/images-$kind.log"; } >"/lane/bun-$kind.out"
    echo "0 1 1 0" >"/lane/result-$kind"
    return
  fi
  say "$kind: test images imported; bun test ${BUN_ARGS[*]}"
  t0=$(date +%s)
  # the checkout is read-only here (9p, tmpfs overlay): figures go to the share, vm-lane.sh copies them
  PIDWARDEN_TEST_RESULTS_DIR=/lane/results PIDWARDEN_TEST_PODMAN_CLI=podman \
  PIDWARDEN_TEST_DOCKER_HOST=$host PIDWARDEN_TEST_ENGINE_KIND=$kind PIDWARDEN_TEST_LANE=$LANE_NAME \
    node_modules/.bin/bun test "${BUN_ARGS[@]}" </dev/null >"/lane/bun-$kind.out" 2>&1
  rc=$?
  passed=$(sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' "/lane/bun-$kind.out" | tail -n 1)
  failed=$(sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' "/lane/bun-$kind.out" | tail -n 1)
  echo "${passed:-0} ${failed:-0} $rc $(($(date +%s) - t0))" >"/lane/result-$kind"
  say "$kind: bun test exited $rc (${passed:-0} pass, ${failed:-0} fail)"
  ((rc == 0)) || [[ "$kind" != docker ]] || dump_engine_stacks
  if [[ "$LANE_CAPTURE" == 1 ]]; then
    PIDWARDEN_TEST_DOCKER_HOST=$host LANE_COMMIT=$LANE_COMMIT bash scripts/vm/capture-cgroup.sh "/lane/capture/$kind" >"/lane/capture-$kind.log" 2>&1 ||
      say "$kind: capture failed"
  fi
}

cd "$LANE_REPO" || { say "no checkout at $LANE_REPO"; power_off; }
mapfile -d '' -t BUN_ARGS </lane/bun-args
# Inside a lane every engine and tool is meant to be there: a test that would skip for want of
# one (describeEngine) fails instead and says why, as under CI
export CI=true
# pidwarden's --timeout (default 10 s) bounds each engine call. Podman 5's API here is socket-
# activated by systemd and its service exits after 5 s idle (podman-system-service(1), --time);
# the next call starts it again, ~1 s on a host, 10-15 s under TCG (seen: "no answer within 10 s"
# after a test's quiet minute). 60 s is the lane's ~10x slowness applied to the default.
export PIDWARDEN_TIMEOUT=60
run_engine docker unix:///run/docker.sock
[[ "$LANE_PODMAN" != 1 ]] || run_engine podman unix:///run/podman/podman.sock
say "lane done"
power_off
