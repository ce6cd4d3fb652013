// An interrupted create is rolled back (ARCHITECTURE: trust boundaries). SIGTERM/SIGINT during
// create: runts undoes everything before it exits. SIGKILL: nothing can run, so the next create of
// the id, or delete --force, undoes what is left (the half-made state dir records the init and the
// cgroups). runts only: runc leaves a killed create's init and cgroup behind.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, cgroupsOf, processesOf, RUN_DIR } from '../lib/index.mjs';

const rt = runtime('runts');
let bundle;
const marker = join(RUN_DIR, `slow-hook-${process.pid}`);

before(async () => {
  // the createRuntime hook sleeps while the marker file exists: a create we can interrupt
  bundle = await makeBundle({
    name: 'interrupt',
    args: ['sleep', '1000'],
    edit(c) {
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `if [ -e ${marker} ]; then touch ${marker}.in; sleep 30; fi`] }] };
    },
  });
});
after(() => {
  // a SIGKILLed runtime cannot stop the hook it was running (nor what the hook started): end them here
  for (const p of processesOf({ dirs: [bundle.dir] })) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  bundle?.cleanup();
  rmSync(marker, { force: true });
  rmSync(`${marker}.in`, { force: true });
});

/** Starts a create that blocks in its hook; resolves with the create process once the hook runs. */
async function blockedCreate(id) {
  writeFileSync(marker, '');
  rmSync(`${marker}.in`, { force: true });
  let child;
  const done = rt.create(id, { bundle: bundle.dir }, { onSpawn: (c) => (child = c), timeout: 40_000 });
  for (let i = 0; i < 200 && !existsSync(`${marker}.in`); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(`${marker}.in`), 'the hook is running');
  rmSync(marker, { force: true });
  return { child, done };
}

function nothingLeft(id) {
  assert.ok(!existsSync(join(rt.root, id)), 'no state dir');
  assert.deepEqual(cgroupsOf(id), [], 'no cgroup');
  assert.deepEqual(processesOf({ idPrefix: id }), [], 'no process');
}

describe('interrupted create', () => {
  for (const sig of ['SIGTERM', 'SIGINT']) {
    test(`${sig} during create rolls everything back`, async (t) => {
      const id = newId(`int-${sig.toLowerCase()}`);
      t.after(() => rt.forceDelete(id));
      const { child, done } = await blockedCreate(id);
      assert.ok(existsSync(join(rt.root, id)), 'the create was under way');
      child.kill(sig);
      const r = await done;
      assert.notEqual(r.code, 0, show(r));
      nothingLeft(id);
    });
  }

  test('after SIGKILL, the next create of the id undoes the leftovers and succeeds', async (t) => {
    const id = newId('int-kill');
    t.after(() => rt.forceDelete(id));
    const { child, done } = await blockedCreate(id);
    child.kill('SIGKILL');
    await done;
    assert.ok(existsSync(join(rt.root, id)), 'a killed create leaves its dir');
    const st = await rt.state(id);
    assert.equal(st.code, 1, 'a half-made container does not exist for state');
    const again = await rt.create(id, { bundle: bundle.dir });
    assert.equal(again.code, 0, show(again));
    assert.equal((await rt.stateJson(id))?.status, 'created');
    assert.equal((await rt.delete(id, { force: true })).code, 0);
    nothingLeft(id);
  });

  test('after SIGKILL, delete --force undoes the leftovers', async (t) => {
    const id = newId('int-kill-del');
    t.after(() => rt.forceDelete(id));
    const { child, done } = await blockedCreate(id);
    child.kill('SIGKILL');
    await done;
    assert.ok(cgroupsOf(id).length > 0, 'the killed create left its cgroup');
    const d = await rt.delete(id, { force: true });
    assert.equal(d.code, 0, show(d));
    nothingLeft(id);
  });
});
