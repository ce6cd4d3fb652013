// exec (issue 4): into a running container, with runc's flags; exit codes; errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, waitPidExit, waitStatus, processesOf } from '../lib/index.mjs';

const rt = runtime();
let bundle;
let id; // one running container shared by the tests that only exec into it

before(async () => {
  bundle = await makeBundle({
    name: 'exec',
    args: ['sleep', '1000'],
    readonly: false,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'FROM_CONFIG=1'],
    hostname: 'exec-host',
  });
  id = newId('exec');
  const c = await rt.create(id, { bundle: bundle.dir });
  assert.equal(c.code, 0, show(c));
  const s = await rt.start(id);
  assert.equal(s.code, 0, show(s));
});
after(async () => {
  await rt.forceDelete(id);
  bundle?.cleanup();
});

describe(`exec (${rt.name})`, () => {
  test('a command: its stdout, stderr and exit code; in the container\'s namespaces', async () => {
    const r = await rt.exec(id, ['sh', '-c', 'hostname; echo err >&2; exit 3']);
    assert.equal(r.code, 3, show(r));
    assert.equal(r.stdout, 'exec-host\n');
    assert.equal(r.stderr, 'err\n');
    const ns = await rt.exec(id, ['sh', '-c', 'for n in pid mnt net; do readlink /proc/1/ns/$n; readlink /proc/self/ns/$n; done']);
    assert.equal(ns.code, 0, show(ns));
    const l = ns.stdout.trim().split('\n');
    assert.equal(l[0], l[1], 'same pid ns as the init');
    assert.equal(l[2], l[3], 'same mount ns');
    assert.equal(l[4], l[5], 'same net ns');
    const cg = await rt.exec(id, ['cat', '/proc/self/cgroup']);
    assert.ok(cg.stdout.trim().split('\n').every((x) => x.endsWith(`/${id}`)), `in the container's cgroup:\n${cg.stdout}`);
  });

  test('the process settings of config.json by default (env, cwd, user, caps)', async () => {
    const r = await rt.exec(id, ['sh', '-c', 'echo "$FROM_CONFIG $(pwd) $(id -u) $(grep CapEff /proc/self/status | cut -f2)"']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '1 / 0 0000000020000420\n');
  });

  test('--cwd, --env, --user uid:gid, --additional-gids', async () => {
    const r = await rt.exec(id, ['sh', '-c', 'echo "$(pwd) $E2E_X $FROM_CONFIG $(id -u) $(id -g) $(id -G)"'], {
      cwd: '/tmp',
      env: ['E2E_X=hello world', 'FROM_CONFIG=overridden'],
      user: '1000:1000',
      additionalGids: [100],
    });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '/tmp hello world overridden 1000 1000 1000 100\n');
  });

  test('-p process.json', async () => {
    const proc = {
      terminal: false,
      user: { uid: 65534, gid: 65534 },
      args: ['sh', '-c', 'echo "$(id -u) $(pwd) $P_VAR"; exit 7'],
      env: ['PATH=/bin', 'P_VAR=from-process-json'],
      cwd: '/home',
      capabilities: { bounding: ['CAP_KILL'], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    };
    const file = bundle.path(`process-${id}.json`);
    writeFileSync(file, JSON.stringify(proc));
    const r = await rt.exec(id, [], { process: file });
    assert.equal(r.code, 7, show(r));
    assert.equal(r.stdout, '65534 /home from-process-json\n');
  });

  test('exit code of a process killed by a signal: 128+signal', async () => {
    const r = await rt.exec(id, ['sh', '-c', 'kill -9 $$']);
    assert.equal(r.code, 137, show(r));
  });

  test('--detach with --pid-file: exits 0 at once, pid file without newline, process running', async (t) => {
    const pidFile = bundle.path(`exec-${id}.pid`);
    const r = await rt.exec(id, ['sleep', '1000'], { detach: true, pidFile });
    assert.equal(r.code, 0, show(r));
    const text = readFileSync(pidFile, 'utf8');
    assert.match(text, /^[1-9]\d*$/);
    const pid = Number(text);
    t.after(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/);
    const init = (await rt.stateJson(id)).pid;
    assert.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${init}/cgroup`, 'utf8'), 'same cgroups as the init');
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitPidExit(pid));
  });

  test('a missing binary: "executable file not found in $PATH", nothing left running', async () => {
    const before = processesOf({ idPrefix: id }).length;
    const r = await rt.exec(id, ['no-such-binary']);
    assert.notEqual(r.code, 0, show(r));
    assert.equal(r.code, 255, 'runc exits 255 when exec fails to start the process');
    assert.match(r.error, /exec: "no-such-binary": executable file not found in \$PATH/);
    assert.equal(processesOf({ idPrefix: id }).length, before);
  });

  test('a bad user: error, 255', async () => {
    // runc's --user takes only uid[:gid] numbers
    const r = await rt.exec(id, ['true'], { user: 'nosuchuser' });
    assert.equal(r.code, 255, show(r));
    assert.match(r.error, /parsing nosuchuser as int for uid failed/);
  });

  test('into a missing container: 255 "container does not exist"', async () => {
    const r = await rt.exec(newId('missing'), ['true']);
    assert.equal(r.code, 255, show(r));
    assert.match(r.error, /container does not exist/);
  });

  test('into a stopped container: 255 "cannot exec in a stopped container"', async (t) => {
    const b = await makeBundle({ name: 'execstop', args: ['true'] });
    const sid = newId('execstop');
    t.after(async () => {
      await rt.forceDelete(sid);
      b.cleanup();
    });
    assert.equal((await rt.create(sid, { bundle: b.dir })).code, 0);
    const { pid } = await rt.stateJson(sid);
    assert.equal((await rt.start(sid)).code, 0);
    assert.ok(await waitPidExit(pid));
    await waitStatus(rt, sid, 'stopped');
    const r = await rt.exec(sid, ['true']);
    assert.equal(r.code, 255, show(r));
    assert.match(r.error, /cannot exec in a stopped container/);
  });

  test('into a created (not started) container', async (t) => {
    const b = await makeBundle({ name: 'execcreated', args: ['sleep', '1000'] });
    const cid = newId('execcreated');
    t.after(async () => {
      await rt.forceDelete(cid);
      b.cleanup();
    });
    assert.equal((await rt.create(cid, { bundle: b.dir })).code, 0);
    const r = await rt.exec(cid, ['echo', 'hi']);
    // runc 1.1.5 allows exec into a created container (the process joins its namespaces).
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hi\n');
    assert.equal((await rt.stateJson(cid)).status, 'created', 'still created');
  });
});
