// oci-kill: sends a signal to the container's init, or with --all to every process in its cgroup.
import { loadContainer, parseSignal, RuntimeError, signalPid, toRuntimeError } from '@runts/core';
import { signalAll } from '@runts/cgroups';

export interface KillOptions {
  root: string;
  id: string;
  signal?: string | number;
  all?: boolean;
}

export function kill(o: KillOptions): void {
  const { record, status } = loadContainer(o.root, o.id); // runc looks up the container first
  const sig = parseSignal(o.signal);
  if (status === 'stopped') {
    if (o.all) return; // runc: kill --all of a stopped container succeeds
    throw new RuntimeError('ENOTRUNNING', 'container not running');
  }
  if (o.all) {
    signalAll(record.cgroupPaths, sig);
    return;
  }
  let alive: boolean;
  try {
    alive = signalPid(record.pid, sig);
  } catch (err) {
    throw toRuntimeError(err, 'unable to signal init');
  }
  if (!alive) throw new RuntimeError('ENOTRUNNING', 'container not running');
}
