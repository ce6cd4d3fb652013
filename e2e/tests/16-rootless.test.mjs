// Rootless (issue 8), on this host, as a real unprivileged user (made here with useradd, with its
// /etc/subuid and /etc/subgid ranges): a bundle from `oci-spec --rootless`, run and create/start
// by runc's rootless rules. Here cgroup v1 is not delegated, so rootless means no cgroups: none
// are made and no error is given unless a limit is asked for (then the error names the field) or
// an explicit cgroupsPath cannot be made. The default --root is $XDG_RUNTIME_DIR/runts. runc runs
// the same bundles as the same user, side by side.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUN_DIR, newId, spawnCapture, show, pristineRootfs, safeRemove, cgroupsOf } from '../lib/index.mjs';

const USER = 'runts-e2e-rl';
const dir = join(RUN_DIR, `rootless-${process.pid}`);
const xdg = join(dir, 'xdg');
let uid = 0;
let gid = 0;
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** argv as the user, with a clean environment (its own XDG_RUNTIME_DIR, no CA bundle). */
function asUser(argv, opts = {}) {
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOME=${dir}`, `XDG_RUNTIME_DIR=${xdg}`, `USER=${USER}`];
  return spawnCapture(['runuser', '-u', USER, '--', 'env', '-i', ...env, ...argv], { cwd: dir, ...opts });
}
const runts = (...a) => asUser([process.execPath, join(REPO, 'packages/runts/bin/runts.js'), ...a]);
const oci = (verb, ...a) => asUser([process.execPath, join(REPO, `packages/${verb}/bin/oci-${verb}.js`), ...a]);
const runc = (...a) => asUser(['runc', '--root', join(xdg, 'runc'), ...a]);

/** A bundle owned by the user: `oci-spec --rootless` (as the user), the busybox rootfs, edits. */
async function bundle(name, edit = (c) => c) {
  const b = join(dir, name);
  mkdirSync(b);
  spawnSync('cp', ['-a', pristineRootfs(), join(b, 'rootfs')]);
  spawnSync('chown', ['-R', `${uid}:${gid}`, b]);
  const r = await asUser([process.execPath, join(REPO, 'packages/spec/bin/oci-spec.js'), '--rootless', '--bundle', b]);
  assert.equal(r.code, 0, show(r));
  const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  c.process.terminal = false;
  writeFileSync(join(b, 'config.json'), JSON.stringify(edit(c) ?? c, null, 2));
  return b;
}

before(() => {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    const r = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', USER], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
  gid = Number(spawnSync('id', ['-g', USER], { encoding: 'utf8' }).stdout.trim());
  // the multi-range test needs subordinate ids (Debian's useradd adds them; make sure)
  for (const f of ['/etc/subuid', '/etc/subgid'])
    if (!readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${USER}:`))) writeFileSync(f, `${readFileSync(f, 'utf8')}${USER}:420000:65536\n`);
  mkdirSync(xdg, { recursive: true });
  chownSync(dir, uid, gid);
  chownSync(xdg, uid, gid);
  chmodSync(xdg, 0o700);
});
after(() => {
  spawnSync('pkill', ['-KILL', '-u', USER]);
  safeRemove(dir);
});

