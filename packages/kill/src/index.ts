// oci-kill: sends a signal to the container's init, or with --all to every process in its cgroup.
import { loadContainer, parseSignal, RuntimeError, signalPid } from '@runts/core';
import { signalAll } from '@runts/cgroups';

export interface KillOptions {
  root: string;
  id: string;
  signal?: string | number;
  all?: boolean;
}

export function kill(o: KillOptions): void {
  const sig = parseSignal(o.signal);
  const { record, status } = loadContainer(o.root, o.id);
  if (status === 'stopped') {
    if (o.all) return; // runc: kill --all of a stopped container succeeds
    throw new RuntimeError('ENOTRUNNING', 'container not running');
  }
  if (o.all) signalAll(record.cgroupPaths, sig);
  else if (!signalPid(record.pid, sig)) throw new RuntimeError('ENOTRUNNING', 'container not running');
}
