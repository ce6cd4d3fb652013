#!/bin/sh
# as-rootless.sh CMD...: IN THE GUEST, as root, runs CMD as the unprivileged user `rootless` the way
# a logged-in user runs it: a transient unit of the user's own systemd (user@1000.service, started at
# boot by lingering), Delegate=yes, with XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS set, the
# working directory and the RUNTS_*/E2E_*/NODE_* environment kept (but the user's own
# E2E_WORK_DIR=/var/tmp/runts-e2e-rootless: root's cached rootfs is not the user's to refresh). Exits with CMD's exit code.
set -eu
[ "$(id -u)" = 0 ] || { echo "as-rootless: run it as root in the guest" >&2; exit 2; }
user=rootless
uid=$(id -u "$user")
rt=/run/user/$uid
i=0
while [ ! -S "$rt/bus" ]; do
  i=$((i + 1))
  [ $i -le 600 ] || { echo "as-rootless: the user systemd of $user did not come up ($rt/bus missing)" >&2; exit 125; }
  sleep 0.2
done
set -- systemd-run --user --pipe --wait --quiet --collect -p Delegate=yes --working-directory="$PWD" \
  -E PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin -E HOME=/home/$user -E USER=$user -E LOGNAME=$user \
  -E XDG_RUNTIME_DIR="$rt" -E DBUS_SESSION_BUS_ADDRESS="unix:path=$rt/bus" \
  -E E2E_WORK_DIR=/var/tmp/runts-e2e-$user \
  $(env | grep -E '^(RUNTS_|E2E_|NODE_)[A-Za-z0-9_]*=' | grep -vE '^(NODE_EXTRA_CA_CERTS|E2E_WORK_DIR)=' | sed 's/^/-E /') -- "$@"
exec runuser -u "$user" -- env XDG_RUNTIME_DIR="$rt" DBUS_SESSION_BUS_ADDRESS="unix:path=$rt/bus" "$@"
