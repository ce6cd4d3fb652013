// What kill --all and delete may touch in a container's cgroups: only the container's own
// processes (belongsToContainer: in its pid namespace, or its mount namespace), only in dirs that
// are cgroups below a hierarchy's root, and delete removes only the dirs create made. A cgroup that
// a host process joined, a cgroupsPath of `/`, or a state.json naming another directory must never
// make the runtime kill or remove what is not the container's.
import { statfsSync, existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { belongsToContainer, debug, signalContainerProcess, RuntimeError, type Identity, normalPath } from '@runts/core';
import { cgroupPids, hostLayout, ownCgroupDirs, parseProcCgroup, type CgroupLayout } from './index.ts';

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

function onCgroupFs(dir: string): boolean {
  try {
    const t = Number(statfsSync(dir).type);
    return t === CGROUP_SUPER_MAGIC || t === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The container's cgroup dirs that are real cgroups below (never at) a hierarchy's mountpoint;
 *  the others (the root of a hierarchy, a path outside every cgroup mount) are left out. */
export function confineCgroupPaths(paths: Record<string, string>, layout: CgroupLayout = hostLayout()): Record<string, string> {
  const mounts = [...layout.v1, ...(layout.v2 ? [layout.v2] : [])].map((h) => h.mountpoint);
  const out: Record<string, string> = {};
  for (const [key, dir] of Object.entries(paths)) {
    if (typeof dir !== 'string' || !dir.startsWith('/') || normalPath(dir) !== dir.replace(/\/+$/, '') || dir.split('/').includes('..')) continue;
    if (!mounts.some((m) => dir.startsWith(`${m}/`))) continue;
    if (!onCgroupFs(dir)) continue; // gone already, or not a cgroup
    out[key] = dir;
  }
  return out;
}

/** Of the dirs create recorded as made, those delete may remove: the container's own dirs and
 *  their ancestors below a hierarchy root, nothing else. */
export function confineCreated(paths: Record<string, string>, created: unknown, layout: CgroupLayout = hostLayout()): string[] {
  if (!Array.isArray(created)) return [];
  const mounts = [...layout.v1, ...(layout.v2 ? [layout.v2] : [])].map((h) => h.mountpoint);
  const own = Object.values(paths);
  return created.filter(
    (d): d is string =>
      typeof d === 'string' &&
      !d.split('/').includes('..') &&
      mounts.some((m) => d.startsWith(`${m}/`)) &&
      own.some((o) => o === d || o.startsWith(`${d}/`)),
  );
}

export interface CgroupMembers {
  owned: number[];
  /** processes in the container's cgroups that are not the container's */
  foreign: Map<string, number[]>;
}

/** Who is in the container's cgroups (per hierarchy for the foreign ones). */
export function cgroupMembers(paths: Record<string, string>, rec: Identity): CgroupMembers {
  const owned = new Set<number>();
  const foreign = new Map<string, number[]>();
  for (const [key, dir] of Object.entries(paths)) {
    for (const pid of cgroupPids({ [key]: dir })) {
      if (belongsToContainer(pid, rec)) owned.add(pid);
      else foreign.set(key, [...(foreign.get(key) ?? []), pid]);
    }
  }
  return { owned: [...owned], foreign };
}

/** Signals every process in the container's cgroups that is the container's (checked for each
 *  immediately before its signal); returns how many were signalled. */
export function signalOwned(paths: Record<string, string>, rec: Identity, signal: NodeJS.Signals | number): number {
  let n = 0;
  const seen = new Set<number>();
  for (const [key, dir] of Object.entries(paths)) {
    for (const pid of cgroupPids({ [key]: dir })) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      debug(`cgroup ${key}: signal ${String(signal)} -> pid ${pid}`);
      if (signalContainerProcess(pid, rec, signal)) n++;
    }
  }
  return n;
}

/** The dirs createCgroups(paths) will make (every missing level, deepest last), known before it
 *  makes them: create records them first, so that a create killed in the middle of making them
 *  is undone too (a level another create made meanwhile is only ever removed when empty). */
export function missingCgroupDirs(paths: Record<string, string>): string[] {
  const out: string[] = [];
  for (const dir of Object.values(paths)) {
    const levels: string[] = [];
    for (let d = dir; d !== '/' && !existsSync(d); d = posix.dirname(d)) levels.unshift(d);
    out.push(...levels);
  }
  return out;
}

/** A container needs a cgroup of its own: a cgroupsPath that lands on a hierarchy's root (`/`,
 *  `/..` cleaned to `/`) would put the init in the host's root cgroup, where runc fails with an
 *  obscure write error and kill --all or delete could reach every host process. Refused, naming it. */
export function refuseHierarchyRoots(paths: Record<string, string>, cgroupsPath: string | undefined, layout: CgroupLayout = hostLayout()): void {
  for (const h of [...layout.v1, ...(layout.v2 ? [layout.v2] : [])]) {
    if (Object.values(paths).includes(h.mountpoint))
      throw new RuntimeError('EINVAL', `linux.cgroupsPath: ${JSON.stringify(cgroupsPath ?? '')} is the root of the cgroup hierarchy ${h.mountpoint}: a container needs a cgroup of its own`);
  }
}

/** The container's cgroup dirs that its init is in (the dir itself or one below it, as a
 *  container's own sub-cgroup), from /proc/<pid>/cgroup: pause and resume freeze only these, so an
 *  edited state.json cannot make them freeze a host cgroup. `pid` must be the container's init,
 *  checked by its start time (loadContainer's status). */
export function initCgroupPaths(paths: Record<string, string>, pid: number, layout: CgroupLayout = hostLayout()): Record<string, string> {
  return heldBy(paths, procCgroup(pid), pid, layout);
}

/** /proc/<pid>/cgroup parsed, or undefined when the process is gone. */
function procCgroup(pid: number): Record<string, string> | undefined {
  try {
    return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Of `paths`, those that hold the process whose /proc/<pid>/cgroup is `self`. */
function heldBy(paths: Record<string, string>, self: Record<string, string> | undefined, pid: number, layout: CgroupLayout): Record<string, string> {
  if (!self) return {};
  const initLayout = { ...layout, self };
  const out: Record<string, string> = {};
  for (const [key, dir] of Object.entries(confineCgroupPaths(paths, layout))) {
    const at = ownCgroupDirs(initLayout, [key])?.[key];
    if (at !== undefined && (at === dir || at.startsWith(`${dir}/`))) out[key] = dir;
    else debug(`cgroup ${key}: ${dir} does not hold the init ${pid} (it is in ${at ?? 'no cgroup there'}): left alone`);
  }
  return out;
}

/** update's and exec's cgroups: every dir state.json names must hold the container's init (as for
 *  pause), and a systemd unit must be the one the init is in, or nothing is done: an edited
 *  state.json must not make update set a host cgroup's or a host unit's limits, nor exec put a
 *  process in a host cgroup. `pid` is the container's init, checked by its start time
 *  (loadContainer's status); `what` ends the error. */
export function confineToInit(id: string, paths: Record<string, string>, unit: string | undefined, pid: number, what = 'nothing updated', layout: CgroupLayout = hostLayout()): Record<string, string> {
  const self = procCgroup(pid);
  const held = heldBy(paths, self, pid, layout);
  for (const [key, dir] of Object.entries(paths)) {
    if (!(key in held)) throw new RuntimeError('EINVAL', `container ${id}: cgroup ${key}: ${String(dir)} does not hold the container's init (pid ${pid}): ${what}`);
  }
  if (unit !== undefined) {
    // (gone: no unit holds it)
    if (!Object.values(self ?? {}).some((p) => p.split('/').includes(unit)))
      throw new RuntimeError('EINVAL', `container ${id}: systemd unit ${JSON.stringify(unit)} does not hold the container's init (pid ${pid}): ${what}`);
  }
  return held;
}
