// Container statistics in the shape of runc's `events --stats` data (runc's types/events.go):
// cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt, network_interfaces. Read from cgroup v1
// (cpuacct, cpu, cpuset, memory, pids, blkio, hugetlb) or v2 (cpu.stat, memory.*, pids.*, io.stat,
// hugetlb.*). Go's omitempty is followed: zero values of omitempty fields are left out. Numbers
// beyond 2^53 (v1's "unlimited" 9223372036854771712) are bigints; print with stringifyLossless.
import { readFileSync, readdirSync } from 'node:fs';
import { joinPath } from '@runts/core';

type U = number | bigint;

export interface MemoryEntry {
  limit: U;
  usage?: U;
  max?: U;
  failcnt: U;
}

export interface Stats {
  cpu: { usage: { total?: U; percpu?: U[]; percpu_kernel?: U[]; percpu_user?: U[]; kernel: U; user: U }; throttling: { periods?: U; throttledPeriods?: U; throttledTime?: U } };
  cpuset: Record<string, unknown>;
  memory: { cache?: U; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, U> };
  pids: { current?: U; limit?: U };
  blkio: Record<string, Array<{ major?: U; minor?: U; op?: string; value?: U }>>;
  hugetlb: Record<string, { usage?: U; max?: U; failcnt: U }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const MAX_UINT64 = 18446744073709551615n;
const USER_HZ = 100n;
const NS = 1_000_000_000n;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A number when exact, else a bigint. */
function num(v: bigint): U {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function uint(path: string, maxValue = MAX_UINT64): bigint | undefined {
  const t = read(path)?.trim();
  if (t === undefined) return undefined;
  if (t === 'max') return maxValue;
  return /^-?\d+$/.test(t) ? BigInt(t) : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) */
function keyed(path: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of (read(path) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

/** "0-3,5" -> [0,1,2,3,5] */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

function omit<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || v === 0 || v === 0n || v === '' || (Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return o;
}

/** Go's omitempty, keeping the key order: keys named in `keep` stay even when zero. */
function fields<T>(o: Record<string, unknown>, keep: string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!keep.includes(k) && (v === undefined || v === 0 || v === 0n || v === '' || (Array.isArray(v) && v.length === 0))) continue;
    out[k] = v ?? 0;
  }
  return out as T;
}

function v1Dir(paths: Record<string, string>, controller: string): string | undefined {
  return Object.entries(paths).find(([k]) => k !== 'unified' && k.split(',').includes(controller))?.[1];
}

function empty(): Stats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {},
    memory: { usage: { limit: 0, failcnt: 0 }, swap: { limit: 0, failcnt: 0 }, kernel: { limit: 0, failcnt: 0 }, kernelTCP: { limit: 0, failcnt: 0 } },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Reads the container's stats; v2 when `unified` is the only way (mode v2), else v1. */
export function cgroupStats(mode: 'v1' | 'v2' | 'hybrid', paths: Record<string, string>): Stats {
  return mode === 'v2' ? statsV2(paths['unified'] ?? '') : statsV1(paths);
}

function memEntryV1(dir: string, prefix: string): MemoryEntry {
  const n = (f: string) => num(uint(joinPath(dir, `${prefix}${f}`)) ?? 0n);
  return fields<MemoryEntry>({ limit: n('limit_in_bytes'), usage: n('usage_in_bytes'), max: n('max_usage_in_bytes'), failcnt: n('failcnt') }, ['limit', 'failcnt']);
}

function statsV1(paths: Record<string, string>): Stats {
  const s = empty();
  const acct = v1Dir(paths, 'cpuacct');
  if (acct) {
    const total = num(uint(joinPath(acct, 'cpuacct.usage')) ?? 0n);
    const percpu = (read(joinPath(acct, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter((x) => /^\d+$/.test(x)).map((x) => num(BigInt(x)));
    // cpuacct.usage_all: "cpu user system" per cpu
    const kernel: U[] = [];
    const user: U[] = [];
    for (const line of (read(joinPath(acct, 'cpuacct.usage_all')) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length !== 3 || !f.every((x) => /^\d+$/.test(x))) continue;
      user.push(num(BigInt(f[1]!)));
      kernel.push(num(BigInt(f[2]!)));
    }
    const st = keyed(joinPath(acct, 'cpuacct.stat'));
    s.cpu.usage = fields(
      {
        total,
        percpu,
        percpu_kernel: kernel,
        percpu_user: user,
        kernel: num(((st.get('system') ?? 0n) * NS) / USER_HZ),
        user: num(((st.get('user') ?? 0n) * NS) / USER_HZ),
      },
      ['kernel', 'user'],
    );
  }
  const cpu = v1Dir(paths, 'cpu');
  if (cpu) {
    const st = keyed(joinPath(cpu, 'cpu.stat'));
    s.cpu.throttling = omit({ periods: num(st.get('nr_periods') ?? 0n), throttledPeriods: num(st.get('nr_throttled') ?? 0n), throttledTime: num(st.get('throttled_time') ?? 0n) });
  }
  const cpuset = v1Dir(paths, 'cpuset');
  if (cpuset) {
    const n = (f: string) => num(uint(joinPath(cpuset, `cpuset.${f}`)) ?? 0n);
    s.cpuset = {
      cpus: parseCpuList(read(joinPath(cpuset, 'cpuset.cpus')) ?? ''),
      cpu_exclusive: n('cpu_exclusive'),
      mems: parseCpuList(read(joinPath(cpuset, 'cpuset.mems')) ?? ''),
      mem_hardwall: n('mem_hardwall'),
      mem_exclusive: n('mem_exclusive'),
      memory_migrate: n('memory_migrate'),
      memory_spread_page: n('memory_spread_page'),
      memory_spread_slab: n('memory_spread_slab'),
      memory_pressure: n('memory_pressure'),
      sched_load_balance: n('sched_load_balance'),
      sched_relax_domain_level: n('sched_relax_domain_level'),
    };
    if ((s.cpuset.cpus as number[]).length === 0) delete s.cpuset.cpus;
    if ((s.cpuset.mems as number[]).length === 0) delete s.cpuset.mems;
  }
  const mem = v1Dir(paths, 'memory');
  if (mem) {
    const raw = keyed(joinPath(mem, 'memory.stat'));
    s.memory = {
      ...(raw.get('cache') ? { cache: num(raw.get('cache')!) } : {}),
      usage: memEntryV1(mem, 'memory.'),
      swap: memEntryV1(mem, 'memory.memsw.'),
      kernel: memEntryV1(mem, 'memory.kmem.'),
      kernelTCP: memEntryV1(mem, 'memory.kmem.tcp.'),
      raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, num(v)])),
    };
  }
  const pids = v1Dir(paths, 'pids');
  if (pids) s.pids = omit({ current: num(uint(joinPath(pids, 'pids.current')) ?? 0n), limit: num(uint(joinPath(pids, 'pids.max'), 0n) ?? 0n) });
  const blkio = v1Dir(paths, 'blkio');
  if (blkio) s.blkio = blkioV1(blkio);
  const huge = v1Dir(paths, 'hugetlb');
  if (huge) {
    for (const size of hugeSizes(huge, /^hugetlb\.([0-9]+[KMGT]?B)\.limit_in_bytes$/)) {
      s.hugetlb[size] = fields(
        {
          usage: num(uint(joinPath(huge, `hugetlb.${size}.usage_in_bytes`)) ?? 0n),
          max: num(uint(joinPath(huge, `hugetlb.${size}.max_usage_in_bytes`)) ?? 0n),
          failcnt: num(uint(joinPath(huge, `hugetlb.${size}.failcnt`)) ?? 0n),
        },
        ['failcnt'],
      );
    }
  }
  return s;
}

function hugeSizes(dir: string, re: RegExp): string[] {
  try {
    return readdirSync(dir)
      .map((f) => re.exec(f)?.[1])
      .filter((x): x is string => x !== undefined);
  } catch {
    return [];
  }
}

/** "8:0 Read 123" lines; runc reads CFQ's files first, then BFQ's, then the throttle ones. */
function blkioV1(dir: string): Stats['blkio'] {
  const parse = (file: string) => {
    const out: Array<{ major?: U; minor?: U; op?: string; value?: U }> = [];
    for (const line of (read(joinPath(dir, file)) ?? '').split('\n')) {
      const f = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(f[0] ?? '');
      if (!m) continue;
      if (f.length === 3) out.push(omit({ major: num(BigInt(m[1]!)), minor: num(BigInt(m[2]!)), op: f[1]!, value: num(BigInt(f[2]!)) }));
      else if (f.length === 2) out.push(omit({ major: num(BigInt(m[1]!)), minor: num(BigInt(m[2]!)), op: '', value: num(BigInt(f[1]!)) }));
    }
    return out;
  };
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const bytes = parse(`${prefix}io_service_bytes_recursive`);
    const ios = parse(`${prefix}io_serviced_recursive`);
    if (bytes.length === 0 && ios.length === 0 && prefix !== 'blkio.throttle.') continue;
    const out: Stats['blkio'] = {};
    if (bytes.length) out.ioServiceBytesRecursive = bytes;
    if (ios.length) out.ioServicedRecursive = ios;
    return out;
  }
  return {};
}

function statsV2(dir: string): Stats {
  const s = empty();
  const cs = keyed(joinPath(dir, 'cpu.stat'));
  s.cpu.usage = fields({ total: num((cs.get('usage_usec') ?? 0n) * 1000n), kernel: num((cs.get('system_usec') ?? 0n) * 1000n), user: num((cs.get('user_usec') ?? 0n) * 1000n) }, ['kernel', 'user']);
  s.cpu.throttling = omit({ periods: num(cs.get('nr_periods') ?? 0n), throttledPeriods: num(cs.get('nr_throttled') ?? 0n), throttledTime: num((cs.get('throttled_usec') ?? 0n) * 1000n) });
  const cpus = read(joinPath(dir, 'cpuset.cpus.effective'));
  if (cpus !== undefined) s.cpuset = { cpus: parseCpuList(cpus), mems: parseCpuList(read(joinPath(dir, 'cpuset.mems.effective')) ?? '') };
  const raw = keyed(joinPath(dir, 'memory.stat'));
  const usage = uint(joinPath(dir, 'memory.current')) ?? 0n;
  const limit = uint(joinPath(dir, 'memory.max')) ?? MAX_UINT64;
  const events = keyed(joinPath(dir, 'memory.events'));
  const swapUsage = uint(joinPath(dir, 'memory.swap.current'));
  const swapLimit = uint(joinPath(dir, 'memory.swap.max'));
  s.memory = {
    ...(raw.get('file') ? { cache: num(raw.get('file')!) } : {}),
    usage: fields({ limit: num(limit), usage: num(usage), max: num(uint(joinPath(dir, 'memory.peak')) ?? 0n), failcnt: num(events.get('max') ?? 0n) }, ['limit', 'failcnt']),
    // v1 reports memory+swap; runc adds memory to v2's swap numbers to match
    swap:
      swapUsage === undefined
        ? { limit: 0, failcnt: 0 }
        : fields({ limit: num(swapLimit === MAX_UINT64 || swapLimit === undefined ? MAX_UINT64 : swapLimit + limit), usage: num(swapUsage + usage), failcnt: 0 }, ['limit', 'failcnt']),
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 0, failcnt: 0 },
    raw: Object.fromEntries([...raw].map(([k, v]) => [k, num(v)])),
  };
  s.pids = omit({ current: num(uint(joinPath(dir, 'pids.current')) ?? 0n), limit: num(uint(joinPath(dir, 'pids.max'), 0n) ?? 0n) });
  const bytes: Stats['blkio'][string] = [];
  const ios: Stats['blkio'][string] = [];
  for (const line of (read(joinPath(dir, 'io.stat')) ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!m) continue;
    for (const kv of f.slice(1)) {
      const [k, v] = kv.split('=');
      if (!v || !/^\d+$/.test(v)) continue;
      const e = omit({ major: num(BigInt(m[1]!)), minor: num(BigInt(m[2]!)), op: '', value: num(BigInt(v)) });
      if (k === 'rbytes') bytes.push({ ...e, op: 'Read' });
      else if (k === 'wbytes') bytes.push({ ...e, op: 'Write' });
      else if (k === 'rios') ios.push({ ...e, op: 'Read' });
      else if (k === 'wios') ios.push({ ...e, op: 'Write' });
    }
  }
  if (bytes.length) s.blkio.ioServiceBytesRecursive = bytes;
  if (ios.length) s.blkio.ioServicedRecursive = ios;
  for (const size of hugeSizes(dir, /^hugetlb\.([0-9]+[KMGT]?B)\.max$/)) {
    s.hugetlb[size] = fields({ usage: num(uint(joinPath(dir, `hugetlb.${size}.current`)) ?? 0n), failcnt: num(keyed(joinPath(dir, `hugetlb.${size}.events`)).get('max') ?? 0n) }, ['failcnt']);
  }
  return s;
}

/** OOM kills so far in the container's memory cgroup (v2 memory.events, v1 memory.oom_control's
 *  oom_kill), for `events` to report increases; undefined when unreadable. */
export function oomKillCount(mode: 'v1' | 'v2' | 'hybrid', paths: Record<string, string>): bigint | undefined {
  if (mode === 'v2') return keyed(joinPath(paths['unified'] ?? '', 'memory.events')).get('oom_kill');
  const mem = v1Dir(paths, 'memory');
  return mem ? keyed(joinPath(mem, 'memory.oom_control')).get('oom_kill') : undefined;
}
