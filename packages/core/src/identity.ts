// Is this pid the container's? state.json names a pid; a pid is only a number, reused by the
// kernel once the process is gone, and the file may be stale or edited. Nothing is signalled on
// the strength of the number alone:
//   - the init: alive, its start time (/proc/<pid>/stat field 22) equal to the recorded one (a
//     record without one names no process of ours), and, when create recorded the init's
//     namespaces, still in them (a host process with a copied start time is in the host's);
//   - any other process (kill --all, delete): in the container's pid namespace, or, when the
//     container shares the host's pid namespace, in its mount namespace.
// The check is repeated immediately before each signal. pidfd_open + pidfd_send_signal would close
// the remaining window (the process exiting and its pid being handed to a new process between the
// check and the kill, which needs the pid space to wrap around in microseconds), but Node has no
// pidfd and loading koffi costs every kill and delete ~14 ms, so runts checks just before the signal.
import { readlinkSync } from 'node:fs';
import { procStat, realSys, type ProcStat, type Sys } from './sys.ts';
import { signalPid } from './process.ts';

/** The namespaces of the container's init, as /proc/<pid>/ns/<type> reads (`pid:[4026532290]`). */
export interface NsIds {
  pid?: string;
  mnt?: string;
}

export interface Identity {
  pid: number;
  startTime: string;
  ownPidNs?: boolean | undefined;
  nsIds?: NsIds | undefined;
}

export function readNsId(pid: number | 'self', type: 'pid' | 'mnt', sys: Sys = realSys): string | undefined {
  const path = `/proc/${pid}/ns/${type}`;
  if (sys.readLink) return sys.readLink(path);
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The namespaces of a process that differ from ours (the ones that identify a container). */
export function containerNsIds(pid: number, sys: Sys = realSys): NsIds {
  const out: NsIds = {};
  for (const type of ['pid', 'mnt'] as const) {
    const id = readNsId(pid, type, sys);
    if (id !== undefined && id !== readNsId('self', type, sys)) out[type] = id;
  }
  return out;
}

/** The stat of the recorded init's pid while it is that process (the same start time; a pid is
 *  not reused while it exists), alive or not. */
function recordedInitStat(rec: Identity, sys: Sys): ProcStat | undefined {
  if (!Number.isInteger(rec.pid) || rec.pid <= 0 || typeof rec.startTime !== 'string' || rec.startTime === '') return undefined;
  const st = procStat(rec.pid, sys);
  return st && st.startTime === rec.startTime ? st : undefined;
}

/** The recorded init's namespaces are still those of create. */
function initNamespacesMatch(rec: Identity, sys: Sys): boolean {
  const ns = rec.nsIds;
  if (ns?.pid !== undefined && readNsId(rec.pid, 'pid', sys) !== ns.pid) return false;
  if (ns?.mnt !== undefined && readNsId(rec.pid, 'mnt', sys) !== ns.mnt) return false;
  if (rec.ownPidNs && ns?.pid === undefined) {
    // no recorded namespace: the init of its own pid namespace is pid 1 there, not in ours
    const status = sys.readFile(`/proc/${rec.pid}/status`);
    const nspid = /^NSpid:\s*(.*)$/m.exec(status ?? '')?.[1]?.trim().split(/\s+/);
    if (!nspid || nspid.length < 2 || nspid[nspid.length - 1] !== '1') return false;
  }
  return true;
}

/** Is `rec.pid` the container's init: alive, same start time, same namespaces as at create? */
export function isContainerInit(rec: Identity, sys: Sys = realSys): boolean {
  const st = recordedInitStat(rec, sys);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X' && initNamespacesMatch(rec, sys);
}

/** Is `pid` one of the container's processes (for kill --all and delete)? In its own pid
 *  namespace, or in its mount namespace when it shares the host's pid namespace. A record
 *  without namespace ids (nothing to check against) owns only its verified init. */
export function belongsToContainer(pid: number, rec: Identity, sys: Sys = realSys): boolean {
  if (pid === rec.pid) {
    // the init, also on its way out: a zombie, or exiting with its namespaces already released.
    // It is still in its cgroups and no one else's, so delete waits for it to go: a run whose
    // process fails to exec deletes the container while its init exits (e2e 30 found the init in
    // that window taken for a stranger, and the cgroups left, twice). In do_exit the mount, uts,
    // ipc, net, cgroup and time namespaces go at once (exit_task_namespaces: no task but an exiting
    // one is without them) well before the task is a zombie, while its pid namespace can be read
    // until it is reaped: no mount namespace left, and the pid namespace (if it can still be read)
    // the recorded one, is the init exiting. Its pid and start time name it alone meanwhile.
    const st = recordedInitStat(rec, sys);
    if (!st) return false;
    if (st.state === 'Z' || st.state === 'X') return true;
    if (initNamespacesMatch(rec, sys)) return true;
    const pidNs = readNsId(pid, 'pid', sys);
    return readNsId(pid, 'mnt', sys) === undefined && (pidNs === undefined || rec.nsIds?.pid === undefined || pidNs === rec.nsIds.pid);
  }
  const ns = rec.nsIds;
  if (ns?.pid !== undefined) return readNsId(pid, 'pid', sys) === ns.pid;
  if (ns?.mnt !== undefined && !rec.ownPidNs) return readNsId(pid, 'mnt', sys) === ns.mnt;
  return false;
}

/** Signals the container's init if, checked immediately before, it still is the init; false when
 *  it is not (gone, or the pid now names another process). */
export function signalInit(rec: Identity, signal: number | NodeJS.Signals): boolean {
  return isContainerInit(rec) && signalPid(rec.pid, signal);
}

/** Signals `pid` if, checked immediately before, it is one of the container's processes. */
export function signalContainerProcess(pid: number, rec: Identity, signal: number | NodeJS.Signals): boolean {
  return belongsToContainer(pid, rec) && signalPid(pid, signal);
}
