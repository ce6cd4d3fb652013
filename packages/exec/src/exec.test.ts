import { test, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProcess, subCgroups, type ExecProcess } from './index.ts';

const base: ExecProcess = { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh'], env: ['PATH=/bin'], terminal: true, capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'] }, noNewPrivileges: false };

test('exec builds on the container process with runc overrides', () => {
  const p = buildProcess(base, { root: '/r', id: 'c', args: ['ls', '-l'], env: ['A=1'], cwd: '/tmp', user: '1000:1001', additionalGids: ['5', '6'], caps: ['CAP_CHOWN'], noNewPrivs: true, tty: false });
  assert.deepEqual(p.args, ['ls', '-l']);
  assert.deepEqual(p.env, ['PATH=/bin', 'A=1']);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 1000, gid: 1001, additionalGids: [5, 6] });
  assert.deepEqual(p.capabilities?.effective, ['CAP_KILL', 'CAP_CHOWN']);
  assert.equal(p.noNewPrivileges, true);
  assert.equal(p.terminal, false);
  assert.deepEqual(base.args, ['sh'], 'the container config is not modified');
  assert.equal(buildProcess(base, { root: '/r', id: 'c', args: ['id'], user: '7' }).user.gid, 0);
});

test('exec rejects bad users and empty commands, and reads process.json', () => {
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', args: ['id'], user: 'bob' }), /parsing bob as int for uid failed/);
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', args: [] }), /missing command/);
  const d = mkdtempSync(join(tmpdir(), 'runts-exec-'));
  writeFileSync(join(d, 'p.json'), JSON.stringify({ args: ['echo', 'x'], cwd: '/', user: { uid: 1, gid: 2 } }));
  assert.deepEqual(buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'p.json') }).args, ['echo', 'x']);
  writeFileSync(join(d, 'bad.json'), JSON.stringify({ args: [], cwd: '/', user: { uid: 1, gid: 2 } }));
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'bad.json') }), /bad.json: args: must not be empty/);
  writeFileSync(join(d, 'nouser.json'), JSON.stringify({ args: ['id'], cwd: '/' }));
  assert.deepEqual(buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'nouser.json') }).user, { uid: 0, gid: 0 }, 'runc: no user is uid 0, gid 0');
  writeFileSync(join(d, 'nocwd.json'), JSON.stringify({ args: ['id'] }));
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'nocwd.json') }), /nocwd.json: cwd: required/);
  writeFileSync(join(d, 'relcwd.json'), JSON.stringify({ args: ['id'], cwd: 'tmp' }));
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'relcwd.json') }), /relcwd.json: cwd: must be an absolute path/);
  assert.equal(buildProcess({ ...base, noNewPrivileges: true }, { root: '/r', id: 'c', args: ['id'], noNewPrivs: false }).noNewPrivileges, false, '--no-new-privs=false');
  assert.throws(() => buildProcess(base, { root: '/r', id: 'c', processFile: join(d, 'none.json') }), /open .*none.json: no such file or directory/);
});

describe('--cgroup (runc getSubCgroupPaths)', () => {
  const hybrid = { 'cpu,cpuacct': '/c/cpu/x', memory: '/c/memory/x', pids: '/c/pids/x', unified: '/c/unified/x' };
  it('splits controller lists against separate or co-mounted hierarchies', () => {
    assert.deepEqual(subCgroups(hybrid, ['cpu,memory:sub']), { ...hybrid, 'cpu,cpuacct': '/c/cpu/x/sub', memory: '/c/memory/x/sub' });
    assert.deepEqual(subCgroups(hybrid, ['cpuacct:a', 'pids:b']), { ...hybrid, 'cpu,cpuacct': '/c/cpu/x/a', pids: '/c/pids/x/b' });
    assert.deepEqual(subCgroups({ unified: '/sys/fs/cgroup/x' }, [':s']), { unified: '/sys/fs/cgroup/x/s' });
    assert.deepEqual(subCgroups(hybrid, ['all']), Object.fromEntries(Object.entries(hybrid).map(([k, v]) => [k, `${v}/all`])));
  });
  it('refuses an unknown controller, naming it, and runc\'s bad forms', () => {
    assert.throws(() => subCgroups(hybrid, ['cpu,bogus:s']), /--cgroup "cpu,bogus:s": unknown controller "bogus"/);
    assert.throws(() => subCgroups(hybrid, ['a:b:c']), /invalid --cgroup argument/);
    assert.throws(() => subCgroups(hybrid, ['x', 'cpu:y']), /missing <controller>: prefix/);
    assert.throws(() => subCgroups(hybrid, ['cpu:../..']), /must not contain \.\./);
  });
});
