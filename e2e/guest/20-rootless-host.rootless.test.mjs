// What the guest promises a rootless test (runs as the user `rootless`, in the guest: pnpm test:guest):
// its own user systemd and session bus, a delegated cgroup, subordinate id ranges, newuidmap; and
// runc 1.1.5, the reference, runs a `runc spec --rootless` bundle there. The rootless runts tests
// build on this; when this file fails, they would fail for the host's reasons, not runts'.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pristineRootfs, newId, spawnCapture, show, safeRemove, RUN_DIR } from '../lib/index.mjs';

describe('the rootless user in the guest', () => {
  const dirs = [];
  after(() => dirs.forEach((d) => safeRemove(d)));

  test('uid 1000 with its user systemd, session bus and a delegated v2 cgroup', () => {
    assert.equal(process.getuid(), 1000);
    assert.equal(process.env.XDG_RUNTIME_DIR, '/run/user/1000');
    assert.ok(statSync('/run/user/1000/bus').isSocket(), 'the session bus socket');
    assert.equal(process.env.DBUS_SESSION_BUS_ADDRESS, 'unix:path=/run/user/1000/bus');
    const cg = readFileSync('/proc/self/cgroup', 'utf8').trim();
    assert.match(cg, /^0::\/user\.slice\/user-1000\.slice\/user@1000\.service\/.+\.service$/);
    const dir = join('/sys/fs/cgroup', cg.slice(3));
    assert.equal(statSync(dir).uid, 1000, `${dir} is delegated (owned by the user)`);
    assert.equal(statSync(join(dir, 'cgroup.procs')).uid, 1000);
    const ctl = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(' ');
    for (const c of ['memory', 'pids']) assert.ok(ctl.includes(c), `${c} delegated (${ctl.join(' ')})`);
    const units = execFileSync('systemctl', ['--user', 'is-system-running'], { encoding: 'utf8' }).trim();
    assert.match(units, /running|degraded/);
  });

  test('subordinate ids and newuidmap/newgidmap', () => {
    assert.match(readFileSync('/etc/subuid', 'utf8'), /^rootless:100000:65536$/m);
    assert.match(readFileSync('/etc/subgid', 'utf8'), /^rootless:100000:65536$/m);
    for (const t of ['/usr/bin/newuidmap', '/usr/bin/newgidmap']) assert.ok(existsSync(t), t);
  });

  test('runc runs a `runc spec --rootless` bundle as this user', async () => {
    const bundle = join(RUN_DIR, `rootless-runc-${process.pid}`);
    dirs.push(bundle);
    mkdirSync(bundle, { recursive: true });
    execFileSync('cp', ['-a', pristineRootfs(), join(bundle, 'rootfs')]);
    execFileSync('runc', ['spec', '--rootless', '--bundle', bundle]);
    const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    c.process.terminal = false;
    c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; exit 5'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(c));
    const root = join(process.env.XDG_RUNTIME_DIR, `runc-e2e-${process.pid}`);
    dirs.push(root);
    const id = newId('rootless-runc');
    const r = await spawnCapture(['runc', '--root', root, 'run', '--bundle', bundle, id]);
    assert.equal(r.code, 5, show(r));
    assert.match(r.stdout, /^0\n\s+0\s+1000\s+1\n$/);
  });
});
