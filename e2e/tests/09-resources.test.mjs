// linux.resources (issue 9): the limits of config.json land in the container's cgroups as runc
// writes them (differential: the host's cgroup files of a runc container and of one made by the
// runtime under test, each at an explicit cgroupsPath), and they hold inside the container
// (memory limit seen through the container's cgroup mount, OOM kill past it, fork failures past
// pids.limit). `update` changes a running container's limits; `events --stats` prints runc's JSON.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, spawnCapture, waitStatus, REPO, RUN_DIR, NODE } from '../lib/index.mjs';

const v2 = !existsSync('/sys/fs/cgroup/memory') && existsSync('/sys/fs/cgroup/cgroup.controllers');
const memsw = existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || (v2 && existsSync('/sys/fs/cgroup/memory.swap.max'));

/** A knob of the container's cgroup on the host, by v1 name, mapped to its v2 file. */
const KNOBS = {
  'memory.limit_in_bytes': ['memory', 'memory.max'],
  'memory.memsw.limit_in_bytes': ['memory', 'memory.swap.max'],
  'memory.soft_limit_in_bytes': ['memory', 'memory.low'],
  'cpu.shares': ['cpu', 'cpu.weight'],
  'cpu.cfs_quota_us': ['cpu', 'cpu.max'],
  'cpu.cfs_period_us': ['cpu', 'cpu.max'],
  'pids.max': ['pids', 'pids.max'],
};
function knob(cgroupsPath, name) {
  const [ctl, v2name] = KNOBS[name];
  const p = v2 ? join('/sys/fs/cgroup', cgroupsPath, v2name) : join('/sys/fs/cgroup', ctl, cgroupsPath, name);
  return readFileSync(p, 'utf8').trim();
}

const uut = runtime();
const runc = runtime('runc');

/** `update`/`events` for a runtime (the e2e Runtime class knows the lifecycle verbs only). */
function verb(rt, name, args, opts) {
  const argv = rt.name === 'oci' ? [NODE, join(REPO, `packages/${name}/bin/oci-${name}.js`), '--root', rt.root] : [...rt.argv('state').slice(0, -1), name];
  return spawnCapture([...argv, ...args], opts);
}

const MiB = 1024 * 1024;
function resources({ swap = true } = {}) {
  return {
    memory: { limit: 64 * MiB, ...(swap && memsw ? { swap: 128 * MiB } : {}), reservation: 32 * MiB },
    cpu: { shares: 512, quota: 20000, period: 100000 },
    pids: { limit: 30 },
  };
}

