import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { normalPath, joinPath, relativePath, resolvePath } from './paths.ts';

/** Every path of up to 4 pieces from these, with and without a leading slash: the fast paths must
 *  give node:path's answer for each (normal paths: the same string; the rest: node:path itself). */
const PIECES = ['', '.', '..', '...', 'a', '.a', 'a.', '..a', 'a..', 'bc', '/'];
function corpus(): string[] {
  const out = new Set<string>(['', '/', '.', '..', '//', '///a//b//']);
  const walk = (p: string, depth: number) => {
    out.add(p);
    out.add('/' + p);
    if (depth === 4) return;
    for (const x of PIECES) walk(p === '' ? x : p + '/' + x, depth + 1);
  };
  walk('', 0);
  return [...out];
}

test('normalPath is posix.normalize', () => {
  const all = corpus();
  assert.ok(all.length > 10000);
  for (const p of all) assert.equal(normalPath(p), posix.normalize(p), JSON.stringify(p));
  // a normal path comes back as itself, not a copy made by node:path
  assert.equal(normalPath('/sys/fs/cgroup/pids/runts/x'), '/sys/fs/cgroup/pids/runts/x');
});

test('joinPath is posix.join', () => {
  const some = corpus().filter((_, i) => i % 7 === 0);
  for (const a of some) for (const b of PIECES.concat(['/x/', 'x/./y', '../..'])) {
    assert.equal(joinPath(a, b), posix.join(a, b), JSON.stringify([a, b]));
    assert.equal(joinPath(b, a, b), posix.join(b, a, b), JSON.stringify([b, a, b]));
  }
  assert.equal(joinPath(), posix.join());
  assert.equal(joinPath('', ''), posix.join('', ''));
});

test('resolvePath is posix.resolve', () => {
  const some = corpus().filter((_, i) => i % 7 === 0);
  for (const a of some) {
    assert.equal(resolvePath(a), posix.resolve(a), JSON.stringify(a));
    for (const b of PIECES.concat(['/x/', 'x/./y', '../..', '/a/b'])) {
      assert.equal(resolvePath(a, b), posix.resolve(a, b), JSON.stringify([a, b]));
      assert.equal(resolvePath(b, a, b), posix.resolve(b, a, b), JSON.stringify([b, a, b]));
    }
  }
  assert.equal(resolvePath(), posix.resolve());
  assert.equal(resolvePath('/run/runts/bundle', 'rootfs'), '/run/runts/bundle/rootfs');
  assert.throws(() => resolvePath('/a', 1 as unknown as string), TypeError);
});

test('relativePath is posix.relative', () => {
  const abs = corpus().filter((p, i) => i % 5 === 0 && p.startsWith('/'));
  for (const from of abs.filter((_, i) => i % 11 === 0)) for (const to of abs) assert.equal(relativePath(from, to), posix.relative(from, to), JSON.stringify([from, to]));
  for (const [from, to] of [['/', '/a/b'], ['/a', '/a/b/c'], ['/a', '/a'], ['/a/b', '/a'], ['/a', '/ab'], ['a', 'a/b'], ['/a/', '/a/b']] as const)
    assert.equal(relativePath(from, to), posix.relative(from, to), JSON.stringify([from, to]));
});
