// The few facts about processes that status derivation needs, behind an interface so that unit
// tests can use a fake (youki's Syscall trait, on a small scale).
import { readFileSync, existsSync } from 'node:fs';

export interface Sys {
  /** Contents of a file, or undefined when it cannot be read. */
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  /** Target of a symlink (/proc/<pid>/ns/<type>), or undefined; the real readlink when absent. */
  readLink?(path: string): string | undefined;
}

export const realSys: Sys = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  exists: (path) => existsSync(path),
};

export interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

/** Parses /proc/<pid>/stat: field 3 (state), 4 (ppid) and 22 (starttime, kept as a string). The
 *  comm field may hold spaces and parentheses, so fields are counted from the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const f = text.slice(end + 2).trim().split(/\s+/);
  // f[0] is field 3
  const state = f[0];
  const ppid = f[1];
  const start = f[19];
  if (state === undefined || ppid === undefined || start === undefined) return undefined;
  return { state, ppid: Number(ppid), startTime: start };
}

export function procStat(pid: number, sys: Sys = realSys): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const t = sys.readFile(`/proc/${pid}/stat`);
  return t === undefined ? undefined : parseProcStat(t);
}
