import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerPaths, writeRecord, procStat, type ContainerRecord } from '@runts/core';
import { update, mergeResources, ramInBytes, resourcesFromFlags, readResources } from './index.ts';

function container(pid: number) {
  const root = mkdtempSync(join(tmpdir(), 'runts-update-'));
  const memory = join(root, 'cg/memory/c1');
  mkdirSync(memory, { recursive: true });
  for (const f of ['memory.limit_in_bytes', 'memory.soft_limit_in_bytes']) writeFileSync(join(memory, f), '9223372036854771712');
  const cpu = join(root, 'cg/cpu/c1');
  mkdirSync(cpu, { recursive: true });
  for (const f of ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us']) writeFileSync(join(cpu, f), '');
  const paths = containerPaths(root, 'c1');
  mkdirSync(paths.dir, { recursive: true });
  const rec: ContainerRecord = {
    ociVersion: '1.3.0',
    id: 'c1',
    pid,
    startTime: procStat(pid)?.startTime ?? '',
    bundle: root,
    rootfs: join(root, 'rootfs'),
    created: new Date().toISOString(),
    owner: '',
    cgroupPaths: { memory, cpu },
    config: { linux: { resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 104857600 }, cpu: { shares: 1024 } } } },
  };
  writeRecord(paths, rec);
  return { root, paths, memory, cpu };
}

test('update merges into the stored resources, writes the cgroups, and keeps the result in state.json', async () => {
  const c = container(process.pid);
  const writes = await update({ root: c.root, id: 'c1', resources: { memory: { limit: 209715200 }, cpu: { quota: 50000 } }, layout: { mode: 'v1' }, confine: (p) => p });
  assert.deepEqual(
    writes.map((w) => [w.file.slice(c.root.length + 1), w.value]),
    [
      ['cg/memory/c1/memory.limit_in_bytes', '209715200'],
      ['cg/cpu/c1/cpu.shares', '1024'],
      ['cg/cpu/c1/cpu.cfs_quota_us', '50000'],
    ],
  );
  assert.equal(readFileSync(join(c.memory, 'memory.limit_in_bytes'), 'utf8'), '209715200');
  const stored = JSON.parse(readFileSync(c.paths.state, 'utf8'));
  assert.deepEqual(stored.config.linux.resources, { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 209715200 }, cpu: { shares: 1024, quota: 50000 } });
});

test('a stopped container is refused with runc\'s message', async () => {
  const dead = spawnSync('true').pid!;
  const c = container(dead);
  await assert.rejects(() => update({ root: c.root, id: 'c1', resources: { memory: { limit: 1 } }, layout: { mode: 'v1' }, confine: (p) => p }), /^RuntimeError: container not running$/);
  await assert.rejects(() => update({ root: c.root, id: 'nope', resources: {}, layout: { mode: 'v1' }, confine: (p) => p }), /container does not exist/);
});

test('merge: objects field by field, arrays and values replaced, null ignored', () => {
  assert.deepEqual(mergeResources({ memory: { limit: 1, swap: 2 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }, { memory: { limit: 5, swap: null }, hugepageLimits: [], pids: { limit: 3 } }), {
    memory: { limit: 5, swap: 2 },
    hugepageLimits: [],
    pids: { limit: 3 },
  });
});

test('runc update flags: sizes with units, -1, integers; --resources from a file or stdin', () => {
  assert.equal(ramInBytes('memory', '512m'), 536870912n);
  assert.equal(ramInBytes('memory', '1g'), 1073741824n);
  assert.equal(ramInBytes('memory', '1.5GiB'), 1610612736n);
  assert.equal(ramInBytes('memory', '4096'), 4096n);
  assert.equal(ramInBytes('memory-swap', '-1'), -1n);
  assert.throws(() => ramInBytes('memory', 'lots'), /invalid value for memory: invalid size: 'lots'/);
  assert.deepEqual(resourcesFromFlags({ memory: '100m', memorySwap: '-1', cpuShare: '512', cpuQuota: '-1', cpusetCpus: '0', pidsLimit: '10', blkioWeight: '500' }), {
    memory: { limit: 104857600n, swap: -1n },
    cpu: { shares: 512n, quota: -1n, cpus: '0' },
    pids: { limit: 10n },
    blockIO: { weight: 500 },
  });
  assert.throws(() => resourcesFromFlags({ cpuShare: '-5' }), /invalid value for cpu-share/);
  const d = mkdtempSync(join(tmpdir(), 'runts-update-'));
  writeFileSync(join(d, 'r.json'), '{"memory":{"limit":18446744073709551615}}');
  assert.deepEqual(readResources(join(d, 'r.json')), { memory: { limit: 18446744073709551615n } });
  assert.deepEqual(readResources('-', () => '{"pids":{"limit":5}}'), { pids: { limit: 5 } });
  assert.throws(() => readResources('-', () => '[1]'), /expected a JSON object/);
});
