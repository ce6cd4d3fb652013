#!/bin/sh
# Runs once inside the new image's chroot (build-image.sh's customize hook): users, services, the boot job.
set -eu
echo runts-guest > /etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 runts-guest\n' > /etc/hosts
printf '/dev/vda / ext4 rw,noatime 0 1\ntmpfs /tmp tmpfs rw,nosuid,nodev,size=1G 0 0\n' > /etc/fstab
passwd -d root

# The unprivileged user: uid 1000, subordinate ranges, lingering (a user systemd and session bus at boot).
useradd -m -u 1000 -U -s /bin/bash rootless
echo 'rootless:100000:65536' > /etc/subuid
echo 'rootless:100000:65536' > /etc/subgid
mkdir -p /var/lib/systemd/linger
touch /var/lib/systemd/linger/rootless

# The boot job: mounts the runner's control share and runs the script the runner put there.
cat > /etc/systemd/system/runts-guest.service <<'UNIT'
[Unit]
Description=runts guest job (the command given to tools/guest/run.sh)
After=multi-user.target user@1000.service systemd-user-sessions.service
Wants=user@1000.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/ctl && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ctl /run/ctl && exec /bin/sh /run/ctl/job.sh'
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
UNIT
systemctl enable runts-guest.service
# A quicker boot: nothing here needs these.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
         man-db.timer systemd-timesyncd.service getty@tty1.service serial-getty@ttyS0.service \
         modprobe@drm.service modprobe@dm_mod.service modprobe@efi_pstore.service; do
  systemctl mask "$u" >/dev/null 2>&1 || true
done
# Installed but not started at boot (a test starts them): containerd, podman's units.
systemctl disable containerd.service podman.socket podman-restart.service >/dev/null 2>&1 || true
systemctl set-default multi-user.target
# A small initramfs with just what finds the root disk (MODULES=most took 12 s of the TCG boot).
printf 'virtio_pci\nvirtio_blk\next4\n' >> /etc/initramfs-tools/modules
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
update-initramfs -u -k all
apt-get clean
rm -rf /var/lib/apt/lists/*
