import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseLayout, containerCgroupPaths, createCgroups, joinCgroups, removeCgroups, cgroupPids, setFrozen, isFrozenPaths, ownCgroupDirs, removeEmptyCgroups, hasPidsLimit, hostLayout, killInCreatedCgroups, earlyJoin } from './index.ts';
import { Op } from '@runts/nsenter';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_SELF = `9:name=systemd:/
4:memory:/process_api/abc
3:cpuset:/
1:cpu:/
0::/`;
const V2 = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V1_COMOUNT = `25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer`;

test('layouts: hybrid, pure v2, v1 with comounted controllers', () => {
  const h = parseLayout(HYBRID, HYBRID_SELF);
  assert.equal(h.mode, 'hybrid');
  assert.deepEqual(h.v1.map((x) => x.controllers.join(',')), ['cpu', 'cpuset', 'memory', 'freezer', 'name=systemd']);
  assert.equal(h.v2?.mountpoint, '/sys/fs/cgroup/unified');
  assert.equal(h.self['memory'], '/process_api/abc');
  const v2 = parseLayout(V2, '0::/user.slice/x.scope');
  assert.equal(v2.mode, 'v2');
  assert.equal(v2.self['unified'], '/user.slice/x.scope');
  const v1 = parseLayout(V1_COMOUNT, '');
  assert.equal(v1.mode, 'v1');
  assert.deepEqual(v1.v1[0]!.controllers, ['cpu', 'cpuacct']);
});

test('containerCgroupPaths is the cgroupfs driver of resolveCgroups (paths.test.ts)', () => {
  const h = parseLayout(HYBRID, HYBRID_SELF);
  assert.equal(containerCgroupPaths(h, undefined, 'web')['memory'], '/sys/fs/cgroup/memory/process_api/abc/web');
  assert.equal(containerCgroupPaths(h, '../../../../x', 'x')['memory'], '/sys/fs/cgroup/memory/process_api/abc/x');
  assert.deepEqual(containerCgroupPaths(parseLayout(V2, '0::/'), '/machine/c1', 'c1'), { unified: '/sys/fs/cgroup/machine/c1' });
});

test('create, join, list, freeze and remove against a fixture tree', () => {
  const base = mkdtempSync(join(tmpdir(), 'runts-cg-'));
  mkdirSync(join(base, 'cpuset'), { recursive: true });
  writeFileSync(join(base, 'cpuset', 'cpuset.cpus'), '0-1\n');
  writeFileSync(join(base, 'cpuset', 'cpuset.mems'), '0\n');
  // cgroupfs makes these files in every new dir; a fixture must fake that for the middle level
  const paths = { cpuset: join(base, 'cpuset', 'runts', 'c1'), unified: join(base, 'unified', 'runts', 'c1'), freezer: join(base, 'freezer', 'runts', 'c1') };
  const created = createCgroups(paths);
  assert.ok(created.includes(join(base, 'unified', 'runts')) && created.includes(paths.unified));
  joinCgroups(paths, 4242);
  assert.equal(readFileSync(join(paths.unified, 'cgroup.procs'), 'utf8'), '4242');
  assert.deepEqual(cgroupPids(paths), [4242]);
  writeFileSync(join(paths.freezer, 'freezer.state'), 'THAWED');
  setFrozen(paths, true);
  assert.ok(isFrozenPaths(paths));
  setFrozen(paths, false);
  assert.ok(!isFrozenPaths(paths));
  // real cgroupfs dirs hold only virtual files; drop the fixture files the way rmdir would not need to
  for (const p of Object.values(paths)) rmSync(p, { recursive: true });
  removeCgroups(paths, created);
  assert.ok(!existsSync(join(base, 'unified', 'runts')));
  removeCgroups(paths); // idempotent
  rmSync(base, { recursive: true });
});

