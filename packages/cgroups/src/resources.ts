// linux.resources written to the container's cgroups as runc's cgroupfs drivers do: fs (v1, and
// hybrid hosts, where cgroup2 carries no controllers runc would use) and fs2 (pure v2). The same
// function serves create (before any process is in the cgroup) and update (the merged resources of
// the running container, as runc's update does).
//
// A value of 0 (or an absent field) leaves the file alone, as in runc; -1 means unlimited where the
// kernel has a word for it (v1 writes -1, v2 writes "max"). uint64 fields come as number | bigint
// (config.json is parsed losslessly) and are written exactly.
//
// A controller the host lacks: runc (fs.Manager.Set) fails when a resource of that controller is
// set ("cannot set <controller> limit: container could not join or create cgroup"), whatever the
// controller; runts does the same, naming the field. Resources that are not set need nothing.
// Fields runc ignores are ignored with a warning (memory.kernel everywhere; v1-only fields on v2).
import { openSync, writeSync, closeSync, readFileSync, existsSync, constants } from 'node:fs';
import { RuntimeError, strerror, joinPath, relativePath } from '@runts/core';
import type { CgroupLayout } from './index.ts';

type Int = number | bigint;

export interface MemoryResources {
  limit?: Int;
  reservation?: Int;
  swap?: Int;
  kernel?: Int;
  kernelTCP?: Int;
  swappiness?: Int;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}
export interface CpuResources {
  shares?: Int;
  quota?: Int;
  burst?: Int;
  period?: Int;
  realtimeRuntime?: Int;
  realtimePeriod?: Int;
  cpus?: string;
  mems?: string;
  idle?: Int;
}
export interface BlockIODevice {
  major: Int;
  minor: Int;
}
export interface WeightDevice extends BlockIODevice {
  weight?: number;
  leafWeight?: number;
}
export interface ThrottleDevice extends BlockIODevice {
  rate?: Int;
}
export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}
/** OCI LinuxResources (devices are applied by applyDeviceRules, not here). */
export interface LinuxResources {
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit: Int };
  blockIO?: BlockIOResources;
  hugepageLimits?: Array<{ pageSize: string; limit: Int }>;
  network?: { classID?: number; priorities?: Array<{ name: string; priority: number }> };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
  devices?: unknown[];
}

/** One write made to a cgroup file, in order (what tests and --debug look at). */
export interface ResourceWrite {
  field: string;
  file: string;
  value: string;
}

export interface ApplyResourcesOptions {
  /** an update of a running container (no controller enabling; same writes otherwise) */
  update?: boolean;
  /** where warnings go (fields runc ignores) */
  warn?: (msg: string) => void;
  /** only the knobs (file names) this accepts are written; the rest is still checked */
  files?: (file: string) => boolean;
}

const F = 'linux.resources';

/** Applies resources to the container's cgroup directories (`paths`, keyed as
 *  containerCgroupPaths makes them). Returns the writes made, in order. */
export function applyResources(
  layout: Pick<CgroupLayout, 'mode'> & { v2?: { mountpoint: string } | undefined },
  paths: Record<string, string>,
  resources: LinuxResources | undefined,
  opts: ApplyResourcesOptions = {},
): ResourceWrite[] {
  const w = new Writer(opts.files);
  const warn = opts.warn ?? (() => {});
  const r = resources ?? {};
  if (layout.mode === 'v2') {
    const dir = paths['unified'];
    if (!dir) throw new RuntimeError('ESYS', `${F}: no cgroup v2 directory for the container`);
    if (!opts.update && layout.v2) enableControllers(layout.v2.mountpoint, dir);
    applyV2(w, dir, r, warn);
  } else {
    applyV1(w, paths, r, warn);
  }
  return w.log;
}

// ---------------------------------------------------------------------------------------------
// helpers

