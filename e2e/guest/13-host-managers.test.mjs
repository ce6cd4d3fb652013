// The host suite's tests/10-managers, also run in the guest: Podman (cgroupfs manager) and containerd
// (ctr, shim v2) with runts as their runtime, on pure cgroup v2 with systemd.
import '../tests/10-managers.test.mjs';
