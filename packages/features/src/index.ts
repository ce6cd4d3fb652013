// oci-features: what runts supports, in the shape of features.md (and runc's `features`).
import { CAPABILITIES, NAMESPACES, mountOptionNames } from '@runts/init';
import { VERSION } from '@runts/core';

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: { enabled: boolean };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

export function features(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: mountOptionNames(),
    linux: {
      namespaces: Object.keys(NAMESPACES).sort(),
      capabilities: Object.entries(CAPABILITIES)
        .sort((a, b) => a[1] - b[1])
        .map(([name]) => name),
      // cgroupfs only: no systemd driver; resource limits are not applied yet
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'io.github.runts.version': VERSION, 'io.github.runts.checkpoint.enabled': 'false' },
  };
}
