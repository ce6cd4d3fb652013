// The state dir and state.json must not steer the runtime outside the container (issue 9):
// a <root>/<id> that is a symlink is refused (runc confines it to the root with securejoin),
// a state.json that names a host process (edited, or a pid reused after the container died, or
// with no start time) gets no signal from kill or delete, and a host process that joined the
// container's cgroup survives kill --all and delete, and pause, resume, update and exec act only
// on the cgroups the container's init is in. Every attack points at a canary: a `sleep`
// this test starts. runc's behaviour on the same attack is printed beside (t.diagnostic).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, symlinkSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, cgroupsOf, RUN_DIR } from '../lib/index.mjs';

const rt = runtime('runts');
const runc = runtime('runc');
let bundle;
let doneBundle;
const canaries = [];

before(async () => {
  bundle = await makeBundle({ name: 'stateatk', args: ['sleep', '1000'] });
  doneBundle = await makeBundle({ name: 'stateatk-true', args: ['true'] });
});
after(() => {
  for (const c of canaries) c.stop();
  bundle?.cleanup();
  doneBundle?.cleanup();
});

function startTimeOf(pid) {
  const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return t.slice(t.lastIndexOf(')') + 2).split(' ')[19];
}

/** A host process of the test's own: the target of every attack. */
async function canary() {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const c = {
    pid: child.pid,
    startTime: startTimeOf(child.pid),
    alive: () => child.exitCode === null && child.signalCode === null && existsSync(`/proc/${child.pid}`),
    stop: () => {
      if (c.alive()) child.kill('SIGKILL');
    },
    exited: () => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r))),
  };
  canaries.push(c);
  return c;
}

/** Edits runts' state.json of id. */
function editState(root, id, f) {
  const p = join(root, id, 'state.json');
  const s = JSON.parse(readFileSync(p, 'utf8'));
  f(s);
  writeFileSync(p, JSON.stringify(s));
}

const settle = () => new Promise((r) => setTimeout(r, 200));

async function waitStopped(r, id) {
  for (let i = 0; i < 200; i++) {
    if ((await r.stateJson(id))?.status === 'stopped') return;
    await new Promise((res) => setTimeout(res, 25));
  }
  assert.fail(`${id} did not stop`);
}

