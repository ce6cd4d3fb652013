// The unit properties of a container's transient scope, as runc 1.1.5's systemd driver sets them
// (libcontainer/cgroups/systemd: Apply's base properties, genV1ResourcesProperties /
// genV2ResourcesProperties, generateDeviceProperties, and the org.systemd.property.* annotations).
// Pure data: [name, D-Bus signature, value], unit-tested without a bus; dbus.ts sends them.
import { readFileSync } from 'node:fs';
import { RuntimeError } from '@runts/core';
import type { LinuxResources } from '../resources.ts';
import { sharesToWeight, swapToV2 } from '../resources.ts';
import type { DeviceRule } from '../devices.ts';

export interface UnitProperty {
  name: string;
  /** D-Bus signature of the value: t (uint64), u, b, s, ay, a(ss), au ... */
  sig: string;
  value: unknown;
  /** the config.json field it comes from, for errors */
  field?: string;
}

const MAX_U64 = (1n << 64n) - 1n;
const DEFAULT_CPU_PERIOD = 100000n;

const big = (v: number | bigint | undefined): bigint | undefined => (v === undefined ? undefined : BigInt(v));
/** Go's uint64(int64): -1 is 2^64-1 (systemd's "infinity"). */
const u64 = (v: bigint): bigint => (v < 0n ? (v + (1n << 64n)) & MAX_U64 : v);

/** What runc's Apply always sets on the unit (before the resource properties). */
export function baseProperties(o: { name: string; slice: string; unit: string; pid: number }): UnitProperty[] {
  const props: UnitProperty[] = [{ name: 'Description', sig: 's', value: `libcontainer container ${o.name}` }];
  if (o.unit.endsWith('.slice')) props.push({ name: 'Wants', sig: 'as', value: [o.slice] });
  else {
    props.push({ name: 'Slice', sig: 's', value: o.slice });
    props.push({ name: 'Delegate', sig: 'b', value: true });
  }
  if (o.pid > 0) props.push({ name: 'PIDs', sig: 'au', value: [o.pid] });
  props.push(
    { name: 'MemoryAccounting', sig: 'b', value: true },
    { name: 'CPUAccounting', sig: 'b', value: true },
    { name: 'IOAccounting', sig: 'b', value: true },
    { name: 'TasksAccounting', sig: 'b', value: true },
    { name: 'DefaultDependencies', sig: 'b', value: false },
  );
  return props;
}

