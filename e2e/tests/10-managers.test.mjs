// Real container managers with runts as their runtime, the way users plug it in: Podman (conmon)
// and containerd (ctr, shim v2) each run a busybox image made by tools/make-rootfs: run, detached
// run, exec with an exit code, pause/resume, stop/kill, remove. Each gets its own storage and, for
// containerd, its own daemon, all removed at the end. Podman asks for RLIMIT_NOFILE above this
// host's hard limit, so the tests pass --ulimit; Podman's own default seccomp profile is used.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync, existsSync, copyFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { arch } from 'node:process';
import { join } from 'node:path';
import { REPO, RUN_DIR, MAKE_ROOTFS, cleanEnv, newId, safeRemove, RUNTS_COMMAND } from '../lib/index.mjs';

const dir = join(RUN_DIR, `managers-${process.pid}`);
const wrapper = join(dir, 'runts'); // what the managers call: runts, without the CA bundle env
const image = 'localhost/rte2e-busybox:latest';
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A docker-archive of the busybox rootfs (what `docker save` writes): one layer, a config, a
 *  manifest. containerd imports it as is. */
function dockerArchive() {
  const out = join(dir, 'image');
  mkdirSync(out, { recursive: true });
  copyFileSync(join(dir, 'busybox.tar'), join(out, 'layer.tar'));
  const diffId = 'sha256:' + createHash('sha256').update(readFileSync(join(out, 'layer.tar'))).digest('hex');
  const config = { architecture: arch === 'x64' ? 'amd64' : arch, os: 'linux', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } };
  writeFileSync(join(out, 'config.json'), JSON.stringify(config));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [image], Layers: ['layer.tar'] }]));
  const tar = join(dir, 'image.tar');
  assert.equal(sh(['tar', '-C', out, '-cf', tar, 'manifest.json', 'config.json', 'layer.tar']).code, 0);
  return tar;
}

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: cleanEnv(), timeout: 60_000, ...opts });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', text: `$ ${argv.join(' ')}\n-> ${r.status}\n${r.stdout}\n${r.stderr}` };
}

before(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${RUNTS_COMMAND.join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const rootfs = join(dir, 'rootfs');
  assert.equal(sh(['bash', MAKE_ROOTFS, rootfs]).code, 0);
  assert.equal(sh(['tar', '-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']).code, 0);
});
after(() => safeRemove(dir));

describe('podman with runts', { skip: have('podman') ? false : 'podman is not installed (tools/setup.sh installs it)' }, () => {
  const store = () => ['--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--runtime', wrapper];
  const opts = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000'];
  const podman = (...a) => sh(['podman', ...store(), ...a]);
  before(() => {
    const r = podman('import', join(dir, 'busybox.tar'), image);
    assert.equal(r.code, 0, r.text);
  });
  after(() => {
    podman('rm', '--all', '--force', '--time', '0');
    sh(['podman', ...store(), 'system', 'reset', '--force']);
  });

  test('podman run: output, exit code, the container sees its own namespaces', () => {
    const r = podman('run', '--rm', ...opts, image, 'sh', '-c', 'echo hello; test "$$" = 1 && echo pid1; grep "^Seccomp:" /proc/self/status; exit 5');
    assert.equal(r.code, 5, r.text);
    assert.equal(r.stdout, 'hello\npid1\nSeccomp:\t2\n', 'with podman\'s default seccomp profile');
  });

  test('podman run --read-only --tmpfs (Podman adds tmpcopyup, runc\'s EXT_COPYUP)', () => {
    const r = podman('run', '--rm', '--read-only', '--tmpfs', '/etc/x', ...opts, image, 'sh', '-c', 'touch /etc/x/a && echo tmpfs-ok; touch /etc/passwd 2>/dev/null || echo ro-ok; touch /tmp/t && echo tmp-ok');
    assert.equal(r.code, 0, r.text);
    assert.equal(r.stdout, 'tmpfs-ok\nro-ok\ntmp-ok\n', r.text);
  });

  test('podman run -d, exec, top, pause/unpause, stop, rm', () => {
    const name = newId('pm');
    const d = podman('run', '-d', '--name', name, ...opts, image, 'sleep', '1000');
    assert.equal(d.code, 0, d.text);
    try {
      const e = podman('exec', name, 'sh', '-c', 'echo exec-ok; exit 3');
      assert.equal(e.code, 3, e.text);
      assert.equal(e.stdout, 'exec-ok\n');
      assert.match(podman('top', name).stdout, /sleep 1000/);
      assert.equal(podman('pause', name).code, 0);
      assert.match(podman('inspect', '--format', '{{.State.Status}}', name).stdout, /paused/);
      assert.equal(podman('unpause', name).code, 0);
      const s = podman('stop', '-t', '1', name);
      assert.equal(s.code, 0, s.text);
      assert.match(podman('inspect', '--format', '{{.State.Status}}', name).stdout, /exited/);
    } finally {
      assert.equal(podman('rm', '--force', name).code, 0);
    }
  });
});

