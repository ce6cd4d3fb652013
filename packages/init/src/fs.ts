// The few host file-system reads the compiler makes, injectable so that tests run without root and
// without touching the host.
// named imports: a namespace import becomes esbuild's __toESM(require('node:fs')), whose copy of
// every property reads node:fs's lazy ones too (Node 26: it loaded internal/fs/dir at every create)
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync, readlinkSync, realpathSync, statSync, statfsSync, type Stats } from 'node:fs';

export interface FileInfo {
  isDirectory: boolean;
  isSymlink: boolean;
  isFile: boolean;
  /** permission bits and S_ISUID/S_ISGID/S_ISVTX (mode & 0o7777) */
  perm: number;
}

export interface CompileFs {
  /** stat(2) (follows symlinks); undefined when the path does not exist or cannot be stat'ed. */
  stat(path: string): FileInfo | undefined;
  /** lstat(2); undefined when missing. */
  lstat(path: string): FileInfo | undefined;
  readlink(path: string): string;
  /** realpath(3); throws when missing. */
  realpath(path: string): string;
  /** Reads a regular file of at most maxBytes, refusing to follow a symlink in the last component and
   *  checking that the opened file is really under `within` (a TOCTOU guard for hostile rootfs);
   *  undefined when missing, not regular, too big or outside. */
  readFileWithin(path: string, within: string, maxBytes: number): string | undefined;
  /** /proc/self/mountinfo of the runtime (the container's mount namespace starts as a copy of it). */
  mountinfo(): string;
  /** Whether path is on procfs (statfs f_type == PROC_SUPER_MAGIC). */
  isProcfs(path: string): boolean;
  /** Reads a trusted host file (e.g. /proc/sys/kernel/cap_last_cap); undefined when missing. */
  readHostFile(path: string): string | undefined;
}

function info(st: Stats): FileInfo {
  return { isDirectory: st.isDirectory(), isSymlink: st.isSymbolicLink(), isFile: st.isFile(), perm: st.mode & 0o7777 };
}

export const hostFs: CompileFs = {
  stat(p) {
    try {
      return info(statSync(p));
    } catch {
      return undefined;
    }
  },
  lstat(p) {
    try {
      return info(lstatSync(p));
    } catch {
      return undefined;
    }
  },
  readlink: (p) => readlinkSync(p),
  realpath: (p) => realpathSync.native(p),
  readFileWithin(p, within, maxBytes) {
    let fd: number;
    try {
      fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > maxBytes) return undefined;
      const real = readlinkSync(`/proc/self/fd/${fd}`);
      const base = within.endsWith('/') ? within : within + '/';
      if (!real.startsWith(base)) return undefined;
      const buf = Buffer.alloc(st.size);
      const n = readSync(fd, buf, 0, st.size, 0);
      return buf.subarray(0, n).toString('utf8');
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  },
  readHostFile(p) {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  isProcfs(p) {
    try {
      return statfsSync(p).type === 0x9fa0;
    } catch {
      return false;
    }
  },
};
