// oci-pause and resume: freeze and thaw every process of a container through its cgroup freezer.
import { acquireLock, loadContainer, RuntimeError } from '@runts/core';
import { setFrozen, initCgroupPaths } from '@runts/cgroups';

export interface PauseOptions {
  root: string;
  id: string;
}

export function pause(o: PauseOptions): void {
  const { paths } = loadContainer(o.root, o.id);
  const lock = acquireLock(paths.lock, `pause ${o.id}`);
  try {
    const { record, status } = loadContainer(o.root, o.id);
    if (status !== 'running' && status !== 'created') throw new RuntimeError('ENOTRUNNING', 'container not running');
    // only the cgroups the init is in: state.json is data, and may have been edited
    setFrozen(initCgroupPaths(record.cgroupPaths, record.pid), true);
  } finally {
    lock.release();
  }
}

export function resume(o: PauseOptions): void {
  const { paths } = loadContainer(o.root, o.id);
  const lock = acquireLock(paths.lock, `resume ${o.id}`);
  try {
    const { record, status } = loadContainer(o.root, o.id);
    if (status !== 'paused') throw new RuntimeError('EBADSTATE', 'container not paused');
    setFrozen(initCgroupPaths(record.cgroupPaths, record.pid), false);
  } finally {
    lock.release();
  }
}
