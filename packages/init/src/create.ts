// compileCreate: config.json -> the init program of a new container, in runc 1.1's order
// (nsexec.c, standard_init_linux.go, rootfs_linux.go, specconv).
import { accessSync, constants } from 'node:fs';
import { joinPath, resolvePath } from '@runts/core';
import { posix } from 'node:path';
import { CLONE, MS, NAMESPACES, NAMESPACE_ORDER, S_IFBLK, S_IFCHR, S_IFIFO, U64_MAX } from './constants.ts';
import { invalid } from './errors.ts';
import { hostFs, type CompileFs } from './fs.ts';
import { parseMountOptions, PROPAGATION } from './mountopts.ts';
import {
  checkConsole,
  checkHook,
  compileProcess,
  consoleStep,
  hookStep,
  oomScoreAdjSteps,
  validateProcess,
  type CompiledSeccomp,
} from './process.ts';
import { ExecFlags, MountFlags, Op, type SourcedStep, type Step } from './program.ts';
import type { InitIDMapping, InitLinux, InitMount, InitSpec } from './types.ts';
import { checkString, containerPath, i64, lookupHome, parentMount, parseMountinfo, resolveInRoot, u32, u64 } from './util.ts';

export interface CgroupLayout {
  /** pure cgroup v2 (unified) host */
  unified: boolean;
  /** v1 hierarchies (v1 or hybrid host): controllers as in /proc/self/cgroup ("cpu,cpuacct",
   *  "name=systemd") and the container's cgroup directory on the host in that hierarchy */
  v1: Array<{ controllers: string; hostDir: string }>;
  /** the container's directory in the cgroup2 hierarchy, if any */
  v2Dir?: string;
}

export interface CompileCreateOptions {
  id: string;
  /** absolute path of the bundle */
  bundle: string;
  /** parsed config.json */
  spec: InitSpec;
  /** create: exec.fifo path; omitted for run-without-fifo */
  fifoPath?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** run mode: stage 0 waits for the init and exits with its status (ExecFlags.Wait); with
   *  process.terminal and no consoleSocket it also relays the terminal (ExecFlags.ConsoleRelay) */
  wait?: boolean;
  cgroup: CgroupLayout;
  /** a rootless runtime (euid != 0): setgroups "deny", no additional gids. Default: geteuid() != 0. */
  rootless?: boolean;
  /** rootless: the runtime's own ids (default geteuid/getegid): a map of only these is written
   *  directly, any other goes through newuidmap/newgidmap */
  ids?: { uid: number; gid: number };
  /** rootless: where newuidmap and newgidmap are (default: looked up in $PATH, as runc) */
  mapTools?: { newuidmap?: string | undefined; newgidmap?: string | undefined };
  /** the seccomp filter compiled from linux.seccomp (required when linux.seccomp is set) */
  seccomp?: CompiledSeccomp;
  /** host file-system reads (tests inject a fake) */
  fs?: CompileFs;
  /** non-fatal problems (unknown capabilities, ignored apparmor profile, ...) */
  warn?: (message: string) => void;
}

type MountFields = Extract<Step, { op: typeof Op.Mount }>;
function mount(p: Partial<Omit<MountFields, 'op'>> & { target: string }): MountFields {
  return {
    op: Op.Mount,
    source: p.source ?? '',
    target: p.target,
    fstype: p.fstype ?? '',
    flags: p.flags ?? 0n,
    data: p.data ?? '',
    mflags: p.mflags ?? 0n,
    propagation: p.propagation ?? 0n,
    attrSet: p.attrSet ?? 0n,
    attrClr: p.attrClr ?? 0n,
    remountFlags: p.remountFlags ?? 0n,
  };
}

/** runc's defaultMountFlags for the cgroup v1 tmpfs and hierarchies. */
const DEFAULT_MOUNT_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

/** runc's mountPropagationMapping for linux.rootfsPropagation. */
const ROOTFS_PROPAGATION: Readonly<Record<string, bigint>> = { ...PROPAGATION, '': 0n };

/** /proc entries a mount may cover (lxcfs), runc's checkProcMount. */
const VALID_PROC_MOUNTS = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
];

/** runc's specconv.AllowedDevices that have a path, in runc's order. */
const DEFAULT_DEVICES: ReadonlyArray<{ path: string; major: bigint; minor: bigint }> = [
  { path: '/dev/null', major: 1n, minor: 3n },
  { path: '/dev/random', major: 1n, minor: 8n },
  { path: '/dev/full', major: 1n, minor: 7n },
  { path: '/dev/tty', major: 5n, minor: 0n },
  { path: '/dev/zero', major: 1n, minor: 5n },
  { path: '/dev/urandom', major: 1n, minor: 9n },
];

const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

interface NsEntry {
  type: string;
  path: string | undefined;
  index: number;
}

