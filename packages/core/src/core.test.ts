import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync, symlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isValidId,
  validateId,
  containerPaths,
  reserveId,
  writeRecord,
  readRecord,
  deriveStatus,
  ociState,
  listIds,
  parseProcStat,
  stringifyLossless,
  acquireLock,
  formatLine,
  writeFileAtomic,
  writeCreating,
  readCreating,
  RuntimeError,
  isContainerInit,
  belongsToContainer,
  type ContainerRecord,
  type Sys,
} from './index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'runts-core-'));

test('ids follow runc: [A-Za-z0-9_+.-]+, not . or ..', () => {
  for (const ok of ['a', 'web-1', 'A_b+c.d', '0123', '...']) assert.ok(isValidId(ok), ok);
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'é', 'a\0b', 'x\n']) assert.ok(!isValidId(bad), JSON.stringify(bad));
  assert.throws(() => validateId('../etc'), (e: unknown) => e instanceof RuntimeError && e.message === 'invalid container ID format');
  assert.throws(() => containerPaths('/run/runts', '..'), /invalid container ID format/);
});

test('reserveId is exclusive and a second create disturbs nothing', () => {
  const root = join(tmp(), 'root');
  const { paths: p, lock } = reserveId(root, 'c1');
  assert.ok(existsSync(p.lock), 'the dir appears with its lock held');
  writeFileSync(join(p.dir, 'marker'), 'x');
  assert.throws(() => reserveId(root, 'c1'), /container with given ID already exists/);
  assert.throws(() => reserveId(root, 'c1', () => assert.fail('a create in progress is not undone')), /container with given ID already exists/);
  assert.equal(readFileSync(join(p.dir, 'marker'), 'utf8'), 'x');
  lock.release();
  assert.ok(!existsSync(p.lock));
  assert.deepEqual(readdirSync(root), ['c1'], 'no temp dir left');
  rmSync(root, { recursive: true });
});

test('reserveId undoes a create that was killed (lock owner gone, no state.json), never a finished one', () => {
  const root = join(tmp(), 'root');
  const { paths: p } = reserveId(root, 'c1');
  writeFileSync(p.lock, '999999999 1'); // the owner died
  writeCreating(p, { pid: 0, startTime: '', cgroupPaths: { unified: '/x' }, createdCgroups: ['/x'] });
  let undone: unknown;
  const again = reserveId(root, 'c1', (paths) => {
    undone = readCreating(paths);
    rmSync(paths.dir, { recursive: true });
  });
  assert.deepEqual(undone, { pid: 0, startTime: '', cgroupPaths: { unified: '/x' }, createdCgroups: ['/x'] });
  assert.ok(existsSync(again.paths.lock));
  again.lock.release();
  writeRecord(again.paths, rec());
  writeFileSync(again.paths.lock, '999999999 1');
  assert.throws(() => reserveId(root, 'c1', () => assert.fail('a finished container is not undone')), /container with given ID already exists/);
  rmSync(root, { recursive: true });
});

test('writeCreating rewrites creating.json only when the record changed or the file is gone', () => {
  const root = join(tmp(), 'root');
  const { paths: p, lock } = reserveId(root, 'c1');
  const r = { pid: 0, startTime: '', cgroupPaths: { unified: '/x' }, createdCgroups: ['/x'] };
  writeCreating(p, r);
  const ino = statSync(p.creating).ino;
  writeCreating(p, { ...r });
  assert.equal(statSync(p.creating).ino, ino, 'the same record: not written again (a rename would be a new inode)');
  writeCreating(p, { ...r, pid: 7 });
  assert.notEqual(statSync(p.creating).ino, ino);
  assert.equal(readCreating(p)?.pid, 7);
  rmSync(p.creating);
  writeCreating(p, { ...r, pid: 7 });
  assert.equal(readCreating(p)?.pid, 7, 'written again once removed');
  lock.release();
  rmSync(root, { recursive: true });
});

