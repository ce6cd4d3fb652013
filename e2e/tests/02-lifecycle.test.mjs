// Lifecycle and exit codes, as runc has them (and as ../shared/reference/README.md says clients
// parse them). Every container is removed in t.after, even when the test fails.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync, writeFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, waitPidExit, waitStatus, cgroupsOf, processesOf, mountsUnder } from '../lib/index.mjs';

const rt = runtime();
let sleeper; // a bundle whose process sleeps
let exiter; // a bundle whose process exits 42

before(async () => {
  sleeper = await makeBundle({ name: 'sleep', args: ['sleep', '1000'] });
  exiter = await makeBundle({ name: 'exit42', args: ['sh', '-c', 'echo out; echo err >&2; exit 42'] });
});
after(() => {
  sleeper?.cleanup();
  exiter?.cleanup();
});

/** Registers a forced delete of id after the test. */
function track(t, id) {
  t.after(() => rt.forceDelete(id));
  return id;
}

async function created(t, name = 'c', bundle = sleeper) {
  const id = track(t, newId(name));
  const r = await rt.create(id, { bundle: bundle.dir });
  assert.equal(r.code, 0, show(r));
  return id;
}

/** Asserts that nothing of `id` is left: no state dir, cgroup, process or mount. */
function assertNothingLeft(id) {
  assert.deepEqual(readdirSync(rt.root).filter((e) => e === id), [], 'no state dir');
  assert.deepEqual(cgroupsOf(id), [], 'no cgroup');
  assert.deepEqual(processesOf({ idPrefix: id }), [], 'no process');
  assert.deepEqual(mountsUnder(join(rt.root, id)), [], 'no mount');
}

const STATE_KEYS = ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner'];