describe('state dir that is a symlink', () => {
  test('<root>/<id> linking to another container or outside is refused by every verb; nothing is followed', async (t) => {
    const real = newId('real');
    t.after(() => rt.forceDelete(real));
    assert.equal((await rt.create(real, { bundle: bundle.dir })).code, 0);
    const outside = join(RUN_DIR, `outside-${process.pid}`);
    mkdirSync(outside, { recursive: true });
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    const alias = newId('alias');
    const out = newId('out');
    symlinkSync(join(rt.root, real), join(rt.root, alias));
    symlinkSync(outside, join(rt.root, out));
    t.after(() => {
      rmSync(join(rt.root, alias), { force: true });
      rmSync(join(rt.root, out), { force: true });
    });
    const initPid = (await rt.stateJson(real)).pid;
    for (const [verb, args] of [
      ['state', [alias]],
      ['kill', [alias, 'KILL']],
      ['kill', ['--all', alias, 'KILL']],
      ['delete', ['--force', alias]],
      ['start', [alias]],
      ['exec', [alias, 'true']],
      ['create', ['--bundle', bundle.dir, out]],
      ['delete', ['--force', out]],
    ]) {
      const r = await rt.cmd(verb, args);
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.error, /state dir .* is a symlink: refusing to follow it/, show(r));
    }
    assert.ok(existsSync(`/proc/${initPid}`), 'the linked container was not killed');
    assert.equal((await rt.stateJson(real)).status, 'created');
    assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
    assert.deepEqual(readdirSync(join(rt.root, real)).sort(), ['exec.fifo', 'state.json'], 'no lock left in the target');
    const list = await rt.list({ quiet: true });
    assert.ok(!list.stdout.includes(alias) && !list.stdout.includes(out), 'list skips links (as runc does)');

    // runc on the same: securejoin keeps the id inside its root, so the link does not resolve to the container
    const rreal = newId('rreal');
    t.after(() => runc.forceDelete(rreal));
    assert.equal((await runc.create(rreal, { bundle: bundle.dir })).code, 0);
    symlinkSync(join(runc.root, rreal), join(runc.root, alias));
    t.after(() => rmSync(join(runc.root, alias), { force: true }));
    const rs = await runc.state(alias);
    t.diagnostic(`runc state <symlink>: code ${rs.code}: ${rs.error}`);
    assert.notEqual(rs.code, 0, 'runc does not follow it either');
  });

  test('a --root that is a symlink is followed, as runc does', async (t) => {
    for (const r of [rt, runc]) {
      const link = join(RUN_DIR, `rootlink-${r.name}-${process.pid}`);
      symlinkSync(r.root, link);
      t.after(() => rmSync(link, { force: true }));
      const lr = runtime(r.name, { root: link });
      const id = newId(`rootlink-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await lr.create(id, { bundle: bundle.dir });
      assert.equal(c.code, 0, show(c));
      assert.equal((await lr.stateJson(id))?.status, 'created');
      assert.equal((await lr.delete(id, { force: true })).code, 0);
    }
  });
});

describe('state.json naming a host process', () => {
  test('edited pid and start time of a host process: kill, kill --all, delete leave it alive', async (t) => {
    const id = newId('edited');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: bundle.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const initPid = (await rt.stateJson(id)).pid;
    const c = await canary();
    editState(rt.root, id, (s) => {
      s.pid = c.pid;
      s.startTime = c.startTime;
    });
    const st = await rt.stateJson(id);
    assert.equal(st.status, 'stopped', 'a host process is not the container');
    const k = await rt.kill(id, 'KILL');
    assert.equal(k.code, 1, show(k));
    assert.match(k.error, /container not running/);
    await rt.kill(id, 'KILL', { all: true });
    const d = await rt.delete(id, { force: true });
    assert.equal(d.code, 0, show(d));
    await settle();
    assert.ok(c.alive(), 'the canary survived kill, kill --all and delete');
    assert.ok(!existsSync(`/proc/${initPid}`) || readFileSync(`/proc/${initPid}/stat`, 'utf8').split(') ')[1][0] === 'Z', 'the real init (in the container namespaces) was killed by delete');
    assert.deepEqual(cgroupsOf(id), [], 'the container cgroups are gone');
    assert.ok(!existsSync(join(rt.root, id)));

    // runc on the same attack (its state.json: init_process_pid, init_process_start)
    const rid = newId('redited');
    assert.equal((await runc.create(rid, { bundle: bundle.dir })).code, 0);
    const rc = await canary();
    const p = join(runc.root, rid, 'state.json');
    const original = readFileSync(p, 'utf8');
    const s = JSON.parse(original);
    const realInit = s.init_process_pid;
    // runc's delete goes by the edited pid: the real init is ended here, before the forceDelete
    t.after(async () => {
      try {
        process.kill(realInit, 'SIGKILL');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && existsSync(`/proc/${realInit}`); i++) await new Promise((r) => setTimeout(r, 20));
      writeFileSync(p, original); // runc removes its cgroups only with its own record
      await runc.forceDelete(rid);
    });
    s.init_process_pid = rc.pid;
    s.init_process_start = Number(rc.startTime);
    writeFileSync(p, JSON.stringify(s));
    const rk = await runc.kill(rid, 'KILL');
    await settle();
    t.diagnostic(`runc kill of an edited state.json: code ${rk.code}, host canary ${rc.alive() ? 'alive' : 'KILLED'}`);
  });

  test('a reused pid (container gone, pid now a host process with another start time) gets no signal', async (t) => {
    const id = newId('reused');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: doneBundle.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    await waitStopped(rt, id);
    const c = await canary();
    editState(rt.root, id, (s) => (s.pid = c.pid)); // the old start time stays: a reused pid
    assert.equal((await rt.stateJson(id)).status, 'stopped');
    const k = await rt.kill(id, 'KILL');
    assert.equal(k.code, 1, show(k));
    const d = await rt.delete(id);
    assert.equal(d.code, 0, show(d));
    await settle();
    assert.ok(c.alive(), 'the canary with the reused pid survived');
    assert.ok(!existsSync(join(rt.root, id)));

    const rid = newId('rreused');
    t.after(() => runc.forceDelete(rid));
    assert.equal((await runc.create(rid, { bundle: doneBundle.dir })).code, 0);
    assert.equal((await runc.start(rid)).code, 0);
    await waitStopped(runc, rid);
    const rc = await canary();
    const p = join(runc.root, rid, 'state.json');
    const s = JSON.parse(readFileSync(p, 'utf8'));
    s.init_process_pid = rc.pid;
    writeFileSync(p, JSON.stringify(s));
    const rk = await runc.kill(rid, 'KILL');
    const rd = await runc.delete(rid, { force: true });
    await settle();
    t.diagnostic(`runc on a reused pid: kill code ${rk.code}, delete code ${rd.code}, canary ${rc.alive() ? 'alive' : 'KILLED'}`);
  });

  test('a state.json without the start time names no process of ours', async (t) => {
    const id = newId('nostart');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: bundle.dir })).code, 0);
    const c = await canary();
    editState(rt.root, id, (s) => {
      s.pid = c.pid;
      delete s.startTime;
    });
    assert.equal((await rt.stateJson(id)).status, 'stopped');
    assert.equal((await rt.kill(id, 'KILL')).code, 1);
    assert.equal((await rt.delete(id, { force: true })).code, 0);
    await settle();
    assert.ok(c.alive(), 'the canary survived');
    assert.deepEqual(cgroupsOf(id), []);
  });
});

describe('a cgroup shared with a host process', () => {
  test('kill --all and delete kill only the container; the host process and its cgroup stay', async (t) => {
    const id = newId('shared');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: bundle.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const st = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8'));
    const c = await canary();
    for (const dir of Object.values(st.cgroupPaths)) writeFileSync(join(dir, 'cgroup.procs'), String(c.pid));
    t.after(async () => {
      c.stop();
      await c.exited();
      for (const dir of cgroupsOf(id)) {
        try {
          rmdirSync(dir);
        } catch {
          /* the leak check reports it */
        }
      }
    });
    const k = await rt.kill(id, 'KILL', { all: true });
    assert.equal(k.code, 0, show(k));
    await waitStopped(rt, id);
    assert.ok(c.alive(), 'kill --all left the host process');
    const d = await rt.delete(id, { force: true });
    assert.equal(d.code, 0, show(d));
    assert.match(d.error, /holds processes that are not the container's .*not killed, cgroup left in place/);
    await settle();
    assert.ok(c.alive(), 'delete left the host process');
    assert.ok(!existsSync(join(rt.root, id)), 'the container is gone');
    assert.ok(cgroupsOf(id).length > 0, 'the shared cgroup stays while the host process is in it');
  });
});

describe('the root cgroup', () => {
  test('cgroupsPath "/" is refused; a state.json whose cgroups name the roots gets no host process killed, no cgroup removed', async (t) => {
    const b = await makeBundle({ name: 'stateatk-rootcg', args: ['sleep', '1000'], edit: (c) => {
      c.linux.cgroupsPath = '/';
    } });
    t.after(() => b.cleanup());
    const refused = newId('rootcg');
    t.after(() => rt.forceDelete(refused));
    const c = await rt.create(refused, { bundle: b.dir });
    assert.equal(c.code, 1, show(c));
    assert.match(c.error, /linux\.cgroupsPath: "\/" is the root of the cgroup hierarchy/, show(c));
    assert.ok(!existsSync(join(rt.root, refused)));

    const id = newId('rootcg-edit');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: bundle.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const own = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')).cgroupPaths;
    const host = await canary();
    writeFileSync('/sys/fs/cgroup/pids/cgroup.procs', String(host.pid)); // a host process in the root cgroup
    editState(rt.root, id, (s) => {
      // each path becomes its hierarchy's root (/sys/fs/cgroup/<hierarchy>: this host is v1 hybrid)
      for (const k of Object.keys(s.cgroupPaths)) s.cgroupPaths[k] = /^\/sys\/fs\/cgroup\/[^/]+/.exec(s.cgroupPaths[k])[0];
      s.createdCgroups = Object.values(s.cgroupPaths);
    });
    const k = await rt.kill(id, 'KILL', { all: true });
    assert.equal(k.code, 0, show(k));
    await waitStopped(rt, id);
    const d = await rt.delete(id, { force: true });
    assert.equal(d.code, 0, show(d));
    await settle();
    assert.ok(host.alive(), 'the host process in the root cgroup survived kill --all and delete');
    assert.ok(existsSync('/sys/fs/cgroup/pids/cgroup.procs'));
    // the container's real cgroups were not named any more: removed here
    for (const dir of Object.values(own)) rmdirSync(dir);
  });
});

describe('state.json naming a host cgroup', () => {
  test('pause and resume freeze only cgroups the init is in: an edited freezer path leaves the host cgroup thawed', async (t) => {
    const id = newId('pausecg');
    let original;
    let c;
    const canaryDirs = {};
    // one after, in this order: state.json as create wrote it (so delete removes the container's
    // own cgroups), the host process stopped, its cgroups removed, the container deleted
    t.after(async () => {
      if (original !== undefined) writeFileSync(join(rt.root, id, 'state.json'), original);
      // thawed first (had pause frozen it, its process could not die)
      for (const [key, dir] of Object.entries(canaryDirs)) writeFileSync(join(dir, key === 'freezer' ? 'freezer.state' : 'cgroup.freeze'), key === 'freezer' ? 'THAWED' : '0');
      if (c) {
        c.stop();
        await c.exited();
      }
      for (const dir of Object.values(canaryDirs)) rmdirSync(dir);
      await rt.forceDelete(id);
    });
    assert.equal((await rt.create(id, { bundle: bundle.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const file = join(rt.root, id, 'state.json');
    original = readFileSync(file, 'utf8');
    const st = JSON.parse(original);
    // a host cgroup of the test's own, holding a host process, in each freezer the container has
    c = await canary();
    for (const key of ['freezer', 'unified']) {
      const dir = st.cgroupPaths[key];
      if (!dir) continue;
      canaryDirs[key] = join(dir, '..', `${id}-canary-${key}`);
      mkdirSync(canaryDirs[key]);
      writeFileSync(join(canaryDirs[key], 'cgroup.procs'), String(c.pid));
    }
    assert.ok(Object.keys(canaryDirs).length > 0, 'the container has a freezer');
    editState(rt.root, id, (s) => Object.assign(s.cgroupPaths, canaryDirs));
    const frozen = () =>
      Object.entries(canaryDirs).some(([key, dir]) =>
        key === 'freezer' ? readFileSync(join(dir, 'freezer.state'), 'utf8').trim() !== 'THAWED' : readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim() !== '0',
      );
    const p = await rt.cmd('pause', [id]);
    t.diagnostic(`runts pause with the freezer paths edited to a host cgroup: code ${p.code} ${p.error ?? ''}`);
    assert.notEqual(p.code, 0, 'no freezer of the container is left to use');
    assert.match(p.error, /no freezer/, show(p));
    assert.ok(!frozen(), 'the host cgroup was not frozen');
    assert.ok(c.alive());
    const r = await rt.cmd('resume', [id]);
    assert.notEqual(r.code, 0, show(r));
    assert.ok(!frozen(), 'nor by resume');
  });

  /** A running container whose state.json names, for `v1key` (or, without that hierarchy,
   *  unified), an empty host cgroup of the test's own beside the container's (`canaryDir`). After
   *  the test: state.json as create wrote it (`original`), the container deleted, the canary
   *  removed. */
  async function namingHostCgroup(t, name, v1key) {
    const c = { id: newId(name) };
    c.file = join(rt.root, c.id, 'state.json');
    t.after(async () => {
      if (c.original !== undefined) writeFileSync(c.file, c.original);
      await rt.forceDelete(c.id);
      if (c.canaryDir) rmdirSync(c.canaryDir);
    });
    assert.equal((await rt.create(c.id, { bundle: bundle.dir })).code, 0);
    assert.equal((await rt.start(c.id)).code, 0);
    c.original = readFileSync(c.file, 'utf8');
    c.own = JSON.parse(c.original).cgroupPaths;
    c.key = c.own[v1key] ? v1key : 'unified';
    c.canaryDir = join(c.own[c.key], '..', `${c.id}-canary`);
    mkdirSync(c.canaryDir);
    editState(rt.root, c.id, (s) => (s.cgroupPaths[c.key] = c.canaryDir));
    return c;
  }

  test('exec joins only cgroups the init is in: with a pids path edited to a host cgroup it is refused, and nothing runs there', async (t) => {
    const { id, file, original, key, canaryDir } = await namingHostCgroup(t, 'execcg', 'pids');
    const e = await rt.exec(id, ['true']);
    t.diagnostic(`runts exec with cgroupPaths.${key} edited to a host cgroup: code ${e.code} ${e.error ?? ''}`);
    assert.equal(e.code, 255, show(e)); // runc's exit code for a failed exec
    assert.match(e.error, new RegExp(`container ${id}: cgroup ${key}: .*${id}-canary does not hold the container's init .*: not executed`), show(e));
    assert.equal(readFileSync(join(canaryDir, 'cgroup.procs'), 'utf8'), '', 'no process was put in the host cgroup');
    writeFileSync(file, original);
    const ok = await rt.exec(id, ['true']);
    assert.equal(ok.code, 0, show(ok));
  });

  test('update writes only cgroups and units the init is in: an edited memory path or systemd unit is refused, nothing written', async (t) => {
    const { id, file, original, own, key, canaryDir } = await namingHostCgroup(t, 'updcg', 'memory');
    const limitFile = key === 'memory' ? 'memory.limit_in_bytes' : 'memory.max';
    const before = { canary: readFileSync(join(canaryDir, limitFile), 'utf8'), own: readFileSync(join(own[key], limitFile), 'utf8') };
    const unchanged = () => {
      assert.equal(readFileSync(join(canaryDir, limitFile), 'utf8'), before.canary, 'the host cgroup keeps its limit');
      assert.equal(readFileSync(join(own[key], limitFile), 'utf8'), before.own, 'nothing was written: the container keeps its limit too');
    };

    const u = await rt.cmd('update', ['--memory', '64m', id]);
    t.diagnostic(`runts update with cgroupPaths.${key} edited to a host cgroup: code ${u.code} ${u.error ?? ''}`);
    assert.equal(u.code, 1, show(u));
    assert.match(u.error, new RegExp(`container ${id}: cgroup ${key}: .*${id}-canary does not hold the container's init`), show(u));
    unchanged();

    // a host systemd unit named in state.json (no systemd here: refused before any D-Bus call)
    writeFileSync(file, original);
    editState(rt.root, id, (s) => (s.systemd = { unit: 'ssh.service' }));
    const v = await rt.cmd('update', ['--memory', '64m', id]);
    assert.equal(v.code, 1, show(v));
    assert.match(v.error, /systemd unit "ssh.service" does not hold the container's init/, show(v));
    unchanged();

    // as create wrote it, update works
    writeFileSync(file, original);
    const w = await rt.cmd('update', ['--memory', '64m', id]);
    assert.equal(w.code, 0, show(w));
    assert.equal(readFileSync(join(own[key], limitFile), 'utf8').trim(), String(64 * 1024 * 1024));
    assert.equal(readFileSync(join(canaryDir, limitFile), 'utf8'), before.canary);
  });
});