const rec = (over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.3.0',
  id: 'c1',
  pid: 4242,
  startTime: '777',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00.000000000Z',
  owner: '',
  cgroupPaths: { freezer: '/cg/freezer/c1', unified: '/cg/unified/c1' },
  config: {},
  ...over,
});

function fakeSys(files: Record<string, string>): Sys {
  return { readFile: (p) => files[p], exists: (p) => p in files };
}
const stat = (state: string, start: string) => `4242 (sh (weird) name) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 100`;

test('status is derived: created, running, paused, stopped, reused pid', () => {
  const paths = containerPaths('/r', 'c1');
  const alive = { '/proc/4242/stat': stat('S', '777') };
  assert.equal(deriveStatus(rec(), paths, fakeSys({ ...alive, [paths.fifo]: '' })), 'created');
  assert.equal(deriveStatus(rec(), paths, fakeSys(alive)), 'running');
  assert.equal(deriveStatus(rec(), paths, fakeSys({ ...alive, '/cg/unified/c1/cgroup.freeze': '1\n' })), 'paused');
  assert.equal(deriveStatus(rec({ cgroupPaths: { freezer: '/cg/freezer/c1' } }), paths, fakeSys({ ...alive, '/cg/freezer/c1/freezer.state': 'FROZEN\n' })), 'paused');
  assert.equal(deriveStatus(rec(), paths, fakeSys({})), 'stopped');
  assert.equal(deriveStatus(rec(), paths, fakeSys({ '/proc/4242/stat': stat('S', '999') })), 'stopped', 'a reused pid is not the container');
  assert.equal(deriveStatus(rec(), paths, fakeSys({ '/proc/4242/stat': stat('Z', '777') })), 'stopped', 'a zombie is stopped');
});

test('a pid is the container init only with its start time and namespaces', () => {
  const links = (m: Record<string, string>): Sys => ({
    readFile: (p) => ({ '/proc/4242/stat': stat('S', '777'), '/proc/4242/status': 'Name:\tsh\nNSpid:\t4242\t1\n' } as Record<string, string>)[p],
    exists: () => false,
    readLink: (p) => m[p],
  });
  const ns = { pid: 'pid:[1]', mnt: 'mnt:[2]' };
  const inNs = { '/proc/4242/ns/pid': 'pid:[1]', '/proc/4242/ns/mnt': 'mnt:[2]' };
  assert.ok(isContainerInit({ pid: 4242, startTime: '777', nsIds: ns }, links(inNs)));
  assert.ok(!isContainerInit({ pid: 4242, startTime: '', nsIds: ns }, links(inNs)), 'no start time: not ours');
  assert.ok(!isContainerInit({ pid: 4242, startTime: '778', nsIds: ns }, links(inNs)), 'another start time: a reused pid');
  assert.ok(!isContainerInit({ pid: 4242, startTime: '777', nsIds: ns }, links({ '/proc/4242/ns/pid': 'pid:[9]', '/proc/4242/ns/mnt': 'mnt:[2]' })), 'a host process with a copied start time');
  assert.ok(isContainerInit({ pid: 4242, startTime: '777', ownPidNs: true }, links({})), 'no recorded ns: pid 1 of its own pid ns');
  const hostStatus: Sys = { readFile: (p) => (p === '/proc/4242/stat' ? stat('S', '777') : 'NSpid:\t4242\n'), exists: () => false, readLink: () => undefined };
  assert.ok(!isContainerInit({ pid: 4242, startTime: '777', ownPidNs: true }, hostStatus), 'not pid 1 of a pid namespace');
  // other processes: in the pid ns (or the mount ns when the pid ns is shared)
  const other = links({ ...inNs, '/proc/50/ns/pid': 'pid:[1]', '/proc/51/ns/pid': 'pid:[9]', '/proc/52/ns/mnt': 'mnt:[2]' });
  assert.ok(belongsToContainer(50, { pid: 4242, startTime: '777', nsIds: ns }, other));
  assert.ok(!belongsToContainer(51, { pid: 4242, startTime: '777', nsIds: ns }, other));
  assert.ok(belongsToContainer(52, { pid: 4242, startTime: '777', nsIds: { mnt: 'mnt:[2]' } }, other));
  assert.ok(!belongsToContainer(50, { pid: 4242, startTime: '777' }, other), 'nothing recorded: only the init is ours');
  // the init on its way out: a zombie, or exiting with its namespaces gone; still the container's
  const dying = (state: string, start: string): Sys => ({ readFile: (p) => (p === '/proc/4242/stat' ? stat(state, start) : undefined), exists: () => false, readLink: () => undefined });
  assert.ok(!isContainerInit({ pid: 4242, startTime: '777', nsIds: ns }, dying('R', '777')), 'not an init that can be signalled as one');
  assert.ok(belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, dying('R', '777')), 'exiting: namespaces released');
  assert.ok(belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, dying('Z', '777')), 'a zombie');
  assert.ok(!belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, dying('R', '778')), 'another start time: a reused pid');
  assert.ok(!belongsToContainer(4242, { pid: 4242, startTime: '', nsIds: ns }, dying('Z', '777')), 'no start time: not ours');
  assert.ok(!belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, links({ '/proc/4242/ns/pid': 'pid:[9]', '/proc/4242/ns/mnt': 'mnt:[2]' })), 'alive in other namespaces: a stranger');
  // past exit_task_namespaces: no mount namespace, its pid namespace still readable
  const exiting = (pidLink: string): Sys => ({ readFile: (p) => (p === '/proc/4242/stat' ? stat('R', '777') : undefined), exists: () => false, readLink: (p) => (p === '/proc/4242/ns/pid' ? pidLink : undefined) });
  assert.ok(belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, exiting(ns.pid)), 'exiting: mount namespace released, pid namespace the recorded one');
  assert.ok(!belongsToContainer(4242, { pid: 4242, startTime: '777', nsIds: ns }, exiting('pid:[9]')), 'no mount namespace but another pid namespace: not the init');
});