class Writer {
  readonly log: ResourceWrite[] = [];
  constructor(private readonly files?: (file: string) => boolean) {}
  write(dir: string, file: string, value: string, field: string): void {
    if (this.files && !this.files(file)) return;
    const path = joinPath(dir, file);
    try {
      writeCgroupFile(path, value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new RuntimeError('ESYS', `${field}: write ${path}: ${strerror(code)}`, { cause: err, errno: code });
    }
    this.log.push({ field, file: path, value });
  }
}

/** open(O_WRONLY|O_TRUNC) without O_CREAT, like runc's WriteFile: a missing knob is ENOENT. */
function writeCgroupFile(path: string, value: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readUint(path: string): bigint | undefined {
  const t = readText(path)?.trim();
  if (t === undefined || !/^\d+$/.test(t)) return undefined;
  return BigInt(t);
}

/** An integer field as a bigint (0n when absent); anything else is a bad config. */
function int(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new RuntimeError('EINVAL', `${field}: expected an integer, got ${JSON.stringify(v)}`);
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function dev(d: BlockIODevice, field: string): string {
  return `${int(d.major, `${field}.major`)}:${int(d.minor, `${field}.minor`)}`;
}

/** cgroup v2 cpu.weight from v1 shares, runc's (1.1) linear map of [2, 262144] to [1, 10000]. */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  const s = shares < 2n ? 2n : shares;
  return 1n + ((s - 2n) * 9999n) / 262142n;
}

/** cgroup v2 io.weight from v1 blkio weight, runc's map of [10, 1000] to [1, 10000]. */
export function blkioWeightToIoWeight(weight: bigint): bigint {
  if (weight === 0n) return 0n;
  const v = weight < 10n ? 10n : weight;
  return 1n + ((v - 10n) * 9999n) / 990n;
}

/** v2 memory.swap.max from the OCI swap (memory+swap) and limit, as runc's ConvertMemorySwapToCgroupV2Value. */
export function swapToV2(swap: bigint, limit: bigint, field = `${F}.memory.swap`): bigint {
  if (limit === -1n && swap === 0n) return -1n;
  if (swap === -1n || swap === 0n) return swap;
  if (limit === 0n || limit === -1n) throw new RuntimeError('EINVAL', `${field}: unable to set swap limit without memory limit`);
  if (limit < 0n) throw new RuntimeError('EINVAL', `${F}.memory.limit: invalid memory value: ${limit}`);
  if (swap < limit) throw new RuntimeError('EINVAL', `${field}: memory+swap limit should be >= memory limit`);
  return swap - limit;
}

function v2num(v: bigint): string {
  return v === 0n ? '' : v === -1n ? 'max' : String(v);
}

// ---------------------------------------------------------------------------------------------
// cgroup v1 (runc libcontainer/cgroups/fs), in runc's subsystem order

function v1Dir(paths: Record<string, string>, controller: string): string | undefined {
  return Object.entries(paths).find(([k]) => k !== 'unified' && k.split(',').includes(controller))?.[1];
}

function needV1(paths: Record<string, string>, controller: string, field: string): string {
  const dir = v1Dir(paths, controller);
  if (!dir) throw new RuntimeError('ESYS', `${field}: cannot set ${controller} limit: the ${controller} cgroup controller is not mounted on this host`);
  return dir;
}

function applyV1(w: Writer, paths: Record<string, string>, r: LinuxResources, warn: (m: string) => void): void {
  if (r.unified && Object.keys(r.unified).length > 0) throw new RuntimeError('EINVAL', `${F}.unified: invalid configuration: cannot use unified on cgroup v1`);
  const cpu = r.cpu ?? {};
  // cpuset
  if ((cpu.cpus ?? '') !== '' || (cpu.mems ?? '') !== '') {
    const dir = needV1(paths, 'cpuset', `${F}.cpu.${(cpu.cpus ?? '') !== '' ? 'cpus' : 'mems'}`);
    if ((cpu.cpus ?? '') !== '') w.write(dir, 'cpuset.cpus', cpu.cpus!, `${F}.cpu.cpus`);
    if ((cpu.mems ?? '') !== '') w.write(dir, 'cpuset.mems', cpu.mems!, `${F}.cpu.mems`);
  }
  // memory
  if (r.memory) setMemoryV1(w, paths, r.memory, warn);
  // cpu
  setCpuV1(w, paths, cpu, warn);
  // pids: 0 or negative is no limit
  if (r.pids) {
    const limit = int(r.pids.limit, `${F}.pids.limit`);
    w.write(needV1(paths, 'pids', `${F}.pids.limit`), 'pids.max', limit > 0n ? String(limit) : 'max', `${F}.pids.limit`);
  }
  // blkio
  if (r.blockIO) setBlkioV1(w, paths, r.blockIO);
  // hugetlb
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`;
    w.write(needV1(paths, 'hugetlb', field), `hugetlb.${pageSize(h.pageSize, field)}.limit_in_bytes`, String(int(h.limit, `${field}.limit`)), `${field}.limit`);
  });
  // net_cls, net_prio
  const net = r.network ?? {};
  if (isSet(net.classID) && int(net.classID, `${F}.network.classID`) !== 0n) {
    w.write(needV1(paths, 'net_cls', `${F}.network.classID`), 'net_cls.classid', String(int(net.classID, `${F}.network.classID`)), `${F}.network.classID`);
  }
  (net.priorities ?? []).forEach((p, i) => {
    const field = `${F}.network.priorities[${i}]`;
    w.write(needV1(paths, 'net_prio', field), 'net_prio.ifpriomap', `${p.name} ${int(p.priority, `${field}.priority`)}`, field);
  });
  // rdma
  setRdma(w, r.rdma, (field) => needV1(paths, 'rdma', field));
}

function setMemoryV1(w: Writer, paths: Record<string, string>, m: MemoryResources, warn: (m: string) => void): void {
  const f = `${F}.memory`;
  let limit = int(m.limit, `${f}.limit`);
  let swap = int(m.swap, `${f}.swap`);
  const reservation = int(m.reservation, `${f}.reservation`);
  const kernelTCP = int(m.kernelTCP, `${f}.kernelTCP`);
  if (isSet(m.kernel)) warn(`${f}.kernel: kernel memory limits are ignored (as runc does; the kernel dropped them)`);
  // swappiness: absent, or -1 as int64, is unset; else 0..100
  let swappiness: bigint | undefined;
  if (isSet(m.swappiness)) {
    const s = BigInt.asIntN(64, int(m.swappiness, `${f}.swappiness`));
    if (s !== -1n) {
      if (s < 0n || s > 100n) throw new RuntimeError('EINVAL', `${f}.swappiness: invalid memory swappiness value: ${int(m.swappiness, '')} (valid range is 0-100)`);
      swappiness = s;
    }
  }
  const anything = limit !== 0n || swap !== 0n || reservation !== 0n || kernelTCP !== 0n || swappiness !== undefined || m.disableOOMKiller === true || m.useHierarchy !== undefined;
  if (!anything) return;
  const dir = needV1(paths, 'memory', f);
  const memsw = existsSync(joinPath(dir, 'memory.memsw.limit_in_bytes'));
  // runc: memory -1 and swap unset means both unlimited (when swap accounting exists)
  if (limit === -1n && swap === 0n && memsw) swap = -1n;
  const setLimit = () => {
    if (limit === 0n) return;
    try {
      w.write(dir, 'memory.limit_in_bytes', String(limit), `${f}.limit`);
    } catch (err) {
      if ((err as RuntimeError).errno !== 'EBUSY') throw err;
      const usage = readUint(joinPath(dir, 'memory.usage_in_bytes'));
      const max = readUint(joinPath(dir, 'memory.max_usage_in_bytes'));
      throw new RuntimeError('ESYS', `${(err as Error).message}: unable to set memory limit to ${limit} (current usage: ${usage ?? '?'}, peak usage: ${max ?? '?'})`, { cause: err, errno: 'EBUSY' });
    }
  };
  const setSwap = () => {
    if (swap !== 0n) w.write(dir, 'memory.memsw.limit_in_bytes', String(swap), `${f}.swap`);
  };
  // The kernel wants memory <= memsw at every step: raise memsw first when it goes up.
  if (limit !== 0n && swap !== 0n) {
    const cur = readUint(joinPath(dir, 'memory.limit_in_bytes'));
    if (swap === -1n || (cur !== undefined && cur < swap)) {
      setSwap();
      setLimit();
      limit = 0n;
      swap = 0n;
    }
  }
  setLimit();
  setSwap();
  if (kernelTCP !== 0n) w.write(dir, 'memory.kmem.tcp.limit_in_bytes', String(kernelTCP), `${f}.kernelTCP`);
  if (reservation !== 0n) w.write(dir, 'memory.soft_limit_in_bytes', String(reservation), `${f}.reservation`);
  if (m.disableOOMKiller === true) w.write(dir, 'memory.oom_control', '1', `${f}.disableOOMKiller`);
  if (swappiness !== undefined) w.write(dir, 'memory.swappiness', String(swappiness), `${f}.swappiness`);
  if (m.useHierarchy !== undefined) {
    // runc ignores useHierarchy; kernels since 5.x are always hierarchical and refuse 0.
    try {
      w.write(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${f}.useHierarchy`);
    } catch (err) {
      if ((err as RuntimeError).errno !== 'EINVAL') throw err;
      warn(`${f}.useHierarchy: the kernel refuses ${m.useHierarchy ? 1 : 0} (memory accounting is always hierarchical); ignored, as runc ignores the field`);
    }
  }
}

