// Device access rules of the cgroup v1 devices controller, computed as runc does: the rules of
// linux.resources.devices in order, then the devices of linux.devices, then runc's default allowed
// devices. (cgroup v2 needs an eBPF program for this: not done yet, see the caller's warning.)
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '@runts/core';

export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | '*';
  minor: number | '*';
  access: string;
}

interface SpecDeviceCgroup {
  allow?: boolean;
  type?: string;
  major?: number | bigint | null;
  minor?: number | bigint | null;
  access?: string;
}
interface SpecDevice {
  type?: string;
  major?: number | bigint;
  minor?: number | bigint;
}

/** runc's AllowedDevices (libcontainer/specconv): mknod of anything, and the usual character devices. */
export const DEFAULT_ALLOWED: readonly DeviceRule[] = [
  { allow: true, type: 'c', major: '*', minor: '*', access: 'm' },
  { allow: true, type: 'b', major: '*', minor: '*', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

function num(v: number | bigint | null | undefined, field: string): number | '*' {
  if (v === undefined || v === null || v === -1 || v === -1n) return '*';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RuntimeError('EINVAL', `${field}: invalid device number ${String(v)}`);
  return n;
}

export function deviceRules(resourcesDevices: SpecDeviceCgroup[] | undefined, devices: SpecDevice[] | undefined): DeviceRule[] {
  const out: DeviceRule[] = [];
  (resourcesDevices ?? []).forEach((d, i) => {
    const f = `linux.resources.devices[${i}]`;
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (type !== 'a' && type !== 'c' && type !== 'b') throw new RuntimeError('EINVAL', `${f}.type: invalid device type ${JSON.stringify(d.type)}`);
    const access = d.access === undefined || d.access === '' ? 'rwm' : d.access;
    if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) throw new RuntimeError('EINVAL', `${f}.access: invalid access ${JSON.stringify(d.access)}`);
    out.push({ allow: d.allow === true, type, major: num(d.major, `${f}.major`), minor: num(d.minor, `${f}.minor`), access });
  });
  (devices ?? []).forEach((d, i) => {
    const t = d.type === 'u' ? 'c' : d.type;
    if (t !== 'c' && t !== 'b') return; // fifos are not device-controlled
    out.push({ allow: true, type: t, major: num(d.major, `linux.devices[${i}].major`), minor: num(d.minor, `linux.devices[${i}].minor`), access: 'rwm' });
  });
  out.push(...DEFAULT_ALLOWED);
  return out;
}

export function formatRule(r: DeviceRule): string {
  return r.type === 'a' ? `a *:* ${r.access}` : `${r.type} ${r.major}:${r.minor} ${r.access}`;
}

/** Applies the rules to the v1 devices cgroup (deny everything first, then the rules in order).
 *  Returns false when there is no v1 devices controller for the container. */
export function applyDeviceRules(paths: Record<string, string>, rules: DeviceRule[]): boolean {
  const dir = Object.entries(paths).find(([k]) => k.split(',').includes('devices'))?.[1];
  if (!dir || !existsSync(join(dir, 'devices.deny'))) return false;
  writeFileSync(join(dir, 'devices.deny'), 'a');
  for (const r of rules) {
    try {
      writeFileSync(join(dir, r.allow ? 'devices.allow' : 'devices.deny'), formatRule(r));
    } catch (err) {
      throw new RuntimeError('ESYS', `devices cgroup: write ${formatRule(r)} to ${join(dir, r.allow ? 'devices.allow' : 'devices.deny')}: ${(err as Error).message}`, { cause: err });
    }
  }
  return true;
}
