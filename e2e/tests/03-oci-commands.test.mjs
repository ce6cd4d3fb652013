// The per-verb commands (oci-create, oci-start, oci-state, oci-kill, oci-delete, oci-list,
// oci-run, oci-exec): the same behaviour as the runts (runc-compatible) verbs, and the same
// state dir, so one can create and the other start.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runtime, available, makeBundle, newId, show, waitPidExit, waitStatus, cgroupsOf } from '../lib/index.mjs';

// Always runs, whatever E2E_RUNTIME says: these are the oci-* commands (build them first).
describe('oci-* commands', () => {
  const oci = runtime('oci');
  // The runc-compatible verbs on the same state root: runts when built, else runc
  // (runc can read nothing of runts's state, so then only oci-* is exercised).
  const multi = available('runts') ? runtime('runts', { root: oci.root }) : null;
  let bundle;
  let exiter;
  before(async () => {
    bundle = await makeBundle({ name: 'oci', args: ['sleep', '1000'] });
    exiter = await makeBundle({ name: 'oci-exit', args: ['sh', '-c', 'echo hi; exit 5'] });
  });
  after(() => {
    bundle?.cleanup();
    exiter?.cleanup();
  });
  const track = (t, id) => {
    t.after(() => oci.forceDelete(id));
    return id;
  };

  test('oci-create x --bundle B && oci-start x; oci-state; oci-kill; oci-delete', async (t) => {
    const id = track(t, newId('oci'));
    const pidFile = bundle.path(`${id}.pid`);
    const c = await oci.create(id, { bundle: bundle.dir, pidFile });
    assert.equal(c.code, 0, show(c));
    const s1 = await oci.stateJson(id);
    assert.equal(s1.status, 'created');
    assert.equal(readFileSync(pidFile, 'utf8'), String(s1.pid));
    assert.equal((await oci.start(id)).code, 0);
    assert.equal((await oci.stateJson(id)).status, 'running');
    assert.equal((await oci.start(id)).code, 1, 'start twice');
    const d = await oci.delete(id);
    assert.equal(d.code, 1, 'delete of a running container without --force');
    assert.equal((await oci.kill(id, 'SIGKILL')).code, 0);
    assert.ok(await waitPidExit(s1.pid));
    assert.equal((await waitStatus(oci, id, 'stopped')).pid, 0);
    const k = await oci.kill(id, 'KILL');
    assert.equal(k.code, 1);
    assert.match(k.error, /container not running/);
    assert.equal((await oci.kill(id, '9', { all: true })).code, 0);
    assert.equal((await oci.delete(id)).code, 0);
    const st = await oci.state(id);
    assert.equal(st.code, 1);
    assert.match(st.error, /container does not exist/);
    assert.equal((await oci.delete(id, { force: true })).code, 0, 'delete --force of a missing one');
    assert.deepEqual(cgroupsOf(id), []);
  });

  test('oci-list: table, json, -q', async (t) => {
    const id = track(t, newId('ocilist'));
    assert.equal((await oci.create(id, { bundle: bundle.dir })).code, 0);
    const table = await oci.list();
    assert.match(table.stdout.split('\n')[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.ok(JSON.parse((await oci.list({ format: 'json' })).stdout).some((c) => c.id === id && c.status === 'created'));
    assert.ok((await oci.list({ quiet: true })).stdout.split('\n').includes(id));
  });

  test('oci-run: exit code and output; --detach', async (t) => {
    const id = newId('ocirun');
    const r = await oci.run(id, { bundle: exiter.dir });
    assert.equal(r.code, 5, show(r));
    assert.equal(r.stdout, 'hi\n');
    assert.equal((await oci.state(id)).code, 1);
    const d = track(t, newId('ocirund'));
    assert.equal((await oci.run(d, { bundle: bundle.dir, detach: true })).code, 0);
    assert.equal((await oci.stateJson(d)).status, 'running');
  });

  test('oci-exec', async (t) => {
    const id = track(t, newId('ociexec'));
    assert.equal((await oci.run(id, { bundle: bundle.dir, detach: true })).code, 0);
    const r = await oci.exec(id, ['sh', '-c', 'echo $X; exit 4'], { env: ['X=y'] });
    assert.equal(r.code, 4, show(r));
    assert.equal(r.stdout, 'y\n');
  });

  test('oci-* and runts share the state dir', { skip: multi ? false : 'runts not built (packages/runts/dist/cli.js)' }, async (t) => {
    const id = track(t, newId('ocimix'));
    assert.equal((await oci.create(id, { bundle: bundle.dir })).code, 0);
    assert.equal((await multi.start(id)).code, 0);
    assert.deepEqual(await multi.stateJson(id), await oci.stateJson(id));
    assert.equal((await multi.delete(id, { force: true })).code, 0);
    assert.equal((await oci.state(id)).code, 1);
  });
});
