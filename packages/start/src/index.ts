// oci-start: releases a created container's init through exec.fifo, then runs poststart hooks.
import { openSync, readSync, closeSync, unlinkSync, constants } from 'node:fs';
import { acquireLock, loadContainer, containerPaths, readRecord, RuntimeError, sleepMs, isAlive, hookState, warn, debug, strerror, ERRNO_NAMES, type Loaded } from '@runts/core';

export interface StartOptions {
  root: string;
  id: string;
}

/** What the init writes on exec.fifo after its "0" (native/nsenter/PROTOCOL.md, "exec.fifo"):
 *  'X' once only the seccomp filter and the execve are left, or 'E' + u32 length + an Error payload
 *  (u32 step, i32 errno, u32 n, message) when a step after Ready failed. */
export function fifoOutcome(after: Buffer): { launched: boolean; error?: { errno: number; message: string } } {
  let launched = false;
  for (let i = 0; i < after.length; ) {
    const c = after[i]!;
    if (c === 0x58 /* X */) {
      launched = true;
      i++;
    } else if (c === 0x45 /* E */ && i + 5 + 12 <= after.length) {
      const len = after.readUInt32LE(i + 1);
      const p = after.subarray(i + 5, i + 5 + len);
      const errno = p.readInt32LE(4);
      const n = Math.min(p.readUInt32LE(8), Math.max(0, p.length - 12));
      return { launched, error: { errno, message: p.subarray(12, 12 + n).toString('utf8') } };
    } else {
      return { launched, error: { errno: 0, message: 'unexpected data on exec.fifo' } };
    }
  }
  return { launched };
}

/** The error for an init that did not start the process after start released it. */
export function launchError(after: Buffer): RuntimeError | undefined {
  const o = fifoOutcome(after);
  if (o.error) {
    const { errno, message } = o.error;
    // like describeError: exec lookups and hook status are complete runc text
    const full = errno === 0 || message.startsWith('exec: "');
    const text = full ? message : `${message}: ${strerror(errno)}`;
    return new RuntimeError(/^(exec|seccomp)/.test(message) ? 'EEXEC' : 'ESYS', `the container's init failed to start the process: ${text}`, {
      errno: errno ? ERRNO_NAMES[errno] : undefined,
    });
  }
  if (!o.launched) return new RuntimeError('ESYS', "the container's init died before it started the process");
  return undefined;
}

/** Opens exec.fifo for reading without blocking and reads the init's "0": the init is blocked
 *  opening the fifo for writing, and our open releases it. Gives up if the init dies. Then reads
 *  until the EOF of the init's close-on-exec write end, and throws when what came before the EOF
 *  says the process was not started (launchError). */
export function releaseInit(loaded: Loaded): void {
  const { paths, record } = loaded;
  let fd: number;
  try {
    fd = openSync(paths.fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError('EBADSTATE', 'cannot start an already running container');
    throw err;
  }
  const after: Buffer[] = [];
  try {
    // First the init's "0" (an EOF before it only means the init has not opened its end yet),
    // then the EOF of its close-on-exec write end: the user's process has been exec'd (after
    // the startContainer hooks), or the init died.
    const buf = Buffer.alloc(8192);
    let released = false;
    // polled at most 1 ms apart: the exec comes within a few ms, and a longer step only adds its
    // overshoot to start
    for (let delay = 0.05; ; delay = Math.min(delay * 2, 1)) {
      // Liveness is sampled before the read: an init that runs `true` can open the fifo, write
      // its "0", exec and die between a read that saw EOF and a later check; read after the
      // check, the "0" of an init that is already gone is still in the fifo and is seen.
      const alive = isAlive(record.pid, record.startTime);
      let n = -1;
      try {
        n = readSync(fd, buf, 0, released ? buf.length : 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n > 0) {
        if (released) after.push(Buffer.from(buf.subarray(0, n)));
        released = true;
        delay = 0.05;
        continue;
      }
      if (n === 0 && released) break;
      if (!alive) {
        if (released) break;
        throw new RuntimeError('EBADSTATE', 'cannot start a container that has stopped');
      }
      sleepMs(delay);
    }
    // what a dying init wrote is still in the fifo
    for (;;) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        break;
      }
      if (n <= 0) break;
      after.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(paths.fifo);
  const err = launchError(Buffer.concat(after));
  if (err) throw err;
}

export async function start(o: StartOptions): Promise<void> {
  const paths = containerPaths(o.root, o.id); // validates the id
  readRecord(paths); // the container exists (its status is read under the lock)
  const lock = acquireLock(paths.lock, `start ${o.id}`);
  let loaded: Loaded;
  try {
    loaded = loadContainer(o.root, o.id);
    switch (loaded.status) {
      case 'created':
        break;
      case 'stopped':
        throw new RuntimeError('EBADSTATE', 'cannot start a container that has stopped');
      case 'paused':
        throw new RuntimeError('EBADSTATE', 'cannot start a container in the paused state');
      default:
        throw new RuntimeError('EBADSTATE', 'cannot start an already running container');
    }
    releaseInit(loaded);
  } finally {
    lock.release();
  }
  const hooks = (loaded.record.config as { hooks?: { poststart?: unknown[] } }).hooks?.poststart;
  if (hooks && hooks.length > 0) {
    try {
      // runc gives poststart hooks the state as start saw it: created (the hook runner, and the
      // init package it is in, are loaded only for a container that has poststart hooks)
      const { runHooks } = await import('@runts/init/hooks');
      await runHooks(hooks as never, 'hooks.poststart', hookState(loaded.record, 'created'), { cwd: loaded.record.bundle });
    } catch (err) {
      // runtime.md: a failing poststart hook is an error; the container is stopped and destroyed
      // (its cgroups and state), and the poststop hooks run (runc 1.1 runs poststart hooks in
      // create, and fails create the same way)
      debug(`container ${o.id}: poststart failed: stopping and destroying the container`);
      const { destroy } = await import('@runts/delete');
      const again = acquireLock(paths.lock, `start ${o.id}`);
      try {
        await destroy(loaded.record, loaded.paths);
      } catch (e) {
        warn(`container ${o.id}: destroy after poststart failure: ${(e as Error).message}`);
      } finally {
        again.release();
      }
      throw err;
    }
  }
}
