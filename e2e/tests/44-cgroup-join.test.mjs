// How create, run and exec put the executor in a container's cgroups, seen under strace. With the
// cgroupfs driver nothing waits for the kernel's migration lock (cgroup_threadgroup_rwsem, whose
// writer side waits for an RCU grace period when it was idle: 5-25 ms here, which runc pays on
// every create and exec): the executor moves itself into each cgroup v1 dir by writing "0" to its
// tasks file (stage 0's CgroupJoin: one thread moving itself, which the kernel does without that
// lock), and a waiting executor (run, exec in the foreground) goes back to runts's own cgroups the
// same way right after its clone; the cgroup2 hierarchy gets no migration at all (the process is
// cloned into its cgroup). runts itself writes no pid to any cgroup file: no join, no warm-up
// (one would hold cgroup_mutex through its grace period and keep the executor's joins waiting).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runtime, makeBundle, newId, RUN_DIR, RUNTS_COMMAND } from '../lib/index.mjs';

const rt = runtime('runts');
let bundle;
let sleeper;
before(async () => {
  bundle = await makeBundle({ name: 'join', args: ['true'] });
  sleeper = await makeBundle({ name: 'joins', args: ['sleep', '1000'] });
});
after(() => {
  bundle?.cleanup();
  sleeper?.cleanup();
});

const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
/** The cgroup v1 mounts (host paths). */
const v1Mounts = mountinfo.filter((l) => l.includes(' - cgroup ')).map((l) => l.split(' ')[4]);
/** The cgroup2 mount (hybrid here: /sys/fs/cgroup/unified; the guest runs the same on pure v2). */
const v2 = mountinfo.find((l) => l.includes(' - cgroup2 '))?.split(' ')[4];

/** This process's own cgroup v1 dirs (host paths), which runts inherits. */
function ownV1Dirs() {
  const self = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => l.split(':'));
  const dirs = new Set();
  for (const line of mountinfo) {
    const sep = line.indexOf(' - cgroup ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const opts = line.slice(sep + 3).split(' ')[2] ?? '';
    const path = self.find((s) => s[1] !== '' && s[1].split(',').every((c) => opts.split(',').includes(c)))?.[2];
    if (path === undefined) continue;
    const rel = relative(f[3], path);
    if (!rel.startsWith('..')) dirs.add(join(f[4], rel));
  }
  return dirs;
}

/** Runs runts under strace (-y: a write shows its file), following its threads and children until
 *  all have exited (so only commands whose container processes end); returns runts's pid, every
 *  write to a cgroup's tasks or cgroup.procs ({ pid, file, text, line }) and the clones. */
