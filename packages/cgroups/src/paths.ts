// Where the container's cgroup is, exactly as runc 1.1.5 puts it, for both drivers.
//
// cgroupfs (runc's fs and fs2 managers; specconv.CreateCgroupConfig):
//   - linux.cgroupsPath is cleaned first with runc's utils.CleanPath: `..` can never climb above the
//     start of the path (`../../x` is `x`, `/..` is `/`, `/a/../../b` is `/b`).
//   - absolute: <mountpoint>/<path> in every hierarchy (fs subsysPath, fs2 _defaultDirPath).
//   - relative: v1 (fs.subsysPath): under the caller's own cgroup in that hierarchy (GetOwnCgroupPath);
//     v2 (fs2._defaultDirPath): under the PARENT of the caller's own cgroup ("the current user scope
//     most probably has tasks in it already").
//   - empty: Name=<id>, Parent="", so the relative path `<id>`: <own>/<id> on v1, <parent of own>/<id> on v2.
//   - a `slice:prefix:name` value is a plain (relative) path to the cgroupfs driver, as in runc.
// systemd (runc's systemd legacy and unified managers):
//   - cgroupsPath must be `slice:prefix:name` (empty: slice "", prefix "runc", name <id>); the slice
//     defaults to system.slice (user.slice when rootless), a-b.slice expands to a.slice/a-b.slice;
//     the unit is `<prefix>-<name>.scope` (a name ending in .slice is a slice unit of its own).
//   - v2: <mountpoint>/<slice path>/<unit>, rootless under the user manager's ControlGroup.
//   - v1: <mountpoint>/<pid 1's cgroup minus init.scope>/<slice path>/<unit> per hierarchy.
// And, beyond runc, what can never be the container's: the root cgroup of a hierarchy, and the
// caller's own cgroup or one of its ancestors (delete kills every process in the container's
// cgroup). Both are refused, naming linux.cgroupsPath.
import { posix } from 'node:path';
import { RuntimeError, joinPath, normalPath, relativePath } from '@runts/core';
import { hierarchyKey, type CgroupLayout, type Hierarchy } from './index.ts';

export type DriverName = 'cgroupfs' | 'systemd';

export interface ResolveOptions {
  driver: DriverName;
  rootless: boolean;
  /** systemd, v2, rootless: the user manager's ControlGroup (/user.slice/user-1000.slice/user@1000.service) */
  managerCgroup?: string;
  /** systemd, v1: pid 1's cgroup per hierarchy key (/proc/1/cgroup) */
  initCgroup?: Record<string, string>;
}

/** The systemd unit a container gets. */
export interface SystemdUnit {
  /** e.g. runc-abc.scope, or a name ending in .slice */
  unit: string;
  /** the parent slice unit, e.g. system.slice, machine-a.slice */
  slice: string;
  /** the slice's cgroup path (/machine.slice/machine-a.slice; rootless: under the user manager) */
  slicePath: string;
}

export interface ResolvedCgroups {
  driver: DriverName;
  /** the container's cgroup directory per hierarchy key */
  paths: Record<string, string>;
  /** linux.cgroupsPath was given (rootless: only then is a cgroup that cannot be made an error) */
  explicit: boolean;
  systemd?: SystemdUnit;
}

const FIELD = 'linux.cgroupsPath';