test('cpuset cpus and mems are copied down from the nearest parent (v1)', { skip: process.getuid?.() !== 0 || !existsSync('/sys/fs/cgroup/cpuset/cpuset.cpus') ? 'needs root and a v1 cpuset hierarchy' : false }, () => {
  const paths = { cpuset: `/sys/fs/cgroup/cpuset/runts-unit-${process.pid}/c1` };
  const created = createCgroups(paths);
  try {
    assert.equal(readFileSync(join(paths.cpuset, 'cpuset.cpus'), 'utf8').trim(), readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim());
    joinCgroups(paths, process.pid);
    assert.deepEqual(cgroupPids(paths), [process.pid]);
    writeFileSync('/sys/fs/cgroup/cpuset/cgroup.procs', String(process.pid));
  } finally {
    removeCgroups(paths, created);
  }
  assert.ok(!existsSync(`/sys/fs/cgroup/cpuset/runts-unit-${process.pid}`));
});

test('delete removes only created dirs on the container path below a hierarchy root', async () => {
  const { confineCreated, missingCgroupDirs } = await import('./confine.ts');
  const layout = parseLayout('30 1 0:26 / /cg/memory rw - cgroup cgroup rw,memory\n', '1:memory:/\n');
  const paths = { memory: '/cg/memory/runts/c1' };
  assert.deepEqual(confineCreated(paths, ['/cg/memory/runts', '/cg/memory/runts/c1', '/cg/memory', '/etc', '/cg/memory/other', 7, '/cg/memory/runts/../x'], layout), ['/cg/memory/runts', '/cg/memory/runts/c1']);
  assert.deepEqual(confineCreated(paths, undefined, layout), []);
  const base = mkdtempSync(join(tmpdir(), 'runts-cg-missing-'));
  mkdirSync(join(base, 'a'));
  assert.deepEqual(missingCgroupDirs({ x: join(base, 'a', 'b', 'c') }), [join(base, 'a', 'b'), join(base, 'a', 'b', 'c')]);
});

test('removeCgroups with the created list: the own dirs with their children, shared parents only when empty', () => {
  const base = mkdtempSync(join(tmpdir(), 'runts-cg-rm-'));
  const own = join(base, 'runts', 'c1');
  mkdirSync(join(own, 'child'), { recursive: true });
  mkdirSync(join(base, 'runts', 'c2'));
  removeCgroups({ x: own }, [join(base, 'runts'), own]);
  assert.ok(!existsSync(own), 'own dir and its child removed');
  assert.ok(existsSync(join(base, 'runts', 'c2')), 'another container under the shared parent is untouched');
});