test('a state dir that is a symlink is refused, never followed', () => {
  const root = join(tmp(), 'root');
  mkdirSync(join(root, 'real'), { recursive: true });
  symlinkSync(join(root, 'real'), join(root, 'alias'));
  writeFileSync(join(root, 'real', 'state.json'), '{}');
  assert.throws(() => readRecord(containerPaths(root, 'alias')), /container alias: state dir .*alias is a symlink: refusing to follow it/);
  assert.throws(() => acquireLock(join(root, 'alias', '.lock'), 'delete alias'), /is a symlink/);
  assert.throws(() => reserveId(root, 'alias'), /is a symlink/);
  assert.deepEqual(listIds(root), ['real']);
  assert.ok(!existsSync(join(root, 'real', '.lock')));
});

test('parseProcStat counts fields from the last parenthesis', () => {
  assert.deepEqual(parseProcStat(stat('R', '12345')), { state: 'R', ppid: 1, startTime: '12345' });
  assert.equal(parseProcStat('garbage'), undefined);
});

test('oci state matches runc: pid 0 when stopped, annotations before owner', () => {
  const s = ociState(rec({ annotations: { a: 'b' } }), 'stopped');
  assert.equal(s.pid, 0);
  assert.deepEqual(Object.keys(s), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
  assert.deepEqual(Object.keys(ociState(rec(), 'running')), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);
});

test('state.json round-trips, is written atomically and read defensively', () => {
  const root = tmp();
  const { paths: p, lock } = reserveId(root, 'c1');
  lock.release();
  writeRecord(p, rec({ config: { process: { rlimits: [{ type: 'RLIMIT_NOFILE', hard: 18446744073709551615n, soft: 1 }] } } }));
  assert.match(readFileSync(p.state, 'utf8'), /"hard":18446744073709551615/);
  assert.equal(readRecord(p).id, 'c1');
  assert.deepEqual(readdirSync(p.dir), ['state.json'], 'no temp file left');
  writeFileSync(p.state, '{"id":"c1","pi');
  assert.throws(() => readRecord(p), (e: unknown) => e instanceof RuntimeError && e.message.startsWith(`${p.state}: invalid state file`));
  writeFileSync(p.state, '[]');
  assert.throws(() => readRecord(p), /invalid state file/);
  assert.throws(() => readRecord(containerPaths(root, 'nope')), /container does not exist/);
  mkdirSync(join(root, 'half'));
  assert.deepEqual(listIds(root), ['c1'], 'a dir without state.json is not listed');
  writeFileAtomic(join(root, 'f'), 'one');
  writeFileAtomic(join(root, 'f'), 'two');
  assert.equal(readFileSync(join(root, 'f'), 'utf8'), 'two');
  rmSync(root, { recursive: true });
});

test('lossless stringify keeps uint64', () => {
  assert.equal(stringifyLossless({ a: 18446744073709551615n, b: 'x', c: [1n] }), '{"a":18446744073709551615,"b":"x","c":[1]}');
  assert.equal(stringifyLossless({ a: [18446744073709551615n] }, 2), '{\n  "a": [\n    18446744073709551615\n  ]\n}');
  // without a bigint: JSON.stringify's own text, indented or not
  const doc = { ociVersion: '1.3.0', process: { args: ['sh', '-c', 'é \u0001'], env: [] }, n: 3, f: 1.5, t: true, z: null };
  assert.equal(stringifyLossless(doc), JSON.stringify(doc));
  assert.equal(stringifyLossless(doc, 2), JSON.stringify(doc, null, 2));
  const loop: Record<string, unknown> = {};
  loop['self'] = loop;
  assert.throws(() => stringifyLossless(loop), TypeError);
});

test('lock: exclusive, released, stale lock of a dead owner taken over', () => {
  const d = tmp();
  const path = join(d, '.lock');
  const l = acquireLock(path, 'test');
  assert.throws(() => acquireLock(path, 'test', 30), /timed out waiting for the container lock/);
  l.release();
  assert.ok(!existsSync(path));
  writeFileSync(path, '999999999 1');
  acquireLock(path, 'test', 100).release();
  assert.throws(() => acquireLock(join(d, 'missing', '.lock'), 'x'), /container does not exist/);
  rmSync(d, { recursive: true });
});

test('log lines in runc formats', () => {
  assert.equal(formatLine('error', 'container does not exist', 'json', '2026-11-22T07:47:36Z'), '{"level":"error","msg":"container does not exist","time":"2026-11-22T07:47:36Z"}\n');
  assert.equal(formatLine('error', 'container does not exist', 'text', '2026-11-22T07:47:36Z'), 'time="2026-11-22T07:47:36Z" level=error msg="container does not exist"\n');
});

test('default --root and rootless cgroups as runc: XDG_RUNTIME_DIR for a user, and for root in a user namespace unless USER=root', async () => {
  const { defaultRoot, inUserNamespace, rootlessCgroups } = await import('./paths.ts');
  const xdg = { XDG_RUNTIME_DIR: '/run/user/1000', USER: 'u' };
  assert.equal(defaultRoot(xdg, 1000, () => false), '/run/user/1000/runts');
  assert.equal(defaultRoot({}, 1000, () => false), '/run/runts');
  assert.equal(defaultRoot(xdg, 0, () => false), '/run/runts');
  assert.equal(defaultRoot(xdg, 0, () => true), '/run/user/1000/runts', 'rootless podman: root in its user namespace');
  assert.equal(defaultRoot({ ...xdg, USER: 'root' }, 0, () => true), '/run/runts');
  assert.equal(inUserNamespace('         0          0 4294967295\n'), false);
  assert.equal(inUserNamespace('         0       1000          1\n         1     100000      65536\n'), true);
  assert.equal(rootlessCgroups(1000, () => false), true);
  assert.equal(rootlessCgroups(0, () => true), true);
  assert.equal(rootlessCgroups(0, () => false), false);
});
