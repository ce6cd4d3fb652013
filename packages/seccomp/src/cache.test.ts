// The cache of compiled filters, with the real libseccomp (through koffi): a hit gives exactly
// what compiling gives, and anything that does not hold compiles afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxSeccomp } from '@runts/spec';
import { compileSeccomp, compileSeccompCached, seccompCache, canonical, type CompiledSeccomp } from './index.ts';
import { fingerprint } from './cache.ts';

const profile = (extra: string[] = []) =>
  ({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write', 'exit', 'exit_group', 'execve', 'brk', 'mmap', ...extra], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffffn, op: 'SCMP_CMP_EQ' }] },
    ],
  }) as unknown as LinuxSeccomp;

function counting() {
  let n = 0;
  return { compile: (s: LinuxSeccomp) => (n++, compileSeccomp(s)), count: () => n };
}

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'runts-sccache-'));
  const cache = seccompCache(root, 'b'.repeat(40))!;
  return { root, cache, entries: () => readdirSync(cache.dir).filter((n) => !n.startsWith('.')) };
}

const same = (a: CompiledSeccomp, b: CompiledSeccomp) => {
  assert.deepEqual(Buffer.from(a.bpf), Buffer.from(b.bpf));
  assert.equal(a.flags, b.flags);
  assert.deepEqual(a.listener, b.listener);
};

test('the second compile of a profile is the first one\'s filter, from <root>/@cache/seccomp', () => {
  const { root, cache, entries } = setup();
  assert.equal(cache.dir, join(root, '@cache', 'seccomp'));
  const c = counting();
  const first = compileSeccompCached(profile(), cache, c.compile);
  assert.equal(c.count(), 1);
  assert.equal(entries().length, 1);
  const second = compileSeccompCached(profile(), cache, c.compile);
  assert.equal(c.count(), 1, 'not compiled again');
  same(first, second);
  same(second, compileSeccomp(profile()));
  // another profile is another entry
  const other = compileSeccompCached(profile(['mkdir']), cache, c.compile);
  assert.equal(c.count(), 2);
  assert.equal(entries().length, 2);
  assert.notDeepEqual(Buffer.from(other.bpf), Buffer.from(first.bpf));
  // the dir and the entries are private
  assert.equal(readdirSync(join(root, '@cache')).length, 1);
});

test('a damaged entry, or one whose libseccomp changed, compiles afresh (and is replaced)', () => {
  const { cache, entries } = setup();
  const c = counting();
  const good = compileSeccompCached(profile(), cache, c.compile);
  const file = join(cache.dir, entries()[0]!);
  const original = readFileSync(file, 'utf8');
  const e = JSON.parse(original);
  const damage = [
    // one filter byte changed (its fingerprint then fails)
    () => writeFileSync(file, JSON.stringify({ ...e, bpf: Buffer.from(Buffer.from(e.bpf, 'base64').map((b: number, i: number) => (i === 20 ? b ^ 1 : b))).toString('base64') })),
    // another profile's entry under this name (a permissive filter with its own fingerprint): its
    // key text is not this one's, even where only a character differs
    () => writeFileSync(file, JSON.stringify({ ...e, key: e.key.replace('SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW') })),
    () => writeFileSync(file, JSON.stringify({ ...e, key: e.key + ' ' })),
    () => writeFileSync(file, JSON.stringify({ ...e, lib: { ...e.lib, id: '1:2:3:4:5' } })),
    () => writeFileSync(file, JSON.stringify({ ...e, ldcache: 'other' })),
    () => writeFileSync(file, original.slice(0, 100)),
    () => writeFileSync(file, JSON.stringify({ ...e, flags: 'x' })),
  ];
  for (const [i, d] of damage.entries()) {
    d();
    const again = compileSeccompCached(profile(), cache, c.compile);
    assert.equal(c.count(), 2 + i, `damage ${i}: compiled afresh`);
    same(again, good);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).sum, e.sum, `damage ${i}: the entry is made again`);
  }
});

test('a cache dir or an entry that others could write is not used', () => {
  const { cache, entries } = setup();
  const c = counting();
  compileSeccompCached(profile(), cache, c.compile);
  const file = join(cache.dir, entries()[0]!);
  chmodSync(file, 0o666);
  compileSeccompCached(profile(), cache, c.compile);
  assert.equal(c.count(), 2, 'a world-writable entry is not trusted');
  chmodSync(cache.dir, 0o777);
  const before = readFileSync(file, 'utf8');
  utimesSync(file, 1, 1);
  compileSeccompCached(profile(), cache, c.compile);
  assert.equal(c.count(), 3);
  assert.equal(readFileSync(file, 'utf8'), before, 'nothing stored in a dir others can write');
});

test('bad input fails as compiling fails and is never stored; no build id, no cache', () => {
  const { root, cache } = setup();
  const c = counting();
  const bad = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOPE' }] } as unknown as LinuxSeccomp;
  for (let i = 0; i < 2; i++) assert.throws(() => compileSeccompCached(bad, cache, c.compile), /linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_NOPE"/);
  assert.equal(c.count(), 2);
  assert.ok(!existsSync(cache.dir) || readdirSync(cache.dir).length === 0, 'nothing stored');
  assert.equal(seccompCache(root, undefined), undefined);
  const d = mkdtempSync(join(tmpdir(), 'runts-sccache-'));
  mkdirSync(join(d, 'x'));
  compileSeccompCached(profile(), seccompCache(d, ''), c.compile);
  assert.deepEqual(readdirSync(d), ['x']);
});

test('the key\'s text: numbers and bigints alike, key order kept', () => {
  assert.equal(canonical({ a: 1n, b: [2, 'x'], c: { d: null } }), canonical({ a: 1, b: [2n, 'x'], c: { d: null } }));
  assert.notEqual(canonical({ a: 1, b: 2 }), canonical({ b: 2, a: 1 }));
  assert.notEqual(canonical({ a: '1' }), canonical({ a: 1 }));
});

test('the fingerprint: any one word or byte changed, or one added, changes it', () => {
  const data = Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 2654435761) >>> 24));
  const base = fingerprint(data);
  assert.match(base, /^[0-9a-f]{16}$/);
  assert.equal(fingerprint(Buffer.from(data)), base);
  for (const at of [0, 1, 2, 3, 1000, 4095, 4096, 4098]) {
    const d = Buffer.from(data);
    d[at] = d[at]! ^ 0x80;
    assert.notEqual(fingerprint(d), base, `byte ${at}`);
  }
  assert.notEqual(fingerprint(Buffer.concat([data, Buffer.from([0])])), base, 'one byte longer');
  assert.notEqual(fingerprint(data.subarray(1)), fingerprint(data.subarray(0, -1)));
  // a view into a larger buffer is read from its own start
  assert.equal(fingerprint(Buffer.concat([Buffer.from('xyz'), data]).subarray(3)), base);
});
