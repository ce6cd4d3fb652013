// oci-update: changes the resource limits of a created, running or paused container, as runc
// update does: the new values are merged into the container's linux.resources, the merged
// resources are written to its cgroups, and the stored config (state.json) keeps them so later
// updates, stats and tools see the current limits.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, loadContainer, writeRecord, RuntimeError, warn as logWarn, type ContainerRecord } from '@runts/core';
import { applyResources, confineToInit, driverOf, hostLayout, deviceFilterTarget, deviceRules, attachDeviceFilter, type LinuxResources, type ResourceWrite } from '@runts/cgroups';
import { parseConfig } from '@runts/spec';

export interface UpdateOptions {
  root: string;
  id: string;
  /** OCI LinuxResources with the values to change (absent fields stay as they are) */
  resources: LinuxResources;
  warn?: (msg: string) => void;
  /** the host's cgroup layout (tests pass a fixture's) */
  layout?: Parameters<typeof applyResources>[0];
  /** which of state.json's cgroup dirs may be written (default: confineToInit, which refuses a
   *  dir or systemd unit that does not hold the init; unit tests of fixture dirs pass their own) */
  confine?: (paths: Record<string, string>, unit: string | undefined, pid: number) => Record<string, string>;
}

/** The cgroup dirs of state.json that update may write: o.confine's, by default confineToInit's. */
function confined(o: Pick<UpdateOptions, 'id' | 'confine'>, record: ContainerRecord): Record<string, string> {
  return (o.confine ?? ((paths, unit, pid) => confineToInit(o.id, paths, unit, pid)))(record.cgroupPaths, record.systemd?.unit, record.pid);
}

/** Reads `--resources FILE|-` (`-` is stdin): an OCI LinuxResources JSON object, parsed losslessly. */
export function readResources(file: string, stdin: () => string = () => readFileSync(0, 'utf8')): LinuxResources {
  let text: string;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuntimeError('EINVAL', `--resources: read ${file === '-' ? 'stdin' : file}: ${(err as Error).message}`, { cause: err });
  }
  const v = parseConfig(text, file === '-' ? 'stdin' : file);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RuntimeError('EINVAL', `--resources: ${file === '-' ? 'stdin' : file}: expected a JSON object (OCI LinuxResources)`);
  return v as LinuxResources;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v !== 'bigint';

/** Merges changes into resources: objects field by field, anything else (numbers, strings,
 *  arrays) replaced; null and absent leave the old value. */
