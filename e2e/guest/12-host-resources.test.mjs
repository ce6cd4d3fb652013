// The host suite's tests/09-resources, also run in the guest, on pure cgroup v2 with systemd (it is
// written for both layouts): limits in the files and inside, OOM, pids, update, events --stats (the
// v2 stats). Importing a test file registers its tests in this process.
import '../tests/09-resources.test.mjs';
