// What runc's factory checks about the container's cgroup before it uses it: a cgroup that
// already holds processes gets a warning, a frozen one is refused at once (the init would freeze
// on joining it and create would hang).
import { existsSync, readFileSync } from 'node:fs';
import { RuntimeError, joinPath } from '@runts/core';
import { cgroupPids } from './index.ts';

/** Before the cgroups are made: runc's warnings for a cgroup that is not empty. */
export function warnNonEmptyCgroup(paths: Record<string, string>, warn: (msg: string) => void): void {
  if (!Object.values(paths).some((d) => existsSync(joinPath(d, 'cgroup.procs')))) return;
  const n = cgroupPids(paths).length;
  if (n === 0) return;
  warn(`container's cgroup is not empty: ${n} process(es) found`);
  warn('DEPRECATED: running container in a non-empty cgroup won\'t be supported in runc 1.2; https://github.com/opencontainers/runc/issues/3132');
}

/** After the cgroups are made (a new cgroup under a frozen parent is frozen too): refuses a frozen
 *  one with runc's words, naming the cgroup. */
export function refuseFrozenCgroup(paths: Record<string, string>): void {
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  const v1 = paths['freezer'];
  const st = v1 ? read(joinPath(v1, 'freezer.state'))?.trim() : undefined;
  if (st === 'FROZEN' || st === 'FREEZING') throw new RuntimeError('ESYS', `container's cgroup unexpectedly frozen (${v1})`);
  const v2 = paths['unified'];
  if (v2 && (read(joinPath(v2, 'cgroup.freeze'))?.trim() === '1' || /^frozen 1$/m.test(read(joinPath(v2, 'cgroup.events')) ?? '')))
    throw new RuntimeError('ESYS', `container's cgroup unexpectedly frozen (${v2})`);
}
