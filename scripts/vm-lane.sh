#!/usr/bin/env bash
# Runs the lane tests (default: test/lanes) inside a QEMU VM whose engines sit on a unified-only
# cgroup v2 hierarchy, as on current Debian, Ubuntu, Fedora and RHEL hosts (this machine's own
# hierarchy is a v1 hybrid and cannot be switched).
#
#   scripts/vm-lane.sh v2-docker20 [bun test args...]          # lane 3
#   scripts/vm-lane.sh v2-docker26-podman5 [bun test args...]  # lane 4
#
# v2-docker20          guest root = this machine's / (read-only over 9p, tmpfs overlay), bash as
#                      PID 1, this machine's Docker 20.10 with the cgroupfs driver
# v2-docker26-podman5  guest root = a Debian trixie root (debootstrap, cached), systemd 257 as
#                      PID 1: Docker 26 with the systemd driver, then Podman 5's Docker-compatible
#                      API, in the same boot
#
# One boot per lane; inside, per engine: scripts/test-images.sh --import-only, then `bun test ARGS` with
# PIDWARDEN_TEST_DOCKER_HOST, PIDWARDEN_TEST_ENGINE_KIND (docker|podman) and PIDWARDEN_TEST_LANE.
# Prints bun's reports and ends with `lane LANE: N passed, N failed (S s)`.
# Exit: 0 all passed; 1 a test failed, or the guest timed out / gave no result; 2 bad usage;
# 77 this machine cannot run the lane (no QEMU, kernel or trixie root to be had, no boot in 3 tries),
# with a line saying why: the caller decides whether that is a failure.
#
# The VM has no network device at all (-nic none): everything it runs comes from this machine or
# the cached trixie root. Guest work runs ~10x slower than native (TCG: /dev/kvm here cannot run a
# stock kernel), so the lane's checks are few and their deadlines generous.
#
# Environment:
#   PIDWARDEN_VM_CACHE         kernel, initramfs, trixie root (default /var/cache/pidwarden-vm)
#   PIDWARDEN_VM_REFRESH=1     rebuild all of them
#   PIDWARDEN_VM_MEM           guest MiB (default 4096; the overlay root and engine data are tmpfs)
#   PIDWARDEN_VM_TIMEOUT       seconds for the whole VM (default 3600)
#   PIDWARDEN_VM_BOOT_TIMEOUT  seconds until stage 2 must say hello, else kill and boot again (default 150)
#   PIDWARDEN_VM_IMAGES        test images to build and import (default: all of scripts/test-images.sh)
#   PIDWARDEN_VM_CAPTURE=1     also capture cgroup files per engine (scripts/vm/capture-cgroup.sh)
#                              into .tmp/vm-lane/LANE/capture/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/vm/prepare.sh
source "$ROOT/scripts/vm/prepare.sh"
T0=$(date +%s)

usage() { echo "usage: scripts/vm-lane.sh v2-docker20|v2-docker26-podman5 [bun test args...]" >&2; exit 2; }
(($# >= 1)) || usage
LANE=$1; shift
case "$LANE" in
  v2-docker20) INIT=plain PODMAN=0 ;;
  v2-docker26-podman5) INIT=systemd PODMAN=1 ;;
  *) usage ;;
esac
# test/lanes unless a path under test/ is given, the rule of lane podman-v1 (scripts/test.sh):
# `npm test -- --lane v2-docker20 -t storm` filters the lane's tests instead of running every test
# named "storm" in the guest, and `test/lanes/smoke` (a filter, not a file) stays the only filter
[[ " $* " == *" test/"* ]] || set -- test/lanes "$@"
cannot_run() { echo "lane $LANE: cannot run on this machine: $*"; exit 77; }

[[ $(id -u) -eq 0 ]] || cannot_run "needs root (apt-get, debootstrap)"
vm_need_packages qemu-system-x86 busybox-static xz-utils gcc libc6-dev 2>/tmp/vm-lane-apt.$$ ||
  cannot_run "$(cat /tmp/vm-lane-apt.$$)"
