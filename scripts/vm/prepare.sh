# shellcheck shell=bash
# Host-side preparation of the VM lanes, sourced by scripts/vm-lane.sh. Everything lands in
# $VM_CACHE (default /var/cache/pidwarden-vm, kept between runs on one machine):
#   kernel-pkg              name of the unpacked Debian kernel package (linux-image-<abi>-amd64)
#   <kernel-pkg>/           its files, unpacked with dpkg-deb -x (nothing installed on the host)
#   initrd.gz               busybox initramfs: virtio/9p/overlay modules + scripts/vm/stage1-init.sh
#   trixie-root/            Debian trixie root for lane v2-docker26-podman5 (debootstrap, ~610 MB)
# Each piece is rebuilt only when it is missing (or PIDWARDEN_VM_REFRESH=1).
# Functions return non-zero with a message on stderr; the caller turns that into exit 77.

VM_CACHE=${PIDWARDEN_VM_CACHE:-/var/cache/pidwarden-vm}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The modules stage 1 needs to reach the 9p root and stack the tmpfs overlay on it.
STAGE1_MODULES="virtio_pci 9pnet_virtio 9p overlay"
# What lane v2-docker26-podman5 needs from trixie: systemd as PID 1 (so Docker picks the systemd
# cgroup driver), Docker 26 and Podman 5 with their runtimes, and the tools scripts/test-images.sh
# copies into the test images (busybox-static, toybox, procps, dash, coreutils, ldd from libc-bin).
TRIXIE_PACKAGES=systemd,systemd-sysv,dbus,docker.io,docker-cli,containerd,runc,tini,podman,crun,conmon,netavark,golang-github-containers-common,golang-github-containers-image,catatonit,uidmap,busybox-static,toybox,procps,iproute2,kmod,hostname,ca-certificates,libc-bin
TRIXIE_MIRROR=${PIDWARDEN_VM_MIRROR:-http://deb.debian.org/debian}

vm_log() { printf '[vm-lane] %s\n' "$*" >&2; }

apt_lists_present() { [[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ]]; }

vm_need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  vm_log "apt-get install ${missing[*]}"
  apt_lists_present || apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } ||
    { echo "apt-get install ${missing[*]} failed" >&2; return 1; }
}

