// Host suite files that also run in the guest, on pure cgroup v2 with systemd: they are written for
// both layouts (hybrid here, v2 there). Importing a test file registers its tests in this process.
//   tests/09-resources: limits in the files and inside, OOM, pids, update, events --stats (v2 stats)
//   tests/10-managers: Podman (cgroupfs manager) and containerd with runts as the runtime
import '../tests/09-resources.test.mjs';
import '../tests/10-managers.test.mjs';
