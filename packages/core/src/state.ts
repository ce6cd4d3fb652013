// state.json: written atomically (temp file, rename), read defensively, and the status
// derived when asked, never stored (crun's libcrun_get_container_state_string).
import { openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync, mkdirSync, readdirSync, existsSync, unlinkSync, rmSync, rmdirSync, fstatSync, lstatSync, constants as fsConstants } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from './errors.ts';
import { containerPaths, joinPath, isValidId, ensureRoot, openStateDir, stateDirExists, closeFd, LOCK_FILE, STATE_FILE, type ContainerPaths } from './paths.ts';
import { stringifyLossless, parseJsonLossless } from './json.ts';
import { realSys, type Sys } from './sys.ts';
import { isContainerInit, type Identity, type NsIds } from './identity.ts';
import { acquireLock, type Lock } from './lock.ts';
import { debug } from './log.ts';
import { rfc3339Utc } from './time.ts';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What runts keeps about a container. The OCI state (oci-state's output) is derived from it. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** host pid of the container's init */
  pid: number;
  /** /proc/<pid>/stat field 22 of the init, so a reused pid is never taken for the container */
  startTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, like runc */
  created: string;
  annotations?: Record<string, string>;
  owner: string;
  /** cgroup directories of the container (one per v1 hierarchy, and the v2 one), for kill --all,
   *  pause, stats and delete */
  cgroupPaths: Record<string, string>;
  /** the config.json the container was created from (hooks for start/delete, process for exec) */
  config: Record<string, unknown>;
  /** whether the container has its own pid namespace (kill on delete must then only hit the init) */
  ownPidNs?: boolean;
  /** the init's namespaces that differ from the runtime's, read once the init was ready: a pid is
   *  the container's only if it is in them (see identity.ts) */
  nsIds?: NsIds;
  /** the cgroup dirs create made (deepest last): delete removes these and no other */
  createdCgroups?: string[];
  /** the runtime's root dir, so hooks and tools can find it again */
  root?: string;
  /** the systemd cgroup driver's unit (created with --systemd-cgroup); absent: cgroupfs */
  systemd?: { unit: string; user: boolean };
}

/** The OCI state, exactly as runc prints it. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

/** Writes a file atomically: temp file in the same dir, then rename, so readers see the old file
 *  or the new one, never a part. With `durable` the data is fsynced before the rename, so that a
 *  crash never leaves an empty or half-written file behind the name (state.json, as the design
 *  asks; on the usual tmpfs /run the fsync costs nothing, on a disk-backed /run a few ms). The
 *  transient creating.json is written without it. */
