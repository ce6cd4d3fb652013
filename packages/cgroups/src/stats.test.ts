import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringifyLossless } from '@runts/core';
import { cgroupStats, oomKillCount, parseCpuList } from './stats.ts';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'runts-stats-'));
  mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), v);
  return d;
}

test('v1 stats have runc events --stats field names and omitempty', () => {
  const paths = {
    cpuacct: dir({ 'cpuacct.usage': '16910219\n', 'cpuacct.usage_percpu': '2900305 14009914 \n', 'cpuacct.usage_all': 'cpu user system\n0 0 2900305\n1 4000000 11584395\n', 'cpuacct.stat': 'user 0\nsystem 1\n' }),
    cpu: dir({ 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' }),
    cpuset: dir({ 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n', 'cpuset.cpu_exclusive': '0', 'cpuset.sched_load_balance': '1', 'cpuset.sched_relax_domain_level': '-1' }),
    memory: dir({
      'memory.limit_in_bytes': '9223372036854771712\n',
      'memory.usage_in_bytes': '729088\n',
      'memory.max_usage_in_bytes': '2514944\n',
      'memory.failcnt': '0\n',
      'memory.kmem.tcp.limit_in_bytes': '9223372036854771712\n',
      'memory.kmem.tcp.usage_in_bytes': '0\n',
      'memory.kmem.tcp.failcnt': '0\n',
      'memory.stat': 'cache 0\nrss 57344\nhierarchical_memory_limit 9223372036854771712\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    }),
    pids: dir({ 'pids.current': '1\n', 'pids.max': 'max\n' }),
    blkio: dir({ 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n', 'blkio.throttle.io_serviced_recursive': '8:0 Read 1\nTotal 1\n' }),
  };
  const s = cgroupStats('hybrid', paths);
  const json = JSON.parse(stringifyLossless(s).replace(/(\d{16,})/g, '"$1"'));
  assert.deepEqual(Object.keys(json), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  assert.deepEqual(json.cpu, { usage: { total: 16910219, percpu: [2900305, 14009914], percpu_kernel: [2900305, 11584395], percpu_user: [0, 4000000], kernel: 10000000, user: 0 }, throttling: {} });
  assert.deepEqual(json.cpuset.cpus, [0, 1]);
  assert.equal(json.cpuset.sched_relax_domain_level, -1);
  assert.deepEqual(json.memory.usage, { limit: '9223372036854771712', usage: 729088, max: 2514944, failcnt: 0 });
  assert.deepEqual(json.memory.kernelTCP, { limit: '9223372036854771712', failcnt: 0 });
  assert.deepEqual(Object.keys(json.memory), ['usage', 'swap', 'kernel', 'kernelTCP', 'raw']);
  assert.equal(json.memory.raw.hierarchical_memory_limit, '9223372036854771712');
  assert.deepEqual(json.pids, { current: 1 });
  assert.deepEqual(json.blkio, { ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }, { major: 8, op: 'Write' }], ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }] });
  assert.equal(json.network_interfaces, null);
  assert.equal(typeof s.memory.usage.limit, 'bigint');
  assert.equal(oomKillCount('hybrid', paths), 2n);
});

test('v2 stats: cpu.stat, memory.*, pids, io.stat; swap reported as memory+swap like runc', () => {
  const d = dir({
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    'memory.current': '1000\n',
    'memory.max': '4096\n',
    'memory.peak': '2000\n',
    'memory.swap.current': '10\n',
    'memory.swap.max': 'max\n',
    'memory.stat': 'anon 100\nfile 300\n',
    'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
    'pids.current': '2\n',
    'pids.max': '10\n',
    'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
  });
  const s = cgroupStats('v2', { unified: d });
  assert.deepEqual(s.cpu, { usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { periods: 4, throttledPeriods: 1, throttledTime: 20000 } });
  assert.deepEqual(s.memory.usage, { limit: 4096, usage: 1000, max: 2000, failcnt: 3 });
  assert.deepEqual(s.memory.swap, { limit: 18446744073709551615n, usage: 1010, failcnt: 0 });
  assert.equal(s.memory.cache, 300);
  assert.deepEqual(s.pids, { current: 2, limit: 10 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, op: 'Read', value: 10 }, { major: 8, op: 'Write', value: 20 }]);
  assert.equal(oomKillCount('v2', { unified: d }), 1n);
  assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
});
