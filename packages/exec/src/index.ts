// oci-exec: runs a new process in a running container. The native executor joins every namespace
// of the container's init, the process joins its cgroup, and the executor execs it: no Node
// process ever runs inside the container.
import { readFileSync } from 'node:fs';
import { loadContainer, RuntimeError, toRuntimeError, signalPid, waitGone, hookState, signalNumbers, checkPreservedFds } from '@runts/core';
import { cloneIntoCgroup, confineToInit, earlyJoin, joinCgroups, ownCgroupDirs, hostLayout, warmCgroupMigration } from '@runts/cgroups';
import { parseConfig, type LinuxSeccomp } from '@runts/spec';
import { compileExec } from '@runts/init';
import { compileSeccomp, compileSeccompCached, seccompCache } from '@runts/seccomp';
import { InitProcess, sendSeccompListener } from '@runts/nsenter';
import { writePidFile } from '@runts/create';

export interface ExecProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: { bounding?: string[]; effective?: string[]; permitted?: string[]; inheritable?: string[]; ambient?: string[] };
  rlimits?: Array<{ type: string; soft: number | bigint; hard: number | bigint }>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  oomScoreAdj?: number;
  [k: string]: unknown;
}

export interface ExecOptions {
  root: string;
  id: string;
  /** command and arguments (ignored with processFile) */
  args?: string[];
  /** a process.json (the OCI process object) */
  processFile?: string | undefined;
  cwd?: string | undefined;
  env?: string[];
  tty?: boolean;
  user?: string | undefined;
  additionalGids?: string[];
  caps?: string[];
  noNewPrivs?: boolean | undefined;
  apparmor?: string | undefined;
  processLabel?: string | undefined;
  detach?: boolean;
  pidFile?: string | undefined;
  consoleSocket?: string | undefined;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** a sub-cgroup (v2) or controller:path pairs; runc's --cgroup */
  cgroup?: string[];
}

