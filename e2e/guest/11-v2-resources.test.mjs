// More of linux.resources on a real cgroup v2 (runs in the guest: pnpm test:guest), differential
// against runc 1.1.5: cpuset, cpu.idle, io (weight and throttles on the guest's disk), hugetlb,
// linux.resources.unified, memory.swap.max; and bad input that the v2 kernel refuses (the error names
// the field, exit 1, no cgroup left). The host suite's tests/09-resources (v2-aware) also runs here,
// through 12-host-resources.test.mjs.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, RUN_DIR } from '../lib/index.mjs';

const CG = '/sys/fs/cgroup';
assert.ok(existsSync(join(CG, 'cgroup.controllers')) && !existsSync(join(CG, 'memory')), 'not a pure cgroup v2 host: run this in the guest (pnpm test:guest)');

const uut = runtime();
const runc = runtime('runc');
const MiB = 1024 * 1024;
const cgfile = (path, f) => readFileSync(join(CG, path, f), 'utf8').trim();

// The guest's disk (virtio, /dev/vda): its major:minor for the io rules.
const vda = statSync('/dev/vda').rdev;
const disk = { major: Math.floor(vda / 256) & 0xfff, minor: (vda & 0xff) | ((vda >> 12) & 0xfff00) };
const hugeSizes = existsSync(join(CG, 'cgroup.controllers')) && readFileSync(join(CG, 'cgroup.controllers'), 'utf8').includes('hugetlb')
  ? readdirSync('/sys/kernel/mm/hugepages').map((d) => Number(/hugepages-(\d+)kB/.exec(d)?.[1])).filter((n) => n > 0).sort((a, b) => a - b)
  : [];

describe(`cgroup v2 resources, more (${uut.name} vs runc)`, () => {
  const bundles = [];
  after(() => bundles.forEach((b) => b.cleanup()));

  async function start(rt, name, resources) {
    const id = newId(name);
    const b = await makeBundle({
      name,
      args: ['sleep', '1000'],
      edit(c) {
        c.linux.cgroupsPath = `/${id}`;
        c.linux.resources = { ...c.linux.resources, ...resources };
      },
    });
    bundles.push(b);
    const out = join(RUN_DIR, `${id}.out`);
    const r = await rt.run(id, { bundle: b.dir, detach: true }, { stdout: out, stderr: out });
    return { id, r, out: readFileSync(out, 'utf8') };
  }

  test('cpuset, cpu.idle, io weight and throttles, hugetlb, unified, swap: the files runc writes', async (t) => {
    const res = {
      cpu: { cpus: '0', mems: '0', idle: 0, shares: 2048 },
      memory: { limit: 96 * MiB, swap: 160 * MiB },
      blockIO: {
        weight: 300,
        throttleReadBpsDevice: [{ ...disk, rate: 10 * MiB }],
        throttleWriteIOPSDevice: [{ ...disk, rate: 500 }],
      },
      ...(hugeSizes.length ? { hugepageLimits: [{ pageSize: hugeSizes[0] >= 1048576 ? `${hugeSizes[0] / 1048576}GB` : hugeSizes[0] >= 1024 ? `${hugeSizes[0] / 1024}MB` : `${hugeSizes[0]}KB`, limit: 4 * MiB }] } : {}),
      unified: { 'memory.high': String(80 * MiB), 'pids.max': '77' },
    };
    const files = ['cpuset.cpus', 'cpuset.mems', 'cpu.idle', 'cpu.weight', 'memory.max', 'memory.swap.max', 'memory.high', 'pids.max', 'io.max'];
    const ioWeightFile = existsSync(join(CG, 'io.bfq.weight')) ? 'io.bfq.weight' : 'io.weight';
    const seen = {};
    for (const rt of [runc, uut]) {
      const c = await start(rt, `more-${rt.name}`, res);
      t.after(() => rt.forceDelete(c.id));
      assert.equal(c.r.code, 0, `${rt.name}: ${show(c.r)}${c.out}`);
      const hf = hugeSizes.length ? readdirSync(join(CG, c.id)).filter((f) => /^hugetlb\.[^.]+\.max$/.test(f)) : [];
      seen[rt.name] = Object.fromEntries([...files, ...hf].map((f) => [f, cgfile(`/${c.id}`, f)]));
      // io.weight's "default N" line (or BFQ's): only runc's value matters, compared below
      seen[rt.name].ioWeight = existsSync(join(CG, c.id, ioWeightFile)) ? cgfile(`/${c.id}`, ioWeightFile).split('\n')[0] : 'none';
    }
    assert.deepEqual(seen[uut.name], seen.runc);
    const u = seen[uut.name];
    assert.equal(u['cpuset.cpus'], '0');
    assert.equal(u['memory.max'], String(96 * MiB));
    assert.equal(u['memory.swap.max'], String(64 * MiB), 'v1 memory+swap 160M - memory 96M');
    assert.equal(u['memory.high'], String(80 * MiB));
    assert.equal(u['pids.max'], '77');
    assert.match(u['io.max'], new RegExp(`^${disk.major}:${disk.minor} rbps=${10 * MiB} wbps=max riops=max wiops=500$`));
  });

  test('unified: a file the kernel does not have fails naming the field; no cgroup is left', async () => {
    const c = await start(uut, 'bad-unified', { unified: { 'memory.nosuchknob': '1' } });
    assert.equal(c.r.code, 1, show(c.r));
    assert.match(c.r.error + c.out, /linux\.resources\.unified\[\\?"memory\.nosuchknob\\?"\]/);
    assert.ok(!existsSync(join(CG, c.id)), `${CG}/${c.id} is left`);
    assert.ok(!uut.ids().includes(c.id), 'a state dir is left');
  });

  test('a value the v2 kernel refuses (cpuset.cpus beyond the CPUs) fails naming the field; no cgroup is left', async () => {
    const r = {};
    for (const rt of [runc, uut]) {
      const c = await start(rt, `bad-cpuset-${rt.name}`, { cpu: { cpus: '63' } });
      r[rt.name] = c;
      assert.notEqual(c.r.code, 0, `${rt.name}: ${show(c.r)}`);
      assert.ok(!existsSync(join(CG, c.id)), `${rt.name}: ${CG}/${c.id} is left`);
      await rt.forceDelete(c.id);
    }
    assert.equal(r[uut.name].r.code, 1);
    assert.match(r[uut.name].r.error + r[uut.name].out, /linux\.resources\.cpu\.cpus/);
    assert.ok(!uut.ids().includes(r[uut.name].id), 'a state dir is left');
  });
});