describe('rootless, as an unprivileged user', () => {
  test('runts run: the bundle of oci-spec --rootless runs as runc runs it, with no cgroup and no error', async () => {
    const b = await bundle('run', (c) => void (c.process.args = ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map; echo ok']));
    const id = newId('rl');
    const ours = await runts('run', '--bundle', b, id);
    assert.equal(ours.code, 0, show(ours));
    assert.equal(ours.stderr, '', 'no warning or error');
    const theirs = await runc('run', '--bundle', b, id);
    assert.equal(theirs.code, 0, show(theirs));
    assert.equal(ours.stdout, theirs.stdout);
    assert.match(ours.stdout, new RegExp(`^uid=0\\(root\\) gid=0\\(root\\)[^\\n]*\\n\\s+0\\s+${uid}\\s+1\\n\\s+0\\s+${gid}\\s+1\\nok\\n$`));
    assert.deepEqual(cgroupsOf(id), [], 'no cgroup made');
    assert.ok(!existsSync(join(xdg, 'runts', id)), 'deleted after run');
  });

  test('oci-create + oci-start + oci-state + oci-delete; the default --root is $XDG_RUNTIME_DIR/runts', async () => {
    const b = await bundle('cs', (c) => void (c.process.args = ['sleep', '100']));
    const id = newId('rlcs');
    try {
      const c = await oci('create', '--bundle', b, id);
      assert.equal(c.code, 0, show(c));
      assert.ok(existsSync(join(xdg, 'runts', id, 'state.json')), `state under ${xdg}/runts`);
      assert.equal(JSON.parse((await oci('state', id)).stdout).status, 'created');
      const s = await oci('start', id);
      assert.equal(s.code, 0, show(s));
      const st = JSON.parse((await oci('state', id)).stdout);
      assert.equal(st.status, 'running');
      assert.equal(readFileSync(`/proc/${st.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1], String(uid), 'the container runs as the user on the host');
      const k = await oci('kill', id, 'KILL');
      assert.equal(k.code, 0, show(k));
      for (let i = 0; i < 100 && JSON.parse((await oci('state', id)).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
      const d = await oci('delete', id);
      assert.equal(d.code, 0, show(d));
      assert.ok(!existsSync(join(xdg, 'runts', id)));
    } finally {
      await oci('delete', '--force', id);
    }
  });

  test('a limit that cannot be set is an error naming the field; nothing is left (runc fails too)', async () => {
    const b = await bundle('limit', (c) => void (c.linux.resources = { memory: { limit: 100 * 1024 * 1024 } }));
    const id = newId('rllim');
    const ours = await runts('run', '--bundle', b, id);
    assert.equal(ours.code, 1, show(ours));
    assert.match(ours.error, /^linux\.resources\.memory: cannot set memory limit: rootless: no writable memory cgroup for the container/);
    assert.ok(!existsSync(join(xdg, 'runts', id)), 'no state dir');
    assert.deepEqual(cgroupsOf(id), []);
    const theirs = await runc('run', '--bundle', b, id);
    assert.equal(theirs.code, 1, show(theirs));
  });

  test('an explicit cgroupsPath the user cannot make is an error naming linux.cgroupsPath (runc fails too)', async () => {
    const id = newId('rlcg');
    const b = await bundle('cg', (c) => void (c.linux.cgroupsPath = `/${id}`));
    const ours = await runts('run', '--bundle', b, id);
    assert.equal(ours.code, 1, show(ours));
    assert.match(ours.error, /^linux\.cgroupsPath: .*permission denied/i);
    assert.ok(!existsSync(join(xdg, 'runts', id)));
    assert.deepEqual(cgroupsOf(id), []);
    const theirs = await runc('run', '--bundle', b, id);
    assert.equal(theirs.code, 1, show(theirs));
  });

  test('multi-range uid/gid mappings go through newuidmap/newgidmap, as runc', { skip: have('newuidmap') && have('newgidmap') ? false : 'newuidmap/newgidmap missing (Debian package uidmap, tools/setup.sh)' }, async () => {
    const sub = Number(readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`)).split(':')[1]);
    const subg = Number(readFileSync('/etc/subgid', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`)).split(':')[1]);
    const b = await bundle('multi', (c) => {
      c.linux.uidMappings = [
        { containerID: 0, hostID: uid, size: 1 },
        { containerID: 1, hostID: sub, size: 1000 },
      ];
      c.linux.gidMappings = [
        { containerID: 0, hostID: gid, size: 1 },
        { containerID: 1, hostID: subg, size: 1000 },
      ];
      c.process.args = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; grep -i ^groups /proc/self/status; echo ok'];
    });
    // the rootfs's files owned by container uid 0 map to the user; chown of /tmp inside needs the range
    const id = newId('rlmr');
    const ours = await runts('run', '--bundle', b, id);
    assert.equal(ours.code, 0, show(ours));
    const theirs = await runc('run', '--bundle', b, id);
    assert.equal(theirs.code, 0, show(theirs));
    assert.equal(ours.stdout, theirs.stdout);
    assert.match(ours.stdout, new RegExp(`^\\s+0\\s+${uid}\\s+1\\n\\s+1\\s+${sub}\\s+1000\\n`));
  });
});



// Rootless Podman with runts as its runtime (podman runs the runtime as root of its own user
// namespace: runts then takes $XDG_RUNTIME_DIR/runts and rootless cgroups, as runc does). This
// host's /dev/net/tun is 0600 root, so slirp4netns cannot work for a user: --network none.
describe('rootless Podman with runts', { skip: have('podman') ? false : 'podman is not installed' }, () => {
  let wrapper;
  const podman = (...a) => asUser(['podman', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', wrapper, ...a], { timeout: 120_000 });
  before(async () => {
    wrapper = join(dir, 'runts-wrap');
    writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${process.execPath} ${join(REPO, 'packages/runts/bin/runts.js')} "$@"\n`);
    chmodSync(wrapper, 0o755);
    spawnSync('tar', ['-C', pristineRootfs(), '-cf', join(dir, 'bb.tar'), '.']);
    chownSync(join(dir, 'bb.tar'), uid, gid);
    const r = await podman('import', join(dir, 'bb.tar'), 'localhost/rte2e-bb:latest');
    assert.equal(r.code, 0, show(r));
  });
  after(async () => {
    await podman('rm', '--all', '--force', '--time', '0');
    await asUser(['podman', 'system', 'reset', '--force']);
  });

  test('run (output, exit code, the user namespace), run -d, exec, stop, rm', async () => {
    const r = await podman('run', '--rm', '--network', 'none', 'localhost/rte2e-bb:latest', 'sh', '-c', 'echo hello; id -u; cat /proc/self/uid_map; exit 4');
    assert.equal(r.code, 4, show(r));
    assert.match(r.stdout, new RegExp(`^hello\\n0\\n\\s+0\\s+${uid}\\s+1\\n\\s+1\\s+\\d+\\s+\\d+\\n$`));
    const name = newId('pmrl');
    const d = await podman('run', '-d', '--name', name, '--network', 'none', 'localhost/rte2e-bb:latest', 'sleep', '1000');
    assert.equal(d.code, 0, show(d));
    const cid = d.stdout.trim().split('\n').pop();
    assert.ok(existsSync(join(xdg, 'runts', cid, 'state.json')), `runts keeps the state under $XDG_RUNTIME_DIR/runts/${cid}`);
    const e = await podman('exec', name, 'sh', '-c', 'echo exec-ok; exit 3');
    assert.equal(e.code, 3, show(e));
    assert.equal(e.stdout, 'exec-ok\n');
    assert.match((await podman('ps', '--format', '{{.Names}} {{.Status}}')).stdout, new RegExp(`${name} Up`));
    const s = await podman('stop', '-t', '1', name);
    assert.equal(s.code, 0, show(s));
    const rm = await podman('rm', name);
    assert.equal(rm.code, 0, show(rm));
    assert.ok(!existsSync(join(xdg, 'runts', cid)), 'deleted');
  });
});