/** runc's RangeToBits: "0-2,7" -> the cpuset as bytes, lowest cpus in the first byte (systemd's order). */
export function rangeToBits(field: string, s: string): number[] {
  let bits = 0n;
  for (const raw of s.split(',')) {
    const r = raw.trim();
    if (r === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new RuntimeError('EINVAL', `${field}: invalid cpuset ${JSON.stringify(s)}`);
    const start = BigInt(m[1]!);
    const end = m[2] === undefined ? start : BigInt(m[2]);
    if (start > end || end > 0xffffffffn) throw new RuntimeError('EINVAL', `${field}: invalid range ${JSON.stringify(r)}`);
    for (let i = start; i <= end; i++) bits |= 1n << i;
  }
  if (bits === 0n) throw new RuntimeError('EINVAL', `${field}: empty cpuset ${JSON.stringify(s)}`);
  const out: number[] = [];
  while (bits > 0n) {
    out.push(Number(bits & 0xffn));
    bits >>= 8n;
  }
  return out;
}

function cpuQuota(props: UnitProperty[], quota: bigint | undefined, period: bigint | undefined, systemdVersion: number): void {
  const q = quota ?? 0n;
  const p = period ?? 0n;
  if (p !== 0n && systemdVersion >= 242) props.push({ name: 'CPUQuotaPeriodUSec', sig: 't', value: p });
  if (q !== 0n || p !== 0n) {
    let perSec = MAX_U64;
    if (q > 0n) {
      const per = p === 0n ? DEFAULT_CPU_PERIOD : p;
      perSec = (q * 1000000n) / per;
      // systemd keeps a whole percent of a CPU: round up to 10 ms per second
      if (perSec % 10000n !== 0n) perSec = (perSec / 10000n + 1n) * 10000n;
    }
    props.push({ name: 'CPUQuotaPerSecUSec', sig: 't', value: perSec });
  }
}

function cpuset(props: UnitProperty[], cpus: string | undefined, mems: string | undefined, systemdVersion: number): void {
  if ((!cpus && !mems) || systemdVersion < 244) return;
  if (cpus) props.push({ name: 'AllowedCPUs', sig: 'ay', value: rangeToBits('linux.resources.cpu.cpus', cpus) });
  if (mems) props.push({ name: 'AllowedMemoryNodes', sig: 'ay', value: rangeToBits('linux.resources.cpu.mems', mems) });
}

/** The resource properties, v2 (unified manager) or v1 (legacy manager), as runc generates them. */
export function resourceProperties(res: LinuxResources, o: { v2: boolean; systemdVersion: number; devices?: DeviceRule[]; warn?: (m: string) => void }): UnitProperty[] {
  const props: UnitProperty[] = o.devices ? deviceProperties(o.devices, o.warn) : [];
  const mem = res.memory ?? {};
  const limit = big(mem.limit) ?? 0n;
  const cpu = res.cpu ?? {};
  const pids = big(res.pids?.limit) ?? 0n;
  if (o.v2) {
    if (limit !== 0n) props.push({ name: 'MemoryMax', sig: 't', value: u64(limit) });
    const low = big(mem.reservation) ?? 0n;
    if (low !== 0n) props.push({ name: 'MemoryLow', sig: 't', value: u64(low) });
    const swap = swapToV2(big(mem.swap) ?? 0n, limit);
    if (swap !== 0n) props.push({ name: 'MemorySwapMax', sig: 't', value: u64(swap) });
    const shares = big(cpu.shares) ?? 0n;
    if (shares !== 0n) props.push({ name: 'CPUWeight', sig: 't', value: sharesToWeight(shares) });
    cpuQuota(props, big(cpu.quota), big(cpu.period), o.systemdVersion);
    if (pids > 0n || pids === -1n) props.push({ name: 'TasksMax', sig: 't', value: u64(pids) });
    cpuset(props, cpu.cpus, cpu.mems, o.systemdVersion);
  } else {
    if (limit !== 0n) props.push({ name: 'MemoryLimit', sig: 't', value: u64(limit) });
    const shares = big(cpu.shares) ?? 0n;
    if (shares !== 0n) props.push({ name: 'CPUShares', sig: 't', value: shares });
    cpuQuota(props, big(cpu.quota), big(cpu.period), o.systemdVersion);
    const w = res.blockIO?.weight ?? 0;
    if (w !== 0) props.push({ name: 'BlockIOWeight', sig: 't', value: BigInt(w) });
    if (pids > 0n || pids === -1n) props.push({ name: 'TasksMax', sig: 't', value: u64(pids) });
    cpuset(props, cpu.cpus, cpu.mems, o.systemdVersion);
  }
  return props;
}

/** The kernel's v1 devices controller, reduced to what systemd can be told: runc's emulator
 *  decides whether the list is an allow list (default deny) and which allow rules remain. */
export function emulateDevices(rules: DeviceRule[]): { defaultAllow: boolean; exceptions: DeviceRule[] } {
  let defaultAllow = false; // runc's Emulator{} (systemd's strict policy): deny all until allowed
  let list: DeviceRule[] = [];
  const covers = (a: DeviceRule, b: DeviceRule) => (a.type === 'a' || a.type === b.type) && (a.major === '*' || a.major === b.major) && (a.minor === '*' || a.minor === b.minor);
  for (const r of rules) {
    if (r.type === 'a') {
      defaultAllow = r.allow;
      list = [];
      continue;
    }
    if (r.allow === !defaultAllow) {
      // an exception to the default: add it (merging the access of the same device)
      const same = list.find((x) => x.type === r.type && x.major === r.major && x.minor === r.minor);
      if (same) same.access = [...new Set([...same.access, ...r.access])].sort((a, b) => 'rwm'.indexOf(a) - 'rwm'.indexOf(b)).join('');
      else list.push({ ...r, access: [...new Set(r.access)].join('') });
    } else {
      // back to the default for what it covers: drop those access bits from the exceptions
      list = list
        .map((x) => (covers(r, x) ? { ...x, access: [...x.access].filter((p) => !r.access.includes(p)).join('') } : x))
        .filter((x) => x.access !== '');
    }
  }
  return { defaultAllow, exceptions: list };
}

/** runc's generateDeviceProperties: DevicePolicy=strict and a DeviceAllow list ("auto" and an
 *  empty list to allow all); the cgroup files / eBPF program remain the real enforcement. */
export function deviceProperties(rules: DeviceRule[], warn: (m: string) => void = () => {}, procDevices?: string): UnitProperty[] {
  const { defaultAllow, exceptions } = emulateDevices(rules);
  if (defaultAllow) {
    // allow-all: systemd's "auto" with nothing listed; a deny list it cannot express
    if (exceptions.length === 0)
      return [
        { name: 'DevicePolicy', sig: 's', value: 'auto' },
        { name: 'DeviceAllow', sig: 'a(ss)', value: [] },
      ];
    warn("systemd doesn't support blacklist device rules -- applying temporary deny-all rule");
    return [
      { name: 'DevicePolicy', sig: 's', value: 'strict' },
      { name: 'DeviceAllow', sig: 'a(ss)', value: [] },
    ];
  }
  const allowed = exceptions;
  const entries: Array<[string, string]> = [];
  for (const r of allowed) {
    const prefix = r.type === 'b' ? 'block-' : 'char-';
    let path: string;
    if (r.major === '*') {
      if (r.minor !== '*') {
        warn(`systemd doesn't support '*:n' device rules -- temporarily ignoring rule: ${r.type} *:${r.minor} ${r.access}`);
        continue;
      }
      path = `${prefix}*`;
    } else if (r.minor === '*') {
      const group = deviceGroup(r.type, r.major, procDevices);
      if (!group) {
        warn(`could not find device group for '${r.type}/${r.major}' in /proc/devices -- temporarily ignoring rule`);
        continue;
      }
      path = group;
    } else path = `/dev/${r.type === 'b' ? 'block' : 'char'}/${r.major}:${r.minor}`;
    entries.push([path, r.access]);
  }
  return [
    { name: 'DevicePolicy', sig: 's', value: 'strict' },
    { name: 'DeviceAllow', sig: 'a(ss)', value: [] },
    { name: 'DeviceAllow', sig: 'a(ss)', value: entries },
  ];
}

/** The /proc/devices group name for a wildcard-minor rule ("char-pts"), as DeviceAllow wants it. */
export function deviceGroup(type: 'b' | 'c' | 'a', major: number, procDevices?: string): string {
  let text = procDevices;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/devices', 'utf8');
    } catch {
      return '';
    }
  }
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === 'Character devices:') current = 'c';
    else if (line === 'Block devices:') current = 'b';
    else {
      const m = /^(\d+)\s+(\S+)$/.exec(line);
      if (m && current === type && Number(m[1]) === major) return `${type === 'b' ? 'block-' : 'char-'}${m[2]}`;
    }
  }
  return '';
}