test('ownCgroupDirs: this process’s cgroup per hierarchy, or undefined when one cannot be placed', () => {
  const h = parseLayout(HYBRID, HYBRID_SELF);
  assert.deepEqual(ownCgroupDirs(h, ['cpu', 'memory', 'unified']), { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory/process_api/abc', unified: '/sys/fs/cgroup/unified' });
  const v2 = parseLayout(V2, '0::/user.slice/x.scope');
  assert.deepEqual(ownCgroupDirs(v2, ['unified']), { unified: '/sys/fs/cgroup/user.slice/x.scope' });
  // a cgroup namespace: the mount's root is below the cgroup /proc/self/cgroup names
  const ns = parseLayout('30 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/other');
  assert.equal(ownCgroupDirs(ns, ['unified']), undefined);
  assert.equal(ownCgroupDirs(h, ['pids']), undefined, 'a hierarchy that is not mounted');
});

test('removeEmptyCgroups: one rmdir each, deepest first; false at a dir that will not go, parents in use kept', () => {
  const base = mkdtempSync(join(tmpdir(), 'runts-cg-'));
  try {
    const parent = join(base, 'a');
    const own = join(parent, 'c1');
    mkdirSync(own, { recursive: true });
    assert.equal(removeEmptyCgroups({ cpu: own }, [parent, own]), true);
    assert.ok(!existsSync(own) && !existsSync(parent), 'own dir and the parent create made are gone');
    mkdirSync(join(own, 'sub'), { recursive: true }); // not empty: rmdir fails (as a cgroup with a child does)
    assert.equal(removeEmptyCgroups({ cpu: own }, [own]), false);
    assert.ok(existsSync(own));
    assert.equal(removeEmptyCgroups({ cpu: own }, []), false, 'a dir create did not make is never removed');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('earlyJoin: v1 dirs are CgroupJoin steps (home in Wait mode, only where joined); a cgroup2 dir makes it this process’s job', async () => {
  const paths = { cpu: '/sys/fs/cgroup/cpu/c1', 'name=systemd': '/sys/fs/cgroup/systemd/c1' };
  const home = { cpu: '/sys/fs/cgroup/cpu', 'name=systemd': '/sys/fs/cgroup/systemd', memory: '/sys/fs/cgroup/memory/x' };
  const waiting = earlyJoin(paths, home, 1);
  assert.equal(waiting.joining, undefined);
  assert.equal(waiting.leave, undefined);
  assert.deepEqual(waiting.steps, [
    { step: { op: Op.CgroupJoin, dir: '/sys/fs/cgroup/cpu/c1', home: '/sys/fs/cgroup/cpu' }, field: 'linux.cgroupsPath' },
    { step: { op: Op.CgroupJoin, dir: '/sys/fs/cgroup/systemd/c1', home: '/sys/fs/cgroup/systemd' }, field: 'linux.cgroupsPath' },
  ]);
  assert.deepEqual(earlyJoin(paths, undefined, 1).steps.map((s) => (s.step as { home: string }).home), ['', '']);
  // a cgroup2 dir: this process writes the executor's pid (here: to a fixture file), and moves it back
  const dir = mkdtempSync(join(tmpdir(), 'runts-earlyjoin-'));
  try {
    for (const d of ['v2/c1', 'v2/own', 'cpu/c1', 'cpu/own']) {
      mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, d, 'cgroup.procs'), '');
    }
    const j = earlyJoin({ unified: join(dir, 'v2/c1'), cpu: join(dir, 'cpu/c1') }, { unified: join(dir, 'v2/own'), cpu: join(dir, 'cpu/own') }, 4242);
    assert.deepEqual(j.steps, []);
    await j.joining;
    assert.equal(readFileSync(join(dir, 'v2/c1/cgroup.procs'), 'utf8'), '4242');
    assert.equal(readFileSync(join(dir, 'cpu/c1/cgroup.procs'), 'utf8'), '4242');
    await j.leave!();
    assert.equal(readFileSync(join(dir, 'v2/own/cgroup.procs'), 'utf8'), '4242');
    assert.equal(readFileSync(join(dir, 'cpu/own/cgroup.procs'), 'utf8'), '4242');
    assert.equal(earlyJoin({ unified: join(dir, 'v2/c1') }, undefined, 1).leave, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hasPidsLimit: linux.resources.pids, or pids.max in unified', () => {
  assert.equal(hasPidsLimit(undefined), false);
  assert.equal(hasPidsLimit({ memory: { limit: 1 } } as never), false);
  assert.equal(hasPidsLimit({ pids: { limit: 5 } } as never), true);
  assert.equal(hasPidsLimit({ unified: { 'pids.max': '5' } } as never), true);
  assert.equal(hasPidsLimit({ unified: { 'memory.max': '5' } } as never), false);
});

test('killInCreatedCgroups: what is in a dir this create made is killed, a dir that was there is left alone', { skip: process.getuid?.() !== 0 || !hostLayout().v2 ? 'needs root and a cgroup2 mount' : false }, async () => {
  const base = join(hostLayout().v2!.mountpoint, `runts-unit-kill-${process.pid}`);
  const made = join(base, 'made');
  const there = join(base, 'there');
  mkdirSync(made, { recursive: true });
  mkdirSync(there);
  const sleepers = [spawn('sleep', ['60'], { stdio: 'ignore' }), spawn('sleep', ['60'], { stdio: 'ignore' })];
  const gone = sleepers.map((p) => new Promise((r) => p.once('exit', (_code, signal) => r(signal))));
  try {
    writeFileSync(join(made, 'cgroup.procs'), String(sleepers[0]!.pid));
    writeFileSync(join(there, 'cgroup.procs'), String(sleepers[1]!.pid));
    killInCreatedCgroups({ unified: made }, [made]);
    killInCreatedCgroups({ unified: there }, [made]);
    assert.equal(await gone[0], 'SIGKILL');
    assert.equal(sleepers[1]!.exitCode, null);
    assert.equal(sleepers[1]!.signalCode, null, 'the process in the dir that was there is alive');
  } finally {
    sleepers[1]!.kill('SIGKILL');
    await gone[1];
    // (a killed process leaves its cgroup a moment after its exit is seen)
    for (const d of [made, there, base]) {
      for (let i = 0; i < 100 && existsSync(d); i++) {
        try {
          rmdirSync(d);
        } catch {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }
  }
});
