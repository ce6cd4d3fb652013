#!/usr/bin/env bash
# build-image.sh: builds (or finds cached) the runts guest image, a small Debian 12 (bookworm) from
# Debian's packages with mmdebstrap, and prints its directory:
#   $CACHE/<hash>/{rootfs.img,vmlinuz,initrd.img}
# The hash covers this script, packages.txt and guest-init.sh, so a change to any of them builds a
# new image; an unchanged one is reused (CI and later runs). CACHE: RUNTS_GUEST_CACHE, default
# /var/cache/runts-guest. Needs root, mmdebstrap, mkfs.ext4 and the network to Debian's mirror.
#   tools/guest/build-image.sh            # path of the image dir on stdout, progress on stderr
#   tools/guest/build-image.sh --force    # rebuild even when cached
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RUNTS_GUEST_CACHE:-/var/cache/runts-guest}
mirror=${RUNTS_GUEST_MIRROR:-http://deb.debian.org/debian}
force=0
[ "${1:-}" = "--force" ] && force=1

hash=$(cat "$here/build-image.sh" "$here/packages.txt" "$here/guest-init.sh" | sha256sum | cut -c1-16)
out=$cache/$hash
if [ $force = 0 ] && [ -f "$out/done" ]; then echo "$out"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "guest: building the image needs root" >&2; exit 1; fi
for t in mmdebstrap mkfs.ext4; do
  command -v $t >/dev/null || { echo "guest: $t is missing (apt-get install mmdebstrap e2fsprogs)" >&2; exit 1; }
done

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one build at a time; a second caller waits, then finds it done
if [ $force = 0 ] && [ -f "$out/done" ]; then echo "$out"; exit 0; fi

start=$(date +%s)
tmp=$(mktemp -d "$cache/build-$hash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pkgs=$(grep -v '^\s*#' "$here/packages.txt" | xargs | tr ' ' ',')
echo "guest: building the Debian 12 image ($hash) with mmdebstrap" >&2
mmdebstrap --variant=apt --include="$pkgs" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='copy-in '"$here/guest-init.sh"' /usr/local/sbin' \
  --customize-hook='chroot "$1" sh -eux /usr/local/sbin/guest-init.sh' \
  bookworm "$tmp/root" "$mirror" >&2

cp "$tmp"/root/boot/vmlinuz-* "$tmp/vmlinuz"
cp "$tmp"/root/boot/initrd.img-* "$tmp/initrd.img"
chmod 644 "$tmp/vmlinuz" "$tmp/initrd.img"
# The root filesystem: an ext4 image made from the tree (no loop device, no mount).
truncate -s 4G "$tmp/rootfs.img"
mkfs.ext4 -q -F -L runts-root -d "$tmp/root" "$tmp/rootfs.img"
rm -rf "$tmp/root"
rm -rf "$out"
mkdir -p "$out"
mv "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/rootfs.img" "$out/"
echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - start )) s" > "$out/done"
echo "guest: image built in $(( $(date +%s) - start )) s: $out" >&2
echo "$out"
