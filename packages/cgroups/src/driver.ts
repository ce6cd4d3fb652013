// The cgroup drivers behind one interface, chosen once per command (runc's cgroups.Manager with
// its fs/fs2 and systemd managers): cgroupfs (mkdir and files, v1 and v2) and systemd (a transient
// scope unit over D-Bus, then the same files). The verbs call these and never ask which it is.
//
//   resolve  where the container's cgroups are (systemd rootless asks the user manager)
//   prepare  before the init exists: cgroupfs makes the dirs and writes the limits
//   joinEarly cgroupfs only: the executor joins before it clones the init (which inherits them):
//            earlyJoin's steps (v1) or this process on a libuv thread (a cgroup2 dir); prepare
//            then leaves pids.max to apply (the executor is one more task in the cgroup when it
//            clones)
//   apply    once the init's pid is known: cgroupfs joins it; systemd starts the scope with the pid
//            in it, then makes the other dirs, writes the limits and joins (runc's Apply + Set)
//   update   new limits: systemd SetUnitProperties, then the files (both drivers)
//   destroy  after the processes are gone: systemd stops the unit; the dirs are removed
//
// Rootless (runc's rules): a cgroup that cannot be made is skipped when linux.cgroupsPath was not
// given (a limit then fails naming its field, from applyResources); device rules are not written.
import { mkdirSync, readFileSync } from 'node:fs';
import { RuntimeError, rootlessCgroups, warn as logWarn } from '@runts/core';
import { createCgroups, joinCgroups, earlyJoin, removeCgroups, type CgroupLayout, type EarlyJoin } from './index.ts';
import { resolveCgroups, type DriverName, type ResolvedCgroups } from './paths.ts';
import { applyResources, type LinuxResources, type ResourceWrite } from './resources.ts';
import { deviceRules, applyDeviceRules } from './devices.ts';
import { baseProperties, resourceProperties, annotationProperties, type UnitProperty } from './systemd/properties.ts';
import type { SystemdManager } from './systemd/dbus.ts';

/** What a driver needs from config.json. */
export interface CgroupSpec {
  cgroupsPath?: string;
  resources?: LinuxResources & { devices?: never[] };
  devices?: never[];
  annotations?: Record<string, string>;
}

/** Kept in state.json (and creating.json) so delete and update use the same driver. */
export interface SystemdRecord {
  unit: string;
  /** the user's own systemd (rootless) */
  user: boolean;
}

export interface CgroupDriver {
  readonly name: DriverName;
  resolve(layout: CgroupLayout, spec: CgroupSpec, id: string): Promise<ResolvedCgroups>;
  /** returns the dirs it made (for rollback); with `deferPids`, pids.max is left to apply */
  prepare(layout: CgroupLayout, r: ResolvedCgroups, spec: CgroupSpec, o?: { deferPids?: boolean }): string[];
  /** cgroupfs: puts the executor (`pid`), before it clones the init, in the prepared cgroups
   *  `paths`, and (Wait mode) back in `home` after (earlyJoin) */
  joinEarly?(paths: Record<string, string>, home: Record<string, string> | undefined, pid: number): EarlyJoin;
  /** returns more dirs it made, and the systemd unit when there is one; `joined`: the init is in
   *  the cgroups already (joinEarly), only what prepare deferred is left */
  apply(layout: CgroupLayout, r: ResolvedCgroups, spec: CgroupSpec, id: string, pid: number, o?: { joined?: boolean }): Promise<{ created: string[]; systemd?: SystemdRecord }>;
  update(layout: UpdateLayout, paths: Record<string, string>, systemd: SystemdRecord | undefined, res: LinuxResources, warn?: (m: string) => void): Promise<ResourceWrite[]>;
  /** stops what the driver made besides the dirs: systemd's unit (cgroupfs: nothing) */
  release(systemd: SystemdRecord | undefined): Promise<void>;
  /** release, then the dirs removed */
  destroy(paths: Record<string, string>, systemd: SystemdRecord | undefined, created?: string[]): Promise<void>;
  close(): void;
}

/** What update needs of the layout (tests pass a fixture's). */
export type UpdateLayout = Parameters<typeof applyResources>[0];

export interface DriverOptions {
  systemd: boolean;
  rootless?: boolean;
  warn?: (m: string) => void;
}

const isRootless = () => rootlessCgroups();

/** The driver for --systemd-cgroup (or the one a container was created with: its record). */
export function cgroupDriver(o: DriverOptions): CgroupDriver {
  const rootless = o.rootless ?? isRootless();
  const warn = o.warn ?? logWarn;
  return o.systemd ? new SystemdDriver(rootless, warn) : new CgroupfsDriver(rootless, warn);
}

/** The driver of an existing container, from its record. */
export function driverOf(record: { systemd?: SystemdRecord | undefined }): CgroupDriver {
  return cgroupDriver({ systemd: record.systemd !== undefined, rootless: record.systemd?.user ?? isRootless() });
}

