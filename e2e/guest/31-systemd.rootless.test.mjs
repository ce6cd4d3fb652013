// Rootless in the guest (runs as the user `rootless` in a delegated unit of its own systemd: pnpm
// test:guest): a bundle from `oci-spec --rootless` under runts and runc, side by side.
// - the systemd driver goes to the user's own systemd over the session bus: the scope is
//   runc-<id>.scope (or <prefix>-<name>.scope) in user.slice of user@1000.service, with the limits;
// - the cgroupfs driver puts the default path (the id, relative) under the parent of the caller's
//   own (delegated) cgroup, as runc's fs2 does, and the limits hold there;
// - rootless Podman with runts as its runtime (its default for a user is the systemd driver).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, RUN_DIR, newId, spawnCapture, show, pristineRootfs, safeRemove } from '../lib/index.mjs';

assert.ok(process.getuid() !== 0 && existsSync('/run/systemd/system'), 'run this as the rootless user in the guest (pnpm test:guest)');
const CG = '/sys/fs/cgroup';
const MiB = 1024 * 1024;
const dir = join(RUN_DIR, `sd-rootless-${process.pid}`);
const xdg = process.env.XDG_RUNTIME_DIR;
const runts = (...a) => spawnCapture([process.execPath, join(REPO, 'packages/runts/bin/runts.js'), '--root', join(xdg, `runts-e2e-${process.pid}`), ...a]);
const runc = (...a) => spawnCapture(['runc', '--root', join(xdg, `runc-e2e-${process.pid}`), ...a]);
const user = (...a) => {
  const r = spawnSync('systemctl', ['--user', '--no-pager', ...a], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

function bundle(name, edit) {
  const b = join(dir, name);
  mkdirSync(b, { recursive: true });
  execFileSync('cp', ['-a', pristineRootfs(), join(b, 'rootfs')]);
  execFileSync(process.execPath, [join(REPO, 'packages/spec/bin/oci-spec.js'), '--rootless', '--bundle', b]);
  const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  c.process.terminal = false;
  edit(c);
  writeFileSync(join(b, 'config.json'), JSON.stringify(c, null, 2));
  return b;
}

before(() => mkdirSync(dir, { recursive: true }));
after(() => safeRemove(dir));

describe('rootless in the guest', () => {
  test('--systemd-cgroup: a scope of the user\'s systemd (session bus) with the limits, where runc puts it', async () => {
    const where = {};
    for (const [name, rt] of [['runc', runc], ['runts', runts]]) {
      const id = newId('sdrl');
      const b = bundle(`${name}-sd`, (c) => {
        c.process.args = ['sleep', '1000'];
        c.linux.resources = { memory: { limit: 64 * MiB }, pids: { limit: 40 } };
      });
      try {
        const r = await rt('--systemd-cgroup', 'run', '--detach', '--bundle', b, id);
        assert.equal(r.code, 0, show(r));
        const pid = JSON.parse((await rt('state', id)).stdout).pid;
        const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
        where[name] = cg.split(id).join('<id>');
        assert.equal(where[name], '0::/user.slice/user-1000.slice/user@1000.service/user.slice/runc-<id>.scope');
        const unit = `runc-${id}.scope`;
        const st = user('status', unit);
        assert.equal(st.code, 0, `${name}: ${st.stdout}${st.stderr}`);
        assert.match(st.stdout, new RegExp(String(pid)));
        assert.equal(readFileSync(join(CG, cg.slice(3), 'memory.max'), 'utf8').trim(), String(64 * MiB));
        assert.match(user('show', unit, '-p', 'MemoryMax', '-p', 'TasksMax').stdout, new RegExp(`MemoryMax=${64 * MiB}\\nTasksMax=40`));
        const d = await rt('delete', '--force', id);
        assert.equal(d.code, 0, show(d));
        assert.match(user('show', unit, '-p', 'ActiveState').stdout, /ActiveState=inactive/);
      } finally {
        await rt('delete', '--force', id);
      }
    }
    assert.equal(where.runts, where.runc);
  });

  test('cgroupfs driver: the default path under the parent of the own delegated cgroup, with the limits', async () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').trim().slice(3);
    const parent = own.slice(0, own.lastIndexOf('/'));
    const where = {};
    for (const [name, rt] of [['runc', runc], ['runts', runts]]) {
      const id = newId('fsrl');
      const b = bundle(`${name}-fs`, (c) => {
        c.process.args = ['sleep', '1000'];
        c.linux.resources = { memory: { limit: 48 * MiB } };
      });
      try {
        const r = await rt('run', '--detach', '--bundle', b, id);
        assert.equal(r.code, 0, show(r));
        const pid = JSON.parse((await rt('state', id)).stdout).pid;
        const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
        where[name] = cg.split(id).join('<id>');
        assert.equal(cg, `0::${parent}/${id}`);
        assert.equal(readFileSync(join(CG, parent, id, 'memory.max'), 'utf8').trim(), String(48 * MiB));
      } finally {
        await rt('delete', '--force', id);
      }
    }
    assert.equal(where.runts, where.runc);
  });

  test('rootless Podman with runts: run, run -d, exec, stop, rm (the systemd cgroup manager)', async () => {
    const wrapper = join(dir, 'runts-wrap');
    writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${process.execPath} ${join(REPO, 'packages/runts/bin/runts.js')} "$@"\n`);
    chmodSync(wrapper, 0o755);
    execFileSync('tar', ['-C', pristineRootfs(), '-cf', join(dir, 'bb.tar'), '.']);
    const podman = (...a) => spawnCapture(['podman', '--runtime', wrapper, ...a], { timeout: 300_000 });
    try {
      const i = await podman('import', join(dir, 'bb.tar'), 'localhost/rte2e-bb:latest');
      assert.equal(i.code, 0, show(i));
      const r = await podman('run', '--rm', 'localhost/rte2e-bb:latest', 'sh', '-c', 'echo hello; exit 4');
      assert.equal(r.code, 4, show(r));
      assert.equal(r.stdout, 'hello\n');
      const name = newId('pmrl');
      const d = await podman('run', '-d', '--name', name, 'localhost/rte2e-bb:latest', 'sleep', '1000');
      assert.equal(d.code, 0, show(d));
      const cid = d.stdout.trim().split('\n').pop();
      assert.match(user('status', `libpod-${cid}.scope`).stdout, /sleep 1000/, 'podman asked runts for the systemd driver: a user scope');
      const e = await podman('exec', name, 'sh', '-c', 'echo exec-ok; exit 3');
      assert.equal(e.code, 3, show(e));
      assert.equal((await podman('stop', '-t', '1', name)).code, 0);
      assert.equal((await podman('rm', name)).code, 0);
    } finally {
      await podman('rm', '--all', '--force', '--time', '0');
    }
  });
});
