// Bad input (issue 9): each case gets a clear error naming the field or path, exit code 1, and
// nothing changed on the host: no file in the bundle or the state root, no mount, no cgroup, no
// process. One table; runc runs on the same input beside it (printed with t.diagnostic: runc hangs
// on a FIFO config.json or namespace path, where runts refuses). A state.json naming a host
// process is in 12-state-attacks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, mkdirSync, symlinkSync, existsSync, rmSync, rmdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, cgroupsOf, processesOf, mountsUnder, RUN_DIR } from '../lib/index.mjs';

const rt = runtime('runts');
const runc = runtime('runc');
let bundle;
const pristine = {};

before(async () => {
  bundle = await makeBundle({ name: 'badinput', args: ['sleep', '1000'] });
  pristine.config = readFileSync(join(bundle.dir, 'config.json'), 'utf8');
});
after(() => bundle?.cleanup());

const ns = (c, type, path) => {
  const n = c.linux.namespaces.find((x) => x.type === type);
  n.path = path;
};
const fifo = (p) => execFileSync('mkfifo', [p]);

/** Everything a failed create must leave as it was. */
function snapshot(id) {
  const list = (d) => {
    try {
      return readdirSync(d).sort();
    } catch {
      return [];
    }
  };
  return {
    bundleFiles: list(bundle.dir),
    rootfsFiles: list(bundle.rootfs),
    stateRoot: list(rt.root).filter((n) => n.includes(id)),
    mounts: [...mountsUnder(bundle.dir), ...mountsUnder(rt.root)],
    cgroups: cgroupsOf(id),
    processes: processesOf({ dirs: [bundle.dir], idPrefix: id }).map((p) => p.pid),
  };
}

