// `runc spec` and `runc spec --rootless`, field for field and in runc's key order (runc 1.1's
// specconv.Example and specconv.ToRootless). ociVersion is this project's spec version, 1.3.0
// (runc 1.1 prints its vendored 1.0.2-dev); everything else is identical.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RuntimeError, describeSysError } from '@runts/core';
import type { Mount, Spec } from './generated/types.ts';

export const OCI_VERSION = '1.3.0';

export interface DefaultSpecOptions {
  /** A spec for a rootless container: user namespace mapping the current euid/egid to 0, no network namespace, /sys bound, no cgroup resources. */
  rootless?: boolean;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return opts.rootless ? toRootless(spec) : spec;
}

/** runc's specconv.ToRootless, in its order of keys. */
function toRootless(spec: Spec): Spec {
  const linux = spec.linux!;
  const namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'network' && n.type !== 'user');
  namespaces.push({ type: 'user' });
  const mounts: Mount[] = (spec.mounts ?? []).map((m) => {
    if (m.destination.replace(/\/+$/, '') === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  return {
    ...spec,
    mounts,
    linux: {
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
      namespaces,
      maskedPaths: linux.maskedPaths,
      readonlyPaths: linux.readonlyPaths,
    },
  };
}

/** The text runc writes: tab-indented JSON, no trailing newline. */
export function formatSpec(spec: Spec): string {
  return JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0002big:${v}` : v), '\t').replace(/"\\u0002big:(-?\d+)"/g, '$1');
}

/** Writes the default config.json into bundleDir (mode 0644, like runc) and returns its path.
 *  Refuses to replace an existing config.json: the error names it and nothing is written. */
export function writeDefaultSpec(bundleDir: string, opts: DefaultSpecOptions = {}): string {
  const path = join(resolve(bundleDir), 'config.json');
  const text = formatSpec(defaultSpec(opts));
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('EINVAL', `${path} already exists: remove it first`, { cause: err, errno: 'EEXIST' });
    throw new RuntimeError('ESYS', describeSysError(err), { cause: err, errno: (err as NodeJS.ErrnoException).code });
  }
  try {
    writeSync(fd, text);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true }); // never leave half a config.json
    throw new RuntimeError('ESYS', `write ${path}: ${describeSysError(err)}`, { cause: err });
  }
  return path;
}
