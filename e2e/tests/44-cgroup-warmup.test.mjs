// create, run and exec start the grace period of their first cgroup migration early, by writing
// runts’s own pid to the cgroup.procs of the cgroup it is already in (tools/build/launch.cjs, and
// @runts/cgroups' warmCgroupMigration). That must never move runts anywhere: under strace, every
// write of runts’s own pid to a cgroup.procs goes to the file of the cgroup it is in (the one this
// test process is in, which it inherits), and the container’s cgroups get the executor only. The
// cgroup2 hierarchy gets no migration at all: the process is cloned into its cgroup there.
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
  bundle = await makeBundle({ name: 'warm', args: ['true'] });
  sleeper = await makeBundle({ name: 'warms', args: ['sleep', '1000'] });
});
after(() => {
  bundle?.cleanup();
  sleeper?.cleanup();
});

/** This process's own cgroup dirs (host paths), keyed by the cgroup.procs file in them. */
function ownProcsFiles() {
  const self = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => l.split(':'));
  const files = new Set();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const [fstype, , opts = ''] = line.slice(sep + 3).split(' ');
    let path;
    if (fstype === 'cgroup2') path = self.find((s) => s[0] === '0')?.[2];
    else if (fstype === 'cgroup') path = self.find((s) => s[1] !== '' && s[1].split(',').every((c) => opts.split(',').includes(c)))?.[2];
    if (path === undefined) continue;
    const rel = relative(f[3], path);
    if (!rel.startsWith('..')) files.add(join(f[4], rel, 'cgroup.procs'));
  }
  return files;
}

/** Runs runts under strace, following its threads and children until all have exited (so only
 *  commands whose container processes end: run --detach of `true`, exec of `true`); returns runts's pid and every [file, pid written] to a cgroup.procs. */
function traced(args, syscalls = 'openat,write') {
  const dir = mkdtempSync(join(RUN_DIR, 'warm-'));
  try {
    const out = join(dir, 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-e', `trace=${syscalls}`, '-o', out, ...RUNTS_COMMAND, '--root', rt.root, ...args], { encoding: 'utf8', timeout: 60_000 });
    const lines = readFileSync(out, 'utf8').split('\n');
    const main = Number(lines[0]?.split(' ')[0]);
    const fds = new Map();
    const writes = [];
    for (const l of lines) {
      const o = /^(\d+) +openat\(AT_FDCWD, "([^"]+\/cgroup\.procs)", [^)]*\) = (\d+)/.exec(l);
      if (o) fds.set(`${o[1]}:${o[3]}`, o[2]);
      const w = /^(\d+) +write\((\d+), "(\d+)", \d+/.exec(l);
      if (w) {
        // libuv's threads share the fd table: look the fd up for any thread of the process
        const file = fds.get(`${w[1]}:${w[2]}`) ?? [...fds].reverse().find(([k]) => k.endsWith(`:${w[2]}`))?.[1];
        if (file) writes.push({ file, pid: Number(w[3]) });
      }
    }
    return { r, main, writes, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('cgroup migration warm-up', { skip: spawnSync('strace', ['-V']).status === 0 ? false : 'strace is not installed (tools/setup.sh installs it)' }, () => {
  const own = ownProcsFiles();

  test('exec: runts writes its pid only to its own cgroup.procs, the executor joins the container’s', async (t) => {
    const id = newId('warmx');
    t.after(() => rt.forceDelete(id));
    const d = await rt.run(id, { bundle: sleeper.dir, detach: true });
    assert.equal(d.code, 0, d.stderr);
    const { r, main, writes } = traced(['exec', id, 'true']);
    assert.equal(r.status, 0, r.stderr);
    // the executor joins the container's cgroups, and (it waits for the exec'd process) goes back
    // to runts's own right after the fork: nowhere else
    const joins = writes.filter((w) => w.pid !== main);
    assert.ok(joins.some((w) => w.file.includes(`/${id}/`)), `the executor joins the container’s cgroups: ${JSON.stringify(joins)}`);
    for (const w of joins) assert.ok(w.file.includes(`/${id}/`) || own.has(w.file), `the executor wrote ${w.file}: neither the container’s cgroup nor runts’s own`);
    const mine = writes.filter((w) => w.pid === main);
    assert.ok(mine.length > 0, `the warm-up happened: ${JSON.stringify(writes)}`);
    for (const w of mine) assert.ok(own.has(w.file), `${w.file} is not runts’s own cgroup (${[...own].join(' ')})`);
  });

  test('run --detach (create’s path): the warm-ups go to runts’s own cgroup, the container’s cgroups get the executor', (t) => {
    const id = newId('warm');
    t.after(() => rt.forceDelete(id));
    const { r, main, writes } = traced(['run', '--detach', '--bundle', bundle.dir, id]);
    assert.equal(r.status, 0, r.stderr);
    const mine = writes.filter((w) => w.pid === main);
    // launch.cjs's and the verb's
    assert.ok(mine.length >= 2, `run warms up: ${JSON.stringify(writes)}`);
    for (const w of mine) assert.ok(own.has(w.file), `${w.file} is not runts’s own cgroup`);
    const joins = writes.filter((w) => w.pid !== main);
    assert.ok(joins.length > 0 && joins.every((w) => w.file.includes(`/${id}/`)), `the executor joins the container’s cgroups only: ${JSON.stringify(joins)}`);
  });

  // the cgroup2 mount (hybrid here: /sys/fs/cgroup/unified; the guest runs the same on pure v2)
  const v2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '))?.split(' ')[4];
  for (const [verb, args] of [['run --detach', (id) => ['run', '--detach', '--bundle', bundle.dir, id]], ['exec', (id) => ['exec', id, 'true']]]) {
    test(`${verb}: the process is cloned straight into its cgroup v2 dir (clone3 CLONE_INTO_CGROUP); no pid is written to the container’s cgroup2 cgroup.procs`, { skip: v2 ? false : 'no cgroup2 mount' }, async (t) => {
      const id = newId('into');
      t.after(() => rt.forceDelete(id));
      if (verb === 'exec') assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
      const { r, writes, lines } = traced(args(id), 'openat,write,clone3');
      assert.equal(r.status, 0, r.stderr);
      assert.ok(lines.some((l) => /clone3\(\{flags=[^}]*CLONE_INTO_CGROUP/.test(l)), 'a clone3 with CLONE_INTO_CGROUP');
      const into = writes.filter((w) => w.file.startsWith(`${v2}/`) && w.file.includes(`/${id}/`));
      assert.deepEqual(into, [], 'nothing migrates into the container’s cgroup2 cgroup');
    });
  }
});