export function mergeResources(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? mergeResources(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

export async function update(o: UpdateOptions): Promise<ResourceWrite[]> {
  const warn = o.warn ?? logWarn;
  const { paths } = loadContainer(o.root, o.id);
  const lock = acquireLock(paths.lock, `update ${o.id}`);
  try {
    const { record, status } = loadContainer(o.root, o.id);
    if (status === 'stopped') throw new RuntimeError('ENOTRUNNING', 'container not running');
    // state.json is data, and may have been edited: only the init's own cgroups and unit are written
    const cgroupPaths = confined(o, record);
    const changes: Record<string, unknown> = { ...(o.resources as Record<string, unknown>) };
    if (changes.devices !== undefined) {
      // runc update leaves device rules alone too
      warn('linux.resources.devices: device rules cannot be updated; ignored');
      delete changes.devices;
    }
    // runc: --memory -1 without --memory-swap lifts memory+swap too (setMemoryAndSwap, where swap
    // accounting exists), memsw first; the stored swap would otherwise be kept and the kernel
    // refuses a memory limit above it (EINVAL).
    const mem = changes.memory as Record<string, unknown> | undefined;
    const memDir = cgroupPaths['memory'];
    if (mem && (mem.limit === -1 || mem.limit === -1n) && (mem.swap === undefined || mem.swap === null) && memDir && existsSync(join(memDir, 'memory.memsw.limit_in_bytes')))
      changes.memory = { ...mem, swap: -1n };
    const config = record.config as { linux?: { resources?: Record<string, unknown> } };
    config.linux ??= {};
    const merged = mergeResources(config.linux.resources ?? {}, changes);
    const { devices: _devices, ...limits } = merged;
    // the container's own driver: systemd sets the unit's properties, then the files are written
    const driver = driverOf(record);
    let writes: ResourceWrite[];
    try {
      writes = await driver.update(o.layout ?? hostLayout(), cgroupPaths, record.systemd, limits as LinuxResources, warn);
    } finally {
      driver.close();
    }
    config.linux.resources = merged;
    writeRecord(paths, record);
    return writes;
  } finally {
    lock.release();
  }
}

/** After an update, the cgroup v2 device filter is attached again from the container's rules,
 *  replacing the one attached (runc's fs2 Set does this on every update). */
export async function refreshDeviceFilter(o: Pick<UpdateOptions, 'root' | 'id' | 'layout' | 'confine'>): Promise<void> {
  const { record } = loadContainer(o.root, o.id);
  const layout = o.layout ?? hostLayout();
  const cgroupPaths = confined(o, record);
  const target = deviceFilterTarget(layout.mode, cgroupPaths);
  if (!target) return;
  const linux = (record.config as { linux?: { resources?: { devices?: never[] }; devices?: never[] } }).linux;
  await attachDeviceFilter(target.dir, deviceRules(linux?.resources?.devices, linux?.devices), target);
}

/** docker/go-units RAMInBytes, as runc update parses --memory and friends: `512m`, `1g`, `1.5GiB`
 *  (binary multiples), a plain byte count, or -1. */
export function ramInBytes(flag: string, s: string): bigint {
  if (s === '-1') return -1n;
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new RuntimeError('EINVAL', `invalid value for ${flag}: invalid size: '${s}'`);
  const mult = { '': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n }[(m[2] ?? '').toLowerCase() as '' | 'k'];
  const [whole, frac = ''] = m[1]!.split('.');
  // exact for integers; fractions scaled without floating point
  const scale = 10n ** BigInt(frac.length);
  return (BigInt(whole! + frac) * mult) / scale;
}

/** The integer flags of runc update: uint64 or int64 in decimal. */
export function intFlag(flag: string, s: string, signed: boolean): bigint {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(s)) throw new RuntimeError('EINVAL', `invalid value for ${flag}: ${JSON.stringify(s)}`);
  return BigInt(s);
}

export interface UpdateFlags {
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  cpuShare?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** runc update's individual flags as LinuxResources (only the flags given). */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  const r: LinuxResources = {};
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (f.memory !== undefined) mem.limit = ramInBytes('memory', f.memory);
  if (f.memorySwap !== undefined) mem.swap = ramInBytes('memory-swap', f.memorySwap);
  if (f.kernelMemory !== undefined) mem.kernel = ramInBytes('kernel-memory', f.kernelMemory);
  if (f.kernelMemoryTcp !== undefined) mem.kernelTCP = ramInBytes('kernel-memory-tcp', f.kernelMemoryTcp);
  if (f.memoryReservation !== undefined) mem.reservation = ramInBytes('memory-reservation', f.memoryReservation);
  if (Object.keys(mem).length > 0) r.memory = mem;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (f.cpuPeriod !== undefined) cpu.period = intFlag('cpu-period', f.cpuPeriod, false);
  if (f.cpuRtPeriod !== undefined) cpu.realtimePeriod = intFlag('cpu-rt-period', f.cpuRtPeriod, false);
  if (f.cpuShare !== undefined) cpu.shares = intFlag('cpu-share', f.cpuShare, false);
  if (f.cpuQuota !== undefined) cpu.quota = intFlag('cpu-quota', f.cpuQuota, true);
  if (f.cpuRtRuntime !== undefined) cpu.realtimeRuntime = intFlag('cpu-rt-runtime', f.cpuRtRuntime, true);
  if (f.cpusetCpus !== undefined) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems !== undefined) cpu.mems = f.cpusetMems;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (f.pidsLimit !== undefined) r.pids = { limit: intFlag('pids-limit', f.pidsLimit, true) };
  if (f.blkioWeight !== undefined) {
    const w = intFlag('blkio-weight', f.blkioWeight, false);
    if (w > 65535n) throw new RuntimeError('EINVAL', `invalid value for blkio-weight: ${w}`);
    r.blockIO = { weight: Number(w) };
  }
  return r;
}

export { RuntimeError };
