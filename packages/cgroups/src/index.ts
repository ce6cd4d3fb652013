// cgroup v1 and v2 through cgroupfs: where the hierarchies are, the container's directories in
// them, and the operations the verbs need (create, join, freeze, list pids, kill, remove).
// Everything takes the host's mountinfo and /proc/self/cgroup as text and a base dir, so the
// logic is tested against fixtures for pure v2, hybrid and v1 hosts without root.
import { readFileSync, writeFileSync, mkdirSync, rmdirSync, existsSync, readdirSync, rmSync, openSync, closeSync, write, constants as fsConstants } from 'node:fs';
import { posix, isAbsolute } from 'node:path';
import { resolveCgroups } from './paths.ts';
import { RuntimeError, sleepMs, readCreating, isAlive, signalPid, waitGone, isFrozen, debug, type CreatingRecord, joinPath, relativePath } from '@runts/core';
import { Op, type SourcedStep } from '@runts/nsenter';

export interface Hierarchy {
  /** where it is mounted on the host */
  mountpoint: string;
  /** the root of the hierarchy visible at the mountpoint (mountinfo field 4) */
  root: string;
  /** v1 controllers, e.g. ["cpu", "cpuacct"] or ["name=systemd"]; empty for cgroup2 */
  controllers: string[];
}

export interface CgroupLayout {
  /** v2: only cgroup2 (unified); hybrid: v1 controllers and a cgroup2 mount; v1: no cgroup2 */
  mode: 'v1' | 'v2' | 'hybrid';
  v1: Hierarchy[];
  v2?: Hierarchy;
  /** the caller's own cgroup per hierarchy key (from /proc/self/cgroup), for relative paths */
  self: Record<string, string>;
}

/** Key of a hierarchy in paths maps: "unified" for cgroup2, else its controllers ("cpu,cpuacct"). */
export const hierarchyKey = (h: Hierarchy): string => (h.controllers.length === 0 ? 'unified' : h.controllers.join(','));

/** Parses /proc/self/mountinfo and /proc/self/cgroup. */
export function parseLayout(mountinfo: string, selfCgroup: string): CgroupLayout {
  const v1: Hierarchy[] = [];
  let v2: Hierarchy | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    // only cgroup and cgroup2 lines are taken apart (a host with many containers has thousands of
    // other mounts)
    if (sep < 0 || !line.startsWith('cgroup', sep + 3)) continue;
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const pre = line.slice(0, sep).split(' ');
    const root = unescapeMount(pre[3] ?? '/');
    const mountpoint = unescapeMount(pre[4] ?? '');
    if (fstype === 'cgroup2') {
      v2 ??= { mountpoint, root, controllers: [] };
    } else if (fstype === 'cgroup') {
      const opts = (post[2] ?? '').split(',');
      const controllers = opts.filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent=') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr' && o !== 'cpuset_v2_mode');
      if (controllers.length > 0 && !v1.some((h) => hierarchyKey(h) === controllers.join(','))) v1.push({ mountpoint, root, controllers });
    }
  }
  const self = parseProcCgroup(selfCgroup);
  const mode = v1.length === 0 ? 'v2' : v2 ? 'hybrid' : 'v1';
  return { mode, v1, ...(v2 ? { v2 } : {}), self };
}

/** /proc/<pid>/cgroup as a map of hierarchy key ("unified" for cgroup2) to path. */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out[m[1] === '0' && m[2] === '' ? 'unified' : m[2]!] = m[3]!;
  }
  return out;
}