describe(`linux.resources (${uut.name} vs runc)`, () => {
  const bundles = [];
  after(() => bundles.forEach((b) => b.cleanup()));

  async function detached(rt, name, edit, args = ['sleep', '1000']) {
    const id = newId(name);
    const b = await makeBundle({
      name,
      args,
      edit(c) {
        c.linux.cgroupsPath = `/${id}`;
        c.linux.resources = { ...c.linux.resources, ...edit };
      },
    });
    bundles.push(b);
    const out = join(RUN_DIR, `${id}.out`);
    const r = await rt.run(id, { bundle: b.dir, detach: true }, { stdout: out, stderr: out });
    assert.equal(r.code, 0, show(r) + readFileSync(out, 'utf8'));
    return { id, cgroupsPath: `/${id}`, out };
  }

  test('the values written to the host cgroup files are runc\'s', async (t) => {
    const seen = {};
    for (const rt of [runc, uut]) {
      const c = await detached(rt, `res-${rt.name}`, resources());
      t.after(() => rt.forceDelete(c.id));
      seen[rt.name] = Object.fromEntries(Object.keys(KNOBS).filter((k) => memsw || !k.includes('memsw')).map((k) => [k, knob(c.cgroupsPath, k)]));
    }
    assert.deepEqual(seen[uut.name], seen.runc);
    const want = v2
      ? { 'memory.limit_in_bytes': String(64 * MiB), 'memory.soft_limit_in_bytes': String(32 * MiB), 'cpu.shares': '20', 'cpu.cfs_quota_us': '20000 100000', 'pids.max': '30' }
      : { 'memory.limit_in_bytes': String(64 * MiB), 'memory.soft_limit_in_bytes': String(32 * MiB), 'cpu.shares': '512', 'cpu.cfs_quota_us': '20000', 'cpu.cfs_period_us': '100000', 'pids.max': '30' };
    for (const [k, v] of Object.entries(want)) assert.equal(seen[uut.name][k], v, k);
    if (memsw) assert.equal(seen[uut.name]['memory.memsw.limit_in_bytes'], String(v2 ? 64 * MiB : 128 * MiB));
  });

  test('the memory and pids limits are what the container sees in its cgroup mount', async (t) => {
    const probe = v2 ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu,cpuacct/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.shares';
    const got = {};
    for (const rt of [runc, uut]) {
      const id = newId(`seen-${rt.name}`);
      const b = await makeBundle({
        name: 'seen',
        args: ['sh', '-c', probe],
        edit(c) {
          c.linux.cgroupsPath = `/${id}`;
          c.linux.resources = { ...c.linux.resources, ...resources() };
        },
      });
      bundles.push(b);
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: b.dir });
      assert.equal(r.code, 0, show(r));
      got[rt.name] = r.stdout;
    }
    assert.equal(got[uut.name], got.runc);
    assert.match(got[uut.name], new RegExp(`^${64 * MiB}\n30\n`));
  });

  test('a process that allocates past the memory limit is OOM-killed (exit 137), as with runc', async (t) => {
    const codes = {};
    for (const rt of [runc, uut]) {
      const id = newId(`oom-${rt.name}`);
      const b = await makeBundle({
        name: 'oom',
        args: ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived ${#x}'],
        edit(c) {
          c.linux.cgroupsPath = `/${id}`;
          // memory+swap equal to memory: no swapping out of the way
          c.linux.resources = { ...c.linux.resources, memory: { limit: 16 * MiB, ...(memsw ? { swap: 16 * MiB } : {}) } };
        },
      });
      bundles.push(b);
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: b.dir });
      assert.doesNotMatch(r.stdout, /survived/, show(r));
      codes[rt.name] = r.code;
    }
    assert.equal(codes[uut.name], codes.runc);
    assert.equal(codes[uut.name], 137);
  });

  test('forks fail past pids.limit, as with runc', async (t) => {
    const out = {};
    for (const rt of [runc, uut]) {
      const id = newId(`pids-${rt.name}`);
      const b = await makeBundle({
        name: 'pids',
        // the init and the inner sh are 2 of the 10: the inner sh's 9th fork fails and ends it
        args: ['sh', '-c', 'sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo \\$i; sleep 2 & done" >/tmp/out 2>/tmp/err; echo attempts $(wc -l </tmp/out); grep -c fork /tmp/err'],
        edit(c) {
          c.root.readonly = false;
          c.linux.cgroupsPath = `/${id}`;
          c.linux.resources = { ...c.linux.resources, pids: { limit: 10 } };
        },
      });
      bundles.push(b);
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: b.dir }, { timeout: 30_000 });
      assert.equal(r.code, 0, show(r));
      out[rt.name] = r.stdout;
    }
    assert.equal(out[uut.name], out.runc);
    assert.equal(out[uut.name], 'attempts 9\n1\n');
  });

  test('update changes the limits of a running container (flags and --resources -), like runc', async (t) => {
    const seen = {};
    for (const rt of [runc, uut]) {
      const c = await detached(rt, `upd-${rt.name}`, { memory: { limit: 64 * MiB }, pids: { limit: 30 } });
      t.after(() => rt.forceDelete(c.id));
      const u = await verb(rt, 'update', ['--memory', '128m', '--cpu-quota', '30000', c.id]);
      assert.equal(u.code, 0, show(u));
      const file = join(RUN_DIR, `${c.id}.res.json`);
      writeFileSync(file, JSON.stringify({ pids: { limit: 42 }, memory: { reservation: 16 * MiB } }));
      const u2 = await verb(rt, 'update', ['--resources', '-', c.id], { stdin: file });
      assert.equal(u2.code, 0, show(u2));
      seen[rt.name] = ['memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'pids.max', 'cpu.cfs_quota_us'].map((k) => knob(c.cgroupsPath, k));
    }
    assert.deepEqual(seen[uut.name], seen.runc);
    assert.deepEqual(seen[uut.name].slice(0, 3), [String(128 * MiB), String(16 * MiB), '42']);
  });

  test(`update of a stopped container fails with 'container not running' (${uut.name})`, async (t) => {
    const c = await detached(uut, 'upd-stopped', {}, ['true']);
    t.after(() => uut.forceDelete(c.id));
    await waitStatus(uut, c.id, 'stopped');
    const u = await verb(uut, 'update', ['--memory', '128m', c.id]);
    assert.equal(u.code, 1, show(u));
    assert.match(u.error, /container not running/);
  });

  test('events --stats prints runc\'s JSON: the same keys, memory in use', async (t) => {
    const got = {};
    for (const rt of [runc, uut]) {
      const c = await detached(rt, `ev-${rt.name}`, { memory: { limit: 64 * MiB }, pids: { limit: 30 } });
      t.after(() => rt.forceDelete(c.id));
      const r = await verb(rt, 'events', ['--stats', c.id]);
      assert.equal(r.code, 0, show(r));
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 1, show(r));
      // exact uint64s (v1's 9223372036854771712) as strings, so that nothing is rounded
      got[rt.name] = JSON.parse(lines[0].replace(/:(\d{16,})/g, ':"$1"'));
      assert.equal(got[rt.name].type, 'stats');
      assert.equal(got[rt.name].id, c.id);
    }
    const e = got[uut.name].data;
    assert.deepEqual(Object.keys(e), Object.keys(got.runc.data));
    // memory.cache is omitempty in runc (Go's json): present when the container has page cache,
    // which differs between two containers; when present it is the raw cache (v1) or file (v2)
    const keys = (o) => Object.keys(o).filter((k) => k !== 'cache').sort();
    for (const k of ['cpu', 'memory', 'pids']) assert.deepEqual(keys(e[k]), keys(got.runc.data[k]), k);
    if (e.memory.cache !== undefined) assert.equal(String(e.memory.cache), String(e.memory.raw.cache ?? e.memory.raw.file));
    assert.ok(Number(e.memory.usage.usage) > 0, JSON.stringify(e.memory.usage));
    assert.equal(Number(e.memory.usage.limit), 64 * MiB);
    assert.equal(e.pids.current, 1);
    assert.equal(e.pids.limit, got.runc.data.pids.limit);
    assert.ok(Number(e.cpu.usage.total) > 0);
  });

  test(`events --interval prints stats until the container stops, then exits 0 (${uut.name})`, async (t) => {
    // the container outlives a few intervals even in the guest under TCG, where the events
    // command's own start takes a second or more (with `sleep 2` it once saw a single interval)
    const c = await detached(uut, 'ev-int', {}, ['sleep', '6']);
    t.after(() => uut.forceDelete(c.id));
    const r = await verb(uut, 'events', ['--interval', '500ms', c.id], { timeout: 20_000 });
    assert.equal(r.code, 0, show(r));
    const types = r.stdout.trim().split('\n').map((l) => JSON.parse(l.replace(/:(\d{16,})/g, ':"$1"')).type);
    assert.ok(types.length >= 2 && types.every((x) => x === 'stats'), r.stdout);
  });
});