/** runc's initSystemdProps: annotations `org.systemd.property.<Name>` = a GVariant text value,
 *  `...Sec` names turned into `...USec` (uint64 microseconds). Names must be plain unit property
 *  names; an unparsable value is refused naming the annotation. */
export function annotationProperties(annotations: Record<string, string> | undefined): UnitProperty[] {
  const out: UnitProperty[] = [];
  const PREFIX = 'org.systemd.property.';
  for (const [key, raw] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(PREFIX)) continue;
    const field = `annotations[${JSON.stringify(key)}]`;
    let name = key.slice(PREFIX.length);
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new RuntimeError('EINVAL', `${field}: invalid systemd property name ${JSON.stringify(name)}`);
    let v = parseVariant(field, raw);
    if (name.endsWith('Sec') && !name.endsWith('USec')) {
      // runc: "TimeoutStopSec" given in seconds becomes TimeoutStopUSec in microseconds
      if (v.sig !== 't' && v.sig !== 'u' && v.sig !== 'i' && v.sig !== 'x' && v.sig !== 'd')
        throw new RuntimeError('EINVAL', `${field}: a ...Sec property needs a number, got ${JSON.stringify(raw)}`);
      const sec = Number(v.value);
      if (!(sec >= 0)) throw new RuntimeError('EINVAL', `${field}: a ...Sec property must not be negative`);
      name = name.slice(0, -3) + 'USec';
      v = { sig: 't', value: BigInt(Math.round(sec * 1e6)) };
    }
    out.push({ name, ...v, field });
  }
  return out;
}

