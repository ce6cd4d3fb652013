#!/usr/bin/env bash
# Sets up everything runts needs on a fresh Debian machine (as root) and runs the demo:
# system packages, pnpm, the workspace install and build. `--no-demo` skips the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=1
[ "${1:-}" = "--no-demo" ] && demo=0

need=()
for p in gcc make libc6-dev busybox-static runc crun hyperfine strace time iproute2 python3 tmux libseccomp2 podman containerd docker.io uidmap \
         mmdebstrap qemu-system-x86 e2fsprogs dbus-daemon; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # no daemon is started by the install (docker.io, containerd): the tests start their own
  rcd=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then rcd=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' > "$rcd"; chmod 755 "$rcd"; fi
  apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$rcd" ] || rm -f "$rcd"
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: runts needs Node >= 20.19, found "+process.version); process.exit(1) }'
command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10 >/dev/null
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
pnpm install --frozen-lockfile
pnpm build
if [ "$demo" = 1 ]; then bash tools/demo.sh; fi
