// oci-ps: the processes of a container: host pids as JSON, or `ps -ef` rows as runc prints them.
import { spawnSync } from 'node:child_process';
import { loadContainer, RuntimeError } from '@runts/core';
import { cgroupPids } from '@runts/cgroups';

export interface PsOptions {
  root: string;
  id: string;
}

/** Host pids of every process in the container's cgroup; null when stopped (runc prints null). */
export function ps(o: PsOptions): number[] | null {
  const { record, status } = loadContainer(o.root, o.id);
  if (status === 'stopped') return null;
  return cgroupPids(record.cgroupPaths).sort((a, b) => a - b);
}

/** runc runs `ps` (default args `-ef`) and keeps the header and the rows whose PID column is ours. */
export function psTable(pids: number[], psArgs: string[] = ['-ef']): string {
  const r = spawnSync('ps', psArgs, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new RuntimeError('ESYS', `ps ${psArgs.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new RuntimeError('EINVAL', "couldn't find PID field in ps output");
  const want = new Set(pids);
  const rows = lines.slice(1).filter((l) => l.trim() !== '' && want.has(Number(l.trim().split(/\s+/)[col])));
  return [header, ...rows].join('\n') + '\n';
}
