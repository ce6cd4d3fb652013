// The state directory: <root>/<id>/{state.json, exec.fifo}. Root defaults to /run/runts, 0700.
import { mkdirSync, statSync, readFileSync, lstatSync, openSync, fstatSync, closeSync, constants as fsConstants } from 'node:fs';
import { basename, posix } from 'node:path';
import { RuntimeError } from './errors.ts';

export const DEFAULT_ROOT = '/run/runts';

// node:path's posix join, normalize and relative, without their character loop where the path is
// already normal: not empty, no empty, `.` or `..` component, no trailing slash. The result is the
// same string. create joins ~170 paths (cgroup files, mount targets), and through node:path alone
// V8 found its normalizeString hot and compiled it with TurboFan on a background thread: ~8 ms of
// CPU per create, and TurboFan's code paged in (tools/bench/README.md, "What the night's traces said").
const UNNORMAL = /\/\/|(?:^|\/)\.\.?(?:\/|$)/;

/** posix.normalize(p). */
export function normalPath(p: string): string {
  if (typeof p !== 'string') return posix.normalize(p); // node:path's TypeError
  return p === '' || (p.length > 1 && p.endsWith('/')) || UNNORMAL.test(p) ? posix.normalize(p) : p;
}

/** posix.join(...parts). */
export function joinPath(...parts: string[]): string {
  let j = '';
  for (const p of parts) {
    if (typeof p !== 'string') return posix.join(...parts); // node:path's TypeError
    // node:path joins with '/' and then collapses '//': no '//' made here keeps a normal result fast
    if (p === '') continue;
    if (j === '') j = p;
    else if (j.endsWith('/')) j += p.startsWith('/') ? p.slice(1) : p;
    else j += p.startsWith('/') ? p : '/' + p;
  }
  return j === '' ? '.' : normalPath(j);
}

/** posix.resolve(...parts): the same string, through joinPath from the last absolute part (or the
 *  cwd), and through node:path only when that is not already normal. */
export function resolvePath(...parts: string[]): string {
  let k = parts.length - 1;
  for (; k >= 0; k--) {
    const p = parts[k];
    if (typeof p !== 'string') return posix.resolve(...parts); // node:path's TypeError
    if (p.startsWith('/')) break;
  }
  const j = k < 0 ? joinPath(process.cwd(), ...parts) : joinPath(...parts.slice(k));
  return j === '/' || (j.startsWith('/') && !j.endsWith('/') && !UNNORMAL.test(j)) ? j : posix.resolve(...parts);
}

/** posix.relative(from, to). */
export function relativePath(from: string, to: string): string {
  if (from.startsWith('/') && to.startsWith('/') && normalPath(from) === from && normalPath(to) === to) {
    if (from === to) return '';
    if (from === '/') return to.slice(1);
    if (to.startsWith(from + '/')) return to.slice(from.length + 1);
  }
  return posix.relative(from, to);
}

/** userns.RunningInUserNS: the uid map is not the initial namespace's identity map. */
export function inUserNamespace(uidMap?: string): boolean {
  let text = uidMap;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/uid_map', 'utf8');
    } catch {
      return false;
    }
  }
  return !/^\s*0\s+0\s+4294967295\s*$/.test(text);
}

/** runc's default --root (shouldHonorXDGRuntimeDir): $XDG_RUNTIME_DIR/runts for a user other than
 *  root, and for root in a user namespace unless $USER is root (rootless Podman runs the runtime
 *  so); else /run/runts. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, euid: number = typeof process.geteuid === 'function' ? process.geteuid() : 0, userns: () => boolean = () => inUserNamespace()): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (!xdg) return DEFAULT_ROOT;
  if (euid !== 0) return joinPath(xdg, 'runts');
  if (!userns()) return DEFAULT_ROOT;
  return env['USER'] !== 'root' ? joinPath(xdg, 'runts') : DEFAULT_ROOT;
}

/** runc's shouldUseRootlessCgroupManager: not root, or root in a user namespace (rootless Podman,
 *  rootlesskit): cgroups that cannot be made are then skipped. */
export function rootlessCgroups(euid: number = typeof process.geteuid === 'function' ? process.geteuid() : 0, userns: () => boolean = () => inUserNamespace()): boolean {
  return euid !== 0 || userns();
}
export const STATE_FILE = 'state.json';
export const FIFO_FILE = 'exec.fifo';
export const LOCK_FILE = '.lock';
/** What an unfinished create has made so far (pid, cgroups), so an interrupted one can be undone. */
export const CREATING_FILE = 'creating.json';

const ID_RE = /^[A-Za-z0-9_+.-]+$/;

/** runc's rule: `[A-Za-z0-9_+.-]+`, and not `.` or `..`. */
export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id) && id !== '.' && id !== '..';
}

export function validateId(id: unknown): string {
  if (!isValidId(id)) throw new RuntimeError('EINVAL', 'invalid container ID format');
  return id;
}

/** Creates the root dir (mode 0700) when missing; returns it. */
export function ensureRoot(root: string): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return root;
}

export interface ContainerPaths {
  root: string;
  dir: string;
  state: string;
  fifo: string;
  lock: string;
  creating: string;
}

/** The paths of one container; the id is validated first so that nothing outside root is named. */
export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = joinPath(root, validateId(id));
  return { root, dir, state: joinPath(dir, STATE_FILE), fifo: joinPath(dir, FIFO_FILE), lock: joinPath(dir, LOCK_FILE), creating: joinPath(dir, CREATING_FILE) };
}

/** Is the container dir there, as a real directory? A symlink at `<root>/<id>` (to any directory)
 *  is never followed: the runtime would read its state, write its lock and kill what it names
 *  somewhere else. runc confines the id to the root (securejoin); runts refuses it, naming it. */
export function stateDirExists(paths: ContainerPaths): boolean {
  let st: import('node:fs').Stats;
  try {
    st = lstatSync(paths.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (st.isSymbolicLink()) throw symlinkedStateDir(paths);
  if (!st.isDirectory()) throw new RuntimeError('EINVAL', `container ${basename(paths.dir)}: state dir ${paths.dir} is not a directory`);
  return true;
}

function symlinkedStateDir(paths: ContainerPaths): RuntimeError {
  return new RuntimeError('EINVAL', `container ${basename(paths.dir)}: state dir ${paths.dir} is a symlink: refusing to follow it`);
}

/** Opens the container dir without following a symlink (O_NOFOLLOW | O_DIRECTORY) and returns
 *  the fd: files read through `/proc/self/fd/<fd>/...` then come from this directory even if the
 *  name is swapped meanwhile. A missing dir is `container does not exist`. */
export function openStateDir(paths: ContainerPaths): number {
  try {
    return openSync(paths.dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RuntimeError('ENOTEXIST', 'container does not exist');
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      stateDirExists(paths); // names what it is
      throw symlinkedStateDir(paths);
    }
    throw err;
  }
}

/** (dev, ino) of an open fd, to check that a path still names the same directory. */
export function fdIdentity(fd: number): string {
  const st = fstatSync(fd);
  return `${st.dev}:${st.ino}`;
}

export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* closed */
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
