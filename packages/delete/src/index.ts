// oci-delete: removes a container. A running one needs --force (SIGKILL, wait); a created one is
// killed and deleted without it, as runc does (containerd's shim relies on that). Then the
// poststop hooks, the cgroups and the state dir.
import { rmSync, existsSync } from 'node:fs';
import {
  acquireLock,
  containerPaths,
  readRecord,
  deriveStatus,
  RuntimeError,
  signalPid,
  waitGone,
  hookState,
  warn,
  type ContainerRecord,
  type ContainerPaths,
} from '@runts/core';
import { driverOf, signalAll, cgroupPids, setFrozen, isFrozenPaths, undoInterruptedCreate } from '@runts/cgroups';
import { runHooks } from '@runts/init';

export interface DeleteOptions {
  root: string;
  id: string;
  force?: boolean;
}

export async function deleteContainer(o: DeleteOptions): Promise<void> {
  const paths = containerPaths(o.root, o.id);
  if (!existsSync(paths.dir)) {
    if (o.force) return;
    throw new RuntimeError('ENOTEXIST', 'container does not exist');
  }
  const lock = acquireLock(paths.lock, `delete ${o.id}`);
  try {
    let record: ContainerRecord;
    try {
      record = readRecord(paths);
    } catch (err) {
      // A dir without a readable state.json: an interrupted create. --force undoes it.
      if (o.force) {
        undoInterruptedCreate(paths);
        return;
      }
      throw err;
    }
    const status = deriveStatus(record, paths);
    if (status === 'running' || status === 'paused') {
      if (!o.force) throw new RuntimeError('EBADSTATE', `cannot delete container ${o.id} that is not stopped: ${status}`);
    }
    await destroy(record, paths);
  } finally {
    lock.release();
  }
}

/** Kills whatever is left of the container, runs poststop hooks, removes cgroups and state. */
export async function destroy(record: ContainerRecord, paths: ContainerPaths): Promise<void> {
  signalPid(record.pid, 9);
  if (Object.keys(record.cgroupPaths).length > 0) {
    if (isFrozenPaths(record.cgroupPaths)) {
      signalAll(record.cgroupPaths, 'SIGKILL');
      setFrozen(record.cgroupPaths, false);
    }
    if (!record.ownPidNs || cgroupPids(record.cgroupPaths).length > 0) signalAll(record.cgroupPaths, 'SIGKILL');
  }
  if (!waitGone(record.pid, record.startTime)) throw new RuntimeError('ESYS', `container ${record.id}: init ${record.pid} did not exit after SIGKILL`);
  for (let i = 0; i < 500 && cgroupPids(record.cgroupPaths).length > 0; i++) {
    signalAll(record.cgroupPaths, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2));
  }
  // the driver the container was made with: systemd stops its unit, then the dirs go
  const driver = driverOf(record);
  try {
    await driver.destroy(record.cgroupPaths, record.systemd);
  } finally {
    driver.close();
  }
  const poststop = (record.config as { hooks?: { poststop?: unknown[] } }).hooks?.poststop;
  // runtime.md: a failing poststop hook is logged as a warning; the others still run, delete goes on
  if (poststop && poststop.length > 0)
    await runHooks(poststop as never, 'hooks.poststop', hookState(record, 'stopped'), { cwd: record.bundle, continueOnError: true, warn: (m) => warn(`container ${record.id}: ${m}`) });
  rmSync(paths.dir, { recursive: true, force: true });
}
