import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLayout } from './index.ts';
import { cleanPath, expandSlice, unitName, parseSystemdPath, resolveCgroups, type ResolveOptions } from './paths.ts';

// this machine: v1 hybrid, the caller in a memory sub-cgroup
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_SELF = `9:name=systemd:/user.slice/session-1.scope
4:memory:/process_api/abc
1:cpu:/
0::/user.slice/session-1.scope`;
const V2 = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate`;
const hybrid = parseLayout(HYBRID, HYBRID_SELF);
const v2 = parseLayout(V2, '0::/user.slice/user-1000.slice/session-3.scope');
const fs: ResolveOptions = { driver: 'cgroupfs', rootless: false };
const sd: ResolveOptions = { driver: 'systemd', rootless: false, initCgroup: { cpu: '/', memory: '/', 'name=systemd': '/init.scope', unified: '/init.scope' } };

test('cleanPath is runc utils.CleanPath', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['a/b', 'a/b'],
    ['../../x', 'x'],
    ['..', '.'],
    ['.', '.'],
    ['/..', '/'],
    ['/../../etc', '/etc'],
    ['/a/../../b/', '/b'],
    ['a/./b//c/', 'a/b/c'],
    ['x/../../y', 'y'],
  ];
  for (const [i, o] of cases) assert.equal(cleanPath(i), o, i);
});

test('cgroupfs on v1/hybrid: absolute under each mount, relative under the own v1 cgroup and the hybrid cgroup2 top, default <id> relative', () => {
  const a = resolveCgroups(hybrid, '/a/b', 'x', fs).paths;
  assert.deepEqual(a, { cpu: '/sys/fs/cgroup/cpu/a/b', memory: '/sys/fs/cgroup/memory/a/b', 'name=systemd': '/sys/fs/cgroup/systemd/a/b', unified: '/sys/fs/cgroup/unified/a/b' });
  const r = resolveCgroups(hybrid, '../../sdx/y', 'x', fs).paths;
  assert.deepEqual(r, {
    cpu: '/sys/fs/cgroup/cpu/sdx/y',
    memory: '/sys/fs/cgroup/memory/process_api/abc/sdx/y',
    'name=systemd': '/sys/fs/cgroup/systemd/user.slice/session-1.scope/sdx/y',
    unified: '/sys/fs/cgroup/unified/sdx/y',
  });
  const d = resolveCgroups(hybrid, undefined, 'web', fs);
  assert.equal(d.explicit, false);
  assert.equal(d.paths['memory'], '/sys/fs/cgroup/memory/process_api/abc/web');
  assert.equal(d.paths['cpu'], '/sys/fs/cgroup/cpu/web');
  assert.equal(d.paths['unified'], '/sys/fs/cgroup/unified/web');
  assert.equal(resolveCgroups(hybrid, '', 'web', fs).paths['cpu'], '/sys/fs/cgroup/cpu/web');
  // a systemd-style path is a plain relative path to the cgroupfs driver, as in runc
  assert.equal(resolveCgroups(hybrid, 'system.slice:docker:abc', 'x', fs).paths['cpu'], '/sys/fs/cgroup/cpu/system.slice:docker:abc');
});

test('cgroupfs on pure v2: relative and default under the parent of the own cgroup', () => {
  assert.deepEqual(resolveCgroups(v2, 'c1', 'x', fs).paths, { unified: '/sys/fs/cgroup/user.slice/user-1000.slice/c1' });
  assert.deepEqual(resolveCgroups(v2, undefined, 'web', fs).paths, { unified: '/sys/fs/cgroup/user.slice/user-1000.slice/web' });
  assert.deepEqual(resolveCgroups(v2, '/machine/c1', 'x', fs).paths, { unified: '/sys/fs/cgroup/machine/c1' });
  assert.deepEqual(resolveCgroups(v2, '/../../machine/c1', 'x', fs).paths, { unified: '/sys/fs/cgroup/machine/c1' });
  // in a cgroup namespace whose root is the own cgroup
  const inNs = parseLayout(V2.replace(' / /sys', ' /../.. /sys'), '0::/');
  assert.deepEqual(resolveCgroups(inNs, undefined, 'web', fs).paths, { unified: '/sys/fs/cgroup/web' });
});

test('refused: the root cgroup, the own cgroup and its ancestors, NUL', () => {
  for (const p of ['/', '/..', '/a/..', '/../']) assert.throws(() => resolveCgroups(hybrid, p, 'x', fs), /^RuntimeError: linux\.cgroupsPath: ".*" is the root of the cgroup hierarchy \/sys\/fs\/cgroup\/cpu: a container needs a cgroup of its own$/, p);
  assert.throws(() => resolveCgroups(hybrid, '.', 'x', fs), /linux\.cgroupsPath: "\." is the root of the cgroup hierarchy/);
  assert.throws(() => resolveCgroups(hybrid, '/process_api', 'x', fs), /linux\.cgroupsPath: "\/process_api" resolves to \/sys\/fs\/cgroup\/memory\/process_api, which holds the runtime's own cgroup/);
  assert.throws(() => resolveCgroups(v2, '..', 'x', fs), /linux\.cgroupsPath: "\.\." resolves to \/sys\/fs\/cgroup\/user\.slice\/user-1000\.slice, which holds the runtime's own cgroup/);
  assert.throws(() => resolveCgroups(v2, '/user.slice', 'x', fs), /holds the runtime's own cgroup/);
  assert.throws(() => resolveCgroups(v2, 'a\0b', 'x', fs), /^RuntimeError: linux\.cgroupsPath: contains a NUL byte$/);
});

test('systemd names: ExpandSlice, unit names, slice:prefix:name', () => {
  assert.equal(expandSlice('system.slice'), '/system.slice');
  assert.equal(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
  assert.equal(expandSlice('-.slice'), '/');
  for (const bad of ['.slice', 'a', 'a/b.slice', '-a.slice', 'a--b.slice', 'a-.slice']) assert.throws(() => expandSlice(bad), /^RuntimeError: linux\.cgroupsPath: invalid slice name/, bad);
  assert.equal(unitName('docker', 'abc'), 'docker-abc.scope');
  assert.equal(unitName('', 'abc'), '-abc.scope');
  assert.equal(unitName('x', 'pod.slice'), 'pod.slice');
  assert.deepEqual(parseSystemdPath(undefined, 'web'), { slice: '', prefix: 'runc', name: 'web' });
  assert.deepEqual(parseSystemdPath('machine.slice:libpod:c1', 'web'), { slice: 'machine.slice', prefix: 'libpod', name: 'c1' });
  assert.throws(() => parseSystemdPath('/a/b', 'web'), /^RuntimeError: linux\.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/a\/b" instead$/);
  assert.throws(() => parseSystemdPath('a.slice:p:../../x', 'web'), /invalid systemd unit name "\.\.\/\.\.\/x"/);
  assert.throws(() => parseSystemdPath('a.slice:p:', 'web'), /the systemd unit name is empty/);
});

test('systemd driver paths: pure v2 (root, rootless), v1/hybrid under pid 1 minus init.scope', () => {
  const r = resolveCgroups(v2, 'machine-web.slice:libpod:c1', 'x', { driver: 'systemd', rootless: false });
  assert.deepEqual(r.paths, { unified: '/sys/fs/cgroup/machine.slice/machine-web.slice/libpod-c1.scope' });
  assert.deepEqual(r.systemd, { unit: 'libpod-c1.scope', slice: 'machine-web.slice', slicePath: '/machine.slice/machine-web.slice' });
  const d = resolveCgroups(v2, undefined, 'web', { driver: 'systemd', rootless: false });
  assert.deepEqual(d.paths, { unified: '/sys/fs/cgroup/system.slice/runc-web.scope' });
  const rl = resolveCgroups(v2, '', 'web', { driver: 'systemd', rootless: true, managerCgroup: '/user.slice/user-1000.slice/user@1000.service' });
  assert.deepEqual(rl.paths, { unified: '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/runc-web.scope' });
  assert.equal(rl.systemd?.slice, 'user.slice');
  const h = resolveCgroups(hybrid, ':docker:abc', 'x', sd).paths;
  assert.deepEqual(h, {
    cpu: '/sys/fs/cgroup/cpu/system.slice/docker-abc.scope',
    memory: '/sys/fs/cgroup/memory/system.slice/docker-abc.scope',
    'name=systemd': '/sys/fs/cgroup/systemd/system.slice/docker-abc.scope',
    unified: '/sys/fs/cgroup/unified/system.slice/docker-abc.scope',
  });
  assert.throws(() => resolveCgroups(hybrid, '', 'x', { ...sd, rootless: true }), /not supported rootless on cgroup v1/);
  assert.deepEqual(resolveCgroups(v2, '-.slice:p:x.slice', 'x', { driver: 'systemd', rootless: false }).paths, { unified: '/sys/fs/cgroup/x.slice' });
});