function setCpuV1(w: Writer, paths: Record<string, string>, cpu: CpuResources, warn: (m: string) => void): void {
  const f = `${F}.cpu`;
  const shares = int(cpu.shares, `${f}.shares`);
  const period = int(cpu.period, `${f}.period`);
  const quota = int(cpu.quota, `${f}.quota`);
  const rtPeriod = int(cpu.realtimePeriod, `${f}.realtimePeriod`);
  const rtRuntime = int(cpu.realtimeRuntime, `${f}.realtimeRuntime`);
  const burst = isSet(cpu.burst) ? int(cpu.burst, `${f}.burst`) : undefined;
  if (isSet(cpu.idle) && int(cpu.idle, `${f}.idle`) !== 0n) warn(`${f}.idle: cpu.idle is a cgroup v2 setting; ignored on cgroup v1 (as runc does)`);
  if (shares === 0n && period === 0n && quota === 0n && rtPeriod === 0n && rtRuntime === 0n && burst === undefined) return;
  const which = shares !== 0n ? 'shares' : quota !== 0n ? 'quota' : period !== 0n ? 'period' : burst !== undefined ? 'burst' : 'realtimeRuntime';
  const dir = needV1(paths, 'cpu', `${f}.${which}`);
  // real-time settings first (runc sets them before the process joins, then again in Set)
  const rt = () => {
    if (rtPeriod !== 0n) w.write(dir, 'cpu.rt_period_us', String(rtPeriod), `${f}.realtimePeriod`);
    if (rtRuntime !== 0n) w.write(dir, 'cpu.rt_runtime_us', String(rtRuntime), `${f}.realtimeRuntime`);
  };
  rt();
  if (shares !== 0n) {
    w.write(dir, 'cpu.shares', String(shares), `${f}.shares`);
    const got = readUint(joinPath(dir, 'cpu.shares'));
    if (got !== undefined && shares > got) throw new RuntimeError('EINVAL', `${f}.shares: the maximum allowed cpu-shares is ${got}`);
    if (got !== undefined && shares < got) throw new RuntimeError('EINVAL', `${f}.shares: the minimum allowed cpu-shares is ${got}`);
  }
  let periodLater = false;
  if (period !== 0n) {
    try {
      w.write(dir, 'cpu.cfs_period_us', String(period), `${f}.period`);
    } catch (err) {
      // a smaller period can be refused until the quota is lowered: retry after the quota
      if ((err as RuntimeError).errno !== 'EINVAL' || quota === 0n) throw err;
      periodLater = true;
    }
  }
  if (quota !== 0n) {
    w.write(dir, 'cpu.cfs_quota_us', String(quota), `${f}.quota`);
    if (periodLater) w.write(dir, 'cpu.cfs_period_us', String(period), `${f}.period`);
  }
  if (burst !== undefined) {
    if (existsSync(joinPath(dir, 'cpu.cfs_burst_us')) || burst !== 0n) w.write(dir, 'cpu.cfs_burst_us', String(burst), `${f}.burst`);
  }
  rt();
}