/** linux.namespaces: known types, no duplicates, absolute paths. */
export function parseNamespaces(linux: InitLinux | undefined): Map<string, NsEntry> {
  const m = new Map<string, NsEntry>();
  (linux?.namespaces ?? []).forEach((ns, i) => {
    const f = `linux.namespaces[${i}]`;
    if (ns === null || typeof ns !== 'object') throw invalid(f, 'must be an object');
    if (NAMESPACES[ns.type] === undefined) throw invalid(`${f}.type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    if (m.has(ns.type)) throw invalid(f, `duplicate namespace ${JSON.stringify(ns.type)}`);
    if (ns.path !== undefined && ns.path !== '') {
      checkString(ns.path, `${f}.path`);
      if (!ns.path.startsWith('/')) throw invalid(`${f}.path`, `must be an absolute path: ${JSON.stringify(ns.path)}`);
    }
    m.set(ns.type, { type: ns.type, path: ns.path || undefined, index: i });
  });
  return m;
}

function idMap(maps: readonly InitIDMapping[], field: string): string {
  return maps
    .map((m, i) => `${u32(m.containerID, `${field}[${i}].containerID`)} ${u32(m.hostID, `${field}[${i}].hostID`)} ${u32(m.size, `${field}[${i}].size`)}\n`)
    .join('');
}

function timeOffsets(linux: InitLinux, field: string): string {
  let s = '';
  for (const [clock, v] of Object.entries(linux.timeOffsets ?? {})) {
    if (clock !== 'monotonic' && clock !== 'boottime') throw invalid(`${field}.${clock}`, `unknown clock ${JSON.stringify(clock)}`);
    if (v === undefined) continue;
    const secs = i64(v.secs, `${field}.${clock}.secs`, 0n);
    const ns = u32(v.nanosecs, `${field}.${clock}.nanosecs`, 0n);
    if (ns >= 1_000_000_000n) throw invalid(`${field}.${clock}.nanosecs`, `${ns} is out of range`);
    s += `${clock} ${secs} ${ns}\n`;
  }
  return s;
}

/** runc's configs/validate sysctl rules: only namespaced sysctls, in a namespace the container owns. */
function checkSysctl(key: string, ns: Map<string, NsEntry>, field: string): void {
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (ns.has('ipc')) return;
    throw invalid(field, `sysctl ${JSON.stringify(key)} is not allowed in the hosts ipc namespace`);
  }
  if (key.startsWith('net.')) {
    if (ns.has('network')) return;
    throw invalid(field, `sysctl ${JSON.stringify(key)} is not allowed in the hosts network namespace`);
  }
  if (ns.has('uts')) {
    if (key === 'kernel.domainname') return;
    if (key === 'kernel.hostname') throw invalid(field, `sysctl ${JSON.stringify(key)} is not allowed as it conflicts with the OCI "hostname" field`);
  }
  throw invalid(field, `sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
}

function checkProcMount(dest: string, field: string, sourceIsProc: () => boolean): void {
  if (dest !== '/proc' && !dest.startsWith('/proc/')) return;
  if (dest === '/proc') {
    if (sourceIsProc()) return;
    throw invalid(field, `${JSON.stringify(dest)} cannot be mounted because it is not of type proc`);
  }
  if (VALID_PROC_MOUNTS.includes(dest)) return;
  throw invalid(field, `${JSON.stringify(dest)} cannot be mounted because it is inside /proc`);
}

function isUnder(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

export function compileCreate(o: CompileCreateOptions): SourcedStep[] {
  const fs = o.fs ?? hostFs;
  const warn = o.warn ?? (() => {});
  const spec = o.spec;
  if (spec === null || typeof spec !== 'object') throw invalid('config.json', 'must be an object');
  if (typeof o.bundle !== 'string' || !o.bundle.startsWith('/')) throw invalid('bundle', 'must be an absolute path');
  const linux: InitLinux = spec.linux ?? {};
  const proc = spec.process;
  validateProcess(proc);
  if (spec.root === undefined || typeof spec.root.path !== 'string' || spec.root.path === '') throw invalid('root.path', 'required');
  checkString(spec.root.path, 'root.path');
  const rootless = o.rootless ?? (typeof process.geteuid === 'function' && process.geteuid() !== 0);
  if (linux.seccomp !== undefined && linux.seccomp !== null && o.seccomp === undefined)
    throw invalid('linux.seccomp', 'no compiled seccomp filter was given to the init compiler');
  if (linux.netDevices !== undefined && linux.netDevices !== null && Object.keys(linux.netDevices).length > 0)
    throw invalid('linux.netDevices', 'moving network devices into the container is not supported');
  if (linux.memoryPolicy !== undefined && linux.memoryPolicy !== null) throw invalid('linux.memoryPolicy', 'not supported');
  // runc's words when the host has no RDT; runts has no resctrl support at all
  if ((linux as { intelRdt?: unknown }).intelRdt) throw invalid('linux.intelRdt', 'intelRdt is specified in config, but Intel RDT is not supported by runts');
  if ((proc as { execCPUAffinity?: unknown }).execCPUAffinity) warn('process.execCPUAffinity: not applied by runts yet (the process inherits the cpuset of its cgroup)');
  if (linux.mountLabel) throw invalid('linux.mountLabel', 'selinux label is specified in config, but selinux is not supported');
  if (proc.apparmorProfile) warn(`apparmor profile ${JSON.stringify(proc.apparmorProfile)} ignored: apparmor is not supported`);
  const relay = checkConsole(proc, o.consoleSocket, o.wait === true);

  const ns = parseNamespaces(linux);
  const userNs = ns.get('user');
  const newUser = userNs !== undefined && userNs.path === undefined;
  // without a mount namespace the container runs in the runtime's (config-linux.md: it inherits
  // it): its mounts land on the host, inside the rootfs, where runc puts them
  const ownMountNs = ns.has('mount');
  // runc's validator: masks and read-only paths need a mount namespace of the container's own
  if (!ownMountNs && ((linux.maskedPaths?.length ?? 0) > 0 || (linux.readonlyPaths?.length ?? 0) > 0))
    throw invalid((linux.maskedPaths?.length ?? 0) > 0 ? 'linux.maskedPaths' : 'linux.readonlyPaths', 'unable to restrict sys entries without a private MNT namespace');

  // ---- user namespace maps (runc's configs/validate usernamespace) ----
  const uidMappings = linux.uidMappings ?? [];
  const gidMappings = linux.gidMappings ?? [];
  if (userNs === undefined && (linux.uidMappings !== undefined || linux.gidMappings !== undefined))
    throw invalid('linux.uidMappings', 'user namespace mappings specified, but the config is not using user namespaces');
  if (newUser) {
    if (uidMappings.length === 0) throw invalid('linux.uidMappings', 'user namespaces enabled, but no uid mappings found');
    if (gidMappings.length === 0) throw invalid('linux.gidMappings', 'user namespaces enabled, but no gid mappings found');
  }
  // runc's requiresRootOrMappingTool: rootless, a map other than 0 -> own id (size 1) needs the
  // setuid helpers of Debian's uidmap package; setgroups then stays allowed (runc's SetgroupAttr)
  const ids = o.ids ?? { uid: typeof process.geteuid === 'function' ? process.geteuid() : 0, gid: typeof process.getegid === 'function' ? process.getegid() : 0 };
  const ownOnly = (m: InitIDMapping[], id: number) => m.length === 1 && Number(m[0]!.containerID) === 0 && Number(m[0]!.hostID) === id && Number(m[0]!.size) === 1;
  const uidTool = newUser && rootless && !ownOnly(uidMappings, ids.uid);
  const gidTool = newUser && rootless && !ownOnly(gidMappings, ids.gid);
  const tools = uidTool || gidTool ? (o.mapTools ?? { newuidmap: lookPath('newuidmap'), newgidmap: lookPath('newgidmap') }) : {};
  if (uidTool && !tools.newuidmap) throw invalid('linux.uidMappings', 'mapping more than the user\'s own uid needs newuidmap (Debian package uidmap), not found in $PATH');
  if (gidTool && !tools.newgidmap) throw invalid('linux.gidMappings', 'mapping more than the user\'s own gid needs newgidmap (Debian package uidmap), not found in $PATH');
  const setgroupsDenied = newUser && rootless && !gidTool;

  // ---- stage 0 ----
  const out: SourcedStep[] = [];
  const add = (step: Step, field: string, label?: string) => out.push(label === undefined ? { step, field } : { step, field, label });
  add({ op: Op.Config, flags: (o.wait ? ExecFlags.Wait : 0n) | (relay ? ExecFlags.ConsoleRelay : 0n) }, 'process');
  for (const t of NAMESPACE_ORDER) {
    const e = ns.get(t);
    if (e?.path !== undefined) add({ op: Op.NsJoin, nstype: NAMESPACES[t]!.flag, path: e.path }, `linux.namespaces[${e.index}]`, e.path);
  }
  let cloneFlags = 0n;
  for (const t of NAMESPACE_ORDER) {
    const e = ns.get(t);
    if (e !== undefined && e.path === undefined) cloneFlags |= NAMESPACES[t]!.flag;
  }
  // Like runc's nsexec: with a new user namespace only it (and the pid namespace, which only a
  // clone can enter) are made by the clone; the init makes the others once it is the namespace's
  // root, so they are owned by it. A new cgroup namespace is always made by the init after Go,
  // when the parent has put it in its cgroup: the namespace is rooted there.
  const lateFlags = (newUser ? cloneFlags & ~(CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWTIME) : 0n) | (cloneFlags & CLONE.NEWCGROUP);
  add({ op: Op.NsNew, flags: cloneFlags & ~lateFlags }, 'linux.namespaces');
  if (newUser) {
    add({ op: Op.UidMap, content: idMap(uidMappings, 'linux.uidMappings') }, 'linux.uidMappings');
    if (uidTool) add({ op: Op.UidMapTool, path: tools.newuidmap! }, 'linux.uidMappings', tools.newuidmap);
    if (setgroupsDenied) add({ op: Op.Setgroups, value: 'deny' }, 'linux.gidMappings');
    add({ op: Op.GidMap, content: idMap(gidMappings, 'linux.gidMappings') }, 'linux.gidMappings');
    if (gidTool) add({ op: Op.GidMapTool, path: tools.newgidmap! }, 'linux.gidMappings', tools.newgidmap);
  }
  if (linux.timeOffsets !== undefined && linux.timeOffsets !== null) {
    const t = ns.get('time');
    if (t === undefined || t.path !== undefined) throw invalid('linux.timeOffsets', 'time namespace offsets specified, but no new time namespace');
    const content = timeOffsets(linux, 'linux.timeOffsets');
    if (content !== '') add({ op: Op.TimeOffsets, content }, 'linux.timeOffsets');
  }
  if (o.fifoPath !== undefined) add({ op: Op.Fifo, path: o.fifoPath }, 'exec.fifo', o.fifoPath);
  if (proc.terminal && o.consoleSocket) add({ op: Op.ConsoleSocket, path: o.consoleSocket }, '--console-socket', o.consoleSocket);

  // ---- the init: before the rootfs ----
  out.push(...oomScoreAdjSteps(proc));
  // nsexec's setresuid(0)/setgid(0): mounts and mknod run as the root of the (new or joined) user
  // namespace, whose ids are mapped
  // (runc's stage 1 changes only the uid before it unshares the other namespaces: their files,
  // like mqueue's root, get the unmapped gid; the process's gid is set by the User step)
  if (userNs !== undefined) add({ op: Op.BecomeRoot, gid: U64_MAX }, `linux.namespaces[${userNs.index}]`, 'user');
  if (lateFlags !== 0n) add({ op: Op.Unshare, flags: lateFlags }, 'linux.namespaces');
  // runc's stage 2: setuid(0) and setgid(0) in the namespaces just made (files it creates on the
  // container's own file systems need a mapped gid)
  if (userNs !== undefined) add({ op: Op.BecomeRoot, gid: 0n }, `linux.namespaces[${userNs.index}]`, 'user');
  // runc's loopback strategy: a new network namespace gets its lo up (localhost works)
  const netNs = ns.get('network');
  if (netNs !== undefined && netNs.path === undefined) add({ op: Op.LoopbackUp }, `linux.namespaces[${netNs.index}]`, 'lo');
  add({ op: Op.Setsid }, 'process');
  if (!o.noNewKeyring) add({ op: Op.SessionKeyring, name: `_ses.${o.id}` }, 'process', 'session keyring');

  // ---- prepareRoot ----
  const rootPath = resolvePath(o.bundle, spec.root.path);
  let rootfs: string;
  try {
    rootfs = fs.realpath(rootPath);
  } catch {
    throw invalid('root.path', `${rootPath}: no such file or directory`);
  }
  const rp = linux.rootfsPropagation ?? '';
  const rootProp = ROOTFS_PROPAGATION[rp];
  if (rootProp === undefined) throw invalid('linux.rootfsPropagation', `rootfsPropagation=${rp} is not supported`);
  // "unbindable" is given to the root once every bind in it is made (the rootfs bind, the masks
  // and the console are binds, and a bind from an unbindable mount fails): until then rslave
  const unbindable = (rootProp & MS.UNBINDABLE) !== 0n;
  const preProp = rootProp === 0n || unbindable ? MS.SLAVE | MS.REC : rootProp;
  // without a mount namespace of its own nothing is changed on the runtime's "/" and the rootfs is
  // not bound onto itself (runc does both, on the host)
  if (ownMountNs) {
    add(mount({ target: '/', mflags: MountFlags.TargetHost | MountFlags.NoMount, propagation: preProp }), 'linux.rootfsPropagation', '/');
    // runc's rootfsParentMountPrivate: pivot_root fails under a shared parent, and the rootfs bind
    // must not propagate back to the host
    const slavedAll = (preProp & MS.REC) !== 0n && (preProp & MS.SHARED) === 0n;
    if (!slavedAll) {
      const parent = parentMount(parseMountinfo(fs.mountinfo()), rootfs);
      const shared = (preProp & MS.SHARED) !== 0n || parent?.optional.some((x) => x.startsWith('shared:'));
      if (parent && shared)
        add(mount({ target: parent.mountpoint, mflags: MountFlags.TargetHost | MountFlags.NoMount, propagation: MS.PRIVATE }), 'linux.rootfsPropagation', parent.mountpoint);
    }
    add(mount({ source: rootfs, target: rootfs, fstype: 'bind', flags: MS.BIND | MS.REC, mflags: MountFlags.TargetHost }), 'root.path', rootfs);
  }
  add({ op: Op.Rootfs, path: rootfs }, 'root.path', rootfs);

  // ---- mounts ----
  const usernsInvolved = userNs !== undefined || rootless;
  const cgroupns = ns.has('cgroup');
  const newCgroupns = cgroupns && ns.get('cgroup')!.path === undefined;
  const finalize: SourcedStep[] = [];
  const earlier: EarlierMount[] = [];
  let hostMounts: Set<string> | undefined;
  const hostMountpoints = () => (hostMounts ??= new Set(parseMountinfo(fs.mountinfo()).map((m) => m.mountpoint)));
  let devBind = false;
  // the procfs and sysfs mounts that masks and sysctls go through (by fd), while no later mount covers them
  let anchors: Array<{ dest: string; index: bigint }> = [];
  let nAnchors = 0n;
  // with a user namespace, host bind sources are cloned by stage 0 in the runtime's context
  // (OpenTree, before any setns), so what the runtime may open the container may mount
  const trees: SourcedStep[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const r = compileMount(m, i, {
      fs,
      rootfs,
      bundle: o.bundle,
      cgroup: o.cgroup,
      cgroupns,
      cgroupFallbackBind: usernsInvolved && !newCgroupns,
      earlier,
      hostMountpoints,
      // (a rootless runtime has no CAP_SYS_ADMIN on the host side for open_tree: sources are
      // opened from inside, as runc does)
      ...(userNs !== undefined && !rootless
        ? {
            openTree: (path: string, recursive: boolean) => {
              trees.push({ step: { op: Op.OpenTree, path, recursive: recursive ? 1n : 0n }, field, label: path });
              return trees.length - 1;
            },
          }
        : {}),
    });
    anchors = anchors.filter((a) => !isUnder(a.dest, r.dest));
    if (r.anchored) anchors.push({ dest: r.dest, index: nAnchors++ });
    for (const s of r.steps) out.push({ step: s, field, label: r.dest });
    for (const s of r.finalize) finalize.push({ step: s, field, label: r.dest });
    if (r.bind && r.dest === '/dev') devBind = true;
    earlier.push({ dest: r.dest, device: r.device, source: r.source });
  });

  // ---- /dev ----
  if (!devBind) out.push(...devSteps(linux, fs));

  // ---- createContainer hooks, in the container's mount namespace before pivot_root ----
  // runc runs them with the rootfs (its host path, still the path in this namespace) as the cwd
  if (spec.hooks?.createContainer?.length) add({ op: Op.Chdir, cwd: rootfs }, 'hooks.createContainer', rootfs);
  (spec.hooks?.createContainer ?? []).forEach((h, i) => out.push(hookStep(h, `hooks.createContainer[${i}]`)));
  for (const k of ['prestart', 'createRuntime', 'poststart', 'poststop', 'startContainer'] as const)
    (spec.hooks?.[k] ?? []).forEach((h, i) => checkHook(h, `hooks.${k}[${i}]`));

  // runc's msMoveRoot: with --no-pivot the runtime's full procfs and sysfs mounts stay in the
  // container's mount namespace, where the kernel's check for a new procfs (mount_too_revealing)
  // would find them: make them unreachable first
  const pivotMode = !ownMountNs ? 2n : o.noPivot ? 1n : 0n;
  if (pivotMode === 1n) {
    for (const m of parseMountinfo(fs.mountinfo())) {
      if (m.root !== '/' || (m.fstype !== 'proc' && m.fstype !== 'sysfs') || isUnder(m.mountpoint, rootfs)) continue;
      add({ op: Op.DetachMount, path: m.mountpoint }, '--no-pivot', m.mountpoint);
    }
  }
  add({ op: Op.PivotRoot, mode: pivotMode }, 'root.path', rootfs);
  // runc applies a non-private rootfsPropagation to the new "/" after pivot_root (the bind of the
  // rootfs was made under a private parent)
  if (ownMountNs && rootProp !== 0n && (rootProp & MS.PRIVATE) === 0n && !unbindable)
    add(mount({ target: '/', mflags: MountFlags.NoMount, propagation: rootProp }), 'linux.rootfsPropagation', '/');
  // runc creates the cwd after pivot_root
  add({ op: Op.Mkdir, path: proc.cwd!, mode: 0o755n }, 'process.cwd', proc.cwd);
  if (proc.terminal) out.push(consoleStep(proc, true));

  // ---- finalizeRootfs: read-only tmpfs and /dev, then the read-only root ----
  out.push(...finalize);
  if (spec.root.readonly) {
    add(mount({ target: '/', mflags: MountFlags.NoMount | MountFlags.KeepLocked, remountFlags: MS.BIND | MS.REMOUNT | MS.RDONLY }), 'root.readonly', '/');
  }

  // ---- hostname, sysctl, read-only and masked paths ----
  // a path under an anchored procfs or sysfs is reached through that mount's fd (the mount that was
  // made, wherever a rename in the rootfs has since moved it), not looked up again from "/"
  const anchorOf = (p: string): { index: bigint; rel: string } | undefined => {
    let best: { dest: string; index: bigint } | undefined;
    for (const a of anchors) if (isUnder(p, a.dest) && (best === undefined || a.dest.length > best.dest.length)) best = a;
    if (best === undefined) return undefined;
    return { index: best.index, rel: p === best.dest ? '.' : p.slice(best.dest === '/' ? 1 : best.dest.length + 1) };
  };
  if (spec.hostname !== undefined && spec.hostname !== '') {
    checkString(spec.hostname, 'hostname');
    if (!ns.has('uts')) throw invalid('hostname', 'unable to set hostname without a private UTS namespace');
    add({ op: Op.Hostname, name: spec.hostname }, 'hostname', spec.hostname);
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    checkString(spec.domainname, 'domainname');
    if (!ns.has('uts')) throw invalid('domainname', 'unable to set domainname without a private UTS namespace');
    add({ op: Op.Domainname, name: spec.domainname }, 'domainname', spec.domainname);
  }
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    const field = `linux.sysctl[${JSON.stringify(key)}]`;
    checkString(key, field);
    checkString(value, field);
    if (key === '') throw invalid(field, 'empty sysctl name');
    checkSysctl(key, ns, field);
    const path = '/proc/sys/' + key.replaceAll('.', '/');
    const a = anchorOf(path);
    add(a ? { op: Op.WriteProcAt, anchor: a.index, path: a.rel, content: value, wflags: 0n } : { op: Op.WriteProc, path, content: value, wflags: 0n }, field, key);
  }
  (linux.readonlyPaths ?? []).forEach((p, i) => {
    const f = `linux.readonlyPaths[${i}]`;
    checkString(p, f);
    const path = containerPath(p);
    const a = anchorOf(path);
    add(a ? { op: Op.ReadonlyAt, anchor: a.index, path: a.rel } : { op: Op.ReadonlyPath, path }, f, p);
  });
  (linux.maskedPaths ?? []).forEach((p, i) => {
    const f = `linux.maskedPaths[${i}]`;
    checkString(p, f);
    const path = containerPath(p);
    const a = anchorOf(path);
    add(a ? { op: Op.MaskAt, anchor: a.index, path: a.rel } : { op: Op.MaskPath, path }, f, p);
  });
  if (unbindable && ownMountNs) add(mount({ target: '/', mflags: MountFlags.NoMount, propagation: rootProp }), 'linux.rootfsPropagation', '/');

  // ---- the process ----
  const capLast = Number.parseInt(fs.readHostFile('/proc/sys/kernel/cap_last_cap') ?? '', 10);
  out.push(
    ...compileProcess({
      proc,
      linux,
      rootless,
      setgroupsDenied,
      ...(newUser ? { newUserns: { uidMappings, gidMappings } } : {}),
      seccomp: linux.seccomp ? o.seccomp : undefined,
      capLastCap: Number.isInteger(capLast) ? capLast : undefined,
      preserveFds: o.preserveFds ?? 0,
      home: (uid) => lookupHome(rootfs, uid, fs),
      rlimits: 'afterNoNewPrivs',
      startContainer: spec.hooks?.startContainer ?? [],
      warn,
    }),
  );
  out.splice(1, 0, ...trees);
  return out;
}

interface MountContext {
  fs: CompileFs;
  rootfs: string;
  bundle: string;
  cgroup: CgroupLayout;
  /** the container has a cgroup namespace (new or joined) */
  cgroupns: boolean;
  /** cgroup2 cannot be mounted (user namespace without its own cgroup namespace): bind it instead */
  cgroupFallbackBind: boolean;
  /** destinations of the mounts before this one */
  earlier: readonly EarlierMount[];
  /** mount points of the host (runtime) mount namespace */
  hostMountpoints: () => Set<string>;
  /** with a user namespace: clone a host bind source in the runtime's context (OpenTree); returns its index */
  openTree?: (path: string, recursive: boolean) => number;
}

interface EarlierMount {
  dest: string;
  device: string;
  /** host path of a bind source */
  source: string;
}

interface CompiledMount {
  dest: string;
  bind: boolean;
  device: string;
  source: string;
  steps: Step[];
  /** steps for finalizeRootfs (read-only remount of tmpfs and /dev), after pivot_root */
  finalize: Step[];
  /** the mount is kept as an anchor (MountFlags.Anchor: procfs, sysfs) */
  anchored?: boolean;
}

/** Where dest leads in the rootfs (symlinks followed inside it, as securejoin does), as a container path. */
function resolvedDest(c: MountContext, dest: string): string {
  try {
    const h = resolveInRoot(c.rootfs, dest, c.fs);
    if (c.rootfs === '/') return h;
    return h === c.rootfs ? '/' : h.startsWith(c.rootfs + '/') ? h.slice(c.rootfs.length) : dest;
  } catch {
    return dest;
  }
}

/** Whether a mount there needs the executor's check that its target is not on procfs. */
function notProcFlag(resolved: string): bigint {
  return VALID_PROC_MOUNTS.includes(resolved) || resolved === '/proc' ? 0n : MountFlags.NotProc;
}

/** One entry of config.json mounts, as runc's mountToRootfs. */
export function compileMount(m: InitMount, i: number, c: MountContext): CompiledMount {
  const field = `mounts[${i}]`;
  if (m === null || typeof m !== 'object') throw invalid(field, 'must be an object');
  checkString(m.destination, `${field}.destination`);
  if (m.destination === '') throw invalid(`${field}.destination`, 'must not be empty');
  const dest = containerPath(m.destination);
  if (m.uidMappings !== undefined || m.gidMappings !== undefined) throw invalid(`${field}.uidMappings`, 'idmapped mounts are not supported');
  const type = m.type === undefined ? '' : checkString(m.type, `${field}.type`);
  const source = m.source === undefined ? '' : checkString(m.source, `${field}.source`);
  const opts = parseMountOptions(m.options, field);
  let flags = opts.flags;
  // a "bind" type is a bind mount even without the option (crun, youki; mount(2) knows no "bind" fs)
  if (type === 'bind') flags |= MS.BIND;
  const bind = (flags & MS.BIND) !== 0n;
  const device = bind ? 'bind' : type;
  if (device === '' && (flags & MS.REMOUNT) === 0n) throw invalid(`${field}.type`, 'required for a mount that is not a bind mount');
  const data = opts.data.join(',');
  const attrs =
    opts.attrSet !== 0n || opts.attrClr !== 0n ? { attrSet: opts.attrSet, attrClr: opts.attrClr, attr: MountFlags.AttrRecursive } : { attrSet: 0n, attrClr: 0n, attr: 0n };
  const [prop0, ...moreProps] = opts.propagation;
  const extraProps = (target: string) => moreProps.map((p) => mount({ target, mflags: MountFlags.NoMount, propagation: p }));
  const steps: Step[] = [];
  const finalize: Step[] = [];
  const ro = (flags & MS.RDONLY) !== 0n;

  if (device === 'cgroup') {
    steps.push(...cgroupMount(dest, source, flags, data, prop0, c, field));
    return { dest, bind: false, device, source, steps, finalize };
  }

  // mountPropagate: tmpfs and /dev are mounted read-write and made read-only in finalizeRootfs
  const delayRo = device === 'tmpfs' || dest === '/dev';
  const mountFlags = delayRo ? flags & ~MS.RDONLY : flags;

  if (device === 'proc' || device === 'sysfs') {
    // runc: "If the destination already exists and is not a directory, we bail out" (the last
    // component is not followed: a rootfs must not steer where procfs or sysfs land)
    const st = c.fs.lstat(joinPath(c.rootfs, dest));
    if (st !== undefined && !st.isDirectory) throw invalid(`${field} (${dest})`, `filesystem ${JSON.stringify(device)} must be mounted on ordinary directory`);
  }

  if (bind) {
    const src = resolvePath(c.bundle, source);
    // runc checks what the destination resolves to in the rootfs (a link to /proc/sys/... included)
    const resolved = resolvedDest(c, dest);
    checkProcMount(resolved, field, () => c.fs.isProcfs(src));
    // the target is created as a file when the source is not a directory (missing sources are left
    // to fail at mount time: a hook may still create them)
    const st = c.fs.stat(src);
    const mk = st === undefined || st.isDirectory ? MountFlags.MkdirTarget : MountFlags.MkfileTarget;
    // a bind ignores every flag but MS_REC: runc remounts when others are asked for
    const needsRemount = (flags & ~(MS.BIND | MS.REC | MS.REMOUNT)) !== 0n;
    const tree = c.openTree !== undefined && st !== undefined ? c.openTree(src, (flags & MS.REC) !== 0n) : undefined;
    steps.push(
      mount({
        source: tree === undefined ? src : String(tree),
        target: dest,
        fstype: 'bind',
        flags: mountFlags,
        data,
        mflags: mk | attrs.attr | (needsRemount ? MountFlags.KeepLocked : 0n) | notProcFlag(resolved) | (tree === undefined ? 0n : MountFlags.SourceFd),
        propagation: prop0 ?? 0n,
        attrSet: attrs.attrSet,
        attrClr: attrs.attrClr,
        remountFlags: needsRemount ? flags | MS.BIND | MS.REMOUNT : 0n,
      }),
      ...extraProps(dest),
    );
  } else {
    const special = device === 'proc' || device === 'sysfs';
    // runc 1.1 checks neither tmpfs nor mqueue against /proc
    const checked = !special && device !== 'tmpfs' && device !== 'mqueue';
    const resolved = checked ? resolvedDest(c, dest) : dest;
    if (checked) checkProcMount(resolved, field, () => false);
    steps.push(
      mount({
        source,
        target: dest,
        fstype: device,
        flags: mountFlags,
        data,
        // runc 1.1 chmods a tmpfs on an existing directory to that directory's mode
        mflags:
          MountFlags.MkdirTarget |
          attrs.attr |
          (device === 'tmpfs' ? MountFlags.KeepMode : 0n) |
          (device === 'tmpfs' && opts.copyUp ? MountFlags.CopyUp : 0n) |
          (special ? MountFlags.Ordinary | MountFlags.Anchor : 0n) |
          (checked ? notProcFlag(resolved) : 0n),
        propagation: prop0 ?? 0n,
        attrSet: attrs.attrSet,
        attrClr: attrs.attrClr,
      }),
      ...extraProps(dest),
    );
  }
  if (delayRo && ro) finalize.push(mount({ target: dest, mflags: MountFlags.NoMount | MountFlags.KeepLocked, remountFlags: flags | MS.REMOUNT | MS.BIND | MS.RDONLY }));
  return { dest, bind, device, source: bind ? resolvePath(c.bundle, source) : source, steps, finalize, anchored: device === 'proc' || device === 'sysfs' };
}

/** runc 1.1 chmods the root of a tmpfs mounted on an existing directory to that directory's mode,
 *  whatever mode= asked for; a last mode= option has the same effect. The directory is looked up
 *  where the container will see it at that point: in the rootfs, or under an earlier mount. */
function cgroupMount(dest: string, source: string, flags: bigint, data: string, prop: bigint | undefined, c: MountContext, field: string): Step[] {
  const steps: Step[] = [];
  const ro = (flags & MS.RDONLY) !== 0n;
  if (c.cgroup.unified) {
    if (!c.cgroupFallbackBind) {
      steps.push(mount({ source: source || 'cgroup', target: dest, fstype: 'cgroup2', flags, data, mflags: MountFlags.MkdirTarget, propagation: prop ?? 0n }));
      return steps;
    }
    // runc's fallback when cgroup2 cannot be mounted (user namespace, no cgroup namespace of its own)
    const bindFlags = MS.BIND | flags;
    const needsRemount = (bindFlags & ~(MS.BIND | MS.REC | MS.REMOUNT)) !== 0n;
    steps.push(
      mount({
        source: c.cgroupns && c.cgroup.v2Dir ? c.cgroup.v2Dir : '/sys/fs/cgroup',
        target: dest,
        fstype: 'bind',
        flags: bindFlags,
        mflags: MountFlags.MkdirTarget | (needsRemount ? MountFlags.KeepLocked : 0n),
        propagation: prop ?? 0n,
        remountFlags: needsRemount ? bindFlags | MS.REMOUNT : 0n,
      }),
    );
    return steps;
  }
  // cgroup v1 (or hybrid): a tmpfs with one mount per hierarchy, and symlinks for co-mounted ones
  steps.push(
    mount({ source: 'tmpfs', target: dest, fstype: 'tmpfs', flags: DEFAULT_MOUNT_FLAGS, data: 'mode=755', mflags: MountFlags.MkdirTarget | MountFlags.KeepMode, propagation: prop ?? 0n }),
  );
  const merged: string[] = [];
  c.cgroup.v1.forEach((h) => {
    const sub = h.controllers.startsWith('name=') ? h.controllers.slice(5) : h.controllers;
    if (sub === '' || sub.includes('/') || sub === '.' || sub === '..') throw invalid(field, `bad cgroup hierarchy ${JSON.stringify(h.controllers)}`);
    if (sub.includes(',')) merged.push(sub);
    const target = `${dest === '/' ? '' : dest}/${sub}`;
    if (c.cgroupns) {
      steps.push(
        mount({
          source: h.controllers.startsWith('name=') ? sub : 'cgroup',
          target,
          fstype: 'cgroup',
          flags: DEFAULT_MOUNT_FLAGS | (ro ? MS.RDONLY : 0n),
          data: h.controllers,
          mflags: MountFlags.MkdirTarget,
        }),
      );
    } else {
      const bindFlags = MS.BIND | MS.REC | flags;
      const needsRemount = (bindFlags & ~(MS.BIND | MS.REC | MS.REMOUNT)) !== 0n;
      steps.push(
        mount({
          source: h.hostDir,
          target,
          fstype: 'bind',
          flags: bindFlags,
          mflags: MountFlags.MkdirTarget | (needsRemount ? MountFlags.KeepLocked : 0n),
          propagation: prop ?? 0n,
          remountFlags: needsRemount ? bindFlags | MS.REMOUNT : 0n,
        }),
      );
    }
  });
  for (const mc of merged) {
    for (const ss of mc.split(',')) steps.push({ op: Op.Symlink, target: mc, path: `${dest === '/' ? '' : dest}/${ss}` });
  }
  // runc 1.1 leaves the tmpfs itself read-write (the hierarchies are read-only with "ro")
  return steps;
}

/** runc's createDevices, setupPtmx and setupDevSymlinks (when /dev is not a bind mount). */
function devSteps(linux: InitLinux, fs: CompileFs): SourcedStep[] {
  const out: SourcedStep[] = [];
  const dirs = new Set<string>();
  const specDevices = linux.devices ?? [];
  const mknod = (path: string, mode: bigint, major: bigint, minor: bigint, uid: bigint, gid: bigint, hostPath: string, field: string) => {
    if (path === '/dev/ptmx') return; // set up by the ptmx symlink below, as runc does
    const dir = posix.dirname(path);
    if (!dirs.has(dir)) {
      dirs.add(dir);
      out.push({ step: { op: Op.Mkdir, path: dir, mode: 0o755n }, field, label: dir });
    }
    out.push({ step: { op: Op.Mknod, path, mode, major, minor, uid, gid, hostPath }, field, label: path });
  };
  for (const d of DEFAULT_DEVICES) {
    if (specDevices.some((s) => s?.path === d.path)) continue; // a device of the spec replaces the default
    mknod(d.path, S_IFCHR | 0o666n, d.major, d.minor, 0n, 0n, d.path, 'linux.devices');
  }
  specDevices.forEach((d, i) => {
    const f = `linux.devices[${i}]`;
    if (d === null || typeof d !== 'object') throw invalid(f, 'must be an object');
    checkString(d.path, `${f}.path`);
    if (d.path === '') throw invalid(`${f}.path`, 'must not be empty');
    let type: bigint;
    switch (d.type) {
      case 'c':
      case 'u':
        type = S_IFCHR;
        break;
      case 'b':
        type = S_IFBLK;
        break;
      case 'p':
        type = S_IFIFO;
        break;
      default:
        throw invalid(`${f}.type`, `invalid device type ${JSON.stringify(d.type)}`);
    }
    const fifo = d.type === 'p';
    const major = fifo ? u32(d.major, `${f}.major`, 0n) : u32(d.major, `${f}.major`);
    const minor = fifo ? u32(d.minor, `${f}.minor`, 0n) : u32(d.minor, `${f}.minor`);
    const perm = u32(d.fileMode, `${f}.fileMode`, 0o666n) & ~0o170000n;
    const path = containerPath(d.path);
    mknod(path, type | perm, major, minor, u32(d.uid, `${f}.uid`, 0n), u32(d.gid, `${f}.gid`, 0n), path, f);
  });
  const link = (target: string, path: string) => out.push({ step: { op: Op.Symlink, target, path }, field: 'linux.devices', label: path });
  link('pts/ptmx', '/dev/ptmx');
  link('/proc/self/fd', '/dev/fd');
  link('/proc/self/fd/0', '/dev/stdin');
  link('/proc/self/fd/1', '/dev/stdout');
  link('/proc/self/fd/2', '/dev/stderr');
  // kcore can be compiled out (CONFIG_PROC_KCORE): runc only links it when the host has it
  if (fs.stat('/proc/kcore') !== undefined) link('/proc/kcore', '/dev/core');
  return out;
}

/** exec.LookPath: the first executable `name` in $PATH. */
function lookPath(name: string): string | undefined {
  for (const d of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (d === '') continue;
    const p = joinPath(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
