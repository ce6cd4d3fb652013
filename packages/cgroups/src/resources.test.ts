import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, existsSync, rmdirSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyResources, sharesToWeight, blkioWeightToIoWeight, swapToV2, enableControllers, type ResourceWrite } from './resources.ts';

/** A fixture cgroup dir: every knob a regular file with its initial content. */
function fixture(base: string, rel: string, files: Record<string, string>): string {
  const dir = join(base, rel);
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
  return dir;
}
const rel = (base: string, log: ResourceWrite[]) => log.map((w) => [w.file.slice(base.length + 1), w.value, w.field]);
const tmp = () => mkdtempSync(join(tmpdir(), 'runts-res-'));

const MEM_V1 = {
  'memory.limit_in_bytes': '9223372036854771712',
  'memory.memsw.limit_in_bytes': '9223372036854771712',
  'memory.soft_limit_in_bytes': '',
  'memory.kmem.tcp.limit_in_bytes': '',
  'memory.oom_control': '',
  'memory.swappiness': '',
  'memory.use_hierarchy': '1',
  'memory.usage_in_bytes': '1000',
  'memory.max_usage_in_bytes': '2000',
};

function v1Host() {
  const base = tmp();
  const paths = {
    cpuset: fixture(base, 'cpuset/c1', { 'cpuset.cpus': '', 'cpuset.mems': '' }),
    memory: fixture(base, 'memory/c1', MEM_V1),
    'cpu,cpuacct': fixture(base, 'cpu,cpuacct/c1', { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0', 'cpu.rt_period_us': '', 'cpu.rt_runtime_us': '' }),
    pids: fixture(base, 'pids/c1', { 'pids.max': 'max' }),
    blkio: fixture(base, 'blkio/c1', { 'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '', 'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_bps_device': '', 'blkio.throttle.read_iops_device': '', 'blkio.throttle.write_iops_device': '' }),
    hugetlb: fixture(base, 'hugetlb/c1', { 'hugetlb.2MB.limit_in_bytes': '' }),
    'net_cls,net_prio': fixture(base, 'net_cls,net_prio/c1', { 'net_cls.classid': '', 'net_prio.ifpriomap': '' }),
    rdma: fixture(base, 'rdma/c1', { 'rdma.max': '' }),
    unified: fixture(base, 'unified/c1', {}),
  };
  return { base, paths };
}

describe('cgroup v1 (fixture)', () => {
  test('every resource is written to its file, in runc order, with runc values', () => {
    const { base, paths } = v1Host();
    const warnings: string[] = [];
    const log = applyResources(
      { mode: 'hybrid' },
      paths,
      {
        memory: { limit: 104857600, swap: 209715200, reservation: 52428800, kernel: 1, kernelTCP: 10485760, swappiness: 10, disableOOMKiller: true },
        cpu: { shares: 512, quota: 50000, period: 200000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0', mems: '0' },
        pids: { limit: 10 },
        blockIO: {
          weight: 500,
          weightDevice: [{ major: 8, minor: 0, weight: 300 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
          throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
          throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200n }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 18446744073709551615n }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 2 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
      },
      { warn: (m) => warnings.push(m) },
    );
    assert.deepEqual(rel(base, log), [
      ['cpuset/c1/cpuset.cpus', '0', 'linux.resources.cpu.cpus'],
      ['cpuset/c1/cpuset.mems', '0', 'linux.resources.cpu.mems'],
      // current limit (unlimited) >= swap: memory first, then memory+swap
      ['memory/c1/memory.limit_in_bytes', '104857600', 'linux.resources.memory.limit'],
      ['memory/c1/memory.memsw.limit_in_bytes', '209715200', 'linux.resources.memory.swap'],
      ['memory/c1/memory.kmem.tcp.limit_in_bytes', '10485760', 'linux.resources.memory.kernelTCP'],
      ['memory/c1/memory.soft_limit_in_bytes', '52428800', 'linux.resources.memory.reservation'],
      ['memory/c1/memory.oom_control', '1', 'linux.resources.memory.disableOOMKiller'],
      ['memory/c1/memory.swappiness', '10', 'linux.resources.memory.swappiness'],
      ['cpu,cpuacct/c1/cpu.rt_period_us', '1000000', 'linux.resources.cpu.realtimePeriod'],
      ['cpu,cpuacct/c1/cpu.rt_runtime_us', '950000', 'linux.resources.cpu.realtimeRuntime'],
      ['cpu,cpuacct/c1/cpu.shares', '512', 'linux.resources.cpu.shares'],
      ['cpu,cpuacct/c1/cpu.cfs_period_us', '200000', 'linux.resources.cpu.period'],
      ['cpu,cpuacct/c1/cpu.cfs_quota_us', '50000', 'linux.resources.cpu.quota'],
      ['cpu,cpuacct/c1/cpu.cfs_burst_us', '1000', 'linux.resources.cpu.burst'],
      ['cpu,cpuacct/c1/cpu.rt_period_us', '1000000', 'linux.resources.cpu.realtimePeriod'],
      ['cpu,cpuacct/c1/cpu.rt_runtime_us', '950000', 'linux.resources.cpu.realtimeRuntime'],
      ['pids/c1/pids.max', '10', 'linux.resources.pids.limit'],
      ['blkio/c1/blkio.bfq.weight', '500', 'linux.resources.blockIO.weight'],
      ['blkio/c1/blkio.bfq.weight_device', '8:0 300', 'linux.resources.blockIO.weightDevice[0].weight'],
      ['blkio/c1/blkio.throttle.read_bps_device', '8:0 1048576', 'linux.resources.blockIO.throttleReadBpsDevice[0]'],
      ['blkio/c1/blkio.throttle.write_bps_device', '8:0 2097152', 'linux.resources.blockIO.throttleWriteBpsDevice[0]'],
      ['blkio/c1/blkio.throttle.read_iops_device', '8:0 100', 'linux.resources.blockIO.throttleReadIOPSDevice[0]'],
      ['blkio/c1/blkio.throttle.write_iops_device', '8:16 200', 'linux.resources.blockIO.throttleWriteIOPSDevice[0]'],
      ['hugetlb/c1/hugetlb.2MB.limit_in_bytes', '18446744073709551615', 'linux.resources.hugepageLimits[0].limit'],
      ['net_cls,net_prio/c1/net_cls.classid', '1048577', 'linux.resources.network.classID'],
      ['net_cls,net_prio/c1/net_prio.ifpriomap', 'eth0 5', 'linux.resources.network.priorities[0]'],
      ['net_cls,net_prio/c1/net_prio.ifpriomap', 'lo 2', 'linux.resources.network.priorities[1]'],
      ['rdma/c1/rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000', 'linux.resources.rdma.mlx5_1'],
    ]);
    assert.equal(readFileSync(join(paths.memory, 'memory.limit_in_bytes'), 'utf8'), '104857600');
    assert.equal(readFileSync(join(paths['cpu,cpuacct'], 'cpu.cfs_quota_us'), 'utf8'), '50000');
    assert.deepEqual(warnings, ['linux.resources.memory.kernel: kernel memory limits are ignored (as runc does; the kernel dropped them)']);
  });

  test('memory and memory+swap are written in the order the kernel accepts (runc setMemoryAndSwap)', () => {
    const { base, paths } = v1Host();
    writeFileSync(join(paths.memory, 'memory.limit_in_bytes'), '104857600');
    // raising: current limit < new swap -> swap first
    let log = applyResources({ mode: 'v1' }, paths, { memory: { limit: 314572800, swap: 419430400 } }, { update: true });
    assert.deepEqual(rel(base, log).map((w) => w[0]), ['memory/c1/memory.memsw.limit_in_bytes', 'memory/c1/memory.limit_in_bytes']);
    // lowering: current limit (300M) >= new swap -> memory first
    log = applyResources({ mode: 'v1' }, paths, { memory: { limit: 52428800, swap: 62914560 } }, { update: true });
    assert.deepEqual(rel(base, log).map((w) => w[0]), ['memory/c1/memory.limit_in_bytes', 'memory/c1/memory.memsw.limit_in_bytes']);
    // -1 without swap: both unlimited, swap first
    log = applyResources({ mode: 'v1' }, paths, { memory: { limit: -1 } }, { update: true });
    assert.deepEqual(rel(base, log), [
      ['memory/c1/memory.memsw.limit_in_bytes', '-1', 'linux.resources.memory.swap'],
      ['memory/c1/memory.limit_in_bytes', '-1', 'linux.resources.memory.limit'],
    ]);
    // zero means leave alone; swappiness -1 (as uint64) is unset
    assert.deepEqual(applyResources({ mode: 'v1' }, paths, { memory: { limit: 0, swap: 0, swappiness: 18446744073709551615n } }), []);
    assert.throws(() => applyResources({ mode: 'v1' }, paths, { memory: { swappiness: 101 } }), /^RuntimeError: linux.resources.memory.swappiness: invalid memory swappiness value: 101 \(valid range is 0-100\)$/);
  });

  test('pids: 0 and -1 are no limit', () => {
    const { base, paths } = v1Host();
    for (const limit of [0, -1, -1n]) assert.deepEqual(rel(base, applyResources({ mode: 'v1' }, paths, { pids: { limit } })), [['pids/c1/pids.max', 'max', 'linux.resources.pids.limit']]);
  });

  test('CFQ weight files when blkio.weight exists', () => {
    const { base, paths } = v1Host();
    writeFileSync(join(paths.blkio, 'blkio.weight'), '500');
    writeFileSync(join(paths.blkio, 'blkio.weight_device'), '');
    writeFileSync(join(paths.blkio, 'blkio.leaf_weight'), '');
    writeFileSync(join(paths.blkio, 'blkio.leaf_weight_device'), '');
    const log = applyResources({ mode: 'v1' }, paths, { blockIO: { weight: 10, leafWeight: 20, weightDevice: [{ major: 8, minor: 0, weight: 30, leafWeight: 40 }] } });
    assert.deepEqual(rel(base, log).map((w) => `${w[0]}=${w[1]}`), ['blkio/c1/blkio.weight=10', 'blkio/c1/blkio.leaf_weight=20', 'blkio/c1/blkio.weight_device=8:0 30', 'blkio/c1/blkio.leaf_weight_device=8:0 40']);
  });

  test('a set resource whose controller is missing fails naming the field; unset ones need nothing', () => {
    const { paths } = v1Host();
    const { hugetlb: _h, 'net_cls,net_prio': _n, ...partial } = paths;
    assert.throws(() => applyResources({ mode: 'v1' }, partial, { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), /^RuntimeError: linux.resources.hugepageLimits\[0\]: cannot set hugetlb limit: the hugetlb cgroup controller is not mounted on this host$/);
    assert.throws(() => applyResources({ mode: 'v1' }, partial, { network: { classID: 3 } }), /linux.resources.network.classID: cannot set net_cls limit/);
    assert.deepEqual(applyResources({ mode: 'v1' }, partial, { hugepageLimits: [], network: { classID: 0 } }), []);
    assert.throws(() => applyResources({ mode: 'hybrid' }, paths, { unified: { 'memory.high': '1' } }), /^RuntimeError: linux.resources.unified: invalid configuration: cannot use unified on cgroup v1$/);
    assert.throws(() => applyResources({ mode: 'v1' }, paths, { hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), /hugepageLimits\[0\].pageSize: invalid hugepage size "2M"/);
  });

  test('a failed write names the field and the file', () => {
    const { paths } = v1Host();
    rmSync(join(paths.memory, 'memory.soft_limit_in_bytes'));
    assert.throws(
      () => applyResources({ mode: 'v1' }, paths, { memory: { reservation: 1 } }),
      (e: Error) => e.message === `linux.resources.memory.reservation: write ${join(paths.memory, 'memory.soft_limit_in_bytes')}: no such file or directory`,
    );
    assert.throws(() => applyResources({ mode: 'v1' }, paths, { memory: { limit: 1.5 } }), /linux.resources.memory.limit: expected an integer, got 1.5/);
  });
});

function v2Host(extra: Record<string, string> = {}) {
  const base = tmp();
  fixture(base, '', { 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma', 'cgroup.subtree_control': '' });
  fixture(base, 'runts', { 'cgroup.subtree_control': '' });
  const dir = fixture(base, 'runts/c1', {
    'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma',
    'pids.max': 'max',
    'memory.max': 'max',
    'memory.swap.max': 'max',
    'memory.low': '0',
    'memory.high': 'max',
    'memory.current': '1048576',
    'io.weight': 'default 100',
    'io.max': '',
    'cpu.idle': '0',
    'cpu.weight': '100',
    'cpu.max': 'max 100000',
    'cpu.max.burst': '0',
    'cpuset.cpus': '',
    'cpuset.mems': '',
    'hugetlb.2MB.max': 'max',
    'rdma.max': '',
    ...extra,
  });
  return { base, dir, layout: { mode: 'v2' as const, v2: { mountpoint: base } } };
}

describe('cgroup v2 (fixture)', () => {
  test('every resource is written to its file with runc fs2 conversions', () => {
    const { base, dir, layout } = v2Host();
    const warnings: string[] = [];
    const log = applyResources(
      layout,
      { unified: dir },
      {
        memory: { limit: 104857600, swap: 157286400, reservation: 52428800, swappiness: 60, disableOOMKiller: true },
        cpu: { shares: 1024, quota: 50000, period: 200000, burst: 1000, idle: 0, cpus: '0-1', mems: '0' },
        pids: { limit: 100 },
        blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 20 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
        rdma: { mlx5_1: { hcaHandles: 3 } },
        unified: { 'memory.high': '94371840' },
      },
      { warn: (m) => warnings.push(m) },
    );
    assert.deepEqual(rel(base, log), [
      ['runts/c1/pids.max', '100', 'linux.resources.pids.limit'],
      ['runts/c1/memory.swap.max', '52428800', 'linux.resources.memory.swap'],
      ['runts/c1/memory.max', '104857600', 'linux.resources.memory.limit'],
      ['runts/c1/memory.low', '52428800', 'linux.resources.memory.reservation'],
      ['runts/c1/io.weight', '4950', 'linux.resources.blockIO.weight'],
      ['runts/c1/io.max', '8:0 rbps=1048576', 'linux.resources.blockIO.throttleReadBpsDevice[0]'],
      ['runts/c1/io.max', '8:0 wiops=20', 'linux.resources.blockIO.throttleWriteIOPSDevice[0]'],
      ['runts/c1/cpu.idle', '0', 'linux.resources.cpu.idle'],
      ['runts/c1/cpu.weight', '39', 'linux.resources.cpu.shares'],
      ['runts/c1/cpu.max.burst', '1000', 'linux.resources.cpu.burst'],
      ['runts/c1/cpu.max', '50000 200000', 'linux.resources.cpu.quota'],
      ['runts/c1/cpuset.cpus', '0-1', 'linux.resources.cpu.cpus'],
      ['runts/c1/cpuset.mems', '0', 'linux.resources.cpu.mems'],
      ['runts/c1/hugetlb.2MB.max', '4194304', 'linux.resources.hugepageLimits[0].limit'],
      ['runts/c1/rdma.max', 'mlx5_1 hca_handle=3', 'linux.resources.rdma.mlx5_1'],
      ['runts/c1/memory.high', '94371840', 'linux.resources.unified["memory.high"]'],
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /memory.swappiness: memory.swappiness is a cgroup v1 setting; ignored on cgroup v2/);
    // controllers enabled from the root down to the container's parent
    assert.equal(readFileSync(join(base, 'cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +hugetlb +pids +rdma');
    assert.equal(readFileSync(join(base, 'runts/cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +hugetlb +pids +rdma');
    assert.equal(existsSync(join(dir, 'cgroup.subtree_control')), false);
  });

  test('-1 is max; quota without period uses 100000; swap equal to limit disables swap', () => {
    const { base, dir, layout } = v2Host();
    const log = applyResources(layout, { unified: dir }, { memory: { limit: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } }, { update: true });
    assert.deepEqual(rel(base, log).map((w) => `${w[0]}=${w[1]}`), ['runts/c1/pids.max=max', 'runts/c1/memory.swap.max=max', 'runts/c1/memory.max=max', 'runts/c1/cpu.max=max 100000']);
    const log2 = applyResources(layout, { unified: dir }, { memory: { limit: 1000, swap: 1000 }, cpu: { period: 50000 } }, { update: true });
    assert.deepEqual(rel(base, log2).map((w) => `${w[0]}=${w[1]}`), ['runts/c1/memory.swap.max=0', 'runts/c1/memory.max=1000', 'runts/c1/cpu.max=max 50000']);
    assert.equal(readFileSync(join(base, 'cgroup.subtree_control'), 'utf8'), '', 'update does not touch subtree_control');
  });

  test('BFQ weights when io.bfq.weight exists', () => {
    const { base, dir, layout } = v2Host({ 'io.bfq.weight': 'default 100\n' });
    const log = applyResources(layout, { unified: dir }, { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } });
    assert.deepEqual(rel(base, log).map((w) => `${w[0]}=${w[1]}`), ['runts/c1/io.bfq.weight=300', 'runts/c1/io.bfq.weight=8:0 200']);
  });

  test('errors: swap without limit, swap below limit, checkBeforeUpdate, missing knob, unified', () => {
    const { dir, layout } = v2Host();
    const p = { unified: dir };
    assert.throws(() => applyResources(layout, p, { memory: { swap: 100 } }), /linux.resources.memory.swap: unable to set swap limit without memory limit/);
    assert.throws(() => applyResources(layout, p, { memory: { limit: 200, swap: 100 } }), /memory\+swap limit should be >= memory limit/);
    assert.throws(() => applyResources(layout, p, { memory: { limit: 1000, checkBeforeUpdate: true } }), /^RuntimeError: linux.resources.memory.limit: rejecting memory limit 1000 <= usage 1048576$/);
    rmSync(join(dir, 'hugetlb.2MB.max'));
    assert.throws(() => applyResources(layout, p, { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), (e: Error) => e.message === `linux.resources.hugepageLimits[0].limit: write ${join(dir, 'hugetlb.2MB.max')}: no such file or directory`);
    assert.throws(() => applyResources(layout, p, { unified: { '../x': '1' } }), /unified resource must be a file name/);
    assert.throws(() => applyResources(layout, p, { unified: { 'misc.max': '1' } }), /linux.resources.unified\["misc.max"\]: can't be set: controller "misc" not available/);
    assert.throws(() => applyResources(layout, p, { unified: { nodot: '1' } }), /must be in the form CONTROLLER.PARAMETER/);
  });

  test('conversions as runc', () => {
    assert.equal(sharesToWeight(0n), 0n);
    assert.equal(sharesToWeight(2n), 1n);
    assert.equal(sharesToWeight(1024n), 39n);
    assert.equal(sharesToWeight(262144n), 10000n);
    assert.equal(blkioWeightToIoWeight(10n), 1n);
    assert.equal(blkioWeightToIoWeight(1000n), 10000n);
    assert.equal(swapToV2(0n, -1n), -1n);
    assert.equal(swapToV2(300n, 100n), 200n);
    assert.equal(swapToV2(-1n, 100n), -1n);
  });

  test('enableControllers falls back to one controller at a time', () => {
    const base = tmp();
    fixture(base, '', { 'cgroup.controllers': 'cpu memory' });
    mkdirSync(join(base, 'a/b'), { recursive: true });
    // no cgroup.subtree_control files at all: nothing is created, nothing throws
    enableControllers(base, join(base, 'a/b'));
    assert.equal(existsSync(join(base, 'cgroup.subtree_control')), false);
  });
});

// Root only: the real v1 hierarchy of this host (a hybrid host has its controllers there).
const skipReal = process.getuid?.() !== 0 ? 'needs root (writes the host cgroup v1 hierarchy)' : !existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') ? 'no cgroup v1 memory controller on this host' : false;

describe('cgroup v1 (the real hierarchy)', { skip: skipReal }, () => {
  const name = `runts-unit-${process.pid}`;
  const ctl = ['memory', 'cpu', 'pids', 'cpuset', 'blkio'];
  const paths: Record<string, string> = {};
  for (const c of ctl) {
    const key = existsSync(`/sys/fs/cgroup/${c}`) ? c : undefined;
    if (key) paths[c] = `/sys/fs/cgroup/${c}/${name}`;
  }
  after(() => {
    for (const d of Object.values(paths)) if (existsSync(d)) rmdirSync(d);
  });

  test('limits land in the kernel files, memory and swap in either direction', () => {
    for (const d of Object.values(paths)) mkdirSync(d, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(paths.cpuset!, f), readFileSync(`/sys/fs/cgroup/cpuset/${f}`, 'utf8').trim());
    const memsw = existsSync(join(paths.memory!, 'memory.memsw.limit_in_bytes'));
    applyResources({ mode: 'hybrid' }, paths, {
      memory: { limit: 104857600, ...(memsw ? { swap: 209715200 } : {}), reservation: 52428800, swappiness: 10 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 42 },
    });
    const r = (c: string, f: string) => readFileSync(join(paths[c]!, f), 'utf8').trim();
    assert.equal(r('memory', 'memory.limit_in_bytes'), '104857600');
    if (memsw) assert.equal(r('memory', 'memory.memsw.limit_in_bytes'), '209715200');
    assert.equal(r('memory', 'memory.soft_limit_in_bytes'), '52428800');
    assert.equal(r('memory', 'memory.swappiness'), '10');
    assert.equal(r('cpu', 'cpu.shares'), '512');
    assert.equal(r('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(r('cpu', 'cpu.cfs_period_us'), '100000');
    assert.equal(r('cpuset', 'cpuset.cpus'), '0');
    assert.equal(r('pids', 'pids.max'), '42');
    if (memsw) {
      // up: memsw must be raised first, or the kernel refuses memory > memsw
      applyResources({ mode: 'hybrid' }, paths, { memory: { limit: 314572800, swap: 419430400 } }, { update: true });
      assert.equal(r('memory', 'memory.limit_in_bytes'), '314572800');
      assert.equal(r('memory', 'memory.memsw.limit_in_bytes'), '419430400');
      // down: memory first, or memsw < memory
      applyResources({ mode: 'hybrid' }, paths, { memory: { limit: 52428800, swap: 62914560 } }, { update: true });
      assert.equal(r('memory', 'memory.memsw.limit_in_bytes'), '62914560');
      applyResources({ mode: 'hybrid' }, paths, { memory: { limit: -1 } }, { update: true });
      assert.equal(r('memory', 'memory.limit_in_bytes'), '9223372036854771712');
    }
    applyResources({ mode: 'hybrid' }, paths, { cpu: { quota: -1 }, pids: { limit: -1 } }, { update: true });
    assert.equal(r('cpu', 'cpu.cfs_quota_us'), '-1');
    assert.equal(r('pids', 'pids.max'), 'max');
  });

  test('kernel refusals name the field and the file: shares out of range, memory limit below usage', async () => {
    assert.throws(() => applyResources({ mode: 'hybrid' }, paths, { cpu: { shares: 1 } }), /^RuntimeError: linux.resources.cpu.shares: the minimum allowed cpu-shares is 2$/);
    // a process with a few hundred KiB in the cgroup, then a 4 KiB limit: EBUSY
    const child = spawn('sh', ['-c', 'read a; x=$(head -c 300000 /dev/zero | tr "\\0" a); echo ok; read b'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      writeFileSync(join(paths.memory!, 'cgroup.procs'), String(child.pid));
      child.stdin!.write('go\n');
      await new Promise((r) => child.stdout!.once('data', r));
      assert.throws(
        () => applyResources({ mode: 'hybrid' }, paths, { memory: { limit: 4096 } }, { update: true }),
        new RegExp(`^RuntimeError: linux.resources.memory.limit: write ${paths.memory}/memory.limit_in_bytes: device or resource busy: unable to set memory limit to 4096 \\(current usage: \\d+, peak usage: \\d+\\)$`),
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

test('files: only the knobs it accepts are written (pids.max, deferred by create, from pids or unified)', () => {
  const base = tmp();
  try {
    const dir = fixture(base, 'c1', { 'pids.max': 'max', 'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '', 'memory.high': 'max', 'memory.oom.group': '0' });
    const layout = { mode: 'v2' as const };
    const res = { memory: { limit: 1048576 }, pids: { limit: 7 } };
    const without = applyResources(layout, { unified: dir }, res, { update: true, files: (f) => f !== 'pids.max' });
    assert.ok(without.every((w) => !w.file.endsWith('pids.max')));
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), 'max', 'left for later');
    assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), '1048576');
    const only = applyResources(layout, { unified: dir }, res, { update: true, files: (f) => f === 'pids.max' });
    assert.deepEqual(only.map((w) => w.file.slice(dir.length + 1)), ['pids.max']);
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '7');
    applyResources(layout, { unified: dir }, { unified: { 'pids.max': '9' } }, { update: true, files: (f) => f === 'pids.max' });
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '9', 'a pids.max given in unified too');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