function setBlkioV1(w: Writer, paths: Record<string, string>, b: BlockIOResources): void {
  const f = `${F}.blockIO`;
  const weight = int(b.weight, `${f}.weight`);
  const leafWeight = int(b.leafWeight, `${f}.leafWeight`);
  const lists = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;
  const any = weight !== 0n || leafWeight !== 0n || (b.weightDevice ?? []).length > 0 || lists.some((k) => (b[k] ?? []).length > 0);
  if (!any) return;
  const dir = needV1(paths, 'blkio', f);
  // CFQ's files when present, else BFQ's (runc's detectWeightFilenames)
  const cfq = existsSync(joinPath(dir, 'blkio.weight'));
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (weight !== 0n) w.write(dir, weightFile, String(weight), `${f}.weight`);
  if (leafWeight !== 0n) w.write(dir, 'blkio.leaf_weight', String(leafWeight), `${f}.leafWeight`);
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `${f}.weightDevice[${i}]`;
    const wt = int(d.weight, `${field}.weight`);
    const lw = int(d.leafWeight, `${field}.leafWeight`);
    if (wt !== 0n) w.write(dir, weightDeviceFile, `${dev(d, field)} ${wt}`, `${field}.weight`);
    if (lw !== 0n) w.write(dir, 'blkio.leaf_weight_device', `${dev(d, field)} ${lw}`, `${field}.leafWeight`);
  });
  const files = { throttleReadBpsDevice: 'read_bps_device', throttleWriteBpsDevice: 'write_bps_device', throttleReadIOPSDevice: 'read_iops_device', throttleWriteIOPSDevice: 'write_iops_device' };
  for (const k of lists) {
    (b[k] ?? []).forEach((d, i) => {
      const field = `${f}.${k}[${i}]`;
      w.write(dir, `blkio.throttle.${files[k]}`, `${dev(d, field)} ${int(d.rate, `${field}.rate`)}`, field);
    });
  }
}