describe('containerd (ctr) with runts', { skip: have('containerd') && have('ctr') ? false : 'containerd is not installed (tools/setup.sh installs it)' }, () => {
  const addr = join(dir, 'containerd.sock');
  let daemon;
  const ctr = (...a) => sh(['ctr', '--address', addr, ...a]);
  before(async () => {
    mkdirSync(join(dir, 'containerd'), { recursive: true });
    writeFileSync(join(dir, 'containerd.toml'), `version = 2\nroot = "${join(dir, 'containerd', 'root')}"\nstate = "${join(dir, 'containerd', 'state')}"\n[grpc]\n  address = "${addr}"\n[ttrpc]\n  address = "${addr}.ttrpc"\n`);
    daemon = spawn('containerd', ['--config', join(dir, 'containerd.toml')], { stdio: 'ignore', env: cleanEnv() });
    for (let i = 0; i < 100 && !existsSync(addr); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(addr), 'containerd is up');
    const r = ctr('images', 'import', dockerArchive());
    assert.equal(r.code, 0, r.text);
  });
  after(async () => {
    for (const t of ctr('tasks', 'ls', '-q').stdout.split('\n').filter(Boolean)) ctr('tasks', 'kill', '-s', 'SIGKILL', t);
    await new Promise((r) => setTimeout(r, 300));
    for (const c of ctr('containers', 'ls', '-q').stdout.split('\n').filter(Boolean)) {
      ctr('tasks', 'delete', '-f', c);
      ctr('containers', 'delete', c);
    }
    daemon?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
  });

  test('ctr run: output and exit code through the shim', () => {
    const r = ctr('run', '--rm', '--runc-binary', wrapper, image, newId('ctr'), 'sh', '-c', 'echo hello from ctr; exit 4');
    assert.equal(r.code, 4, r.text);
    assert.equal(r.stdout, 'hello from ctr\n');
  });

  test('ctr run -d, task exec, pause/resume, kill, delete', async () => {
    const id = newId('ctrd');
    const d = ctr('run', '-d', '--runc-binary', wrapper, image, id, 'sleep', '1000');
    assert.equal(d.code, 0, d.text);
    const e = ctr('tasks', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo exec-ok; exit 3');
    assert.equal(e.code, 3, e.text);
    assert.equal(e.stdout, 'exec-ok\n');
    assert.equal(ctr('tasks', 'pause', id).code, 0);
    assert.match(ctr('tasks', 'ls').stdout, new RegExp(`${id}\\s+\\d+\\s+PAUSED`));
    assert.equal(ctr('tasks', 'resume', id).code, 0);
    assert.equal(ctr('tasks', 'kill', '-s', 'SIGKILL', id).code, 0);
    for (let i = 0; i < 50 && !/STOPPED/.test(ctr('tasks', 'ls').stdout); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(ctr('tasks', 'ls').stdout, new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
    assert.equal(ctr('tasks', 'delete', id).code, 0);
    assert.equal(ctr('containers', 'delete', id).code, 0);
  });
});
