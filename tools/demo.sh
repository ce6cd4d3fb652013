#!/usr/bin/env bash
# The demo: a busybox bundle, then `oci-create demo && oci-start demo` printing what the
# container says, then oci-state and oci-delete.
set -euo pipefail
cd "$(dirname "$0")/.."
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
bundle=${DEMO_BUNDLE:-/tmp/runts-demo}
rm -rf "$bundle"
mkdir -p "$bundle"
bash tools/make-rootfs/make-rootfs.sh "$bundle/rootfs" >/dev/null
pnpm -s exec oci-spec --bundle "$bundle"
# no terminal, and a command that shows where it runs
node -e '
const fs = require("fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f, "utf8"));
c.process.terminal = false;
c.hostname = "demo";
c.process.args = ["sh", "-c", "echo hello from $(hostname): pid $$, uid $(id -u), $(ls /proc | grep -c ^[0-9]) processes; cat /etc/os-release 2>/dev/null | head -1 || true"];
fs.writeFileSync(f, JSON.stringify(c, null, "\t"));' "$bundle/config.json"
root=${DEMO_ROOT:-/run/runts}
pnpm -s exec oci-delete --root "$root" --force demo
echo "+ oci-create demo --bundle $bundle && oci-start demo"
pnpm -s exec oci-create --root "$root" demo --bundle "$bundle" && pnpm -s exec oci-start --root "$root" demo
sleep 0.3
echo "+ oci-state demo"
pnpm -s exec oci-state --root "$root" demo; echo
echo "+ oci-delete demo"
pnpm -s exec oci-delete --root "$root" demo
