// Device access rules, as runc 1.1.5 computes them: the rules of linux.resources.devices in
// order, then runc's default allowed devices (those whose path linux.devices lists are left out:
// the spec's device replaces the default). A device listed in linux.devices gets a node, not a
// rule. The rules are emulated as the v1 devices controller would (devices/emulator.ts) and
// applied to the v1 devices cgroup, or compiled into the cgroup v2 eBPF device filter
// (devices/bpf.ts, attached by the executor's DeviceFilter step).
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { RuntimeError, rootlessCgroups, joinPath } from '@runts/core';
import { Op, ExecFlags, DeviceFilterFlags, InitProcess, type Step } from '@runts/nsenter';
import { emulate, v1Writes, type DeviceRule, type DeviceNumber } from './devices/emulator.ts';
import { deviceFilter, LICENSE } from './devices/bpf.ts';

export * from './devices/emulator.ts';
export * from './devices/bpf.ts';

interface SpecDeviceCgroup {
  allow?: boolean;
  type?: string;
  major?: number | bigint | null;
  minor?: number | bigint | null;
  access?: string;
}
interface SpecDevice {
  path?: string;
}

/** runc's AllowedDevices (libcontainer/specconv): mknod of anything, and the usual character devices. */
export const DEFAULT_ALLOWED: ReadonlyArray<DeviceRule & { path?: string }> = [
  { allow: true, type: 'c', major: '*', minor: '*', access: 'm' },
  { allow: true, type: 'b', major: '*', minor: '*', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm', path: '/dev/null' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm', path: '/dev/random' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm', path: '/dev/full' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm', path: '/dev/tty' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm', path: '/dev/zero' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm', path: '/dev/urandom' },
  { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

const MAX_U32 = 0xffffffff;

function num(v: number | bigint | null | undefined, field: string): DeviceNumber {
  if (v === undefined || v === null || v === -1 || v === -1n) return '*';
  const n = typeof v === 'bigint' ? (v >= 0n && v <= BigInt(MAX_U32) ? Number(v) : -2) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_U32)
    throw new RuntimeError('EINVAL', `${field}: invalid device number ${String(v)} (must be -1 for any, or 0 to ${MAX_U32})`);
  return n;
}

/** The rules runc gives the devices cgroup, in order. Bad rules: an error naming the field. */
export function deviceRules(resourcesDevices: SpecDeviceCgroup[] | undefined, devices: SpecDevice[] | undefined): DeviceRule[] {
  const out: DeviceRule[] = [];
  (resourcesDevices ?? []).forEach((d, i) => {
    const f = `linux.resources.devices[${i}]`;
    if (d === null || typeof d !== 'object') throw new RuntimeError('EINVAL', `${f}: must be an object`);
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (type !== 'a' && type !== 'c' && type !== 'b') throw new RuntimeError('EINVAL', `${f}.type: invalid cgroup device type ${JSON.stringify(d.type)} (a, b or c)`);
    // runc: "device access at N field cannot be empty"; letters other than r, w, m are ignored as runc's emulation ignores them
    if (typeof d.access !== 'string' || d.access === '') throw new RuntimeError('EINVAL', `${f}.access: must not be empty (a combination of r, w and m)`);
    if (d.allow !== undefined && typeof d.allow !== 'boolean') throw new RuntimeError('EINVAL', `${f}.allow: must be a boolean`);
    out.push({ allow: d.allow === true, type, major: num(d.major, `${f}.major`), minor: num(d.minor, `${f}.minor`), access: d.access, field: f });
  });
  const specPaths = new Set((devices ?? []).map((d) => d?.path));
  for (const d of DEFAULT_ALLOWED) {
    if (d.path !== undefined && specPaths.has(d.path)) continue;
    const { path: _path, ...rule } = d;
    out.push(rule);
  }
  return out;
}

export function formatRule(r: DeviceRule): string {
  return r.type === 'a' ? `a *:* ${r.access}` : `${r.type} ${r.major}:${r.minor} ${r.access}`;
}

/** The path of the container's v1 devices cgroup (its hierarchy's own, or one co-mounted with
 *  other controllers), whether or not it exists yet. */
function v1DevicesPath(paths: Record<string, string>): string | undefined {
  return Object.entries(paths).find(([k]) => k.split(',').includes('devices'))?.[1];
}

/** The devices cgroup dir of a v1 hierarchy among the container's paths, if there is one. */
export function v1DevicesDir(paths: Record<string, string>): string | undefined {
  const dir = v1DevicesPath(paths);
  return dir && existsSync(joinPath(dir, 'devices.deny')) ? dir : undefined;
}

/** Applies the rules to the v1 devices cgroup as runc does on a new cgroup: deny everything,
 *  then the emulated clean rules. Returns false when there is no v1 devices controller. */
export function applyDeviceRules(paths: Record<string, string>, rules: DeviceRule[]): boolean {
  const clean = emulate(rules);
  const dir = v1DevicesDir(paths);
  if (!dir) return false;
  writeFileSync(joinPath(dir, 'devices.deny'), 'a');
  for (const [file, line] of v1Writes(clean)) {
    try {
      writeFileSync(joinPath(dir, file), line);
    } catch (err) {
      throw new RuntimeError('ESYS', `devices cgroup: write ${line} to ${joinPath(dir, file)}: ${(err as Error).message}`, { cause: err });
    }
  }
  return true;
}

/** The executor's DeviceFilter step for the container's cgroup v2 dir (the eBPF program of the rules). */
export function deviceFilterStep(dir: string, rules: DeviceRule[], opts: { bestEffort?: boolean } = {}): Step & { op: typeof Op.DeviceFilter } {
  return { op: Op.DeviceFilter, dir, program: deviceFilter(emulate(rules)), license: LICENSE, flags: opts.bestEffort ? DeviceFilterFlags.BestEffort : 0n };
}

/** Where the cgroup v2 device filter goes, if anywhere: the container's unified cgroup on a pure v2
 *  host (required, as runc), and on a hybrid host only where no v1 devices cgroup holds the rules
 *  (best effort). Where one does, it enforces them for every process of the container, and runc
 *  and crun attach nothing to the unified hierarchy there either: loading the program (the
 *  verifier, the JIT) was ~1.6 ms of CPU and ~0.7 ms of every create on this hybrid host, for a
 *  second answer the same as the first. (The systemd driver makes the v1 dirs only after this is
 *  asked, so the question is whether the paths have one, as applyDeviceRules will write.) None
 *  when rootless, in a user namespace or not root (runc skips it there: it cannot be loaded). */
export function deviceFilterTarget(mode: 'v1' | 'v2' | 'hybrid', paths: Record<string, string>, rootless = rootlessCgroups()): { dir: string; bestEffort: boolean } | undefined {
  const dir = paths['unified'];
  if (!dir || mode === 'v1' || (mode === 'hybrid' && v1DevicesPath(paths) !== undefined) || rootless) return undefined;
  return { dir, bestEffort: mode === 'hybrid' };
}

/** Attaches the device filter of the rules to a cgroup v2 dir, replacing the device programs
 *  attached there, outside a create (update, tests): the executor runs just its DeviceFilter step
 *  (ExecFlags.NoInit), no container process is made. */
export async function attachDeviceFilter(dir: string, rules: DeviceRule[], opts: { bestEffort?: boolean; field?: string } = {}): Promise<void> {
  const field = opts.field ?? 'linux.resources.devices';
  const steps = [
    { step: { op: Op.Config, flags: ExecFlags.NoInit } as Step, field },
    { step: deviceFilterStep(dir, rules, opts), field },
  ];
  const init = InitProcess.spawn({ steps, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await init.pid();
  } finally {
    init.close();
  }
  const { code } = await init.exit();
  if (code !== 0) throw new RuntimeError('ESYS', `${field}: attach the device filter to ${dir}: runts-init exited with status ${code}`);
}
