// `podman run --device` with runts as the runtime (issue 10): Podman sends linux.devices[].fileMode
// with the file-type bits (S_IFCHR | perm, e.g. 0o20600) and an allow rule for the device; runts
// must accept the mode as runc does (permission bits used) and the container must open the
// device, with the same node (mode, numbers) as under runc.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUN_DIR, MAKE_ROOTFS, cleanEnv, safeRemove } from '../lib/index.mjs';

const dir = join(RUN_DIR, `pd-${process.pid}`); // short: Podman refuses a runroot over 50 characters
const wrapper = join(dir, 'runts');
const image = 'localhost/rte2e-busybox-dev:latest';
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sh = (argv) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', text: `$ ${argv.join(' ')}\n-> ${r.status}\n${r.stdout}\n${r.stderr}` };
};

describe('podman run --device', { skip: have('podman') && existsSync('/dev/fuse') ? false : 'needs podman and /dev/fuse' }, () => {
  const store = (runtime) => ['--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--runtime', runtime];
  const opts = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000'];
  before(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${process.execPath} ${join(REPO, 'packages/runts/bin/runts.js')} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const rootfs = join(dir, 'rootfs');
    assert.equal(sh(['bash', MAKE_ROOTFS, rootfs]).code, 0);
    assert.equal(sh(['tar', '-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']).code, 0);
    const r = sh(['podman', ...store(wrapper), 'import', join(dir, 'busybox.tar'), image]);
    assert.equal(r.code, 0, r.text);
  });
  after(() => {
    sh(['podman', ...store(wrapper), 'rm', '--all', '--force', '--time', '0']);
    sh(['podman', ...store(wrapper), 'system', 'reset', '--force']);
    safeRemove(dir);
  });

  test('the device is made with the permission bits and can be opened, as under runc', () => {
    const out = {};
    for (const [name, runtime] of [['runc', 'runc'], ['runts', wrapper]]) {
      const r = sh(['podman', ...store(runtime), 'run', '--rm', ...opts, '--device', '/dev/fuse', image, 'sh', '-c', 'stat -c "%F %a %t:%T" /dev/fuse; ( : </dev/fuse ) && echo fuse-open; ( : </dev/mem ) 2>/dev/null || echo mem-refused']);
      assert.equal(r.code, 0, r.text);
      out[name] = r.stdout.trim();
    }
    assert.equal(out.runts, out.runc);
    assert.match(out.runts, /^character special file 600 a:e5\nfuse-open\nmem-refused$/);
  });
});