function writeLimits(layout: CgroupLayout, paths: Record<string, string>, spec: CgroupSpec, rootless: boolean, warn: (m: string) => void, deferPids = false): void {
  const res = spec.resources ?? {};
  // v1 (and so a hybrid host's): the devices cgroup's files; pure v2 (and a hybrid host without a
  // v1 devices cgroup): the eBPF filter, attached by the executor (create: a stage-0 step, see
  // deviceFilterTarget; the systemd driver: after its scope)
  if (!rootless) applyDeviceRules(paths, deviceRules(res.devices, spec.devices));
  applyResources(layout, paths, res, { warn, ...(deferPids ? { files: (f: string) => f !== PIDS_MAX } : {}) });
}

const PIDS_MAX = 'pids.max';

/** Whether the resources set pids.max (linux.resources.pids, or pids.max in .unified): the knob
 *  prepare leaves to apply when the executor joins early. */
export function hasPidsLimit(res: LinuxResources | undefined): boolean {
  return res?.pids !== undefined || (res?.unified !== undefined && PIDS_MAX in res.unified);
}

const denied = (err: unknown) => ['EACCES', 'EPERM', 'EROFS'].includes((err as NodeJS.ErrnoException).code ?? '');

class CgroupfsDriver implements CgroupDriver {
  readonly name = 'cgroupfs' as const;
  constructor(
    private readonly rootless: boolean,
    private readonly warn: (m: string) => void,
  ) {}

  async resolve(layout: CgroupLayout, spec: CgroupSpec, id: string): Promise<ResolvedCgroups> {
    return resolveCgroups(layout, spec.cgroupsPath, id, { driver: 'cgroupfs', rootless: this.rootless });
  }