const INT_TYPES: Record<string, [string, bigint, bigint]> = {
  byte: ['y', 0n, 255n],
  int16: ['n', -(1n << 15n), (1n << 15n) - 1n],
  uint16: ['q', 0n, (1n << 16n) - 1n],
  int32: ['i', -(1n << 31n), (1n << 31n) - 1n],
  uint32: ['u', 0n, (1n << 32n) - 1n],
  int64: ['x', -(1n << 63n), (1n << 63n) - 1n],
  uint64: ['t', 0n, MAX_U64],
};

/** A small GVariant text parser (what godbus ParseVariant takes in practice): `uint64 123`,
 *  `true`, `'str'`, `"str"`, `123` (int32), `1.5` (double), `['a', 'b']` (as). */
export function parseVariant(field: string, text: string): { sig: string; value: unknown } {
  const s = text.trim();
  const bad = () => new RuntimeError('EINVAL', `${field}: cannot parse systemd property value ${JSON.stringify(text)}`);
  const typed = /^(byte|int16|uint16|int32|uint32|int64|uint64|boolean|string|double)\s+(.+)$/.exec(s);
  if (typed) {
    const [, t, rest] = typed as unknown as [string, string, string];
    if (t === 'boolean') {
      if (rest !== 'true' && rest !== 'false') throw bad();
      return { sig: 'b', value: rest === 'true' };
    }
    if (t === 'string') return { sig: 's', value: parseString(rest, bad) };
    if (t === 'double') {
      const d = Number(rest);
      if (!Number.isFinite(d)) throw bad();
      return { sig: 'd', value: d };
    }
    const [sig, min, max] = INT_TYPES[t]!;
    if (!/^-?\d+$/.test(rest)) throw bad();
    const n = BigInt(rest);
    if (n < min || n > max) throw new RuntimeError('EINVAL', `${field}: ${rest} does not fit ${t}`);
    return { sig, value: sig === 't' || sig === 'x' ? n : Number(n) };
  }
  if (s === 'true' || s === 'false') return { sig: 'b', value: s === 'true' };
  if (/^-?\d+$/.test(s)) {
    const n = BigInt(s);
    if (n < INT_TYPES['int32']![1] || n > INT_TYPES['int32']![2]) throw new RuntimeError('EINVAL', `${field}: ${s} does not fit int32 (write uint64 ${s})`);
    return { sig: 'i', value: Number(n) };
  }
  if (/^-?\d*\.\d+$/.test(s)) return { sig: 'd', value: Number(s) };
  if (s.startsWith("'") || s.startsWith('"')) return { sig: 's', value: parseString(s, bad) };
  if (s.startsWith('[') && s.endsWith(']')) {
    const inner = s.slice(1, -1).trim();
    if (inner === '') throw bad();
    const items = inner.match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g) ?? [];
    if (items.join(',').replace(/\s/g, '') !== inner.replace(/\s/g, '').replace(/,\s*/g, ',')) throw bad();
    return { sig: 'as', value: items.map((x) => parseString(x, bad)) };
  }
  throw bad();
}

function parseString(s: string, bad: () => Error): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q || s.length < 2) throw bad();
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}
