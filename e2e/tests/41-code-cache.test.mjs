// The build-time V8 code cache (dist/<command>.cjs.cache, read by dist/launch.cjs): used when it
// belongs to the build and the Node; otherwise ignored, never trusted, and nothing is said: a
// command from another Node, or with a damaged, truncated, foreign or garbage cache, gives the same
// output and exit code as with its own cache. RUNTS_CODE_CACHE=report makes the launcher say what
// became of the cache (one stderr line), so that these tests can tell. (Node 20.19.0 took 20.20.2's
// cache, same V8, and crashed: the cache names the Node that made it.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync, readdirSync, rmSync, mkdirSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUN_DIR, NODE, cleanEnv, nodesAtHand, nodeVersion, makeBundle, newId, runtime } from '../lib/index.mjs';

const dir = join(RUN_DIR, 'code-cache');
const copy = join(dir, 'dist'); // a copy of packages/runts/dist, damaged one way per test
const REPORT = /^runts: code cache (\S+)(?: \(checksum: (\w+)\))?( \(bundle mapped\))?$/;
/** `runts state <missing>`, `runts --version`, `runts list` and `runts delete <missing>` with the
 *  copy; stderr without the report line. `cache`: what the first command's launcher said, `caches`:
 *  each command's, `checkers`: which checksum each took over its cache (native: runts-spawn.node's;
 *  wasm; js; none when it took none), `mapped`: whether each one's bundle was mapped (runts-spawn.node's
 *  map: an external string) rather than read. */