  prepare(layout: CgroupLayout, r: ResolvedCgroups, spec: CgroupSpec, o: { deferPids?: boolean } = {}): string[] {
    const skipped: string[] = [];
    if (this.rootless && !r.explicit) {
      // runc (fs/fs2 Apply): without an explicit path, a cgroup the user may not make is skipped
      for (const [key, dir] of Object.entries(r.paths)) {
        try {
          mkdirSync(dir, { recursive: true, mode: 0o755 });
        } catch (err) {
          if (!denied(err)) throw err;
          delete r.paths[key];
          skipped.push(key);
        }
      }
    }
    let created: string[];
    try {
      created = createCgroups(r.paths);
    } catch (err) {
      if (denied(err)) throw new RuntimeError('ESYS', `linux.cgroupsPath: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    try {
      writeLimits(layout, r.paths, spec, this.rootless, this.warn, o.deferPids === true);
    } catch (err) {
      removeCgroups(r.paths, created);
      // a limit on a controller the user has no cgroup in: say so instead of "not mounted"
      const m = /^(.*): the (\S+) cgroup controller is not mounted on this host$/.exec((err as Error).message);
      if (m && skipped.some((k) => k.split(',').includes(m[2]!) || (k === 'unified' && layout.mode === 'v2')))
        throw new RuntimeError('EINVAL', `${m[1]}: rootless: no writable ${m[2]} cgroup for the container (this user has no delegated cgroup there)`, { cause: err });
      throw err;
    }
    return created;
  }

  joinEarly(paths: Record<string, string>, home: Record<string, string> | undefined, pid: number): EarlyJoin {
    return earlyJoin(paths, home, pid);
  }

  async apply(layout: CgroupLayout, r: ResolvedCgroups, spec: CgroupSpec, _id: string, pid: number, o: { joined?: boolean } = {}): Promise<{ created: string[] }> {
    if (o.joined) {
      // the limit prepare left (from linux.resources.pids or .unified): with the executor gone (or
      // moved out), the init is the only task
      if (hasPidsLimit(spec.resources)) applyResources(layout, r.paths, spec.resources, { update: true, files: (f) => f === PIDS_MAX });
    } else joinCgroups(r.paths, pid);
    return { created: [] };
  }

  async update(layout: UpdateLayout, paths: Record<string, string>, _s: SystemdRecord | undefined, res: LinuxResources, warn?: (m: string) => void): Promise<ResourceWrite[]> {
    return applyResources(layout, paths, res, { update: true, warn: warn ?? this.warn });
  }

  async release(): Promise<void> {}

  async destroy(paths: Record<string, string>, _s: SystemdRecord | undefined, created?: string[]): Promise<void> {
    removeCgroups(paths, created);
  }

  close(): void {}
}

class SystemdDriver implements CgroupDriver {
  readonly name = 'systemd' as const;
  private manager: SystemdManager | undefined;
  constructor(
    private readonly rootless: boolean,
    private readonly warn: (m: string) => void,
  ) {}

  private async connect(): Promise<SystemdManager> {
    if (!this.manager) {
      const { SystemdManager } = await import('./systemd/dbus.ts');
      this.manager = await SystemdManager.connect({ user: this.rootless });
    }
    return this.manager;
  }

  async resolve(layout: CgroupLayout, spec: CgroupSpec, id: string): Promise<ResolvedCgroups> {
    // the path's syntax first: a bad cgroupsPath is refused before any bus is asked
    if (!this.rootless || layout.mode !== 'v2') resolveCgroups(layout, spec.cgroupsPath, id, { driver: 'systemd', rootless: this.rootless, ...initCgroup(layout) });
    else resolveCgroups(layout, spec.cgroupsPath, id, { driver: 'systemd', rootless: true, managerCgroup: '/x' });
    const m = await this.connect();
    const managerCgroup = this.rootless ? await m.managerProperty('ControlGroup') : undefined;
    return resolveCgroups(layout, spec.cgroupsPath, id, { driver: 'systemd', rootless: this.rootless, ...(managerCgroup ? { managerCgroup } : {}), ...initCgroup(layout) });
  }

  prepare(): string[] {
    // the scope is started with the init in it (apply): nothing exists before
    return [];
  }

  async apply(layout: CgroupLayout, r: ResolvedCgroups, spec: CgroupSpec, id: string, pid: number): Promise<{ created: string[]; systemd: SystemdRecord }> {
    const unit = r.systemd!;
    const m = await this.connect();
    const props = await this.properties(layout, spec, m);
    const name = parseName(spec.cgroupsPath, id);
    const all = [...baseProperties({ name, slice: unit.slice, unit: unit.unit, pid }), ...props.resources, ...props.annotations];
    try {
      await m.startTransientUnit(unit.unit, all);
    } catch (err) {
      throw new RuntimeError('ESYS', `linux.cgroupsPath: systemd unit ${unit.unit}: ${blame(err as Error, props)}`, { cause: err });
    }
    const record: SystemdRecord = { unit: unit.unit, user: this.rootless };
    let created: string[] = [];
    try {
      // runc's legacy manager joins the controllers systemd does not manage itself; the files are
      // written as cgroupfs writes them (runc's Set: unit properties, then the fs manager's Set)
      created = createCgroups(r.paths);
      writeLimits(layout, r.paths, spec, this.rootless, this.warn);
      joinCgroups(r.paths, pid);
    } catch (err) {
      await m.stopUnit(unit.unit).catch(() => {});
      removeCgroups(r.paths, created);
      throw err;
    }
    return { created, systemd: record };
  }

  private async properties(layout: CgroupLayout, spec: CgroupSpec, m: SystemdManager): Promise<{ resources: UnitProperty[]; annotations: UnitProperty[] }> {
    const version = await m.version();
    const rules = this.rootless ? undefined : deviceRules(spec.resources?.devices, spec.devices);
    const resources = resourceProperties(spec.resources ?? {}, { v2: layout.mode === 'v2', systemdVersion: version, ...(rules ? { devices: rules } : {}), warn: this.warn });
    return { resources, annotations: annotationProperties(spec.annotations) };
  }

  async update(layout: UpdateLayout, paths: Record<string, string>, s: SystemdRecord | undefined, res: LinuxResources, warn?: (m: string) => void): Promise<ResourceWrite[]> {
    if (s) {
      const m = await this.connect();
      const props = resourceProperties(res, { v2: layout.mode === 'v2', systemdVersion: await m.version(), warn: warn ?? this.warn });
      try {
        await m.setUnitProperties(s.unit, props);
      } catch (err) {
        throw new RuntimeError('ESYS', `systemd unit ${s.unit}: ${blame(err as Error, { resources: props, annotations: [] })}`, { cause: err });
      }
    }
    return applyResources(layout, paths, res, { update: true, warn: warn ?? this.warn });
  }

  async release(s: SystemdRecord | undefined): Promise<void> {
    if (!s) return;
    const m = await this.connect();
    await m.stopUnit(s.unit);
  }

  async destroy(paths: Record<string, string>, s: SystemdRecord | undefined, created?: string[]): Promise<void> {
    await this.release(s);
    removeCgroups(paths, created);
  }

  close(): void {
    this.manager?.close();
    this.manager = undefined;
  }
}

function parseName(cgroupsPath: string | undefined, id: string): string {
  return cgroupsPath ? (cgroupsPath.split(':')[2] ?? id) : id;
}

/** pid 1's cgroups, for the legacy (v1, hybrid) systemd paths. */
function initCgroup(layout: CgroupLayout): { initCgroup?: Record<string, string> } {
  if (layout.mode === 'v2') return {};
  try {
    const text = readFileSync('/proc/1/cgroup', 'utf8');
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const m = /^(\d+):([^:]*):(.*)$/.exec(line);
      if (m) out[m[1] === '0' && m[2] === '' ? 'unified' : m[2]!] = m[3]!;
    }
    return { initCgroup: out };
  } catch {
    return {};
  }
}

/** Names the config field behind a property systemd refused (the error message names it). */
export function blame(err: Error, props: { resources: UnitProperty[]; annotations: UnitProperty[] }): string {
  const msg = err.message.replace(/^systemd /, '');
  for (const p of [...props.annotations, ...props.resources]) if (new RegExp(`\\b${p.name}\\b`).test(msg)) return `${p.field ?? 'linux.resources'} (systemd property ${p.name}): ${msg}`;
  return msg;
}

