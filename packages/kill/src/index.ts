// oci-kill: sends a signal to the container's init, or with --all to every process in its cgroup.
import { loadContainer, parseSignal, RuntimeError, signalInit } from '@runts/core';
import { confineCgroupPaths, signalOwned, setFrozen, isFrozenPaths } from '@runts/cgroups';

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
  // only the container's own processes, each checked (start time, namespaces) just before its signal
  if (o.all) {
    const cgroups = confineCgroupPaths(record.cgroupPaths);
    const frozen = isFrozenPaths(cgroups);
    if (signalOwned(cgroups, record, sig) === 0) signalInit(record, sig);
    // a frozen process acts on SIGKILL once thawed (runc thaws for SIGKILL)
    if (frozen && sig === 9) setFrozen(cgroups, false);
  } else if (!signalInit(record, sig)) throw new RuntimeError('ENOTRUNNING', 'container not running');
}
