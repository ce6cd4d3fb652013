// A per-container lock so that two verbs on one container cannot interleave (delete during
// start). An O_EXCL lock file holding the owner's pid and start time; a lock whose owner is gone
// is stale and taken over.
import { openSync, writeSync, closeSync, unlinkSync, readFileSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from './errors.ts';
import { procStat } from './sys.ts';

// made on first use: a module top level may run in a V8 startup snapshot, which has no SharedArrayBuffer
let sleeper: Int32Array | undefined;
export function sleepMs(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

function owner(): string {
  return `${process.pid} ${procStat(process.pid)?.startTime ?? ''}`;
}

function ownerAlive(text: string): boolean {
  const [pid, start] = text.trim().split(' ');
  const st = procStat(Number(pid));
  return st !== undefined && st.state !== 'Z' && (start === undefined || start === '' || st.startTime === start);
}

export interface Lock {
  release(): void;
}

/** Takes the lock file at `path`, waiting up to `timeoutMs` for another holder. */
export function acquireLock(path: string, what: string, timeoutMs = 30_000): Lock {
  refuseSymlinkedDir(dirname(path), what);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, owner());
      closeSync(fd);
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          try {
            unlinkSync(path);
          } catch {
            /* the state dir may be gone already (delete) */
          }
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new RuntimeError('ENOTEXIST', 'container does not exist');
      if (code !== 'EEXIST') throw err;
    }
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    if (text !== '' && !ownerAlive(text)) {
      try {
        unlinkSync(path);
      } catch {
        /* someone else took it over */
      }
      continue;
    }
    if (Date.now() > deadline) throw new RuntimeError('EBADSTATE', `${what}: timed out waiting for the container lock ${path}`);
    sleepMs(delay);
  }
}

/** The lock lives in the container dir: a symlink there would put it (and what follows) elsewhere. */
function refuseSymlinkedDir(dir: string, what: string): void {
  try {
    if (lstatSync(dir).isSymbolicLink()) throw new RuntimeError('EINVAL', `${what}: state dir ${dir} is a symlink: refusing to follow it`);
  } catch (err) {
    if (err instanceof RuntimeError) throw err;
    /* missing: the open below says so */
  }
}
