// The systemd cgroup driver (issue 8), in the guest (pure cgroup v2, systemd as pid 1: pnpm
// test:guest), as root: `runts --systemd-cgroup` with `slice:prefix:name` starts a transient scope
// unit with the init in it, the limits in the unit's properties and in the cgroup files; systemctl
// sees, accounts and stops it; delete leaves no unit; update sets both. Each is compared with runc
// 1.1.5 on the same bundle. Bad input (a property systemd refuses, no bus, a bad path) fails with
// the field named and nothing left (no unit, no cgroup, no state dir).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, spawnCapture, waitStatus, REPO } from '../lib/index.mjs';

const CG = '/sys/fs/cgroup';
assert.ok(existsSync('/run/systemd/system') && existsSync(join(CG, 'cgroup.controllers')), 'not systemd on cgroup v2: run this in the guest (pnpm test:guest)');

const uut = runtime();
const runc = runtime('runc');
const MiB = 1024 * 1024;

const systemctl = (...a) => {
  const r = spawnSync('systemctl', ['--no-pager', ...a], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const show1 = (unit, ...props) => systemctl('show', unit, ...props.flatMap((p) => ['-p', p])).stdout;
const unitExists = (unit) => !/LoadState=not-found/.test(show1(unit, 'LoadState')) && !/ActiveState=inactive/.test(show1(unit, 'ActiveState'));

/** argv with the global --systemd-cgroup before the verb (as containerd and Podman call it). */
function sd(rt, verb, args) {
  const argv = rt.name === 'oci' ? [process.execPath, join(REPO, `packages/${verb}/bin/oci-${verb}.js`), '--root', rt.root] : [...rt.argv('state').slice(0, -1), verb];
  const at = argv.indexOf('--root'); // the command is one word (runc, the single executable) or two (node script)
  return spawnCapture([...argv.slice(0, at), '--systemd-cgroup', ...argv.slice(at), ...args]);
}

describe(`systemd cgroup driver (${uut.name} vs runc)`, () => {
  const bundles = [];
  after(() => bundles.forEach((b) => b.cleanup()));
  const bundle = async (cgroupsPath, edit = () => {}) => {
    const b = await makeBundle({
      args: ['sleep', '1000'],
      edit(c) {
        c.linux.cgroupsPath = cgroupsPath;
        c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 }, cpu: { quota: 25000, period: 100000, shares: 512 } };
        edit(c);
      },
    });
    bundles.push(b);
    return b;
  };

  test('a transient scope with the init in it: systemctl status lists it, the limits are in the unit and in the files, delete leaves nothing', async () => {
    const seen = {};
    for (const rt of [runc, uut]) {
      const id = newId('sd');
      const unit = `rte2e-${id}.scope`;
      const b = await bundle(`system.slice:rte2e:${id}`);
      try {
        const c = await sd(rt, 'create', ['--bundle', b.dir, id]);
        assert.equal(c.code, 0, show(c));
        const st = await rt.stateJson(id);
        const status = systemctl('status', unit);
        assert.equal(status.code, 0, `${rt.name}: ${status.stdout}${status.stderr}`);
        assert.match(status.stdout, new RegExp(`${st.pid}`), `${rt.name}: systemctl status ${unit} lists the init\n${status.stdout}`);
        const dir = join(CG, 'system.slice', unit);
        assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(), String(st.pid));
        assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8').trim(), String(64 * MiB));
        assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '50');
        assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8').trim(), '25000 100000');
        seen[rt.name] = show1(unit, 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUWeight', 'Delegate', 'Slice', 'DefaultDependencies', 'DevicePolicy', 'Description').split(id).join('<id>');
        assert.equal((await rt.start(id)).code, 0);
        const d = await rt.delete(id, { force: true });
        assert.equal(d.code, 0, show(d));
        for (let i = 0; i < 50 && unitExists(unit); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(!unitExists(unit), `${rt.name}: ${unit} is gone after delete: ${show1(unit, 'LoadState', 'ActiveState')}`);
        assert.ok(!existsSync(dir), `${rt.name}: ${dir} removed`);
      } finally {
        await rt.forceDelete(id);
      }
    }
    assert.equal(seen[uut.name], seen.runc);
    assert.match(seen[uut.name], /MemoryMax=67108864/);
    assert.match(seen[uut.name], /TasksMax=50/);
    assert.match(seen[uut.name], /Delegate=yes/);
  });

  test('systemctl stop stops the container', async () => {
    const id = newId('sdstop');
    const unit = `rte2e-${id}.scope`;
    const b = await bundle(`system.slice:rte2e:${id}`);
    try {
      assert.equal((await sd(uut, 'run', ['--detach', '--bundle', b.dir, id])).code, 0);
      assert.equal((await uut.stateJson(id)).status, 'running');
      const s = systemctl('stop', unit);
      assert.equal(s.code, 0, s.stderr);
      await waitStatus(uut, id, 'stopped');
      assert.equal((await uut.delete(id)).code, 0);
      assert.ok(!unitExists(unit));
    } finally {
      await uut.forceDelete(id);
    }
  });

  test('nested slices and the default (runc-<id>.scope in system.slice) land where runc puts them', async () => {
    for (const [path, unitOf, sliceDir] of [
      [(id) => `rte2e-a.slice:p:${id}`, (id) => `p-${id}.scope`, 'rte2e.slice/rte2e-a.slice'],
      [() => '', (id) => `runc-${id}.scope`, 'system.slice'],
    ]) {
      const where = {};
      for (const rt of [runc, uut]) {
        const id = newId('sdn');
        const b = await bundle(path(id));
        if (path(id) === '') delete b.config.linux.cgroupsPath, b.write();
        try {
          const c = await sd(rt, 'create', ['--bundle', b.dir, id]);
          assert.equal(c.code, 0, show(c));
          const st = await rt.stateJson(id);
          where[rt.name] = readFileSync(`/proc/${st.pid}/cgroup`, 'utf8').split(id).join('<id>');
          assert.equal(where[rt.name].trim(), `0::/${sliceDir}/${unitOf('<id>')}`);
        } finally {
          await rt.forceDelete(id);
        }
      }
      assert.equal(where[uut.name], where.runc);
    }
  });

  test('update sets the unit property and the file', async () => {
    const id = newId('sdup');
    const unit = `rte2e-${id}.scope`;
    const b = await bundle(`system.slice:rte2e:${id}`);
    try {
      assert.equal((await sd(uut, 'run', ['--detach', '--bundle', b.dir, id])).code, 0);
      const u = await sd(uut, 'update', ['--memory', '96m', '--pids-limit', '70', id]);
      assert.equal(u.code, 0, show(u));
      assert.match(show1(unit, 'MemoryMax', 'TasksMax'), new RegExp(`MemoryMax=${96 * MiB}\\nTasksMax=70`));
      assert.equal(readFileSync(join(CG, 'system.slice', unit, 'memory.max'), 'utf8').trim(), String(96 * MiB));
    } finally {
      await uut.forceDelete(id);
    }
  });
});