function pageSize(s: unknown, field: string): string {
  if (typeof s !== 'string' || !/^[0-9]+[KMGTP]?B$/.test(s)) throw new RuntimeError('EINVAL', `${field}.pageSize: invalid hugepage size ${JSON.stringify(s)} (expected e.g. "2MB")`);
  return s;
}

function setRdma(w: Writer, rdma: LinuxResources['rdma'], dirFor: (field: string) => string): void {
  for (const [device, l] of Object.entries(rdma ?? {})) {
    const field = `${F}.rdma.${device}`;
    let cmd = device;
    if (isSet(l.hcaHandles)) cmd += ` hca_handle=${int(l.hcaHandles, `${field}.hcaHandles`)}`;
    if (isSet(l.hcaObjects)) cmd += ` hca_object=${int(l.hcaObjects, `${field}.hcaObjects`)}`;
    w.write(dirFor(field), 'rdma.max', cmd, field);
  }
}

// ---------------------------------------------------------------------------------------------
// cgroup v2 (runc libcontainer/cgroups/fs2), in runc's order

/** runc's CreateCgroupPath: enables every available controller in cgroup.subtree_control from the
 *  hierarchy's root down to the container's parent, so that the container's dir gets their knobs.
 *  Failures are left for the writes to report (a missing knob names its file). */
export function enableControllers(mountpoint: string, dir: string): void {
  const available = (readText(joinPath(mountpoint, 'cgroup.controllers')) ?? '').split(/\s+/).filter((c) => c !== '');
  if (available.length === 0) return;
  const rel = relativePath(mountpoint, dir);
  if (rel === '' || rel.startsWith('..')) return;
  const parts = rel.split('/');
  let cur = mountpoint;
  for (let i = 0; i < parts.length; i++) {
    const want = available.map((c) => `+${c}`);
    try {
      writeCgroupFile(joinPath(cur, 'cgroup.subtree_control'), want.join(' '));
    } catch {
      for (const c of want) {
        try {
          writeCgroupFile(joinPath(cur, 'cgroup.subtree_control'), c);
        } catch {
          /* not delegated, or the cgroup has processes: the knobs will be missing */
        }
      }
    }
    cur = joinPath(cur, parts[i]!);
  }
}