function unescapeMount(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

let cached: CgroupLayout | undefined;
export function hostLayout(): CgroupLayout {
  cached ??= parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  return cached;
}

/** The container's cgroup directory in every hierarchy for the cgroupfs driver, as runc puts it
 *  (see paths.ts: resolveCgroups, which also serves the systemd driver and rootless). */
export function containerCgroupPaths(layout: CgroupLayout, cgroupsPath: string | undefined, id: string): Record<string, string> {
  return resolveCgroups(layout, cgroupsPath, id, { driver: 'cgroupfs', rootless: false }).paths;
}

/** Creates the container's cgroup directories (mkdir -p). In the v1 cpuset hierarchy a new cgroup
 *  starts with empty cpus/mems: they are copied from the nearest parent that has them, as runc does.
 *  Returns the directories it created (for rollback). */
export function createCgroups(paths: Record<string, string>): string[] {
  const created: string[] = [];
  for (const [key, dir] of Object.entries(paths)) {
    const made = mkdirSync(dir, { recursive: true, mode: 0o755 });
    debug(`cgroup ${key}: ${dir}${made ? ' (created)' : ' (exists)'}`);
    if (made) {
      // record every level created, deepest last
      let d = dir;
      const levels: string[] = [];
      while (d.length >= made.length) {
        levels.unshift(d);
        d = posix.dirname(d);
      }
      created.push(...levels);
    }
    if (key.split(',').includes('cpuset')) initCpuset(dir);
  }
  return created;
}

function initCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const chain: string[] = [];
    let d = dir;
    while (existsSync(joinPath(d, f))) {
      const v = readFileSync(joinPath(d, f), 'utf8').trim();
      if (v !== '') break;
      chain.unshift(d);
      d = posix.dirname(d);
    }
    if (chain.length === 0) continue;
    const value = readFileSync(joinPath(d, f), 'utf8').trim();
    for (const c of chain) writeFileSync(joinPath(c, f), value);
  }
}