// name, the config edit (may write files into the bundle; returns a replacement text to write
// as is, or nothing), the error runts must give, and whether runc runs beside it.
const CASES = [
  ['an id climbing with ..', { id: '../../x' }, /invalid container ID format/],
  ['an id with a slash', { id: 'a/b' }, /invalid container ID format/],
  ['the id ..', { id: '..' }, /invalid container ID format/],
  ['nesting 100000 deep', { text: (c) => JSON.stringify(c).slice(0, -1) + ',"z":' + '['.repeat(100000) + ']'.repeat(100000) + '}' }, /config\.json: invalid JSON: z\[0\]\[0\].*: nested deeper than 1000 levels/],
  ['nesting 2000 deep in linux', { text: (c) => JSON.stringify(c).slice(0, -1).replace(/"linux":\{/, '"linux":{"deep":' + '{"a":'.repeat(2000) + '1' + '}'.repeat(2000) + ',') + '}' }, /invalid JSON: linux\.deep\.a\.a.*: nested deeper than 1000 levels/],
  ['ociVersion a number', { edit: (c) => (c.ociVersion = 42) }, /ociVersion: must be a string/],
  ['root a string', { edit: (c) => (c.root = 'rootfs') }, /root: must be an object/],
  ['mounts an object', { edit: (c) => (c.mounts = {}) }, /mounts: must be an array/],
  ['process an array', { edit: (c) => (c.process = []) }, /process: must be an object/],
  ['hostname a number', { edit: (c) => (c.hostname = 42) }, /hostname: must be a string/],
  ['domainname an array', { edit: (c) => (c.domainname = ['x']) }, /domainname: must be a string/],
  ['hooks an array', { edit: (c) => (c.hooks = []) }, /hooks: must be an object/],
  ['annotations a string', { edit: (c) => (c.annotations = 'x') }, /annotations: must be an object/],
  ['linux a number', { edit: (c) => (c.linux = 1) }, /linux: must be an object/],
  ['uid over 2^32-1', { edit: (c) => (c.process.user.uid = 4294967296) }, /process\.user\.uid: must be between 0 and 4294967295/],
  ['gid over 2^32-1', { edit: (c) => (c.process.user.gid = 2 ** 40) }, /process\.user\.gid: must be between 0 and 4294967295/],
  ['an rlimit over 2^64-1', { text: (c) => JSON.stringify(c).replace(/"soft":1024/, '"soft":18446744073709551616') }, /process\.rlimits\[0\]\.soft: must be between 0 and 18446744073709551615/],
  ['oomScoreAdj 1001', { edit: (c) => (c.process.oomScoreAdj = 1001) }, /process\.oomScoreAdj: 1001 is out of range \[-1000, 1000\]/],
  ['oomScoreAdj -1001', { edit: (c) => (c.process.oomScoreAdj = -1001) }, /process\.oomScoreAdj: -1001 is out of range/],
  ['a memory limit over int64', { text: (c) => JSON.stringify({ ...c, linux: { ...c.linux, resources: { memory: { limit: 'X' } } } }).replace('"X"', '18446744073709551616') }, /linux\.resources\.memory\.limit: must be between -9223372036854775808 and 9223372036854775807/],
  ['a hook without a path', { edit: (c) => (c.hooks = { prestart: [{ args: ['x'] }] }) }, /hooks\.prestart\[0\]\.path: is required/],
  ['a hook whose path is missing', { edit: (c) => (c.hooks = { prestart: [{ path: '/nonexistent/hook' }] }) }, /hooks\.prestart\[0\] \(\/nonexistent\/hook\): .*no such file or directory/],
  ['a namespace path that is a regular file', { edit: (c, b) => (writeFileSync(join(b, 'ns-file'), ''), ns(c, 'network', join(b, 'ns-file'))) }, /linux\.namespaces\[\d\]\.path: .*ns-file is not a namespace \(a regular file\)/],
  ['a namespace path that is a dir', { edit: (c, b) => (mkdirSync(join(b, 'ns-dir'), { recursive: true }), ns(c, 'network', join(b, 'ns-dir'))) }, /linux\.namespaces\[\d\]\.path: .*ns-dir is not a namespace \(a directory\)/],
  ['a namespace path that is a FIFO with no writer', { edit: (c, b) => (fifo(join(b, 'ns-fifo')), ns(c, 'network', join(b, 'ns-fifo'))) }, /linux\.namespaces\[\d\]\.path: .*ns-fifo is not a namespace \(a fifo\)/],
  ['a namespace of the wrong type', { edit: (c) => ns(c, 'network', `/proc/${process.pid}/ns/ipc`) }, /linux\.namespaces\[\d\]\.path: \/proc\/\d+\/ns\/ipc is a ipc namespace, not network/],
  ['cgroupsPath "/" (the root cgroup)', { edit: (c) => (c.linux.cgroupsPath = '/') }, /linux\.cgroupsPath: "\/" is the root of the cgroup hierarchy/],
  ['cgroupsPath "/.." (cleaned to the root)', { edit: (c) => (c.linux.cgroupsPath = '/..') }, /linux\.cgroupsPath: .*(root of the cgroup hierarchy|leaves the cgroup hierarchy)/],
  ['config.json a JSON string', { text: () => '"x"' }, /invalid .*config\.json: must be an object/],
  ['config.json a FIFO with no writer', { file: (b) => fifo(join(b, 'config.json')) }, /config\.json: not a regular file \(a fifo\)/],
  ['config.json a directory', { file: (b) => mkdirSync(join(b, 'config.json')) }, /config\.json: not a regular file \(a directory\)/],
];

function prepare(spec) {
  rmSync(join(bundle.dir, 'config.json'), { recursive: true, force: true });
  for (const f of ['ns-file', 'ns-dir', 'ns-fifo', 'real.json']) rmSync(join(bundle.dir, f), { recursive: true, force: true });
  const c = JSON.parse(pristine.config);
  if (spec.file) return spec.file(bundle.dir);
  if (spec.edit) spec.edit(c, bundle.dir);
  writeFileSync(join(bundle.dir, 'config.json'), spec.text ? spec.text(c) : JSON.stringify(c));
}

describe('bad input: a clear error naming the field, exit 1, nothing changed on the host', () => {
  for (const [name, spec, expected] of CASES) {
    test(name, async (t) => {
      prepare(spec);
      const id = spec.id ?? newId('bad');
      t.after(() => rt.forceDelete(id));
      const before = snapshot(id);
      const r = await rt.create(id, { bundle: bundle.dir }, { timeout: 20_000 });
      assert.equal(r.code, 1, show(r));
      assert.ok(!r.timedOut, 'runts does not block');
      assert.match(r.error, expected, show(r));
      assert.deepEqual(snapshot(id), before, 'nothing changed on the host');
      // runc beside it (a FIFO makes runc block: it gets 3 s)
      const rid = spec.id ?? newId('rbad');
      const rr = await runc.create(rid, { bundle: bundle.dir }, { timeout: 3000 });
      await runc.forceDelete(rid);
      for (const p of processesOf({ dirs: [bundle.dir], idPrefix: rid })) {
        try {
          process.kill(p.pid, 'SIGKILL'); // a runc blocked on the FIFO
        } catch {
          /* gone */
        }
      }
      if (rr.timedOut) {
        await new Promise((r) => setTimeout(r, 100));
        for (const dir of cgroupsOf(rid)) rmdirSync(dir); // what the killed runc left
      }
      t.diagnostic(`runc: ${rr.timedOut ? 'HANGS (killed after 3 s)' : `code ${rr.code}: ${rr.error.split('\n').pop().slice(0, 200)}`}`);
    });
  }

  test('the id reaches the runtime exactly: a NUL cannot be passed in argv; kill and delete refuse bad ids too', async () => {
    for (const verb of ['kill', 'delete', 'state', 'start']) {
      const r = await rt.cmd(verb, ['../../etc']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.error, /invalid container ID format/);
    }
  });
});

describe('accepted input runc accepts', () => {
  test('a 10 MB config.json creates (no 4 MiB message cap), then deletes cleanly', async (t) => {
    const c = JSON.parse(pristine.config);
    c.annotations = {};
    for (let i = 0; i < 100_000; i++) c.annotations[`k${i}`] = 'x'.repeat(100);
    rmSync(join(bundle.dir, 'config.json'), { recursive: true, force: true });
    writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(c));
    t.after(() => writeFileSync(join(bundle.dir, 'config.json'), pristine.config));
    assert.ok(readFileSync(join(bundle.dir, 'config.json')).length > 10_000_000);
    const id = newId('big');
    t.after(() => rt.forceDelete(id));
    const r = await rt.create(id, { bundle: bundle.dir });
    assert.equal(r.code, 0, show(r));
    assert.equal((await rt.stateJson(id))?.status, 'created');
    assert.equal((await rt.delete(id, { force: true })).code, 0);
    assert.deepEqual(cgroupsOf(id), []);
  });

  test('a config.json that is a symlink is read, as runc reads it', async (t) => {
    rmSync(join(bundle.dir, 'config.json'), { recursive: true, force: true });
    const real = join(RUN_DIR, `real-config-${process.pid}.json`);
    writeFileSync(real, pristine.config);
    symlinkSync(real, join(bundle.dir, 'config.json'));
    t.after(() => {
      rmSync(join(bundle.dir, 'config.json'), { force: true });
      writeFileSync(join(bundle.dir, 'config.json'), pristine.config);
      rmSync(real, { force: true });
    });
    for (const r of [rt, runc]) {
      const id = newId(`cfglink-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.create(id, { bundle: bundle.dir });
      assert.equal(c.code, 0, show(c));
      assert.equal((await r.delete(id, { force: true })).code, 0);
    }
    assert.ok(existsSync(real));
  });
});