/** Go's filepath.Clean for absolute or relative slash paths. */
function clean(p: string): string {
  if (p === '') return '.';
  const n = normalPath(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** runc's utils.CleanPath: a path that cannot climb above its start. '' stays ''; a relative
 *  path stays relative (`../../x` -> `x`, `..` -> `.`), an absolute one absolute (`/..` -> `/`). */
export function cleanPath(p: string): string {
  if (p === '') return '';
  let c = clean(p);
  if (!c.startsWith('/')) {
    c = clean('/' + c);
    c = c === '/' ? '.' : c.slice(1);
  }
  return clean(c);
}

/** runc's systemd ExpandSlice: `a-b-c.slice` -> `/a.slice/a-b.slice/a-b-c.slice`, `-.slice` -> `/`. */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  const bad = () => new RuntimeError('EINVAL', `${FIELD}: invalid slice name ${JSON.stringify(slice)}`);
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw bad();
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw bad();
    path += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return path;
}

/** runc's getUnitName: `<prefix>-<name>.scope`, or the name itself when it ends in .slice. */
export function unitName(prefix: string, name: string): string {
  return name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
}

/** Splits a systemd cgroupsPath (runc: exactly three `:`-separated parts). */
export function parseSystemdPath(cgroupsPath: string | undefined, id: string): { slice: string; prefix: string; name: string } {
  if (cgroupsPath === undefined || cgroupsPath === '') return { slice: '', prefix: 'runc', name: id };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3)
    throw new RuntimeError('EINVAL', `${FIELD}: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
  const [slice, prefix, name] = parts as [string, string, string];
  // A unit name is one path component (systemd refuses `/` in it; the path is built from it).
  for (const [what, v] of [['prefix', prefix], ['name', name]] as const)
    if (v.includes('/') || v.includes('\0')) throw new RuntimeError('EINVAL', `${FIELD}: invalid systemd unit ${what} ${JSON.stringify(v)}`);
  if (name === '') throw new RuntimeError('EINVAL', `${FIELD}: the systemd unit name is empty in ${JSON.stringify(cgroupsPath)}`);
  return { slice, prefix, name };
}

function hierarchies(layout: CgroupLayout): Hierarchy[] {
  // named v1 hierarchies other than name=systemd carry nothing a container needs (runc skips them too)
  return [...layout.v1, ...(layout.v2 ? [layout.v2] : [])].filter(
    (h) => !(h.controllers.length === 1 && h.controllers[0]!.startsWith('name=') && h.controllers[0] !== 'name=systemd'),
  );
}

/** The caller's own cgroup in h as a path under h's mountpoint (runc's getCgroupPathHelper). */
function ownInMount(layout: CgroupLayout, h: Hierarchy): string {
  const own = layout.self[hierarchyKey(h)] ?? '/';
  const rel = relativePath(h.root, joinPath('/', own));
  // outside the mount's root (another cgroup namespace): runc would fail; the mount's top it is
  return rel.startsWith('..') ? '/' : joinPath('/', rel);
}

/** The container's cgroups for cgroupsPath under the chosen driver; refuses what is unsafe. */
export function resolveCgroups(layout: CgroupLayout, cgroupsPath: string | undefined, id: string, o: ResolveOptions): ResolvedCgroups {
  if (cgroupsPath?.includes('\0')) throw new RuntimeError('EINVAL', `${FIELD}: contains a NUL byte`);
  const explicit = cgroupsPath !== undefined && cgroupsPath !== '';
  const paths: Record<string, string> = {};
  let systemd: SystemdUnit | undefined;
  if (o.driver === 'systemd') {
    const { slice: parent, prefix, name } = parseSystemdPath(cgroupsPath, id);
    const slice = parent !== '' ? parent : o.rootless ? 'user.slice' : 'system.slice';
    let slicePath = expandSlice(slice);
    if (o.rootless) {
      if (layout.mode !== 'v2') throw new RuntimeError('EINVAL', `${FIELD}: the systemd cgroup driver is not supported rootless on cgroup v1`);
      if (!o.managerCgroup) throw new RuntimeError('ESYS', `${FIELD}: the user's systemd manager did not say its ControlGroup`);
      slicePath = joinPath(o.managerCgroup, slicePath);
    }
    const unit = unitName(prefix, name);
    systemd = { unit, slice, slicePath };
    for (const h of hierarchies(layout)) {
      let base = '/';
      // runc's legacy manager (v1 and hybrid, the hybrid cgroup2 mount too): under pid 1's cgroup;
      // the unified manager (pure v2): under the mount's top
      if (layout.mode !== 'v2') {
        const init = clean(joinPath('/', o.initCgroup?.[hierarchyKey(h)] ?? '/'));
        base = init.endsWith('/init.scope') ? posix.dirname(init) : init === '/init.scope' ? '/' : init;
      }
      paths[hierarchyKey(h)] = checked(layout, h, joinPath(base, slicePath, unit), cgroupsPath);
    }
  } else {
    const inner = explicit ? cleanPath(cgroupsPath) : cleanPath(id);
    for (const h of hierarchies(layout)) {
      let inMount: string;
      if (inner.startsWith('/')) inMount = inner;
      else {
        const own = ownInMount(layout, h);
        // v1: under the own cgroup; pure v2: under its parent; hybrid's cgroup2 mount: under its top
        // (runc's GetOwnCgroupPath("") is the hybrid mountpoint itself)
        const base = h.controllers.length > 0 ? own : layout.mode === 'v2' ? posix.dirname(own) : '/';
        inMount = joinPath(base, inner);
      }
      paths[hierarchyKey(h)] = checked(layout, h, clean(inMount), cgroupsPath);
    }
  }
  return { driver: o.driver, paths, explicit, ...(systemd ? { systemd } : {}) };
}

/** inMount: an absolute, clean path under h's mountpoint. Refuses the root and the caller's own
 *  cgroup (or an ancestor of it); returns the host directory. */
function checked(layout: CgroupLayout, h: Hierarchy, inMount: string, cgroupsPath: string | undefined): string {
  const shown = JSON.stringify(cgroupsPath ?? '');
  if (inMount.split('/').includes('..')) throw new RuntimeError('EINVAL', `${FIELD}: ${shown} leaves the cgroup hierarchy ${h.mountpoint}`);
  const dir = inMount === '/' ? h.mountpoint : joinPath(h.mountpoint, inMount);
  if (inMount === '/') throw new RuntimeError('EINVAL', `${FIELD}: ${shown} is the root of the cgroup hierarchy ${h.mountpoint}: a container needs a cgroup of its own`);
  const own = ownInMount(layout, h);
  if (own === inMount || own.startsWith(inMount + '/'))
    throw new RuntimeError('EINVAL', `${FIELD}: ${shown} resolves to ${dir}, which holds the runtime's own cgroup`);
  return dir;
}
