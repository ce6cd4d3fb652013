// Who is in a container's cgroups, under runc and runts. runts has the C executor join the cgroups
// before it clones the init or forks an exec'd process (as runc's bootstrap process does), and a
// waiting executor (run, exec without --detach) goes back to the runtime's own cgroups right after:
// once a container is created or running, and once an exec'd process runs, no process that is not
// the container's may stay in them. And pids.max is still the limit it says, with the init alone.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, cgroupsOf, spawnCapture } from '../lib/index.mjs';

const RUNTIMES = ['runc', 'runts'];
let sleeper;
let pids1;

let cgns;
before(async () => {
  sleeper = await makeBundle({ name: 'member', args: ['sleep', '1000'] });
  cgns = await makeBundle({ name: 'membercgns', args: ['sleep', '1000'] });
  cgns.config.linux.namespaces = [...cgns.config.linux.namespaces.filter((n) => n.type !== 'cgroup'), { type: 'cgroup' }];
  cgns.write();
  pids1 = await makeBundle({ name: 'pids1', args: ['true'] });
  pids1.config.linux.resources = { ...(pids1.config.linux.resources ?? {}), pids: { limit: 1 } };
  pids1.write();
});
after(() => {
  sleeper?.cleanup();
  cgns?.cleanup();
  pids1?.cleanup();
});

/** pid -> every pid in each of the container's cgroup dirs (all hierarchies). */
function members(id) {
  const out = {};
  for (const dir of cgroupsOf(id)) {
    const f = join(dir, 'cgroup.procs');
    if (existsSync(f)) out[dir] = readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number);
  }
  return out;
}
const pidns = (pid) => readlinkSync(`/proc/${pid}/ns/pid`);

/** Every process in the container's cgroups is in its init's pid namespace; returns the dirs. */
function onlyTheContainers(id, initPid, what) {
  const m = members(id);
  assert.ok(Object.keys(m).length > 0, `${what}: the container has cgroup dirs`);
  const ns = pidns(initPid);
  for (const [dir, list] of Object.entries(m)) {
    assert.ok(list.includes(initPid), `${what}: ${dir} holds the init ${initPid}: ${list.join(' ')}`);
    for (const pid of list) assert.equal(pidns(pid), ns, `${what}: ${dir} holds ${pid}, which is not the container's (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')})`);
  }
  return m;
}

