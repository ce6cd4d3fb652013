// linux.namespaces[N].path must name a namespace of that type. The executor opens it to setns();
// a FIFO with no writer would block that open forever (runc hangs), a regular file or a dir gives
// an obscure setns EINVAL. So before anything is made, each path is opened with O_PATH (which never
// blocks and reads nothing) and must be an nsfs inode of the right type, named by its field.
import { openSync, closeSync, fstatSync, readlinkSync, statfsSync } from 'node:fs';
import { RuntimeError, describeSysError } from '@runts/core';

const O_PATH = 0o10000000;
const NSFS_MAGIC = 0x6e736673;

/** The kernel's name of each OCI namespace type (/proc/<pid>/ns/<name>, the `name:[inode]` of nsfs). */
const KERNEL_NAME: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

function kind(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a fifo';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a regular file';
}

/** Throws RuntimeError('EINVAL') naming linux.namespaces[N].path when a path is not a namespace. */
export function checkNamespacePaths(namespaces: unknown): void {
  if (!Array.isArray(namespaces)) return;
  namespaces.forEach((n: { type?: unknown; path?: unknown }, i) => {
    if (!n || typeof n.path !== 'string' || n.path === '' || typeof n.type !== 'string') return;
    const field = `linux.namespaces[${i}].path`;
    let fd: number;
    try {
      fd = openSync(n.path, O_PATH);
    } catch (err) {
      throw new RuntimeError('EINVAL', `${field}: ${describeSysError(err)}`);
    }
    try {
      // an nsfs inode reads as `net:[4026531992]` through its fd; anything else as a path
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      const m = /^([a-z_]+):\[\d+\]$/.exec(target);
      // a namespace bind-mounted on a file (ip netns add, CNI) reads as its path: it is on nsfs,
      // of a type the fd does not tell (setns checks it)
      if (!m && statfsSync(`/proc/self/fd/${fd}`).type === NSFS_MAGIC) return;
      if (!m) throw new RuntimeError('EINVAL', `${field}: ${n.path} is not a namespace (${kind(fstatSync(fd))})`);
      const want = KERNEL_NAME[n.type];
      // pid_for_children and time_for_children name the same kinds
      const got = m[1]!.replace(/_for_children$/, '');
      if (want !== undefined && got !== want) throw new RuntimeError('EINVAL', `${field}: ${n.path} is a ${got} namespace, not ${n.type}`);
    } finally {
      closeSync(fd);
    }
  });
}
