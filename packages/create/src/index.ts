// oci-create: reserves the id, validates the bundle, makes the cgroups, compiles config.json into
// the init program, and has the native executor clone the container's init, which then waits on
// exec.fifo for oci-start. A failed create leaves nothing: no state dir, no cgroup, no process.
import { writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import {
  joinPath,
  reserveId,
  validateId,
  checkPreservedFds,
  writeRecord,
  procStat,
  hookState,
  nowRfc3339Nano,
  writeCreating,
  containerNsIds,
  RuntimeError,
  toRuntimeError,
  warn,
  signalNumbers,
  type ContainerRecord,
  type ContainerPaths,
} from '@runts/core';
import { hostLayout, cgroupDriver, cloneIntoCgroup, hierarchyKey, ownCgroupDirs, hasPidsLimit, deviceRules, deviceFilterStep, deviceFilterTarget, attachDeviceFilter, warnNonEmptyCgroup, refuseFrozenCgroup, undoInterruptedCreate, discardCreate, killInCreatedCgroups, missingCgroupDirs, refuseHierarchyRoots, type CgroupSpec, type SystemdRecord } from '@runts/cgroups';
import { loadBundle } from '@runts/spec';
import { compileCreate, runHooks, killRunningHooks } from '@runts/init';
import { compileSeccomp, compileSeccompCached, seccompCache } from '@runts/seccomp';
import { InitProcess, sendSeccompListener } from '@runts/nsenter';
import { checkNamespacePaths } from './namespaces.ts';

export interface CreateOptions {
  root: string;
  id: string;
  /** bundle dir (default: the current directory) */
  bundle?: string | undefined;
  pidFile?: string | undefined;
  consoleSocket?: string | undefined;
  preserveFds?: number | undefined;
  noPivot?: boolean | undefined;
  noNewKeyring?: boolean | undefined;
  /** the systemd cgroup driver (runc's --systemd-cgroup) */
  systemdCgroup?: boolean | undefined;
}

export interface Launched {
  record: ContainerRecord;
  paths: ContainerPaths;
  init: InitProcess;
}

/** Writes the pid file as runc does: the decimal pid, no newline, in place atomically. */
export function writePidFile(path: string, pid: number): void {
  const tmp = joinPath(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

/** The shared half of create and run: everything up to the init waiting on exec.fifo.
 *  `wait`: the executor stays as the init's parent and exits with its status (run). */
export async function launch(o: CreateOptions, mode: { wait: boolean; stdio?: Array<'inherit' | 'pipe' | 'ignore' | number> }): Promise<Launched> {
  validateId(o.id);
  checkPreservedFds(o.preserveFds ?? 0);
  const { bundle, spec, rootfs } = loadBundle(o.bundle ?? process.cwd(), { forStart: true });
  checkNamespacePaths((spec.linux as { namespaces?: unknown } | undefined)?.namespaces);
  const { paths, lock } = reserveId(o.root, o.id, undoInterruptedCreate);
  let createdCgroups: string[] = [];
  let cgroupPaths: Record<string, string> = {};
  let init: InitProcess | undefined;
  let pid = 0;
  let startTime = '';
  let systemd: SystemdRecord | undefined;
  const driver = cgroupDriver({ systemd: o.systemdCgroup === true });
  // Roll back: the process, the cgroups, the state dir. Also when we are told to stop. (A systemd
  // scope goes away by itself once its processes are killed; the catch below stops it at once.)
  const rollback = () => {
    killRunningHooks();
    init?.kill();
    try {
      // no pid: the init may still be in the cgroups this create made (its clone had happened)
      if (pid === 0) killInCreatedCgroups(cgroupPaths, createdCgroups);
      discardCreate(paths, { pid, startTime, cgroupPaths, createdCgroups });
    } catch {
      /* best effort (the container dir is gone anyway); the error that made us roll back is the one that matters */
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    rollback();
    process.exit(128 + (signalNumbers()[sig] ?? 0));
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  try {
    const layout = hostLayout();
    const linux = (spec.linux ?? {}) as { cgroupsPath?: string; namespaces?: Array<{ type: string; path?: string }> };
    const cg: CgroupSpec = { ...(spec.linux as CgroupSpec | undefined), ...(spec.annotations ? { annotations: spec.annotations as Record<string, string> } : {}) };
    // In Wait mode (run) the executor forwards signals: keep it out of the terminal's process group,
    // unless it relays the terminal itself (process.terminal without a console socket).
    const relay = mode.wait && !o.consoleSocket && (spec.process as { terminal?: boolean } | undefined)?.terminal === true;
    // seccomp notify: the init passes its listener up once the filter is loaded; it goes to the agent
    // with the container process state (config-linux.md), as runc sends it
    let notifyState: Record<string, unknown> | undefined;
    // the executor starts first and waits for its program; meanwhile the cgroups are made and the
    // program compiled
    init = InitProcess.spawn({
      preserveFds: o.preserveFds ?? 0,
      detached: mode.wait && !relay,
      ...(mode.stdio ? { stdio: mode.stdio } : {}),
    });
    const resolved = await driver.resolve(layout, cg, o.id);
    cgroupPaths = resolved.paths;
    refuseHierarchyRoots(cgroupPaths, linux.cgroupsPath, layout);
    warnNonEmptyCgroup(cgroupPaths, warn);
    // recorded before they are made: a create killed while making them is undone too
    createdCgroups = missingCgroupDirs(cgroupPaths);
    writeCreating(paths, { pid: 0, startTime: '', cgroupPaths, createdCgroups });
    // cgroupfs: the executor joins the v1 cgroups before it clones the init (which inherits them), as
    // runc's bootstrap process does: stage 0 moves itself (CgroupJoin, @runts/cgroups' earlyJoin),
    // which waits for no RCU grace period. In Wait mode (run) the executor stays as the init's
    // parent, so it goes back to our own cgroups after the clone; where those cannot be placed (a
    // cgroup namespace), the init joins after the clone instead.
    const leaveTo = mode.wait ? ownCgroupDirs(layout, Object.keys(cgroupPaths)) : undefined;
    const early = driver.joinEarly !== undefined && (!mode.wait || leaveTo !== undefined);
    createdCgroups = driver.prepare(layout, resolved, cg, { deferPids: early });
    writeCreating(paths, { pid: 0, startTime: '', cgroupPaths, createdCgroups });
    refuseFrozenCgroup(cgroupPaths);
    const executorPid = init.executorPid;
    // cgroup v2: the init is cloned straight into its cgroup (stage 0's CgroupClone: clone3 with
    // CLONE_INTO_CGROUP, as crun does), so the executor joins only the v1 hierarchies, if any; on a
    // pure v2 host nothing migrates at all. In Wait mode it needs a cgroup to go back to should
    // clone3 be refused.
    // Not when stage 0 joins an existing cgroup or user namespace first: the kernel checks the move
    // against the namespace it is in by then (ENOENT outside its cgroup namespace's root), and the
    // runtime moving the executor from the host's, as before, is what works there.
    const joinsNs = (linux.namespaces ?? []).some((n) => (n.type === 'cgroup' || n.type === 'user') && n.path !== undefined);
    const into = early && !joinsNs && executorPid !== undefined && (!mode.wait || leaveTo?.['unified'] !== undefined) ? cloneIntoCgroup(resolved.paths, leaveTo?.['unified']) : undefined;
    const joinPaths = into ? into.join : resolved.paths;
    const join = early && executorPid !== undefined && Object.keys(joinPaths).length > 0 ? driver.joinEarly!(joinPaths, leaveTo, executorPid) : undefined;
    const joined = join !== undefined || into !== undefined;
    join?.joining?.catch(() => {}); // awaited below; a compile error first must not leave it unhandled
    // the cgroup v2 device filter: attached by stage 0 before the init exists (cgroupfs), or once
    // the systemd scope (and so the cgroup) exists, after the driver's apply
    const deviceRuleList = deviceRules(cg.resources?.devices, cg.devices);
    const filterTarget = deviceFilterTarget(layout.mode, cgroupPaths);
    const deviceFilter = filterTarget && driver.name === 'cgroupfs' ? { step: deviceFilterStep(filterTarget.dir, deviceRuleList, filterTarget), field: 'linux.resources.devices' } : undefined;
    const v1 = layout.v1.filter((h) => cgroupPaths[hierarchyKey(h)]).map((h) => ({ controllers: hierarchyKey(h), hostDir: cgroupPaths[hierarchyKey(h)]! }));
    // a profile compiled before (the same one: Podman's, Docker's, Kubernetes') comes from the cache
    const seccomp = spec.linux?.seccomp ? compileSeccompCached(spec.linux.seccomp, seccompCache(o.root), (s) => compileSeccomp(s)) : undefined;
    const steps = compileCreate({
      id: o.id,
      bundle,
      spec: spec as never,
      fifoPath: paths.fifo,
      consoleSocket: o.consoleSocket,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      preserveFds: o.preserveFds,
      wait: mode.wait,
      seccomp,
      cgroup: { unified: layout.mode === 'v2', v1, ...(cgroupPaths['unified'] ? { v2Dir: cgroupPaths['unified'] } : {}) },
    });
    // Stage 0 attaches the eBPF device filter before the init exists (right after Config).
    if (deviceFilter) steps.splice(1, 0, deviceFilter);
    if (into) steps.splice(1, 0, into.step);
    if (join) steps.splice(1, 0, ...join.steps);
    if (seccomp?.listener) {
      const l = seccomp.listener;
      init.setSeccompListener((fd: number, initPid: number) => {
        const state = { ociVersion: '1.0.2-dev', fds: ['seccompFd'], pid: initPid, ...(l.metadata ? { metadata: l.metadata } : {}), state: notifyState ?? { ociVersion: spec.ociVersion, id: o.id, status: 'creating', pid: initPid, bundle } };
        sendSeccompListener({ pid: initPid, fd, listenerPath: l.path, state: JSON.stringify(state) });
      });
    }
    if (join?.joining) await join.joining;
    init.sendProgram(steps);
    pid = await init.pid();
    startTime = procStat(pid)?.startTime ?? '';
    writeCreating(paths, { pid, startTime, cgroupPaths, createdCgroups });
    if (joined) {
      // the executor leaves the container's cgroups (run: it waits for the init from ours; stage 0
      // did so right after the clone unless this process moved it) or exits (create); before the
      // deferred pids limit, which counts it while it is there
      if (join?.leave) await join.leave();
      else if (!leaveTo && hasPidsLimit(cg.resources)) await init.exit();
    }
    const applied = await driver.apply(layout, resolved, cg, o.id, pid, { joined });
    if (filterTarget && !deviceFilter) await attachDeviceFilter(filterTarget.dir, deviceRuleList, filterTarget);
    systemd = applied.systemd;
    createdCgroups = [...createdCgroups, ...applied.created];
    writeCreating(paths, { pid, startTime, cgroupPaths, createdCgroups, ...(systemd ? { systemd } : {}) });
    const record: ContainerRecord = {
      ociVersion: typeof spec.ociVersion === 'string' ? spec.ociVersion : '1.3.0',
      id: o.id,
      pid,
      startTime,
      bundle,
      rootfs,
      created: nowRfc3339Nano(),
      ...(spec.annotations ? { annotations: spec.annotations as Record<string, string> } : {}),
      owner: '',
      cgroupPaths,
      createdCgroups,
      config: spec as unknown as Record<string, unknown>,
      ownPidNs: !(linux.namespaces ?? []).some((n) => n.type === 'pid' && n.path) && (linux.namespaces ?? []).some((n) => n.type === 'pid'),
      root: o.root,
      ...(systemd ? { systemd } : {}),
    };
    // runtime.md's order (and runc's): prestart, then createRuntime, in the runtime namespace.
    const hooks = (spec.hooks ?? {}) as { createRuntime?: unknown[]; prestart?: unknown[] };
    const creating = hookState(record, 'creating');
    notifyState = creating;
    if (hooks.prestart?.length) await runHooks(hooks.prestart as never, 'hooks.prestart', creating, { cwd: bundle });
    if (hooks.createRuntime?.length) await runHooks(hooks.createRuntime as never, 'hooks.createRuntime', creating, { cwd: bundle });
    // createContainer hooks see "creating"; startContainer hooks (after the fifo) see "created".
    init.go(`${JSON.stringify(creating)}\0${JSON.stringify(hookState(record, 'created'))}`);
    await init.ready();
    // the init is in its final namespaces now: they identify its processes (kill --all, delete)
    record.nsIds = containerNsIds(pid);
    writeRecord(paths, record);
    // (unlink, not rmSync: Node 20's rmSync loads its rimraf module, 0.6 ms, for one file)
    try {
      unlinkSync(paths.creating);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (o.pidFile) writePidFile(o.pidFile, pid);
    lock.release();
    return { record, paths, init };
  } catch (err) {
    rollback();
    if (systemd) await driver.destroy({}, systemd).catch(() => {});
    throw toRuntimeError(err);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    driver.close();
  }
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function create(o: CreateOptions): Promise<{ pid: number }> {
  const { record, init } = await launch(o, { wait: false });
  init.close();
  return { pid: record.pid };
}

export { RuntimeError };