export function writeFileAtomic(path: string, data: string, mode = 0o600, durable = true): void {
  const tmp = joinPath(dirname(path), `.${Date.now()}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw err;
  }
}

export function writeRecord(paths: ContainerPaths, rec: ContainerRecord): void {
  writeFileAtomic(paths.state, stringifyLossless(rec));
}

/** Reads state.json. A missing container dir is `container does not exist`; a truncated or
 *  garbage file is an error naming the file. */
export function readRecord(paths: ContainerPaths): ContainerRecord {
  let text: string;
  const dirFd = openStateDir(paths); // refuses a symlinked <root>/<id>
  try {
    const fd = openSync(`/proc/self/fd/${dirFd}/${STATE_FILE}`, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw new RuntimeError('EINVAL', `${paths.state}: invalid state file: not a regular file`);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RuntimeError('ENOTEXIST', 'container does not exist');
    if (code === 'ELOOP') throw new RuntimeError('EINVAL', `${paths.state}: invalid state file: a symlink`);
    throw err;
  } finally {
    closeFd(dirFd);
  }
  let rec: unknown;
  try {
    rec = parseJsonLossless(text, paths.state); // the stored config keeps its uint64 values exact
  } catch (err) {
    throw new RuntimeError('EINVAL', `${paths.state}: invalid state file: ${(err as Error).message}`);
  }
  const r = rec as Partial<ContainerRecord>;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.pid !== 'number' || typeof r.bundle !== 'string' || typeof r.created !== 'string') {
    throw new RuntimeError('EINVAL', `${paths.state}: invalid state file: missing id, pid, bundle or created`);
  }
  r.cgroupPaths ??= {};
  r.config ??= {};
  r.startTime ??= '';
  r.owner ??= '';
  r.rootfs ??= '';
  r.ociVersion ??= '1.3.0';
  return r as ContainerRecord;
}

/** Is the init (pid with the recorded start time, in the recorded namespaces) still there and not a
 *  zombie? A record without a start time names no process of ours. */
export function initAlive(rec: Identity, sys: Sys = realSys): boolean {
  return isContainerInit(rec, sys);
}

/** Is the container's cgroup frozen (v2 cgroup.freeze, or the v1 freezer)? */
export function isFrozen(rec: Pick<ContainerRecord, 'cgroupPaths'>, sys: Sys = realSys): boolean {
  const v2 = rec.cgroupPaths['unified'];
  if (v2 && sys.readFile(joinPath(v2, 'cgroup.freeze'))?.trim() === '1') return true;
  const v1 = rec.cgroupPaths['freezer'];
  const s = v1 ? sys.readFile(joinPath(v1, 'freezer.state'))?.trim() : undefined;
  return s === 'FROZEN' || s === 'FREEZING';
}

export function deriveStatus(rec: ContainerRecord, paths: ContainerPaths, sys: Sys = realSys): Status {
  if (!initAlive(rec, sys)) return 'stopped';
  if (sys.exists(paths.fifo)) return 'created';
  if (isFrozen(rec, sys)) return 'paused';
  return 'running';
}

export function ociState(rec: ContainerRecord, status: Status): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length > 0) {
    // runc prints annotations before owner
    return { ociVersion: s.ociVersion, id: s.id, pid: s.pid, status: s.status, bundle: s.bundle, rootfs: s.rootfs, created: s.created, annotations: rec.annotations, owner: s.owner };
  }
  return s;
}

/** The state a hook gets on stdin (runtime.md: ociVersion, id, status, pid, bundle, annotations). */
export function hookState(rec: ContainerRecord, status: Status): Record<string, unknown> {
  // runc omits the pid (Go's omitempty) once the container has stopped
  const s: Record<string, unknown> = status === 'stopped' ? { ociVersion: rec.ociVersion, id: rec.id, status, bundle: rec.bundle } : { ociVersion: rec.ociVersion, id: rec.id, status, pid: rec.pid, bundle: rec.bundle };
  if (rec.annotations && Object.keys(rec.annotations).length > 0) s.annotations = rec.annotations;
  return s;
}

export interface Loaded {
  paths: ContainerPaths;
  record: ContainerRecord;
  status: Status;
}

/** Loads a container by id: validates the id, reads state.json, derives the status. */
export function loadContainer(root: string, id: string, sys: Sys = realSys): Loaded {
  const paths = containerPaths(root, id);
  const record = readRecord(paths);
  const status = deriveStatus(record, paths, sys);
  debug(`container ${id}: ${status}, pid ${record.pid}, state ${paths.state}`);
  return { paths, record, status };
}

function isRealDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Ids of every container dir under root that has a state.json, sorted. */
export function listIds(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  // like runc's list, only real directories: a symlink in root is not a container
  return names.filter((n) => isValidId(n) && isRealDir(joinPath(root, n)) && existsSync(joinPath(root, n, STATE_FILE))).sort();
}

/** Reserves an id: the container dir appears atomically (rename of a fresh dir) with the lock
 *  already in it, held by this process. A second create of the same id fails with runc's message
 *  and disturbs nothing. A dir left by a create that was killed (no state.json, its lock's owner
 *  gone) is handed to `recover` to be undone, then the id is reserved again. */
export function reserveId(root: string, id: string, recover?: (paths: ContainerPaths) => void): { paths: ContainerPaths; lock: Lock } {
  const paths = containerPaths(root, id);
  ensureRoot(root);
  sweepReservations(root, id);
  for (let attempt = 0; ; attempt++) {
    const tmp = joinPath(root, `.${id}.${process.pid}.${Date.now()}.new`);
    mkdirSync(tmp, { mode: 0o700 });
    const lock = acquireLock(joinPath(tmp, LOCK_FILE), `create ${id}`);
    try {
      renameSync(tmp, paths.dir);
      return { paths, lock: { release: () => releaseAt(paths.lock) } };
    } catch (err) {
      lock.release();
      rmSync(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR') throw err;
    }
    stateDirExists(paths); // a symlink or a file at <root>/<id>: refused, naming it
    if (attempt > 0 || !recover || existsSync(paths.state)) throw new RuntimeError('EEXIST', 'container with given ID already exists');
    let old: Lock;
    try {
      old = acquireLock(paths.lock, `create ${id}`, 0);
    } catch {
      throw new RuntimeError('EEXIST', 'container with given ID already exists'); // a create in progress
    }
    try {
      if (existsSync(paths.state)) throw new RuntimeError('EEXIST', 'container with given ID already exists');
      recover(paths);
    } finally {
      old.release();
    }
  }
}

/** Removes the fresh dirs (`.<id>.<pid>.<ms>.new`) that a create of `id` killed between their
 *  mkdir and their rename left in the root: those whose creating process is gone. */
export function sweepReservations(root: string, id: string): void {
  const prefix = `.${id}.`;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.\d+\.new$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || pidExists(Number(m[1]))) continue;
    rmSync(joinPath(root, name), { recursive: true, force: true });
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseAt(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* the dir may be gone (rollback) */
  }
}

export interface CreatingRecord {
  pid: number;
  startTime: string;
  cgroupPaths: Record<string, string>;
  /** cgroup dirs this create made (removed on rollback, deepest first) */
  createdCgroups: string[];
  /** the systemd scope started for it (--systemd-cgroup) */
  systemd?: { unit: string; user: boolean };
}

/** What this process last wrote to each creating.json (create records its progress 4 times; the
 *  same record again is not rewritten while the file is there: the id's lock is ours). */
const creatingWritten = new Map<string, string>();

export function writeCreating(paths: ContainerPaths, rec: CreatingRecord): void {
  const data = JSON.stringify(rec);
  if (creatingWritten.get(paths.creating) === data && existsSync(paths.creating)) return;
  writeFileAtomic(paths.creating, data, 0o600, false);
  creatingWritten.set(paths.creating, data);
}

export function readCreating(paths: ContainerPaths): CreatingRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(paths.creating, 'utf8')) as Partial<CreatingRecord>;
    return { pid: Number(r.pid) || 0, startTime: String(r.startTime ?? ''), cgroupPaths: r.cgroupPaths ?? {}, createdCgroups: r.createdCgroups ?? [], ...(r.systemd ? { systemd: r.systemd } : {}) };
  } catch {
    return undefined;
  }
}

/** RFC 3339 with nanoseconds: the time and its milliseconds from Date.now(), the sub-millisecond part from hrtime. */
export function nowRfc3339Nano(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  const ms = Date.now();
  return rfc3339Utc(ms, `.${String(ms % 1000).padStart(3, '0')}${String(ns).padStart(6, '0')}`);
}

/** Removes a container's state dir: its files, then the dir (rmSync's recursive walk costs more,
 *  and on Node 20 loads its JS rimraf); anything else in it (a dir) goes through rmSync. */
export function removeStateDir(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const n of names) {
    try {
      unlinkSync(joinPath(dir, n));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'EISDIR' || code === 'EPERM') rmSync(joinPath(dir, n), { recursive: true, force: true });
      else throw err;
    }
  }
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTEMPTY') rmSync(dir, { recursive: true, force: true });
    else throw err;
  }
}