/** runc's wording: `parsing bob as int for uid failed: strconv.Atoi: parsing "bob": invalid syntax`. */
function parseId(what: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new RuntimeError('EINVAL', `parsing ${v} as int for ${what} failed: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** The process to run: process.json as given, or the container's own process with runc's
 *  command-line overrides. */
export function buildProcess(base: ExecProcess | undefined, o: ExecOptions): ExecProcess {
  if (o.processFile) {
    let text: string;
    try {
      text = readFileSync(o.processFile, 'utf8');
    } catch (err) {
      throw toRuntimeError(err);
    }
    const p = parseConfig(text, o.processFile) as ExecProcess;
    if (!p || typeof p !== 'object' || !Array.isArray(p.args) || p.args.length === 0) throw new RuntimeError('EINVAL', `${o.processFile}: args: must not be empty`);
    if (typeof p.cwd !== 'string' || p.cwd === '') throw new RuntimeError('EINVAL', `${o.processFile}: cwd: required`);
    if (!p.cwd.startsWith('/')) throw new RuntimeError('EINVAL', `${o.processFile}: cwd: must be an absolute path`);
    // runc decodes into a Go struct: a missing user (or uid, gid) is 0
    p.user = { ...(p.user ?? {}), uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0 };
    return p;
  }
  if (!o.args || o.args.length === 0) throw new RuntimeError('EINVAL', 'exec: missing command (give CMD [ARGS...] or -p process.json)');
  const p: ExecProcess = structuredClone(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' });
  p.args = o.args;
  p.terminal = o.tty === true;
  if (o.env?.length) p.env = [...(p.env ?? []), ...o.env];
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) {
    const [u, g] = o.user.split(':');
    p.user = { ...p.user, uid: parseId('uid', u ?? ''), gid: g === undefined ? p.user.gid : parseId('gid', g) };
  }
  if (o.additionalGids?.length) p.user = { ...p.user, additionalGids: o.additionalGids.map((g) => parseId('additional gid', g)) };
  if (o.caps?.length) {
    const c = { ...(p.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) c[set] = [...new Set([...(c[set] ?? []), ...o.caps])];
    p.capabilities = c;
  }
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs; // runc: when --no-new-privs[=bool] is given
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}

export async function exec(o: ExecOptions): Promise<number> {
  const { record, status } = loadContainer(o.root, o.id);
  if (status === 'stopped') throw new RuntimeError('ENOTRUNNING', 'cannot exec in a stopped container');
  if (status === 'paused' && !o.ignorePaused) throw new RuntimeError('EBADSTATE', 'cannot exec in a paused container (use --ignore-paused to override)');
  const spec = record.config as { process?: ExecProcess };
  const proc = buildProcess(spec.process, o);
  if (proc.terminal && !o.consoleSocket && o.detach) throw new RuntimeError('EINVAL', 'cannot allocate tty if runts will detach without setting console socket');
  checkPreservedFds(o.preserveFds ?? 0);
  // (state.json is read losslessly: the profile's uint64 values are exact)
  // only the cgroups the init is in (state.json is data, and may have been edited)
  const cgroups = subCgroups(confineToInit(o.id, record.cgroupPaths, undefined, record.pid, 'not executed'), o.cgroup);
  // As create does: the executor starts first and joins the container's cgroups (earlyJoin: stage 0
  // moves itself, which waits for no RCU grace period) while the program is compiled; the process
  // it forks inherits them, and a waiting executor goes back to our own cgroups once it has forked.
  // Not into a paused container (a frozen executor could not fork), nor where our own cgroups
  // cannot be placed: there the process joins after the fork.
  const leaveTo = o.detach ? {} : ownCgroupDirs(hostLayout(), Object.keys(cgroups));
  const early = status !== 'paused' && leaveTo !== undefined && Object.keys(cgroups).length > 0;
  const init = InitProcess.spawn({
    preserveFds: o.preserveFds ?? 0,
    detached: !o.detach && !(proc.terminal === true && !o.consoleSocket),
  });
  const executorPid = init.executorPid;
  // cgroup v2: forked straight into the cgroup (stage 0's CgroupClone, clone3 CLONE_INTO_CGROUP),
  // so the executor joins only the v1 hierarchies, if any
  // Not into a container with a cgroup or user namespace of its own: the executor joins those
  // before it forks, and the kernel then checks the move against them (ENOENT outside the cgroup
  // namespace's root; the user namespace's view of the host's cgroup.procs); there the runtime
  // moves the executor from the host's namespaces, as before.
  const ownNs = ((record.config as { linux?: { namespaces?: Array<{ type?: string }> } }).linux?.namespaces ?? []).some((n) => n.type === 'cgroup' || n.type === 'user');
  const into = early && !ownNs && executorPid !== undefined && (o.detach || leaveTo?.['unified'] !== undefined) ? cloneIntoCgroup(cgroups, leaveTo?.['unified']) : undefined;
  const joinPaths = into ? into.join : cgroups;
  const join = early && executorPid !== undefined && Object.keys(joinPaths).length > 0 ? earlyJoin(joinPaths, leaveTo, executorPid) : undefined;
  join?.joining?.catch(() => {}); // awaited below
  // neither: the process joins after the fork (a paused container, no cgroups of ours to go back
  // to); this process's migration waits for an RCU grace period, which starts now, under the compile
  const joinsAfterFork = !join && !into;
  if (joinsAfterFork && Object.keys(cgroups).length > 0) warmCgroupMigration(hostLayout());
  const seccompConfig = (record.config as { linux?: { seccomp?: LinuxSeccomp } }).linux?.seccomp;
  let steps: ReturnType<typeof compileExec>;
  let seccomp: ReturnType<typeof compileSeccomp> | undefined;
  try {
    seccomp = seccompConfig ? compileSeccompCached(seccompConfig, seccompCache(o.root), (s) => compileSeccomp(s)) : undefined;
    steps = compileExec({
      pid: record.pid,
      process: proc as never,
      containerSpec: record.config as never,
      seccomp,
      consoleSocket: o.consoleSocket,
      preserveFds: o.preserveFds ?? 0,
      wait: !o.detach,
    });
    if (into) steps.splice(1, 0, into.step);
    if (join) steps.splice(1, 0, ...join.steps);
  } catch (err) {
    init.kill();
    throw toRuntimeError(err);
  }
  // seccomp notify: the exec'd process's listener goes to the agent too (runc's setns process)
  const listener = seccomp?.listener;
  if (listener) {
    init.setSeccompListener((fd: number, execPid: number) => {
      const state = { ...hookState(record, status === 'paused' ? 'paused' : 'running') };
      const msg = { ociVersion: '1.0.2-dev', fds: ['seccompFd'], pid: execPid, ...(listener.metadata ? { metadata: listener.metadata } : {}), state };
      sendSeccompListener({ pid: execPid, fd, listenerPath: listener.path, state: JSON.stringify(msg) });
    });
  }
  let pid = 0;
  try {
    if (join?.joining) await join.joining;
    init.sendProgram(steps);
    pid = await init.pid();
    if (joinsAfterFork) joinCgroups(cgroups, pid);
    else if (join?.leave) await join.leave();
    init.go(JSON.stringify({ ociVersion: record.ociVersion, id: record.id, status, pid: record.pid, bundle: record.bundle }));
    await init.ready();
  } catch (err) {
    init.kill();
    if (pid > 0) {
      signalPid(pid, 9);
      waitGone(pid, undefined, 5000);
    }
    throw toRuntimeError(err);
  }
  if (o.pidFile) writePidFile(o.pidFile, pid);
  if (o.detach) {
    init.close();
    return 0;
  }
  const forward = (s: NodeJS.Signals) => () => void signalPid(pid, signalNumbers()[s]!);
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  // with a relayed terminal (-t without --console-socket) the executor resizes the pty on SIGWINCH
  const relay = proc.terminal === true && !o.consoleSocket;
  const handlers = sigs.filter((s) => !(relay && s === 'SIGWINCH')).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const { code, signal } = await init.exit();
    return code ?? 128 + (signal ? (signalNumbers()[signal] ?? 0) : 0);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

/** runc's --cgroup: `path` (a sub-cgroup in every hierarchy, given alone) or
 *  `ctrl[,ctrl...]:path`. A controller list is split and each controller finds its hierarchy, so
 *  `cpu,memory:x` works whether they are mounted together or apart; "" is the cgroup v2 hierarchy.
 *  A controller the container has no hierarchy for is refused, naming it. */
export function subCgroups(paths: Record<string, string>, specs: string[] | undefined): Record<string, string> {
  if (!specs || specs.length === 0) return paths;
  const out = { ...paths };
  for (const s of specs) {
    const parts = s.split(':');
    if (parts.length > 2) throw new RuntimeError('EINVAL', `--cgroup ${JSON.stringify(s)}: invalid --cgroup argument`);
    if (parts.length === 1 && specs.length !== 1) throw new RuntimeError('EINVAL', `--cgroup ${JSON.stringify(s)}: invalid --cgroup argument (missing <controller>: prefix)`);
    const sub = parts.length === 1 ? parts[0]! : parts[1]!;
    if (sub.split('/').includes('..')) throw new RuntimeError('EINVAL', `--cgroup ${JSON.stringify(s)}: must not contain ..`);
    if (parts.length === 1) {
      for (const key of Object.keys(out)) out[key] = `${paths[key]}/${sub}`;
      continue;
    }
    for (const ctrl of parts[0]!.split(',')) {
      const key = Object.keys(paths).find((k) => (ctrl === '' ? k === 'unified' : k.split(',').includes(ctrl)));
      if (key === undefined) throw new RuntimeError('EINVAL', `--cgroup ${JSON.stringify(s)}: unknown controller ${JSON.stringify(ctrl)} (the container's cgroups are ${Object.keys(paths).map((k) => (k === 'unified' ? '""' : k)).join(', ')})`);
      out[key] = `${paths[key]}/${sub}`;
    }
  }
  return out;
}