function traced(args) {
  const dir = mkdtempSync(join(RUN_DIR, 'join-'));
  try {
    const out = join(dir, 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=write,clone,clone3', '-o', out, ...RUNTS_COMMAND, '--root', rt.root, ...args], { encoding: 'utf8', timeout: 60_000 });
    const lines = readFileSync(out, 'utf8').split('\n');
    const main = Number(lines[0]?.split(' ')[0]);
    const writes = [];
    const clones = [];
    lines.forEach((l, line) => {
      const w = /^(\d+) +write\(\d+<([^>]+\/(?:tasks|cgroup\.procs))>, "(\d+)", \d+/.exec(l);
      if (w) writes.push({ pid: Number(w[1]), file: w[2], text: w[3], line });
      const c = /^(\d+) +clone3?\((.*)/.exec(l);
      if (c) clones.push({ pid: Number(c[1]), line, text: c[2] });
    });
    return { r, main, writes, clones };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dirOf = (file) => file.slice(0, file.lastIndexOf('/'));
const inV1 = (file) => v1Mounts.some((m) => file.startsWith(`${m}/`));

describe('cgroup joins without the migration lock', { skip: spawnSync('strace', ['-V']).status === 0 ? false : 'strace is not installed (tools/setup.sh installs it)' }, () => {
  const own = ownV1Dirs();

  /** runts wrote nothing; the executor wrote "0" to the tasks file of each of the container's v1
   *  dirs before it cloned, and (wait) to runts's own after; nothing else. */
  function check({ r, main, writes, clones }, id, wait) {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(writes.filter((w) => w.pid === main), [], 'runts itself writes no pid to a cgroup file');
    const joins = writes.filter((w) => w.file.includes(`/${id}/`));
    const back = writes.filter((w) => !w.file.includes(`/${id}/`));
    for (const w of writes) {
      assert.ok(inV1(w.file), `a cgroup v1 file only: ${w.file}`);
      assert.ok(w.file.endsWith('/tasks'), `the tasks file, not cgroup.procs: ${w.file}`);
      assert.equal(w.text, '0', `"0", the writer itself: ${JSON.stringify(w)}`);
    }
    assert.equal(new Set(joins.map((w) => w.pid)).size, 1, `one process (the executor) joins: ${JSON.stringify(joins)}`);
    const executor = joins[0]?.pid;
    assert.ok(executor !== undefined && executor !== main, 'the executor joins');
    assert.equal(joins.length, v1Mounts.length, `one join per v1 hierarchy: ${JSON.stringify(joins.map((w) => w.file))}`);
    const clone = clones.find((c) => c.pid === executor);
    assert.ok(clone, 'the executor clones');
    for (const w of joins) assert.ok(w.line < clone.line, `joined before the clone: ${w.file}`);
    if (!wait) return assert.deepEqual(back, [], 'a detached executor goes nowhere else');
    assert.equal(back.length, v1Mounts.length, `the waiting executor goes back in every v1 hierarchy: ${JSON.stringify(back)}`);
    for (const w of back) {
      assert.equal(w.pid, executor, 'the executor goes back');
      assert.ok(w.line > clone.line, `back after the clone: ${w.file}`);
      assert.ok(own.has(dirOf(w.file)), `${w.file} is runts's own cgroup (${[...own].join(' ')})`);
    }
  }

  test('exec in the foreground: the executor joins by tasks, forks, goes back to runts’s own cgroups', { skip: v1Mounts.length ? false : 'no cgroup v1 hierarchy' }, async (t) => {
    const id = newId('joinx');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
    check(traced(['exec', id, 'true']), id, true);
  });

  test('exec --detach: the executor joins by tasks and exits there', { skip: v1Mounts.length ? false : 'no cgroup v1 hierarchy' }, async (t) => {
    const id = newId('joind');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
    check(traced(['exec', '--detach', id, 'true']), id, false);
  });

  test('run --detach (create’s path): the executor joins by tasks, clones the init, exits', { skip: v1Mounts.length ? false : 'no cgroup v1 hierarchy' }, (t) => {
    const id = newId('join');
    t.after(() => rt.forceDelete(id));
    check(traced(['run', '--detach', '--bundle', bundle.dir, id]), id, false);
  });

  test('run in the foreground: the waiting executor goes back to runts’s own cgroups after the clone', { skip: v1Mounts.length ? false : 'no cgroup v1 hierarchy' }, (t) => {
    const id = newId('joinw');
    t.after(() => rt.forceDelete(id));
    check(traced(['run', '--bundle', bundle.dir, id]), id, true);
  });

  for (const [verb, args] of [['run --detach', (id) => ['run', '--detach', '--bundle', bundle.dir, id]], ['exec', (id) => ['exec', id, 'true']]]) {
    test(`${verb}: the process is cloned straight into its cgroup v2 dir (clone3 CLONE_INTO_CGROUP); no pid is written to the container’s cgroup2 cgroup.procs`, { skip: v2 ? false : 'no cgroup2 mount' }, async (t) => {
      const id = newId('into');
      t.after(() => rt.forceDelete(id));
      if (verb === 'exec') assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
      const { r, writes, clones } = traced(args(id));
      assert.equal(r.status, 0, r.stderr);
      assert.ok(clones.some((c) => /flags=[^}]*CLONE_INTO_CGROUP/.test(c.text)), 'a clone3 with CLONE_INTO_CGROUP');
      const into = writes.filter((w) => w.file.startsWith(`${v2}/`));
      assert.deepEqual(into, [], 'nothing migrates in the cgroup2 hierarchy');
    });
  }
});
