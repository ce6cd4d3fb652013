// oci-delete: removes a container. A running one needs --force (SIGKILL, wait); a created one is
// killed and deleted without it, as runc does (containerd's shim relies on that). Then the
// poststop hooks, the cgroups and the state dir.
import {
  acquireLock,
  containerPaths,
  stateDirExists,
  sweepReservations,
  readRecord,
  deriveStatus,
  RuntimeError,
  signalInit,
  waitGone,
  hookState,
  removeStateDir,
  warn,
  type ContainerRecord,
  type ContainerPaths,
} from '@runts/core';
import { removeCgroups, removeEmptyCgroups, setFrozen, isFrozenPaths, undoInterruptedCreate, confineCgroupPaths, confineCreated, cgroupMembers, signalOwned, releaseUnit } from '@runts/cgroups';
import { runHooks } from '@runts/init/hooks';

export interface DeleteOptions {
  root: string;
  id: string;
  force?: boolean;
}

export async function deleteContainer(o: DeleteOptions): Promise<void> {
  const paths = containerPaths(o.root, o.id);
  if (!stateDirExists(paths)) {
    // a create of the id SIGKILLed before its dir was renamed into place left only a fresh dir
    if (o.force) return sweepReservations(o.root, o.id);
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

/** Kills whatever is left of the container, runs poststop hooks, removes cgroups and state.
 *  Only what is provably the container's is killed (its init, checked by start time and
 *  namespaces immediately before the signal; processes in its cgroups that are in its
 *  namespaces), and only the cgroup dirs create made are removed: a cgroup shared with a host
 *  process keeps that process (and stays, with a warning), a cgroup root is never touched. */
export async function destroy(record: ContainerRecord, paths: ContainerPaths): Promise<void> {
  const cgroups = confineCgroupPaths(record.cgroupPaths);
  const hasCgroups = Object.keys(cgroups).length > 0;
  const wasAlive = signalInit(record, 'SIGKILL');
  // A container with its own pid namespace has no processes left once its init is gone (the
  // kernel kills the rest, and the init is not gone before they are): unless it is frozen (a
  // frozen init cannot die until thawed), its cgroups (cgroupfs) go with one rmdir each, and only
  // one that will not go is looked into, below.
  if (record.ownPidNs === true && record.systemd === undefined && hasCgroups) {
    const gone = !wasAlive || (!isFrozenPaths(cgroups) && waitGone(record.pid, record.startTime, 2000));
    if (gone && removeEmptyCgroups(cgroups, createdOf(record, cgroups))) return finish(record, paths);
  }
  if (hasCgroups) {
    const frozen = isFrozenPaths(cgroups);
    signalOwned(cgroups, record, 'SIGKILL');
    // a frozen process acts on SIGKILL once thawed
    if (frozen) setFrozen(cgroups, false);
  }
  if (wasAlive && !waitGone(record.pid, record.startTime)) throw new RuntimeError('ESYS', `container ${record.id}: init ${record.pid} did not exit after SIGKILL`);
  let members = hasCgroups ? cgroupMembers(cgroups, record) : { owned: [], foreign: new Map<string, number[]>() };
  for (let i = 0; i < 500 && members.owned.length > 0; i++) {
    signalOwned(cgroups, record, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2));
    members = cgroupMembers(cgroups, record);
  }
  // the driver the container was made with: systemd stops its unit (and its cgroup), then the dirs go
  await releaseUnit(record.systemd);
  removeOwnCgroups(record, cgroups, members.foreign);
  await finish(record, paths);
}

/** The cgroup dirs of the container that create made (all of them for a record without the list). */
function createdOf(record: ContainerRecord, cgroups: Record<string, string>): string[] {
  return record.createdCgroups === undefined ? Object.values(cgroups) : confineCreated(cgroups, record.createdCgroups);
}

/** After the processes and cgroups: poststop hooks, then the state dir. */
async function finish(record: ContainerRecord, paths: ContainerPaths): Promise<void> {
  const poststop = (record.config as { hooks?: { poststop?: unknown[] } }).hooks?.poststop;
  // runtime.md: a failing poststop hook is logged as a warning; the others still run, delete goes on.
  // They run in delete's own working directory, as runc's do.
  if (poststop && poststop.length > 0)
    await runHooks(poststop as never, 'hooks.poststop', hookState(record, 'stopped'), { continueOnError: true, warn: (m) => warn(`container ${record.id}: ${m}`) });
  removeStateDir(paths.dir);
}

function removeOwnCgroups(record: ContainerRecord, cgroups: Record<string, string>, foreign: Map<string, number[]>): void {
  const keep: Record<string, string> = {};
  for (const [key, dir] of Object.entries(cgroups)) {
    const pids = foreign.get(key);
    if (pids && pids.length > 0) warn(`container ${record.id}: cgroup ${dir} holds processes that are not the container's (${pids.join(' ')}): not killed, cgroup left in place`);
    else keep[key] = dir;
  }
  // a record from before createdCgroups was kept: the container's own dirs (never a hierarchy root)
  const created = createdOf(record, keep);
  removeCgroups(keep, created);
}