rm -f /tmp/vm-lane-apt.$$
# what scripts/test-images.sh copies into the images, and lane v2-docker20's engine
vm_need_packages busybox-static toybox procps dash coreutils tar 2>/dev/null || cannot_run "packages for the test images missing"
if [[ "$LANE" == v2-docker20 ]]; then
  vm_need_packages docker.io containerd runc tini 2>/dev/null || cannot_run "Docker 20.10 packages missing"
fi
# progress shows live; the last line a step wrote says why it failed
ERR="$ROOT/.tmp/vm-lane-prepare.err"
mkdir -p "$ROOT/.tmp"
prepare() { # what, function
  if ! "$2" 2> >(tee "$ERR" >&2) >/dev/null; then sleep 0.2; cannot_run "$1: $(tail -n 1 "$ERR")"; fi
}
prepare "guest kernel" vm_prepare_kernel
prepare "initramfs" vm_prepare_initrd
[[ "$LANE" != v2-docker26-podman5 ]] || prepare "trixie root" vm_prepare_trixie

# Everything the guest runs from the checkout is built here, before the boot: the 9p root is
# mounted cache=loose, so a file rebuilt while the VM runs could be seen stale inside.
# The test images' root filesystems are assembled here too: in the guest that takes ~400 s (one
# ln exec per applet under TCG); the guest only imports them.
bash scripts/build-workload.sh >/dev/null
[[ -x node_modules/.bin/bun ]] || npm ci --silent >/dev/null
# (dist/pidwarden is rebuilt only when src/ changed: a suite may be running it meanwhile)
if [[ ! -x dist/pidwarden || -n "$(find src package.json scripts/build.ts -newer dist/pidwarden -print -quit)" ]]; then
  npm run --silent build >"$ROOT/.tmp/vm-lane-build.log" 2>&1 || { cat "$ROOT/.tmp/vm-lane-build.log"; echo "lane $LANE: npm run build failed"; exit 1; }
fi
# shellcheck disable=SC2086 # a list of image names
bash scripts/test-images.sh --tar-only ${PIDWARDEN_VM_IMAGES:-}

XFER="$ROOT/.tmp/vm-lane/$LANE"
rm -rf "$XFER"
mkdir -p "$XFER"
cp scripts/vm/stage2-init.sh scripts/vm/lane-run.sh "$XFER/"
printf '%s\0' "$@" >"$XFER/bun-args"
kpkg=$(cat "$VM_CACHE/kernel-pkg")
hostroot=""
[[ "$INIT" == plain ]] || hostroot=/host
{
  printf 'LANE_NAME=%q\n' "$LANE"
  printf 'LANE_INIT=%q\n' "$INIT"
  printf 'LANE_PODMAN=%q\n' "$PODMAN"
  printf 'LANE_REPO=%q\n' "$ROOT"
  printf 'LANE_HOSTROOT=%q\n' "$hostroot"
  printf 'LANE_KVER=%q\n' "${kpkg#linux-image-}"
  printf 'LANE_MODULES=%q\n' "$hostroot$VM_CACHE/$kpkg/lib/modules/${kpkg#linux-image-}"
  printf 'LANE_IMAGES=%q\n' "${PIDWARDEN_VM_IMAGES:-}"
  printf 'LANE_CAPTURE=%q\n' "${PIDWARDEN_VM_CAPTURE:-0}"
  printf 'LANE_COMMIT=%q\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$XFER/env"

kargs="console=ttyS0 panic=1 quiet loglevel=3 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -vga none -no-reboot -nic none
  -accel tcg,thread=multi -cpu max -smp "$(nproc)" -m "${PIDWARDEN_VM_MEM:-4096}"
  -kernel "$(vm_kernel_image)" -initrd "$VM_CACHE/initrd.gz"
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$XFER,mount_tag=lane,security_model=none,multidevs=remap"
  -serial "file:$XFER/console.log")
