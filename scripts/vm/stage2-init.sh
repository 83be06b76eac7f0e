#!/bin/bash
# Stage 2 of a VM lane: PID 1 of the guest after stage 1's switch_root, run from the lane share
# (/lane, where scripts/vm-lane.sh copied it with /lane/env). Prepares the mounts every engine
# needs, then starts the lane's engine(s) one of two ways:
#   LANE_INIT=plain    bash stays PID 1 (it reaps orphaned shims), mounts the unified cgroup2
#                      hierarchy itself and starts dockerd: the cgroupfs driver, /docker/<id>
#   LANE_INIT=systemd  execs the root's systemd as PID 1 with a target that wants only
#                      basic.target, docker.service, podman.socket and pidwarden-lane.service:
#                      Docker then uses the systemd driver, /system.slice/docker-<id>.scope
# Either way scripts/vm/lane-run.sh runs the tests and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
# shellcheck source=/dev/null
. /lane/env
uptime_s() { cut -d' ' -f1 /proc/uptime; }
say() { echo "pidwarden-vm [$(uptime_s)] $*" >/dev/console; echo "guest $(uptime_s) s: $*" >>/lane/timings; }
halt_guest() { echo "$1" >/lane/stage2-failed; sync; say "stage 2 failed: $1"; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }

say "stage 2 up"   # scripts/vm-lane.sh's boot watchdog waits for exactly this text
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
[[ -e /dev/ptmx ]] || ln -s pts/ptmx /dev/ptmx
ln -sfn /proc/self/fd /dev/fd
# A checkout under /tmp (a clone may live anywhere, CI's included) must stay visible through the
# tmpfs mounted there: bound aside first, moved back onto its own path after.
keep=""
if [[ -z "$LANE_HOSTROOT" && ( "$LANE_REPO" == /tmp || "$LANE_REPO" == /tmp/* ) ]]; then
  keep=/mnt/pidwarden-checkout
  mkdir -p "$keep" && mount --bind "$LANE_REPO" "$keep" || halt_guest "cannot keep the checkout at $LANE_REPO"
fi
mount -t tmpfs -o mode=1777 tmpfs /tmp
if [[ -n "$keep" ]]; then
  mkdir -p "$LANE_REPO" && mount --move "$keep" "$LANE_REPO" || halt_guest "cannot put the checkout back at $LANE_REPO"
fi
# overlay2 (Docker) and overlay (Podman) cannot use an overlay root as their upper layer
for d in /var/lib/docker /var/lib/containerd /var/lib/containers; do mkdir -p "$d" && mount -t tmpfs -o mode=711 tmpfs "$d"; done
# the kernel's modules, unpacked on the host: the engines modprobe what they need (e.g. overlay)
mkdir -p /lib/modules && ln -sfn "$LANE_MODULES" "/lib/modules/$LANE_KVER"
if [[ -n "$LANE_HOSTROOT" ]]; then
  # trixie root: the checkout is the host's, read-only, with a tmpfs overlay for .tmp/ and dist/
  mkdir -p /run/checkout-rw "$LANE_REPO"
  mount -t tmpfs tmpfs /run/checkout-rw && mkdir -p /run/checkout-rw/upper /run/checkout-rw/work
  mount -t overlay -o "lowerdir=$LANE_HOSTROOT$LANE_REPO,upperdir=/run/checkout-rw/upper,workdir=/run/checkout-rw/work" \
    overlay "$LANE_REPO" || halt_guest "cannot mount the checkout at $LANE_REPO"
fi
echo pidwarden-vm >/etc/hostname
hostname pidwarden-vm
rm -f /etc/mtab && ln -s /proc/self/mounts /etc/mtab
mkdir -p /etc/docker
# no bridge, no iptables: the guest has no network device, containers run with --network none
echo '{"bridge": "none", "iptables": false, "ip-masq": false, "ip6tables": false, "storage-driver": "overlay2"}' >/etc/docker/daemon.json

if [[ "$LANE_INIT" == systemd ]]; then
  : >/etc/fstab
  cat >/etc/systemd/system/pidwarden-lane.target <<'EOF'
[Unit]
Description=pidwarden VM lane: engines + tests
Requires=basic.target
Wants=pidwarden-lane.service
After=basic.target
AllowIsolate=yes
EOF
  cat >/etc/systemd/system/pidwarden-lane.service <<'EOF'
[Unit]
Description=pidwarden VM lane tests
Requires=docker.service
Wants=podman.socket
After=docker.service containerd.service podman.socket
[Service]
Type=oneshot
ExecStart=/bin/bash /lane/lane-run.sh
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
EOF
  say "exec systemd"
  exec /lib/systemd/systemd --unit=pidwarden-lane.target --log-level=warning --show-status=false
fi

mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || halt_guest "cannot mount cgroup2"
mount -t tmpfs -o mode=755 tmpfs /run
ip link set lo up 2>/dev/null
say "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
# The engine's log goes to the guest's tmpfs, copied to the share at power-off (lane-run.sh): an
# engine whose every log line is a write through 9p to the host stalls whenever that share does.
dockerd -H unix:///run/docker.sock >/run/engine.log 2>&1 &
bash /lane/lane-run.sh
