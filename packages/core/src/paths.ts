// The state directory: <root>/<id>/{state.json, exec.fifo}. Root defaults to /run/runts, 0700.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from './errors.ts';

export const DEFAULT_ROOT = '/run/runts';

/** runc's default --root: $XDG_RUNTIME_DIR/runts for a user other than root (when set), else /run/runts. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, euid: number = typeof process.geteuid === 'function' ? process.geteuid() : 0): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  return euid !== 0 && xdg ? join(xdg, 'runts') : DEFAULT_ROOT;
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
  const dir = join(root, validateId(id));
  return { root, dir, state: join(dir, STATE_FILE), fifo: join(dir, FIFO_FILE), lock: join(dir, LOCK_FILE), creating: join(dir, CREATING_FILE) };
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