describe(`lifecycle (${rt.name})`, () => {
  test('state of created, running and stopped', async (t) => {
    const id = await created(t, 'state');
    const c = await rt.stateJson(id);
    assert.deepEqual(Object.keys(c), STATE_KEYS, 'the keys and their order, as runc prints them');
    assert.equal(c.ociVersion, '1.0.2-dev', 'runc 1.1.5 reports the spec version it was built with');
    assert.equal(c.id, id);
    assert.equal(c.status, 'created');
    assert.ok(Number.isInteger(c.pid) && c.pid > 0);
    assert.ok(existsSync(`/proc/${c.pid}`));
    assert.equal(c.bundle, sleeper.dir);
    assert.equal(c.rootfs, sleeper.rootfs);
    assert.match(c.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(c.owner, '');
    const text = (await rt.state(id)).stdout;
    assert.equal(text, JSON.stringify(c, null, '  '), 'pretty-printed with two spaces and no trailing newline, like runc');

    assert.equal((await rt.start(id)).code, 0);
    const r = await rt.stateJson(id);
    assert.equal(r.status, 'running');
    assert.equal(r.pid, c.pid);
    assert.equal(r.created, c.created);

    const k = await rt.kill(id, 'KILL');
    assert.equal(k.code, 0, show(k));
    assert.ok(await waitPidExit(c.pid));
    const s = await waitStatus(rt, id, 'stopped');
    assert.equal(s.pid, 0, 'pid 0 when stopped');
    assert.deepEqual(Object.keys(s), STATE_KEYS);
  });

  test('start twice: 1', async (t) => {
    const id = await created(t, 'start2');
    assert.equal((await rt.start(id)).code, 0);
    const r = await rt.start(id);
    assert.equal(r.code, 1, show(r));
    assert.match(r.error, /cannot start an already running container/);
  });

  test('kill: of a stopped container 1 "container not running", --all of a stopped one 0', async (t) => {
    const id = await created(t, 'kill');
    const { pid } = await rt.stateJson(id);
    assert.equal((await rt.start(id)).code, 0);
    assert.equal((await rt.kill(id, '9')).code, 0, 'signal as a number');
    assert.ok(await waitPidExit(pid));
    await waitStatus(rt, id, 'stopped');
    const r = await rt.kill(id, 'KILL');
    assert.equal(r.code, 1, show(r));
    assert.match(r.error, /container not running/);
    const all = await rt.kill(id, '9', { all: true });
    assert.equal(all.code, 0, show(all));
  });

  test('kill of a created container, signal by name', async (t) => {
    const id = await created(t, 'killc');
    const { pid } = await rt.stateJson(id);
    const r = await rt.kill(id, 'SIGKILL');
    assert.equal(r.code, 0, show(r));
    assert.ok(await waitPidExit(pid));
    assert.equal((await waitStatus(rt, id, 'stopped')).pid, 0);
  });

  test('delete: running without --force 1, with --force 0, then gone', async (t) => {
    const id = await created(t, 'del');
    const { pid } = await rt.stateJson(id);
    assert.equal((await rt.start(id)).code, 0);
    const r = await rt.delete(id);
    assert.equal(r.code, 1, show(r));
    assert.match(r.error, /cannot delete container .* that is not stopped: running/);
    assert.equal((await rt.stateJson(id)).status, 'running', 'still running');
    const f = await rt.delete(id, { force: true });
    assert.equal(f.code, 0, show(f));
    assert.ok(await waitPidExit(pid, 2000), 'delete --force waits for the process');
    const s = await rt.state(id);
    assert.equal(s.code, 1);
    assertNothingLeft(id);
  });

  test('delete of a created, never started container without --force: 0', async (t) => {
    const id = await created(t, 'delc');
    const { pid } = await rt.stateJson(id);
    const r = await rt.delete(id);
    assert.equal(r.code, 0, show(r));
    assert.ok(await waitPidExit(pid, 2000));
    assertNothingLeft(id);
  });

  test('delete of a stopped container: 0', async (t) => {
    const id = await created(t, 'dels', exiter);
    const { pid } = await rt.stateJson(id);
    assert.equal((await rt.start(id)).code, 0);
    assert.ok(await waitPidExit(pid));
    await waitStatus(rt, id, 'stopped');
    const r = await rt.delete(id);
    assert.equal(r.code, 0, show(r));
    assertNothingLeft(id);
  });

  test('delete --force of a missing container: 0; delete of one: 1', async () => {
    const id = newId('missing');
    const f = await rt.delete(id, { force: true });
    assert.equal(f.code, 0, show(f));
    const r = await rt.delete(id);
    assert.equal(r.code, 1, show(r));
    assert.match(r.error, /container does not exist/);
  });

  test('state, start, kill of a missing container: 1 "container does not exist"', async () => {
    const id = newId('missing');
    for (const r of [await rt.state(id), await rt.start(id), await rt.kill(id, 'KILL')]) {
      assert.equal(r.code, 1, show(r));
      assert.match(r.error, /container does not exist/);
      assert.equal(r.stdout, '');
    }
  });

  test('create of an existing id: 1 "container with given ID already exists"', async (t) => {
    const id = await created(t, 'dup');
    const before = await rt.stateJson(id);
    const r = await rt.create(id, { bundle: sleeper.dir });
    assert.equal(r.code, 1, show(r));
    assert.match(r.error, /container with given ID already exists/);
    assert.deepEqual(await rt.stateJson(id), before, 'the first container is untouched');
  });

  test('invalid ids: 1 "invalid container ID format", nothing created', async () => {
    for (const id of ['a/b', '..', '.', 'a b', 'x:y', '-abc']) {
      const r = await rt.create(id, { bundle: sleeper.dir });
      assert.equal(r.code, 1, `${id}\n${show(r)}`);
      if (id !== '-abc') assert.match(r.error, /invalid container ID format/, id); // -abc is taken as a flag
    }
    assert.deepEqual(readdirSync(rt.root).filter((e) => !e.startsWith('rte2e-')), []);
  });

  test('missing binary in args: create fails with "executable file not found in $PATH", nothing left', async () => {
    const b = await makeBundle({ name: 'nobin', args: ['no-such-binary', 'x'] });
    try {
      const id = newId('nobin');
      const r = await rt.create(id, { bundle: b.dir });
      assert.equal(r.code, 1, show(r));
      assert.match(r.error, /exec: "no-such-binary": executable file not found in \$PATH/);
      assertNothingLeft(id);
      // an absolute path that does not exist: "no such file or directory"
      const b2 = await makeBundle({ name: 'nobin2', args: ['/bin/no-such-binary'] });
      try {
        const id2 = newId('nobin2');
        const r2 = await rt.create(id2, { bundle: b2.dir });
        assert.equal(r2.code, 1, show(r2));
        assert.match(r2.error, /no such file or directory/);
        assertNothingLeft(id2);
      } finally {
        b2.cleanup();
      }
    } finally {
      b.cleanup();
    }
  });

  test('a bad mount: error names the mount, nothing left', async () => {
    const b = await makeBundle({
      name: 'badmount',
      mounts: [{ destination: '/data', type: 'bind', source: '/nonexistent/e2e-source', options: ['rbind'] }],
    });
    try {
      const index = b.config.mounts.length - 1;
      const id = newId('badmount');
      const r = await rt.create(id, { bundle: b.dir });
      assert.equal(r.code, 1, show(r));
      if (rt.name === 'runc') {
        // runc 1.1.5 names the source and destination, not the config field.
        assert.match(r.error, /error mounting "\/nonexistent\/e2e-source" to rootfs at "\/data": stat \/nonexistent\/e2e-source: no such file or directory/);
      } else {
        // ARCHITECTURE.md: the error names the config field: mounts[N] (/data): ...
        assert.match(r.error, new RegExp(`mounts\\[${index}\\] \\(/data\\).*no such file or directory`));
      }
      assertNothingLeft(id);
      assert.ok(!existsSync(join(b.rootfs, 'data')) || readdirSync(join(b.rootfs, 'data')).length === 0);
    } finally {
      b.cleanup();
    }
  });

  test('a bad config: 1, nothing left', async () => {
    const b = await makeBundle({ name: 'badcfg' });
    try {
      writeFileSync(b.path('config.json'), '{ "ociVersion": "1.0.2", "process": ');
      const id = newId('badcfg');
      const r = await rt.create(id, { bundle: b.dir });
      assert.equal(r.code, 1, show(r));
      assertNothingLeft(id);
      const id2 = newId('nobundle');
      const r2 = await rt.create(id2, { bundle: b.path('no-such-dir') });
      assert.equal(r2.code, 1, show(r2));
      assertNothingLeft(id2);
    } finally {
      b.cleanup();
    }
  });

  test('pid file: the decimal pid, no newline, present when create exits', async (t) => {
    const id = track(t, newId('pidfile'));
    const pidFile = join(sleeper.dir, `${id}.pid`);
    const r = await rt.create(id, { bundle: sleeper.dir, pidFile });
    assert.equal(r.code, 0, show(r));
    const text = readFileSync(pidFile, 'utf8');
    assert.match(text, /^[1-9]\d*$/);
    assert.equal(Number(text), (await rt.stateJson(id)).pid);
  });

  test('run: exit code of the process, its output on the caller\'s stdio, container removed', async () => {
    const id = newId('run');
    const r = await rt.run(id, { bundle: exiter.dir });
    assert.equal(r.code, 42, show(r));
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal((await rt.state(id)).code, 1, 'run removes the container');
    assertNothingLeft(id);
  });

  test('run: 128+signal when the process is killed', async () => {
    const id = newId('runkill');
    const b = await makeBundle({ name: 'runkill', args: ['sleep', '1000'] });
    try {
      const running = rt.run(id, { bundle: b.dir });
      const s = await waitStatus(rt, id, 'running');
      process.kill(s.pid, 'SIGKILL');
      const r = await running;
      assert.equal(r.code, 137, show(r));
      assertNothingLeft(id);
    } finally {
      await rt.forceDelete(id);
      b.cleanup();
    }
  });

  test('run --detach: 0, running, pid file', async (t) => {
    const id = track(t, newId('rund'));
    const pidFile = join(sleeper.dir, `${id}.pid`);
    const r = await rt.run(id, { bundle: sleeper.dir, detach: true, pidFile });
    assert.equal(r.code, 0, show(r));
    const s = await rt.stateJson(id);
    assert.equal(s.status, 'running');
    assert.equal(readFileSync(pidFile, 'utf8'), String(s.pid));
  });

  test('list: table, --format json, -q', async (t) => {
    const a = await created(t, 'lista');
    const b = await created(t, 'listb');
    assert.equal((await rt.start(b)).code, 0);
    const table = await rt.list();
    assert.equal(table.code, 0, show(table));
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    const row = (id) => lines.find((l) => l.startsWith(id + ' '))?.split(/\s+/);
    const sa = await rt.stateJson(a);
    assert.deepEqual(row(a), [a, String(sa.pid), 'created', sleeper.dir, sa.created, 'root']);
    assert.equal(row(b)[2], 'running');
    // runc pads columns with tabwriter: every header starts where its column does
    const col = lines[0].indexOf('STATUS');
    assert.equal(lines.find((l) => l.startsWith(a + ' ')).indexOf('created'), col);

    const json = await rt.list({ format: 'json' });
    assert.equal(json.code, 0, show(json));
    const arr = JSON.parse(json.stdout);
    const ja = arr.find((x) => x.id === a);
    assert.deepEqual(Object.keys(ja), STATE_KEYS);
    assert.equal(ja.owner, 'root');
    assert.equal(ja.status, 'created');
    assert.equal(arr.find((x) => x.id === b).status, 'running');

    const q = await rt.list({ quiet: true });
    assert.equal(q.code, 0);
    const ids = q.stdout.trim().split('\n');
    assert.ok(ids.includes(a) && ids.includes(b));
  });

  test('20 containers created in parallel, then all started and deleted', async (t) => {
    const ids = Array.from({ length: 20 }, (_, i) => track(t, newId(`par${i}`)));
    const creates = await Promise.all(ids.map((id) => rt.create(id, { bundle: sleeper.dir })));
    creates.forEach((r) => assert.equal(r.code, 0, show(r)));
    const pids = new Set();
    for (const id of ids) {
      const s = await rt.stateJson(id);
      assert.equal(s.status, 'created');
      pids.add(s.pid);
    }
    assert.equal(pids.size, 20, '20 distinct processes');
    const starts = await Promise.all(ids.map((id) => rt.start(id)));
    starts.forEach((r) => assert.equal(r.code, 0, show(r)));
    const list = JSON.parse((await rt.list({ format: 'json' })).stdout);
    assert.equal(list.filter((c) => ids.includes(c.id) && c.status === 'running').length, 20);
    const deletes = await Promise.all(ids.map((id) => rt.delete(id, { force: true })));
    deletes.forEach((r) => assert.equal(r.code, 0, show(r)));
    for (const pid of pids) assert.ok(await waitPidExit(pid, 5000));
    for (const id of ids) assertNothingLeft(id);
  });

  test('two creates racing for one id: exactly one wins', async (t) => {
    for (let round = 0; round < 3; round++) {
      const id = track(t, newId('race'));
      const rs = await Promise.all([rt.create(id, { bundle: sleeper.dir }), rt.create(id, { bundle: sleeper.dir })]);
      const winners = rs.filter((r) => r.code === 0);
      const losers = rs.filter((r) => r.code !== 0);
      losers.forEach((r) => assert.equal(r.code, 1, show(r)));
      if (rt.name === 'runc') {
        // runc 1.1.5 breaks this: the loser (mkdir of the state dir fails with "file exists")
        // sometimes rolls back the winner's state too, so both fail ("unable to store init
        // state"). For runc only "at most one wins" is asserted; runts must do it right.
        // The loser's errors vary ("file exists", "exec fifo ... already exists", a cgroup write).
        assert.ok(winners.length <= 1, rs.map(show).join('\n'));
      } else {
        // ARCHITECTURE.md: the id is reserved by an exclusive mkdir; the second create fails cleanly.
        assert.equal(winners.length, 1, rs.map(show).join('\n'));
        assert.match(losers[0].error, /container with given ID already exists/);
      }
      if (winners.length) assert.equal((await rt.stateJson(id)).status, 'created');
      assert.equal((await rt.delete(id, { force: true })).code, 0);
      if (rt.name === 'runc') {
        // runc's losing create can leave the winner's cgroup behind (and the winner's process
        // outside it): remove what runc leaked here so that the final leak check is about runts.
        for (const p of processesOf({ idPrefix: id })) process.kill(p.pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 100));
        for (const cg of cgroupsOf(id)) rmdirSync(cg);
        for (const e of readdirSync(rt.root).filter((x) => x === id)) rmSync(join(rt.root, e), { recursive: true });
      }
      assertNothingLeft(id);
    }
  });
});
