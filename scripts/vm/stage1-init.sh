#!/bin/busybox sh
# Stage 1 of a VM lane: /init of the initramfs that scripts/vm/prepare.sh builds (busybox only).
# Mounts the lower root read-only over 9p with a tmpfs overlay on top (writes live in guest RAM),
# the lane's read-write share at /lane, and hands over to stage 2 (scripts/vm/stage2-init.sh).
#   pidwarden_root=host    lower root = this machine's / (lane v2-docker20)
#   pidwarden_root=guest   lower root = the 9p tag "guestroot" (trixie), this machine's / at /host
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
die() { echo "pidwarden-vm stage 1: $*" >/dev/console; sleep 1; poweroff -f; }
modprobe -a virtio_pci 9pnet_virtio 9p overlay || die "modprobe failed"
# msize 512000: the default 8 KiB makes every read of a binary over 9p ~60 round trips
P9="trans=virtio,version=9p2000.L,msize=512000"
tag=hostroot
case " $(cat /proc/cmdline) " in *" pidwarden_root=guest "*) tag=guestroot ;; esac
# cache=loose: the lower root does not change while the VM runs (vm-lane.sh builds first)
mount -t 9p -o "$P9,ro,cache=loose" "$tag" /lower || die "9p $tag"
mount -t tmpfs -o mode=755 tmpfs /rw || die "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || die "overlay root"
if [ $tag = guestroot ]; then
  mkdir -p /newroot/host
  mount -t 9p -o "$P9,ro,cache=loose" hostroot /newroot/host || die "9p hostroot"
fi
mkdir -p /newroot/lane
# cache=none: the host reads the results while and after the guest writes them
mount -t 9p -o "$P9,cache=none" lane /newroot/lane || die "9p lane share"
for d in proc sys dev; do mount --move /$d /newroot/$d || die "move /$d"; done
exec switch_root /newroot /bin/bash /lane/stage2-init.sh
