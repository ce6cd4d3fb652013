// oci-start: releases a created container's init through exec.fifo, then runs poststart hooks.
import { openSync, readSync, closeSync, unlinkSync, constants } from 'node:fs';
import { acquireLock, loadContainer, RuntimeError, sleepMs, isAlive, hookState, warn, debug, type Loaded } from '@runts/core';
import { runHooks } from '@runts/init';

export interface StartOptions {
  root: string;
  id: string;
}

/** Opens exec.fifo for reading without blocking and reads the init's "0": the init is blocked
 *  opening the fifo for writing, and our open releases it. Gives up if the init dies. */
export function releaseInit(loaded: Loaded): void {
  const { paths, record } = loaded;
  let fd: number;
  try {
    fd = openSync(paths.fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError('EBADSTATE', 'cannot start an already running container');
    throw err;
  }
  try {
    // First the init's "0" (an EOF before it only means the init has not opened its end yet),
    // then the EOF of its close-on-exec write end: the user's process has been exec'd (after
    // the startContainer hooks), or the init died.
    const buf = Buffer.alloc(1);
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
        n = readSync(fd, buf, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n === 1) {
        released = true;
        continue;
      }
      if (n === 0 && released) break;
      if (!alive) {
        if (released) break;
        throw new RuntimeError('EBADSTATE', 'cannot start a container that has stopped');
      }
      sleepMs(delay);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(paths.fifo);
}

export async function start(o: StartOptions): Promise<void> {
  const { paths } = loadContainer(o.root, o.id); // validates id, container exists
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
      // runc gives poststart hooks the state as start saw it: created
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