/** Moves a process into every one of the container's cgroups. */
export function joinCgroups(paths: Record<string, string>, pid: number): void {
  for (const [key, dir] of Object.entries(paths)) {
    debug(`cgroup ${key}: pid ${pid} -> ${joinPath(dir, 'cgroup.procs')}`);
    try {
      writeFileSync(joinPath(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      throw new RuntimeError('ESYS', `cgroup ${key}: write ${joinPath(dir, 'cgroup.procs')}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** joinCgroups, the first write on a libuv thread. The first migration of a burst waits for an
 *  RCU grace period (cgroup_threadgroup_rwsem's writer side: 5-25 ms on this VM, the same for
 *  runc); the ones right after it do not, and are written here at once (a thread hop each would
 *  cost more than the write). */
export function joinCgroupsAsync(paths: Record<string, string>, pid: number): Promise<void> {
  const entries = Object.entries(paths);
  if (entries.length === 0) return Promise.resolve();
  const [key, dir] = entries[0]!;
  const file = joinPath(dir, 'cgroup.procs');
  debug(`cgroup ${key}: pid ${pid} -> ${file}`);
  return new Promise((resolve, reject) => {
    writeOnThread(file, String(pid), (err) => {
      if (err) return reject(new RuntimeError('ESYS', `cgroup ${key}: write ${file}: ${err.message}`, { cause: err }));
      try {
        joinCgroups(Object.fromEntries(entries.slice(1)), pid);
        resolve();
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** How the executor joins `paths` before it clones the init or forks an exec'd process, which
 *  inherit them (cgroupfs; runc's bootstrap process joins the same way). */
export interface EarlyJoin {
  /** CgroupJoin steps, one per v1 hierarchy, to put after Config */
  steps: SourcedStep[];
  /** the join this process does instead (a cgroup2 dir in `paths`), to await before the program */
  joining?: Promise<void>;
  /** Wait mode, with `joining`: moves the executor back to `home` once the init's pid is known */
  leave?: () => Promise<void>;
}

/** The v1 hierarchies (all of `paths` on this hybrid host once cgroup2 is cloned into) are joined
 *  by stage 0 itself, CgroupJoin: "0" to each dir's tasks file moves its one thread, which the
 *  kernel does without its migration lock, so nothing waits for an RCU grace period (5-25 ms here,
 *  where the executor's pid written to cgroup.procs waited for one, as runc's does); with `home`
 *  (Wait mode) it goes back right after the clone. A cgroup2 dir in `paths` (one the executor is
 *  not cloned into: an existing cgroup or user namespace joined first, see cloneIntoCgroup) has no
 *  such shortcut: there this process writes the executor's pid, on a libuv thread while the
 *  program is compiled, and `leave` moves it back, as before. */
export function earlyJoin(paths: Record<string, string>, home: Record<string, string> | undefined, executorPid: number): EarlyJoin {
  const back = home ? Object.fromEntries(Object.entries(home).filter(([k]) => k in paths)) : undefined;
  if ('unified' in paths) {
    return {
      steps: [],
      joining: joinCgroupsAsync(paths, executorPid),
      ...(back && Object.keys(back).length > 0 ? { leave: () => joinCgroupsAsync(back, executorPid) } : {}),
    };
  }
  return {
    steps: Object.entries(paths).map(([key, dir]) => {
      debug(`cgroup ${key}: the executor joins ${dir}${back?.[key] ? `, back to ${back[key]} after the clone` : ''}`);
      return { step: { op: Op.CgroupJoin, dir, home: back?.[key] ?? '' }, field: 'linux.cgroupsPath' };
    }),
  };
}

/** The cgroup2 part of a join that the executor's clone does instead (clone3 CLONE_INTO_CGROUP:
 *  stage 0's CgroupClone, as crun does): the hierarchies the executor still joins itself (v1, on a
 *  hybrid host) and the step to put right after Config; undefined without a cgroup2 dir. `home`:
 *  the executor's own cgroup2 dir, to go back to should clone3 be refused (Wait mode). */
export function cloneIntoCgroup(paths: Record<string, string>, home: string | undefined): { join: Record<string, string>; step: SourcedStep } | undefined {
  const { unified: dir, ...join } = paths;
  if (dir === undefined) return undefined;
  return { join, step: { step: { op: Op.CgroupClone, dir, home: home ?? '' }, field: 'linux.cgroupsPath' } };
}

/** Starts, on a libuv thread, the RCU grace period the verb's first cgroup migration would wait
 *  for, by "moving" this process to the cgroup it is in (the kernel takes the migration lock,
 *  cgroup_threadgroup_rwsem, whose writer side waits for a grace period when it was idle, then
 *  finds nothing to move). The real migration soon after finds the lock's fast path already
 *  passed, or waits for the same grace period, and pays what is left of it rather than all of it.
 *  Only for a migration this process will make (exec: a paused container, one whose cgroups the
 *  executor cannot leave): the kernel holds cgroup_mutex through that wait, so every mkdir, rmdir,
 *  clone into a cgroup and CgroupJoin waits behind it. Only where this process may write its own
 *  cgroup.procs; any error is ignored: nothing changes either way. */
export function warmCgroupMigration(layout: CgroupLayout): void {
  if (process.geteuid?.() !== 0) return; // a user's own cgroup.procs is not theirs to write
  const first = layout.v2 ? 'unified' : layout.v1[0] ? hierarchyKey(layout.v1[0]) : undefined;
  const own = first ? ownCgroupDirs(layout, [first]) : undefined;
  if (!own) return;
  const file = joinPath(own[first!]!, 'cgroup.procs');
  debug(`cgroup: warm-up, pid ${process.pid} -> ${file} (its own cgroup)`);
  writeOnThread(file, String(process.pid), () => {});
}

/** Opens `file` here and writes `text` to it in one libuv thread request (fs.writeFile would be
 *  three, each waiting for this thread's event loop to hand on the next), then closes it. */
function writeOnThread(file: string, text: string, done: (err: NodeJS.ErrnoException | null) => void): void {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_WRONLY);
  } catch (err) {
    done(err as NodeJS.ErrnoException);
    return;
  }
  write(fd, text, (err) => {
    closeSync(fd);
    done(err);
  });
}

/** This process's own cgroup dirs (host paths) for the hierarchies in `keys`, from the layout's
 *  /proc/self/cgroup; undefined when one cannot be placed (a cgroup namespace hides it). */
export function ownCgroupDirs(layout: CgroupLayout, keys: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const h = key === 'unified' ? layout.v2 : layout.v1.find((x) => hierarchyKey(x) === key);
    const self = layout.self[key];
    if (!h || self === undefined) return undefined;
    const rel = relativePath(h.root, self);
    if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
    out[key] = joinPath(h.mountpoint, rel);
  }
  return out;
}

/** Pids in the container's cgroup (v2 if present, else the first v1 hierarchy that has them). */
export function cgroupPids(paths: Record<string, string>): number[] {
  const order = ['unified', 'pids', 'freezer', 'memory', ...Object.keys(paths)];
  for (const key of order) {
    const dir = paths[key];
    if (!dir) continue;
    try {
      const text = readFileSync(joinPath(dir, 'cgroup.procs'), 'utf8');
      const pids = text.split('\n').filter((l) => l !== '').map(Number);
      const sub = collectChildren(dir);
      return [...new Set([...pids, ...sub])];
    } catch {
      continue;
    }
  }
  return [];
}

function collectChildren(dir: string): number[] {
  const out: number[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = joinPath(dir, e.name);
    try {
      out.push(...readFileSync(joinPath(sub, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number));
    } catch {
      /* gone */
    }
    out.push(...collectChildren(sub));
  }
  return out;
}

/** Signals every process in the cgroup (v2 cgroup.kill for SIGKILL when available). */
export function signalAll(paths: Record<string, string>, signal: NodeJS.Signals | number): void {
  const v2 = paths['unified'];
  if ((signal === 'SIGKILL' || signal === 9) && v2 && existsSync(joinPath(v2, 'cgroup.kill'))) {
    try {
      writeFileSync(joinPath(v2, 'cgroup.kill'), '1');
      return;
    } catch {
      /* fall back to signalling one by one */
    }
  }
  const frozen = isFrozenPaths(paths);
  for (const pid of cgroupPids(paths)) {
    debug(`cgroup: signal ${String(signal)} -> pid ${pid}`);
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
  // A frozen process cannot act on a signal other than SIGKILL until thawed; runc thaws for SIGKILL.
  if (frozen && (signal === 'SIGKILL' || signal === 9)) setFrozen(paths, false);
}

export function isFrozenPaths(paths: Record<string, string>): boolean {
  return isFrozen({ cgroupPaths: paths });
}

/** Freezes or thaws the container: the v1 freezer where there is one (what runc uses on v1 and
 *  hybrid hosts), else cgroup.freeze; waits until the state is reached. */
export function setFrozen(paths: Record<string, string>, frozen: boolean): void {
  const v1 = paths['freezer'];
  const v2 = paths['unified'];
  debug(`cgroup: ${frozen ? 'freeze' : 'thaw'} ${v1 ?? v2 ?? '(no freezer)'}`);
  if (v1 && existsSync(joinPath(v1, 'freezer.state'))) {
    const want = frozen ? 'FROZEN' : 'THAWED';
    for (let i = 0; i < 1000; i++) {
      writeFileSync(joinPath(v1, 'freezer.state'), want);
      if (readFileSync(joinPath(v1, 'freezer.state'), 'utf8').trim() === want) return;
      sleepMs(1);
    }
    throw new RuntimeError('ESYS', `freezer ${v1}: did not become ${want}`);
  }
  if (v2 && existsSync(joinPath(v2, 'cgroup.freeze'))) {
    writeFileSync(joinPath(v2, 'cgroup.freeze'), frozen ? '1' : '0');
    for (let i = 0; i < 1000; i++) {
      const ev = readFileSync(joinPath(v2, 'cgroup.events'), 'utf8');
      if (ev.includes(`frozen ${frozen ? 1 : 0}`)) return;
      sleepMs(1);
    }
    throw new RuntimeError('ESYS', `cgroup ${v2}: did not become ${frozen ? 'frozen' : 'thawed'}`);
  }
  throw new RuntimeError('ESYS', 'no freezer: neither a v1 freezer nor cgroup.freeze is available for the container');
}

/** Removes the container's cgroup directories (children first), retrying briefly while the
 *  last processes exit. Missing directories are fine. */
export function removeCgroups(paths: Record<string, string>, created?: string[]): void {
  if (!created) {
    for (const dir of Object.values(paths)) {
      debug(`cgroup: remove ${dir}`);
      removeTree(dir);
    }
    return;
  }
  // The container's own dirs go with whatever the container made inside them; a parent that create
  // made (mkdir -p) is shared with the other containers under it: only removed when empty.
  const own = new Set(Object.values(paths));
  for (const dir of [...created].reverse()) {
    debug(`cgroup: remove ${dir}`);
    if (own.has(dir)) removeTree(dir);
    else removeIfEmpty(dir);
  }
}

/** removeCgroups' fast path, for a container whose processes are known to be gone: one rmdir of
 *  each dir (deepest first), which only an empty cgroup allows. True when every one of the
 *  container's own dirs is gone; false at the first that is not (in use, or with sub-cgroups): the
 *  caller then looks at what is in it. */
export function removeEmptyCgroups(paths: Record<string, string>, created: string[]): boolean {
  const own = new Set(Object.values(paths));
  const gone = new Set<string>(); // (no access(2) after each rmdir that said so)
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
      gone.add(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        gone.add(dir);
        continue;
      }
      if (own.has(dir)) return false;
      if (code === 'EBUSY' || code === 'ENOTEMPTY') continue; // a parent another container uses
      return false;
    }
  }
  return [...own].every((d) => gone.has(d) || !existsSync(d));
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EBUSY' || code === 'ENOTEMPTY') return; // another container's, still in use
    throw new RuntimeError('ESYS', `remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

function removeTree(dir: string): void {
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(joinPath(dir, e.name));
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && i < 200) {
        sleepMs(5);
        continue;
      }
      throw new RuntimeError('ESYS', `remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
}
export * from './devices.ts';
export * from './resources.ts';
export * from './stats.ts';
export * from './precheck.ts';
export * from './paths.ts';
export * from './driver.ts';
export * from './confine.ts';
export * from './release.ts';
import { confineCreated } from './confine.ts';

/** Discards an unfinished create: kills its init, removes the cgroup dirs it made (deepest first;
 *  dirs that existed before it stay) and the container dir, which goes even when a cgroup cannot. */
export function discardCreate(paths: import('@runts/core').ContainerPaths, c: CreatingRecord): void {
  // a pid without its start time names no process of ours (it may have been reused)
  if (c.pid > 0 && c.startTime !== '' && isAlive(c.pid, c.startTime)) {
    signalPid(c.pid, 9);
    waitGone(c.pid, c.startTime, 5000);
  }
  try {
    // only dirs below a hierarchy root on the container's own paths (creating.json is data too)
    removeCgroups(c.cgroupPaths, confineCreated(c.cgroupPaths, c.createdCgroups));
  } finally {
    rmSync(paths.dir, { recursive: true, force: true });
  }
}

/** For a create rolling back before it learned its init's pid (stage 0 failed, or its report was
 *  lost, after the clone): SIGKILLs what is in the container's own cgroup dirs that this create
 *  made (`created`), which can only be what it started, so that removeCgroups can take them. A
 *  dir that was there before (shared) is not looked into. */
export function killInCreatedCgroups(paths: Record<string, string>, created: readonly string[]): void {
  const made = new Set(created);
  for (const [key, dir] of Object.entries(paths)) {
    if (!made.has(dir)) continue;
    for (const pid of cgroupPids({ [key]: dir })) if (pid > 0 && pid !== process.pid) signalPid(pid, 9);
  }
}

/** Undoes what a create that never finished left (it was killed), from its creating.json. Used by
 *  the next create of the id and by delete --force. */
export function undoInterruptedCreate(paths: import('@runts/core').ContainerPaths): void {
  const c = readCreating(paths);
  if (c) discardCreate(paths, c);
  else rmSync(paths.dir, { recursive: true, force: true });
}
