// cgroups as runc 1.1.5 handles them (issue 10): a frozen cgroup fails create at once, a cgroup
// that holds processes gets runc's warning, `update --memory -1` lifts memory+swap first on v1,
// `exec --cgroup ctrl,ctrl:path` splits controller lists and names an unknown controller.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmdirSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runtime, makeBundle, newId, show, spawnCapture, REPO } from '../lib/index.mjs';

const CG = '/sys/fs/cgroup';
const v1 = existsSync(join(CG, 'freezer/freezer.state')) || existsSync(join(CG, 'freezer'));
const memsw = existsSync(join(CG, 'memory/memory.memsw.limit_in_bytes'));
/** The host's hierarchy dirs (v1 controllers, not the co-mount symlinks, and the unified one);
 *  cpuset is left out (a new cpuset cgroup takes no process before its cpus are set). */
const hierarchies = () => readdirSync(CG).filter((d) => d !== 'cpuset').map((d) => join(CG, d)).filter((d) => lstatSync(d).isDirectory() && existsSync(join(d, 'cgroup.procs')));
const verb = (rt, name, args, opts) => spawnCapture([...rt.argv('state').slice(0, -1), name, ...args], opts);

describe('cgroups as runc', { skip: v1 ? false : 'needs the v1 freezer and memory controllers' }, () => {
  const bundles = [];
  after(() => bundles.forEach((b) => b.cleanup()));
  const bundle = async (name, id, args, edit = () => {}) => {
    const b = await makeBundle({ name, args, edit(c) { c.linux.cgroupsPath = `/${id}`; edit(c); } });
    bundles.push(b);
    return b;
  };

  test("a frozen cgroup: create fails at once with runc's words, nothing left", async (t) => {
    for (const name of ['runc', 'runts']) {
      const rt = runtime(name);
      const id = newId(`frozen-${name}`);
      const dir = join(CG, 'freezer', id);
      mkdirSync(dir);
      writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
      t.after(() => {
        try { writeFileSync(join(dir, 'freezer.state'), 'THAWED'); rmdirSync(dir); } catch { /* leak check reports */ }
      });
      t.after(() => rt.forceDelete(id));
      const b = await bundle('frozen', id, ['true']);
      const t0 = Date.now();
      const r = await rt.create(id, { bundle: b.dir }, { timeout: 20_000 });
      assert.ok(!r.timedOut && Date.now() - t0 < 10_000, show(r));
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.stderr, /container's cgroup unexpectedly frozen/, show(r));
      assert.ok(!rt.ids().includes(id), `${name} left a state dir`);
    }
  });

  test("a cgroup that already holds a process: runc's warning", async (t) => {
    for (const name of ['runc', 'runts']) {
      const rt = runtime(name);
      const id = newId(`nonempty-${name}`);
      const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      const dirs = hierarchies().map((h) => join(h, id));
      t.after(async () => {
        // (runc's delete may have killed it already: it was in the container's cgroup)
        if (sleeper.exitCode === null && sleeper.signalCode === null) {
          const gone = new Promise((r) => sleeper.once('exit', r));
          sleeper.kill('SIGKILL');
          await gone;
        }
        await rt.forceDelete(id);
        for (const d of dirs) try { rmdirSync(d); } catch { /* the leak check reports it */ }
      });
      for (const d of dirs) {
        mkdirSync(d);
        writeFileSync(join(d, 'cgroup.procs'), String(sleeper.pid));
      }
      const b = await bundle('nonempty', id, ['true']);
      const r = await rt.run(id, { bundle: b.dir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /container's cgroup is not empty: 1 process\(es\) found/, show(r));
    }
  });

  test('update --memory -1 lifts memory and memory+swap (runc\'s order), not EINVAL', { skip: memsw ? false : 'no swap accounting' }, async (t) => {
    const seen = {};
    for (const name of ['runc', 'runts']) {
      const rt = runtime(name);
      const id = newId(`mem1-${name}`);
      t.after(() => rt.forceDelete(id));
      const b = await bundle('mem1', id, ['sleep', '60'], (c) => { c.linux.resources.memory = { limit: 64 << 20, swap: 128 << 20 }; });
      const r = await rt.run(id, { bundle: b.dir, detach: true }, { stdout: 'ignore', stderr: 'ignore' });
      assert.equal(r.code, 0, show(r));
      const u = await verb(rt, 'update', ['--memory=-1', id]);
      assert.equal(u.code, 0, show(u));
      seen[name] = ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'].map((f) => readFileSync(join(CG, 'memory', id, f), 'utf8').trim());
    }
    assert.deepEqual(seen.runts, seen.runc);
    assert.deepEqual(seen.runts, ['9223372036854771712', '9223372036854771712']);
  });

  test('exec --cgroup: a controller list across separate hierarchies, an unknown controller named', async (t) => {
    const seen = {};
    for (const name of ['runc', 'runts']) {
      const rt = runtime(name);
      const id = newId(`excg-${name}`);
      t.after(() => rt.forceDelete(id));
      const b = await bundle('excg', id, ['sleep', '60']);
      const r = await rt.run(id, { bundle: b.dir, detach: true }, { stdout: 'ignore', stderr: 'ignore' });
      assert.equal(r.code, 0, show(r));
      for (const c of ['memory', 'pids']) mkdirSync(join(CG, c, id, 'sub'));
      t.after(() => { for (const c of ['memory', 'pids']) try { rmdirSync(join(CG, c, id, 'sub')); } catch { /* */ } });
      const e = await rt.exec(id, ['cat', '/proc/self/cgroup'], { extra: ['--cgroup', 'memory,pids:sub'] });
      assert.equal(e.code, 0, show(e));
      seen[name] = e.stdout.split('\n').filter((l) => /:(memory|pids):/.test(l)).map((l) => l.replace(/^\d+:/, '').replace(id, 'ID')).sort();
      const bad = await rt.exec(id, ['true'], { extra: ['--cgroup', 'memory,bogus:sub'] });
      assert.notEqual(bad.code, 0, show(bad));
      assert.match(bad.stderr, /bogus/, show(bad));
    }
    assert.deepEqual(seen.runts, seen.runc);
    assert.equal(seen.runts.length, 2);
  });
});