describe('systemd driver: bad input leaves nothing', () => {
  const cases = [
    ['a property systemd refuses', (c) => void (c.annotations = { 'org.systemd.property.NoSuchProperty': 'uint64 1' }), {}, /annotations\["org\.systemd\.property\.NoSuchProperty"\] \(systemd property NoSuchProperty\)/],
    ['no D-Bus', () => {}, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/rte2e-no-such-bus' }, /--systemd-cgroup: no D-Bus at \/run\/rte2e-no-such-bus/],
    ['a cgroupsPath with ..', (c) => void (c.linux.cgroupsPath = 'system.slice:rte2e:../../x'), {}, /linux\.cgroupsPath: invalid systemd unit name/],
  ];
  for (const [name, edit, env, re] of cases) {
    test(name, async () => {
      const id = newId('sdbad');
      const unit = `rte2e-${id}.scope`;
      const b = await makeBundle({ args: ['true'], edit: (c) => ((c.linux.cgroupsPath = `system.slice:rte2e:${id}`), edit(c)) });
      try {
        const argv = [...uut.argv('create')];
        const at = argv.indexOf('--root');
        const r = await spawnCapture([...argv.slice(0, at), '--systemd-cgroup', ...argv.slice(at), '--bundle', b.dir, id], { env });
        assert.equal(r.code, 1, show(r));
        assert.match(r.error, re);
        assert.ok(!unitExists(unit), 'no unit');
        assert.ok(!existsSync(join(CG, 'system.slice', unit)), 'no cgroup');
        assert.ok(!existsSync(join(uut.root, id)), 'no state dir');
      } finally {
        await uut.forceDelete(id);
        b.cleanup();
      }
    });
  }
});