function runs(node, report = true) {
  const env = cleanEnv(report ? { RUNTS_CODE_CACHE: 'report' } : {});
  const out = [];
  const caches = [];
  const checkers = [];
  const mapped = [];
  let cache;
  for (const args of [['--root', join(dir, 'root'), 'state', 'nosuch'], ['--version'], ['--root', join(dir, 'root'), 'list'], ['--root', join(dir, 'root'), 'delete', 'nosuch']]) {
    const r = spawnSync(node, [join(copy, 'launch.cjs'), ...args], { encoding: 'utf8', env });
    const lines = r.stderr.split('\n');
    const said = lines.filter((l) => l.startsWith('runts: code cache '));
    if (report) {
      assert.equal(said.length, 1, `one report line\n${r.stderr}`);
      const [, state, checker, map] = REPORT.exec(said[0]) ?? assert.fail(`a report line: ${said[0]}`);
      cache ??= state;
      caches.push(state);
      checkers.push(checker ?? 'none');
      mapped.push(Boolean(map));
    }
    out.push({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: lines.filter((l) => !l.startsWith('runts: code cache ')).join('\n').replace(/time="[^"]*"/g, 'time=T') });
  }
  return { cache, caches, checkers, mapped, out };
}

describe('code cache', () => {
  let expected;
  before(() => {
    mkdirSync(join(dir, 'root'), { recursive: true });
    cpSync(join(REPO, 'packages/runts/dist'), copy, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const restore = () => {
    rmSync(copy, { recursive: true, force: true });
    cpSync(join(REPO, 'packages/runts/dist'), copy, { recursive: true });
  };

  test('the Node that built it uses it, and says nothing about it unless asked', () => {
    const r = runs(process.execPath);
    assert.equal(r.cache, 'used', 'a fresh build’s cache is used (launch.cjs and codecache.cjs agree on the checksum)');
    assert.deepEqual(r.caches, ['used', 'used', 'used', 'used'], 'every command’s');
    assert.deepEqual(r.checkers, ['native', 'native', 'native', 'native'], 'checked by runts-spawn.node, which this package ships');
    assert.deepEqual(r.mapped, [true, true, true, true], 'every bundle mapped by it (cli.cjs and the verbs are ASCII)');
    expected = r.out;
    assert.equal(expected[0].code, 1);
    assert.match(expected[0].stderr, /container does not exist/);
    assert.equal(expected[1].code, 0);
    assert.deepEqual(runs(process.execPath, false).out, expected);
  });

  test('without runts-spawn.node, or with one not whole, the caches are checked in WebAssembly and used', () => {
    for (const [what, damage] of [['removed', () => rmSync(join(copy, 'runts-spawn.node'))], ['truncated', () => truncateSync(join(copy, 'runts-spawn.node'), 4096)], ['another size', () => writeFileSync(join(copy, 'runts-spawn.node'), Buffer.concat([readFileSync(join(copy, 'runts-spawn.node')), Buffer.alloc(16)]))]]) {
      restore();
      damage();
      const r = runs(process.execPath);
      assert.deepEqual(r.caches, ['used', 'used', 'used', 'used'], what);
      assert.deepEqual(r.checkers, ['wasm', 'wasm', 'wasm', 'wasm'], `${what}: every cache here is 64 KB or more`);
      assert.deepEqual(r.out, expected, what);
    }
    restore();
  });

  test('every other Node at hand starts correctly without it, silently', () => {
    const others = nodesAtHand().filter((n) => nodeVersion(n) !== process.version);
    if (NODE !== process.execPath) assert.ok(others.length > 0, `E2E_NODE=${NODE} is another Node`);
    for (const node of others) {
      const r = runs(node);
      assert.equal(r.cache, 'other-node', `${nodeVersion(node)}: a cache made by ${process.version} is not given to V8`);
      const plain = runs(node, false).out;
      assert.deepEqual(plain.map((o) => [o.code, o.stderr]), expected.map((o) => [o.code, o.stderr]), nodeVersion(node));
      assert.equal(plain[1].stdout.replace(/node: v\S+/, ''), expected[1].stdout.replace(/node: v\S+/, ''));
    }
  });

  test('installed, another Node makes the caches again for itself (npm postinstall: codecache.cjs --postinstall), then uses them', () => {
    const others = nodesAtHand().filter((n) => nodeVersion(n) !== process.version);
    if (NODE !== process.execPath) assert.ok(others.length > 0, `E2E_NODE=${NODE} is another Node`);
    const texts = readdirSync(copy).filter((f) => f.endsWith('.cjs')).map((f) => [f, readFileSync(join(copy, f), 'utf8')]);
    // the script npm runs for the package, in the package dir, with the Node npm runs on
    const script = JSON.parse(readFileSync(join(REPO, 'packages/runts/package.json'), 'utf8')).scripts.postinstall;
    const pkg = join(dir, 'pkg');
    const postinstall = (node) => {
      const r = spawnSync('sh', ['-c', script], { cwd: pkg, encoding: 'utf8', env: cleanEnv({ npm_node_execpath: node }) });
      assert.equal(r.status, 0, `${script}\n${r.stderr}`);
      assert.equal(r.stderr, '', 'nothing said');
    };
    mkdirSync(pkg, { recursive: true });
    rmSync(join(pkg, 'dist'), { force: true, recursive: true });
    // before the build (a checkout's install) there is no dist/codecache.cjs: nothing is done
    postinstall(process.execPath);
    cpSync(copy, join(pkg, 'dist'), { recursive: true });
    const dist = join(pkg, 'dist');
    const reported = (node, args) => spawnSync(node, [join(dist, 'launch.cjs'), ...args], { encoding: 'utf8', env: cleanEnv({ RUNTS_CODE_CACHE: 'report' }) });
    const cacheOf = (f) => readFileSync(join(dist, f));
    const before = cacheOf('verb-state.cjs.cache');
    // the Node that built them: the caches are left as they are
    postinstall(process.execPath);
    assert.ok(cacheOf('verb-state.cjs.cache').equals(before), 'the build Node’s own cache is kept');
    for (const node of others) {
      postinstall(node);
      for (const [f, text] of texts) assert.equal(readFileSync(join(dist, f), 'utf8'), text, `${f}: the bundle is not changed`);
      for (const args of [['--root', join(dir, 'root'), 'state', 'nosuch'], ['--version'], ['--root', join(dir, 'root'), 'delete', 'nosuch']]) {
        const r = reported(node, args);
        assert.match(r.stderr, /^runts: code cache used \(checksum: native\) \(bundle mapped\)$/m, `${nodeVersion(node)} ${args.join(' ')}: the cache made at install is used\n${r.stderr}`);
      }
      const r = reported(process.execPath, ['--version']);
      assert.match(r.stderr, /^runts: code cache other-node \(bundle mapped\)$/m, `the build's Node ignores what ${nodeVersion(node)} made`);
      assert.equal(r.status, 0);
    }
    // and back: the build's Node makes its own again
    postinstall(process.execPath);
    const r = reported(process.execPath, ['--version']);
    assert.match(r.stderr, /^runts: code cache used \(checksum: native\) \(bundle mapped\)$/m);
    // a cache that can be neither read nor replaced (a dir in its place): said, and the install
    // still succeeds; that command runs without a cache
    rmSync(join(dist, 'verb-kill.cjs.cache'), { force: true });
    mkdirSync(join(dist, 'verb-kill.cjs.cache'));
    const bad = spawnSync('sh', ['-c', script], { cwd: pkg, encoding: 'utf8', env: cleanEnv({ npm_node_execpath: process.execPath }) });
    assert.equal(bad.status, 0, bad.stderr);
    assert.match(bad.stderr, /verb-kill\.cjs\.cache: no code cache made for Node v\S+ \(exit \d+\): the command runs without one\n$/);
    const kill = reported(process.execPath, ['--root', join(dir, 'root'), 'kill', 'nosuch', 'KILL']);
    assert.equal(kill.status, 1);
    assert.match(kill.stderr, /^runts: code cache absent \(bundle mapped\)$/m);
    assert.match(kill.stderr, /container does not exist/);
  });

  let target = 'state';
  const cacheFile = () => join(copy, `verb-${target}.cjs.cache`);
  const damages = {
    'bytes flipped in V8’s data (the header intact)': ['corrupt', () => {
      const b = readFileSync(cacheFile());
      for (let i = 200; i < b.length; i += 97) b[i] ^= 0xff;
      writeFileSync(cacheFile(), b);
    }],
    'one bit flipped': ['corrupt', () => {
      const b = readFileSync(cacheFile());
      b[b.length >> 1] ^= 1;
      writeFileSync(cacheFile(), b);
    }],
    truncated: ['corrupt', () => truncateSync(cacheFile(), statSync(cacheFile()).size - 1000)],
    'cut inside the header': ['stale', () => truncateSync(cacheFile(), 30)],
    empty: ['stale', () => writeFileSync(cacheFile(), '')],
    'another command’s cache': ['stale', () => cpSync(join(copy, 'verb-kill.cjs.cache'), cacheFile())],
    'random bytes': ['stale', () => writeFileSync(cacheFile(), Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) & 0xff)))],
    'a directory in its place': ['absent', () => {
      rmSync(cacheFile());
      mkdirSync(cacheFile());
    }],
    'the bundle changed after the build': ['absent', () => writeFileSync(join(copy, `verb-${target}.cjs`), readFileSync(join(copy, `verb-${target}.cjs`), 'utf8').replace(/\/\/# runtsBuild=\w+\n$/, '// edited\n'))],
  };
  test('a bundle missing from the installation: an error naming it in runc\'s form, exit 1', () => {
    restore();
    rmSync(join(copy, 'cli.cjs'));
    for (const args of [['--version'], ['--root', join(dir, 'root'), 'nosuchverb']]) {
      const r = spawnSync(process.execPath, [join(copy, 'launch.cjs'), ...args], { encoding: 'utf8', env: cleanEnv() });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^time="[^"]+" level=error msg=".*\/cli\.cjs: cannot read the command's bundle cli\.cjs \(ENOENT\): reinstall runts"\n$/);
    }
  });

  test('a bundle that is not all ASCII is read and decoded as UTF-8 instead of mapped: the same result', () => {
    restore();
    // a 2-byte character in a comment, in place of 2 ASCII bytes: the file keeps its size and its
    // tag, its text is one character shorter, so V8 rejects the cache made for the other text
    const f = join(copy, 'verb-state.cjs');
    const text = readFileSync(f, 'latin1');
    const at = text.indexOf('// ../core/src/');
    assert.ok(at > 0, 'a path comment of esbuild\'s');
    writeFileSync(f, Buffer.concat([Buffer.from(text.slice(0, at + 3), 'latin1'), Buffer.from('\u00e9', 'utf8'), Buffer.from(text.slice(at + 5), 'latin1')]));
    const r = runs(process.execPath);
    assert.equal(r.caches[0], 'rejected');
    assert.deepEqual(r.mapped, [false, true, true, true], 'state read, the others mapped');
    assert.deepEqual(r.out[0], expected[0]);
  });

  // What a command loads on one path only, through launch.cjs's moduleRequire: start's chunks
  // (./lazy-init-hooks.cjs for a container with poststart hooks, ./lazy-delete.cjs to destroy it
  // when one fails) and, on a systemd host, the D-Bus client: each compiled with its own cache,
  // checked as a bundle's; damaged, it is not used, and start fails as it would with it.
  test('a chunk start loads (its poststart hook fails) is compiled with its own cache; a damaged one is ignored', async () => {
    const b = await makeBundle({ name: 'cc-chunk', args: ['sleep', '1000'] });
    b.config.hooks = { poststart: [{ path: '/bin/false' }] };
    b.write();
    const rt = runtime('runts', { root: join(dir, 'root') });
    const start = async (id) => {
      assert.equal((await rt.create(id, { bundle: b.dir })).code, 0);
      const r = spawnSync(process.execPath, [join(copy, 'launch.cjs'), '--root', join(dir, 'root'), 'start', id], { encoding: 'utf8', env: cleanEnv({ RUNTS_CODE_CACHE: 'report' }) });
      await rt.forceDelete(id);
      const said = Object.fromEntries([...r.stderr.matchAll(/^runts: code cache of (\S+): (\S+)$/gm)].map((m) => [m[1], m[2]]));
      return { code: r.status, said, rest: r.stderr.split('\n').filter((l) => !l.startsWith('runts: code cache')).join('\n').replace(/time="[^"]*"/g, 'time=T').replaceAll(id, 'ID') };
    };
    try {
      restore();
      const good = await start(newId('ccchunk'));
      assert.equal(good.code, 1, good.rest);
      assert.deepEqual(good.said, { 'lazy-init-hooks.cjs': 'used', 'lazy-delete.cjs': 'used' });
      assert.match(good.rest, /hooks\.poststart\[0\] \(\/bin\/false\): exit status 1/);
      const c = readFileSync(join(copy, 'lazy-delete.cjs.cache'));
      c[c.length >> 1] ^= 1;
      writeFileSync(join(copy, 'lazy-delete.cjs.cache'), c);
      const bad = await start(newId('ccchunk'));
      assert.deepEqual(bad.said, { 'lazy-init-hooks.cjs': 'used', 'lazy-delete.cjs': 'corrupt' });
      assert.deepEqual([bad.code, bad.rest], [good.code, good.rest], 'the same result');
      rmSync(join(copy, 'lazy-delete.cjs.cache'));
      const none = await start(newId('ccchunk'));
      assert.deepEqual(none.said, { 'lazy-init-hooks.cjs': 'used', 'lazy-delete.cjs': 'absent' });
      assert.deepEqual([none.code, none.rest], [good.code, good.rest], 'the same result');
    } finally {
      b.cleanup();
    }
  });
  test('the D-Bus client and every chunk have a cache, this build\'s', () => {
    const modules = readdirSync(join(REPO, 'packages/runts/dist')).filter((f) => /^(lazy-[a-z0-9-]+|dbus-native)\.cjs$/.test(f));
    assert.ok(modules.includes('dbus-native.cjs') && modules.includes('lazy-delete.cjs'), modules.join(' '));
    for (const f of modules) {
      const tag = /\/\/# runtsBuild=([0-9a-f]{40})\n$/.exec(readFileSync(join(REPO, 'packages/runts/dist', f), 'latin1'))?.[1];
      assert.ok(tag, `${f}: tagged`);
      assert.equal(readFileSync(join(REPO, 'packages/runts/dist', `${f}.cache`)).toString('latin1', 0, 40), tag, `${f}.cache: of this build`);
    }
  });

  // state's cache checked by runts-spawn.node, delete's in WebAssembly (the addon removed)
  for (const [verb, at, checker] of [['state', 0, 'native'], ['delete', 3, 'wasm']]) {
    for (const [what, [said, damage]] of Object.entries(damages)) {
      test(`${verb}: a cache ${what}: ignored (${said}), the same result (checked: ${checker})`, () => {
        restore();
        if (checker === 'wasm') rmSync(join(copy, 'runts-spawn.node'));
        target = verb;
        damage();
        const r = runs(process.execPath);
        assert.equal(r.caches[at], said);
        if (said === 'corrupt') assert.equal(r.checkers[at], checker);
        assert.deepEqual(r.out[at], expected[at]);
        assert.deepEqual(runs(process.execPath, false).out[at], expected[at], 'and nothing said');
      });
    }
  }
});