if [[ "$INIT" == systemd ]]; then
  kargs+=" pidwarden_root=guest"
  qemu+=(-virtfs "local,path=$VM_CACHE/trixie-root,mount_tag=guestroot,security_model=none,readonly=on,multidevs=remap")
fi
qemu+=(-append "$kargs")

QPID=""
stop_vm() { [[ -z "$QPID" ]] || { kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=""; }; }
trap 'stop_vm' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Boot watchdog: a TCG boot once spun silently for its whole time limit; a guest whose stage 2 has
# not said hello in time is killed and booted again, 3 tries in all.
boot_limit=${PIDWARDEN_VM_BOOT_TIMEOUT:-150}
# The whole VM's limit is a guard against a hung guest, not a budget: the Docker 26 + Podman 5 lane
# took 975 s alone, 1,735-2,295 s beside a second series, and was stopped at the former 2,400 s
# with a second VM lane and a busy loop beside it (17 tests passed, Podman 5's not reached).
vm_limit=${PIDWARDEN_VM_TIMEOUT:-3600}
booted=0
for try in 1 2 3; do
  : >"$XFER/console.log"
  tb=$(date +%s)
  "${qemu[@]}" </dev/null >"$XFER/qemu.log" 2>&1 &
  QPID=$!
  while (($(date +%s) - tb < boot_limit)); do
    grep -q 'stage 2 up' "$XFER/console.log" 2>/dev/null && { booted=1; break; }
    kill -0 "$QPID" 2>/dev/null || break
    sleep 0.5
  done
  ((booted)) && break
  vm_log "boot try $try: no stage 2 after $(($(date +%s) - tb)) s$(kill -0 "$QPID" 2>/dev/null || echo ' (qemu exited)')"
  cp "$XFER/console.log" "$XFER/console.try$try.log"
  stop_vm
done
((booted)) || cannot_run "the VM did not boot in 3 tries (consoles: $XFER/console.try*.log; $(tail -n 1 "$XFER/qemu.log" 2>/dev/null))"
vm_log "$LANE: booted in $(($(date +%s) - tb)) s (try $try)"

timed_out=0
while kill -0 "$QPID" 2>/dev/null; do
  if (($(date +%s) - T0 >= vm_limit)); then timed_out=1; stop_vm; break; fi
  sleep 1
done
[[ -z "$QPID" ]] || { wait "$QPID" 2>/dev/null || true; QPID=""; }

engines=(docker)
((PODMAN)) && engines+=(podman)
passed=0 failed=0 rc=0
for kind in "${engines[@]}"; do
  echo "=== lane $LANE, engine $kind ==="
  [[ -f "$XFER/bun-$kind.out" ]] && cat "$XFER/bun-$kind.out"
  if [[ -s "$XFER/result-$kind" ]]; then
    read -r p f brc secs <"$XFER/result-$kind"
    passed=$((passed + p)) failed=$((failed + f))
    echo "--- $kind: $p passed, $f failed, bun exit $brc, ${secs} s"
    { ((brc == 0)) && ((p > 0)); } || rc=1
  else
    echo "--- $kind: no result from the guest"
    rc=1
  fi
done
# the figures test/lanes/core.test.ts recorded in the guest, for the README's "Tested hosts" table
if compgen -G "$XFER/results/*.json" >/dev/null; then
  mkdir -p "$ROOT/.tmp/lane-results"
  cp "$XFER"/results/*.json "$ROOT/.tmp/lane-results/"
fi
if ((timed_out)); then
  echo "lane $LANE: the VM was stopped after ${vm_limit} s (PIDWARDEN_VM_TIMEOUT)"
  rc=1
fi
if ((rc)) ; then
  [[ ! -f "$XFER/stage2-failed" ]] || echo "stage 2: $(cat "$XFER/stage2-failed")"
  echo "--- last console lines ($XFER/console.log):"
  tail -n 15 "$XFER/console.log"
fi
cat "$XFER/timings" >&2 2>/dev/null || true
echo "lane $LANE: $passed passed, $failed failed ($(($(date +%s) - T0)) s)"
exit "$rc"