function applyV2(w: Writer, dir: string, r: LinuxResources, warn: (m: string) => void): void {
  const m = r.memory ?? {};
  const cpu = r.cpu ?? {};
  const fm = `${F}.memory`;
  const fc = `${F}.cpu`;
  for (const [k, why] of [
    ['swappiness', 'memory.swappiness'],
    ['disableOOMKiller', 'memory.oom_control'],
    ['kernelTCP', 'memory.kmem.tcp'],
    ['kernel', 'memory.kmem'],
    ['useHierarchy', 'memory.use_hierarchy'],
  ] as const) {
    const v = m[k];
    if (isSet(v) && v !== false && v !== 0 && v !== 0n) warn(`${fm}.${k}: ${why} is a cgroup v1 setting; ignored on cgroup v2`);
  }
  if (int(cpu.realtimePeriod, `${fc}.realtimePeriod`) !== 0n || int(cpu.realtimeRuntime, `${fc}.realtimeRuntime`) !== 0n) warn(`${fc}.realtimeRuntime: real-time group scheduling is a cgroup v1 setting; ignored on cgroup v2`);
  if ((r.network?.priorities ?? []).length > 0 || (isSet(r.network?.classID) && r.network?.classID !== 0)) warn(`${F}.network: net_cls and net_prio are cgroup v1 controllers; ignored on cgroup v2`);
  if (int(r.blockIO?.leafWeight, `${F}.blockIO.leafWeight`) !== 0n) warn(`${F}.blockIO.leafWeight: a cgroup v1 setting; ignored on cgroup v2`);

  // pids
  if (r.pids) {
    const limit = int(r.pids.limit, `${F}.pids.limit`);
    w.write(dir, 'pids.max', limit > 0n ? String(limit) : 'max', `${F}.pids.limit`);
  }
  // memory
  const limit = int(m.limit, `${fm}.limit`);
  const swapRaw = int(m.swap, `${fm}.swap`);
  const reservation = int(m.reservation, `${fm}.reservation`);
  if (limit !== 0n || swapRaw !== 0n || reservation !== 0n) {
    if (m.checkBeforeUpdate === true && (limit > 0n || swapRaw > 0n)) {
      const usage = readUint(joinPath(dir, 'memory.current'));
      if (usage !== undefined) {
        if (swapRaw > 0n && swapRaw <= usage) throw new RuntimeError('EINVAL', `${fm}.swap: rejecting memory+swap limit ${swapRaw} <= usage ${usage}`);
        if (limit > 0n && limit <= usage) throw new RuntimeError('EINVAL', `${fm}.limit: rejecting memory limit ${limit} <= usage ${usage}`);
      }
    }
    const swap = swapToV2(swapRaw, limit);
    let swapStr = v2num(swap);
    if (swapStr === '' && swap === 0n && swapRaw > 0n) swapStr = '0'; // memory == memory+swap: no swap
    if (swapStr !== '') {
      try {
        w.write(dir, 'memory.swap.max', swapStr, `${fm}.swap`);
      } catch (err) {
        // no swap accounting: setting "max" or "0" is moot
        if (!((err as RuntimeError).errno === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw err;
      }
    }
    if (limit !== 0n) w.write(dir, 'memory.max', v2num(limit), `${fm}.limit`);
    if (reservation !== 0n) w.write(dir, 'memory.low', v2num(reservation), `${fm}.reservation`);
  }
  // io
  setIoV2(w, dir, r.blockIO ?? {}, warn);
  // cpu
  const weight = sharesToWeight(int(cpu.shares, `${fc}.shares`));
  const quota = int(cpu.quota, `${fc}.quota`);
  const period = int(cpu.period, `${fc}.period`);
  if (isSet(cpu.idle)) w.write(dir, 'cpu.idle', String(int(cpu.idle, `${fc}.idle`)), `${fc}.idle`);
  if (weight !== 0n) w.write(dir, 'cpu.weight', String(weight), `${fc}.shares`);
  let burstLater: string | undefined;
  if (isSet(cpu.burst)) {
    const burst = String(int(cpu.burst, `${fc}.burst`));
    try {
      w.write(dir, 'cpu.max.burst', burst, `${fc}.burst`);
    } catch (err) {
      if ((err as RuntimeError).errno !== 'EINVAL' || quota === 0n) throw err;
      burstLater = burst;
    }
  }
  if (quota !== 0n || period !== 0n) {
    const value = `${quota > 0n ? String(quota) : 'max'} ${period !== 0n ? period : 100000n}`;
    w.write(dir, 'cpu.max', value, `${fc}.${quota !== 0n ? 'quota' : 'period'}`);
    if (burstLater !== undefined) w.write(dir, 'cpu.max.burst', burstLater, `${fc}.burst`);
  }
  // cpuset
  if ((cpu.cpus ?? '') !== '') w.write(dir, 'cpuset.cpus', cpu.cpus!, `${fc}.cpus`);
  if ((cpu.mems ?? '') !== '') w.write(dir, 'cpuset.mems', cpu.mems!, `${fc}.mems`);
  // hugetlb
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`;
    w.write(dir, `hugetlb.${pageSize(h.pageSize, field)}.max`, String(int(h.limit, `${field}.limit`)), `${field}.limit`);
  });
  // rdma
  setRdma(w, r.rdma, () => dir);
  // unified, as given
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    const field = `${F}.unified[${JSON.stringify(k)}]`;
    if (k.includes('/') || k === '' || k === '.' || k === '..') throw new RuntimeError('EINVAL', `${field}: unified resource must be a file name (no slashes)`);
    try {
      w.write(dir, k, String(v), field);
    } catch (err) {
      const errno = (err as RuntimeError).errno;
      if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EPERM') {
        const dot = k.indexOf('.');
        if (dot <= 0) throw new RuntimeError('EINVAL', `${field}: unified resource must be in the form CONTROLLER.PARAMETER`);
        const c = k.slice(0, dot);
        const have = (readText(joinPath(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
        if (c !== 'cgroup' && !have.includes(c)) throw new RuntimeError('ESYS', `${field}: can't be set: controller ${JSON.stringify(c)} not available`, { cause: err, errno });
      }
      throw err;
    }
  }
}

