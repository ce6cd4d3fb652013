// Device rules on pure cgroup v2 (the eBPF device filter, required there): the host suite's device
// files, written for both layouts, run in the guest.
//   tests/06-devices-cgroup: runc vs runts with CAP_MKNOD: the same devices refused (EPERM) and
//     opened, an explicit deny of a linux.devices device holds, Podman's fileMode, "rwa", allow-all
//     plus a deny; a bad rule refused naming the field
//   tests/21-device-filter: the filter on a bare cgroup (denied devices cannot be opened or made,
//     allowed ones can, re-attaching replaces it) and on a runts container's cgroup, update
//     re-attaching it, bad rules leaving nothing behind
import '../tests/06-devices-cgroup.test.mjs';
import '../tests/21-device-filter.test.mjs';
