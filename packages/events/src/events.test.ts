import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerPaths, writeRecord, procStat } from '@runts/core';
import { events, parseDuration, statsEvent } from './index.ts';

function container(pid: number) {
  const root = mkdtempSync(join(tmpdir(), 'runts-events-'));
  const memory = join(root, 'cg/memory/c1');
  mkdirSync(memory, { recursive: true });
  writeFileSync(join(memory, 'memory.usage_in_bytes'), '729088\n');
  writeFileSync(join(memory, 'memory.limit_in_bytes'), '9223372036854771712\n');
  writeFileSync(join(memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
  const pids = join(root, 'cg/pids/c1');
  mkdirSync(pids, { recursive: true });
  writeFileSync(join(pids, 'pids.current'), '3\n');
  const paths = containerPaths(root, 'c1');
  mkdirSync(paths.dir, { recursive: true });
  writeRecord(paths, { ociVersion: '1.3.0', id: 'c1', pid, startTime: procStat(pid)?.startTime ?? '', bundle: root, rootfs: root, created: '', owner: '', cgroupPaths: { memory, pids }, config: {} });
  return { root, memory };
}

test('--stats: one stats event in runc\'s shape, exact uint64s', async () => {
  const c = container(process.pid);
  const lines: string[] = [];
  await events({ root: c.root, id: 'c1', stats: true, mode: 'v1', write: (l) => lines.push(l) });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\{"type":"stats","id":"c1","data":\{"cpu":\{"usage":\{"kernel":0,"user":0\},"throttling":\{\}\},"cpuset":\{\},"memory":\{"usage":\{"limit":9223372036854771712,"usage":729088,"failcnt":0\}.*"pids":\{"current":3\},"blkio":\{\},"hugetlb":\{\},"intel_rdt":\{\},"network_interfaces":null\}\}\n$/);
});

test('--interval: stats every interval and oom events until the container stops, then returns', async () => {
  const child = spawn('sleep', ['1.5']);
  const c = container(child.pid!);
  const lines: string[] = [];
  setTimeout(() => writeFileSync(join(c.memory, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n'), 250);
  const t0 = Date.now();
  await events({ root: c.root, id: 'c1', interval: 200, mode: 'v1', write: (l) => lines.push(l) });
  assert.ok(Date.now() - t0 < 15000); // returns once the container stops (generous: a loaded CI host)
  const types = lines.map((l) => JSON.parse(l.replace(/(\d{16,})/g, '"$1"')).type);
  assert.ok(types.filter((t) => t === 'stats').length >= 2, types.join(','));
  assert.deepEqual(types.filter((t) => t === 'oom'), ['oom']);
  assert.ok(lines.includes('{"type":"oom","id":"c1"}\n'));
  await assert.rejects(events({ root: c.root, id: 'c1', interval: 200, mode: 'v1' }), /^RuntimeError: container with id c1 is not running$/);
  assert.throws(() => statsEvent({ root: c.root, id: 'c1', mode: 'v1' }), /is not running/);
});

test('durations as Go parses them', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.throws(() => parseDuration('5'), /invalid duration "5"/);
});