# The current Debian kernel that linux-image-amd64 points to (the cloud flavour has no 9p).
vm_prepare_kernel() {
  local pkg ver dl
  pkg=$(cat "$VM_CACHE/kernel-pkg" 2>/dev/null || true)
  if [[ -n "$pkg" && -d "$VM_CACHE/$pkg/lib/modules" && "${PIDWARDEN_VM_REFRESH:-0}" != 1 ]]; then return 0; fi
  apt_lists_present || apt-get update -qq >/dev/null 2>&1 || true
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [[ -n "$pkg" ]] || { echo "cannot resolve linux-image-amd64 with apt-cache" >&2; return 1; }
  ver=${pkg#linux-image-}
  vm_log "guest kernel: apt-get download $pkg"
  mkdir -p "$VM_CACHE"
  dl=$(mktemp -d "$VM_CACHE/download.XXXXXX")
  chmod 755 "$dl"   # apt's sandbox user must be able to write there
  if ! (cd "$dl" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
    rm -rf "$dl"; echo "apt-get download $pkg failed" >&2; return 1
  fi
  rm -rf "$VM_CACHE/$pkg.new"
  dpkg-deb -x "$dl/${pkg}"_*.deb "$VM_CACHE/$pkg.new"
  rm -rf "$dl"
  busybox depmod -b "$VM_CACHE/$pkg.new" "$ver"
  vm_extract_vmlinux "$VM_CACHE/$pkg.new/boot" "$ver"
  rm -rf "${VM_CACHE:?}/$pkg"
  mv "$VM_CACHE/$pkg.new" "$VM_CACHE/$pkg"
  echo "$pkg" >"$VM_CACHE/kernel-pkg"
  rm -f "$VM_CACHE/initrd.gz"
}

# QEMU starts an uncompressed ELF vmlinux through its PVH entry point, skipping the firmware and
# the in-guest XZ decompression: about 5 s less per boot under TCG. Without it the bzImage boots.
vm_extract_vmlinux() {
  local boot=$1 ver=$2 off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$boot/vmlinuz-$ver" | head -n 1 | cut -d: -f1 || true)
  [[ -n "$off" ]] || return 0
  tail -c +$((off + 1)) "$boot/vmlinuz-$ver" | xz -dc 2>/dev/null >"$boot/vmlinux-$ver.tmp" || true
  if [[ "$(head -c 4 "$boot/vmlinux-$ver.tmp" | od -An -c | tr -d ' ')" == '177ELF' ]]; then
    mv "$boot/vmlinux-$ver.tmp" "$boot/vmlinux-$ver"
  else
    rm -f "$boot/vmlinux-$ver.tmp"
  fi
}

vm_kernel_image() {
  local pkg ver; pkg=$(cat "$VM_CACHE/kernel-pkg"); ver=${pkg#linux-image-}
  if [[ -f "$VM_CACHE/$pkg/boot/vmlinux-$ver" ]]; then echo "$VM_CACHE/$pkg/boot/vmlinux-$ver"; else echo "$VM_CACHE/$pkg/boot/vmlinuz-$ver"; fi
}

# initramfs = static busybox + the module closure of STAGE1_MODULES (from modules.dep) + stage 1.
vm_prepare_initrd() {
  local pkg ver mods d m dep todo=() seen=' '
  [[ -f "$VM_CACHE/initrd.gz" && "$VM_CACHE/initrd.gz" -nt "$VM_DIR/stage1-init.sh" ]] && return 0
  pkg=$(cat "$VM_CACHE/kernel-pkg"); ver=${pkg#linux-image-}
  mods="$VM_CACHE/$pkg/lib/modules/$ver"
  d=$(mktemp -d)
  mkdir -p "$d"/{bin,dev,proc,sys,lower,rw,newroot} "$d/lib/modules/$ver"
  cp /bin/busybox "$d/bin/busybox"
  cp "$mods/modules.dep" "$d/lib/modules/$ver/"
  for m in $STAGE1_MODULES; do
    todo+=("$(awk -F: -v n="/$m.ko" 'substr($1, length($1) - length(n) + 1) == n {print $1; exit}' "$mods/modules.dep")")
  done
  while ((${#todo[@]})); do
    m=${todo[0]}; todo=("${todo[@]:1}")
    [[ -n "$m" && "$seen" != *" $m "* ]] || continue
    seen+="$m "
    mkdir -p "$d/lib/modules/$ver/$(dirname "$m")"
    cp "$mods/$m" "$d/lib/modules/$ver/$m"
    for dep in $(awk -F': *' -v k="$m" '$1 == k {print $2; exit}' "$mods/modules.dep"); do todo+=("$dep"); done
  done
  cp "$VM_DIR/stage1-init.sh" "$d/init"
  chmod 755 "$d/init"
  (cd "$d" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$VM_CACHE/initrd.gz.tmp"
  mv "$VM_CACHE/initrd.gz.tmp" "$VM_CACHE/initrd.gz"
  rm -rf "$d"
}

# Debian trixie root (Docker 26.1, Podman 5.4, systemd 257), built once with debootstrap through
# the apt mirror (~3 min, ~610 MB here). Units that reach for a network or a first boot are masked:
# the guest has no network device.
vm_prepare_trixie() {
  local root="$VM_CACHE/trixie-root" r
  if [[ -s "$root/pidwarden-vm-versions" && "${PIDWARDEN_VM_REFRESH:-0}" != 1 ]]; then return 0; fi
  vm_need_packages debootstrap || return 1
  r="$root.new"
  rm -rf "$r"
  vm_log "debootstrap trixie into $root (about 3 minutes; log $VM_CACHE/debootstrap.log)"
  if ! debootstrap --variant=minbase --include="$TRIXIE_PACKAGES" trixie "$r" "$TRIXIE_MIRROR" >"$VM_CACHE/debootstrap.log" 2>&1; then
    tail -n 5 "$VM_CACHE/debootstrap.log" >&2
    echo "debootstrap trixie failed (log: $VM_CACHE/debootstrap.log)" >&2
    return 1
  fi
  vm_finish_trixie "$r" "$root"
}

vm_finish_trixie() {
  local r=$1 root=$2 u
  for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
    systemd-networkd.service systemd-networkd-wait-online.service systemd-timesyncd.service \
    systemd-resolved.service systemd-firstboot.service systemd-homed.service \
    podman-auto-update.timer podman-restart.service podman-clean-transient.service; do
    ln -sfn /dev/null "$r/etc/systemd/system/$u"
  done
  echo pidwarden-vm >"$r/etc/hostname"
  printf '127.0.0.1 localhost pidwarden-vm\n::1 localhost\n' >"$r/etc/hosts"
  # a fixed machine-id, else systemd runs its first-boot setup on every boot
  echo 70696477617264656e2d766d2d6c616e >"$r/etc/machine-id"
  rm -f "$r"/var/cache/apt/archives/*.deb
  chroot "$r" dpkg-query -W -f '${Package} ${Version}\n' systemd docker.io containerd runc podman crun conmon \
    busybox-static toybox procps libc6 >"$r/pidwarden-vm-versions"
  rm -rf "$root"
  mv "$r" "$root"
}