function setIoV2(w: Writer, dir: string, b: BlockIOResources, warn: (m: string) => void): void {
  const f = `${F}.blockIO`;
  const weight = int(b.weight, `${f}.weight`);
  const wd = b.weightDevice ?? [];
  if (weight !== 0n || wd.length > 0) {
    // BFQ's io.bfq.weight when the scheduler is there, else io.weight with runc's conversion
    const bfqText = readText(joinPath(dir, 'io.bfq.weight'));
    if (weight !== 0n) {
      if (bfqText !== undefined) w.write(dir, 'io.bfq.weight', String(weight), `${f}.weight`);
      else w.write(dir, 'io.weight', String(blkioWeightToIoWeight(weight)), `${f}.weight`);
    }
    // per-device BFQ weights need kernel 5.4 ("default N" instead of a bare number)
    const perDevice = bfqText !== undefined && !/^\s*\d+\s*$/.test(bfqText);
    wd.forEach((d, i) => {
      const field = `${f}.weightDevice[${i}]`;
      const wt = int(d.weight, `${field}.weight`);
      if (wt === 0n) return;
      if (perDevice) w.write(dir, 'io.bfq.weight', `${dev(d, field)} ${wt}`, `${field}.weight`);
      else warn(`${field}: per-device weights need the BFQ scheduler (io.bfq.weight); ignored, as runc does`);
    });
  }
  const keys = { throttleReadBpsDevice: 'rbps', throttleWriteBpsDevice: 'wbps', throttleReadIOPSDevice: 'riops', throttleWriteIOPSDevice: 'wiops' } as const;
  for (const [k, name] of Object.entries(keys) as Array<[keyof typeof keys, string]>) {
    (b[k] ?? []).forEach((d, i) => {
      const field = `${f}.${k}[${i}]`;
      w.write(dir, 'io.max', `${dev(d, field)} ${name}=${int(d.rate, `${field}.rate`)}`, field);
    });
  }
}