async function waitRunning(rt, id) {
  for (let i = 0; i < 500; i++) {
    const s = await rt.stateJson(id);
    if (s?.status === 'running') return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${id}: never running`);
}

describe('cgroup membership', () => {
  for (const name of RUNTIMES) {
    const rt = runtime(name);
    test(`${name}: created and running: the init alone in every hierarchy`, async (t) => {
      const id = newId('mem');
      t.after(() => rt.forceDelete(id));
      const r = await rt.create(id, { bundle: sleeper.dir });
      assert.equal(r.code, 0, show(r));
      const { pid } = await rt.stateJson(id);
      for (const list of Object.values(onlyTheContainers(id, pid, 'created'))) assert.deepEqual(list, [pid]);
      assert.equal((await rt.start(id)).code, 0);
      for (const list of Object.values(onlyTheContainers(id, pid, 'running'))) assert.deepEqual(list, [pid]);
    });

    test(`${name}: run in the foreground: the waiting runtime is not in the container's cgroups`, async (t) => {
      const id = newId('memrun');
      t.after(() => rt.forceDelete(id));
      const running = rt.run(id, { bundle: sleeper.dir });
      const s = await waitRunning(rt, id);
      for (const list of Object.values(onlyTheContainers(id, s.pid, 'run'))) assert.deepEqual(list, [s.pid]);
      assert.equal((await rt.kill(id, 'KILL')).code, 0);
      const done = await running;
      assert.equal(done.code, 137, show(done));
    });

    test(`${name}: exec in the foreground: the exec'd process joins, the waiting runtime does not`, async (t) => {
      const id = newId('memexec');
      t.after(() => rt.forceDelete(id));
      assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
      const { pid } = await rt.stateJson(id);
      const ex = rt.exec(id, ['sleep', '3']);
      // While the exec is set up, the executor is in the cgroups (it joins before it forks, as runc's
      // bootstrap process does) and leaves once it has forked: within the 3 s the exec'd process
      // runs, the cgroups must settle to the init and that process alone, both the container's.
      const ns = pidns(pid);
      const settled = () => {
        const m = members(id);
        return Object.values(m).length > 0 && Object.values(m).every((list) => list.length === 2 && list.includes(pid) && list.every((p) => existsSync(`/proc/${p}`) && pidns(p) === ns));
      };
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        seen = settled();
        if (!seen) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(seen, `the cgroups settle to the init and the exec'd process: ${JSON.stringify(members(id))}`);
      onlyTheContainers(id, pid, 'exec');
      const r = await ex;
      assert.equal(r.code, 0, show(r));
      for (const list of Object.values(onlyTheContainers(id, pid, 'after the exec'))) assert.deepEqual(list, [pid]);
    });

    // runts clones the init into its cgroup v2 dir with clone3 (CLONE_INTO_CGROUP); where clone3
    // is refused (ENOSYS: an old kernel, or a seccomp profile such as Docker's), the executor joins
    // that dir itself, clones as before and goes back (strace injects the error into every clone3:
    // Node's threads fall back to clone as glibc does)
    if (name === 'runts')
      test('runts: clone3 refused with ENOSYS: run in the foreground still leaves the init alone in every hierarchy', { skip: spawnSync('strace', ['-V']).status === 0 ? false : 'no strace' }, async (t) => {
        for (const op of ['run', 'exec']) {
          const id = newId('memfb');
          t.after(() => rt.forceDelete(id));
          const inject = ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=clone3', '-e', 'inject=clone3:error=ENOSYS'];
          if (op === 'exec') assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
          const running = spawnCapture(op === 'run' ? [...inject, ...rt.argv('run'), '--bundle', sleeper.dir, id] : [...inject, ...rt.argv('exec'), id, 'sleep', '5']);
          const s = await waitRunning(rt, id);
          if (op === 'run') {
            for (let i = 0; i < 200 && Object.values(members(id)).some((l) => l.length !== 1); i++) await new Promise((r) => setTimeout(r, 10));
            for (const list of Object.values(onlyTheContainers(id, s.pid, 'run, clone3 refused'))) assert.deepEqual(list, [s.pid]);
            assert.equal((await rt.kill(id, 'KILL')).code, 0);
            assert.equal((await running).code, 137);
          } else {
            const ns = pidns(s.pid);
            let seen = false;
            for (let i = 0; i < 450 && !seen; i++) {
              const m = members(id);
              seen = Object.values(m).length > 0 && Object.values(m).every((l) => l.length === 2 && l.every((p) => existsSync(`/proc/${p}`) && pidns(p) === ns));
              if (!seen) await new Promise((r) => setTimeout(r, 10));
            }
            assert.ok(seen, `exec, clone3 refused: the cgroups settle to the init and the exec'd process: ${JSON.stringify(members(id))}`);
            const r = await running;
            assert.equal(r.code, 0, show(r));
          }
        }
      });

    test(`${name}: exec into a container with its own cgroup namespace: the process joins its cgroups`, async (t) => {
      // (the executor joins that namespace before it forks; where cgroup2 is mounted with
      // nsdelegate, as systemd mounts it on a pure v2 host, the kernel then refuses a clone3 into a
      // cgroup outside the namespace's root with ENOENT, so runts moves it from the host's, as
      // before; the guest's 10-cgroupfs-v2 and 13-host-managers run that case)
      const id = newId('memcgns');
      t.after(() => rt.forceDelete(id));
      assert.equal((await rt.run(id, { bundle: cgns.dir, detach: true })).code, 0);
      const { pid } = await rt.stateJson(id);
      const e = await rt.exec(id, ['sh', '-c', 'cat /proc/self/cgroup']);
      assert.equal(e.code, 0, show(e));
      assert.match(e.stdout, /^0::\/$/m, `the exec'd process is at its namespace's root: ${e.stdout}`);
      for (const list of Object.values(onlyTheContainers(id, pid, 'after the exec'))) assert.deepEqual(list, [pid]);
    });

    test(`${name}: pids.limit 1 holds, and the init alone runs under it`, async (t) => {
      const id = newId('mempids');
      t.after(() => rt.forceDelete(id));
      const r = await rt.create(id, { bundle: pids1.dir });
      assert.equal(r.code, 0, show(r));
      const limits = cgroupsOf(id).map((d) => join(d, 'pids.max')).filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8').trim());
      assert.ok(limits.length > 0 && limits.every((l) => l === '1'), `pids.max: ${limits.join(' ')}`);
      assert.equal((await rt.start(id)).code, 0);
    });
  }
});
