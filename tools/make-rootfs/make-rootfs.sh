#!/bin/sh
# make-rootfs DIR: builds (or refreshes) a minimal busybox root filesystem in DIR.
#   DIR/bin/busybox (static) + one symlink per applet (busybox --list), /etc/passwd
#   (root, nobody 65534, test 1000), /etc/group, /tmp 1777, /proc /sys /dev /root /home/test.
# Idempotent: running it again on the same DIR changes nothing that is already right.
# Installs busybox-static with apt-get when /bin/busybox is missing or not statically linked.
set -eu

usage() { echo "usage: make-rootfs DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
case "$1" in -h|--help) echo "usage: make-rootfs DIR"; exit 0 ;; esac
DIR=$1

is_static() {
  # A static ELF has no PT_INTERP program header; `file` is not always installed, so ask the ELF.
  [ -x "$1" ] || return 1
  if command -v file >/dev/null 2>&1; then
    file -L "$1" | grep -q 'statically linked'
  else
    ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
  fi
}

BB=${BUSYBOX:-/bin/busybox}
if ! is_static "$BB"; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "make-rootfs: $BB is missing or not static and installing busybox-static needs root" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null
  BB=/bin/busybox
  is_static "$BB" || { echo "make-rootfs: $BB is still not a static busybox" >&2; exit 1; }
fi

mkdir -p "$DIR"
cd "$DIR"
mkdir -p bin sbin usr/bin usr/sbin etc root home/test proc sys dev tmp var/tmp run mnt
chmod 1777 tmp var/tmp
chmod 0700 root
chown 1000:1000 home/test 2>/dev/null || true

# Copy busybox only when it differs (cmp is a busybox applet too, but use the host's).
if ! cmp -s "$BB" bin/busybox 2>/dev/null; then
  cp "$BB" bin/busybox.new
  chmod 0755 bin/busybox.new
  mv -f bin/busybox.new bin/busybox
fi

# One symlink per applet, all in /bin (PATH of runc spec covers /bin); skip existing ones.
for applet in $(./bin/busybox --list); do
  [ "$applet" = busybox ] && continue
  [ -e "bin/$applet" ] || [ -L "bin/$applet" ] || ln -s busybox "bin/$applet"
done

write_if_changed() { # path, content on stdin
  tmp="$1.tmp.$$"
  cat >"$tmp"
  if cmp -s "$tmp" "$1" 2>/dev/null; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

write_if_changed etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
test:x:1000:1000:test:/home/test:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
write_if_changed etc/group <<'G'
root:x:0:
test:x:1000:
users:x:100:test
nogroup:x:65534:
G
write_if_changed etc/hostname <<'H'
runts
H
[ -e etc/hosts ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >etc/hosts
[ -e etc/resolv.conf ] || : >etc/resolv.conf
chmod 0644 etc/passwd etc/group etc/hostname etc/hosts etc/resolv.conf
