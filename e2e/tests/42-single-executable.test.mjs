// dist/runts, the single executable (tools/build/sea.mjs), on a host without Node: copied alone
// into an empty dir and run in a mount namespace where every node binary on PATH is /dev/null,
// the fetched Node binaries and this repository (the executor's build, node_modules with koffi)
// are hidden under empty tmpfs mounts. It runs real containers, with and without seccomp
// (koffi's native part and the executor both come out of the executable itself).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname, basename } from 'node:path';
import { makeBundle, newId, runtime, spawnCapture, show, SEA, REPO, RUN_DIR, safeRemove } from '../lib/index.mjs';

const dir = join(RUN_DIR, `sea-${process.pid}`);
const exe = join(dir, 'bin', 'runts');
const root = join(dir, 'root');

/** `runts args...` with no Node anywhere: a shell in a private mount namespace hides it first.
 *  `vars`: the environment beside PATH; `bin`: the executable (default: the copy in dir/bin). */
function withoutNode(args, opts, { vars = {}, bin = exe } = {}) {
  const nodes = spawnSync('sh', ['-c', 'which -a node nodejs 2>/dev/null'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const hide = [...new Set([REPO, join(homedir(), '.cache/runts'), '/usr/lib/node_modules', '/usr/local/lib/node_modules'])].filter((d) => existsSync(d));
  const script = [
    'set -e',
    'mount --make-rprivate /',
    ...nodes.map((n) => `mount --bind /dev/null ${n}`),
    ...hide.map((d) => `mount -t tmpfs -o size=1m,mode=0755 none ${d}`),
    // nothing of Node left: fail here rather than test the wrong thing
    'if command -v node >/dev/null 2>&1 && node -e 0 2>/dev/null; then echo "node still runs" >&2; exit 99; fi',
    `cd ${dirname(bin)}`,
    `exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(' ')} ./${basename(bin)} "$@"`,
  ].join('\n');
  return spawnCapture(['unshare', '-m', 'sh', '-c', script, 'sh', '--root', root, ...args], opts);
}

describe('the single executable, on a host without Node', () => {
  let plain;
  let filtered;
  before(async () => {
    assert.ok(existsSync(SEA), `${SEA}: not built (pnpm build makes it)`);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    mkdirSync(root, { recursive: true, mode: 0o700 });
    copyFileSync(SEA, exe);
    chmodSync(exe, 0o755);
    const script = ['sh', '-c', 'exec 2>&1; echo hello; mkdir /tmp/s; echo mkdir=$?; rmdir /tmp/s 2>/dev/null; true'];
    plain = await makeBundle({ name: 'sea', args: script, readonly: false });
    filtered = await makeBundle({
      name: 'sea-sc',
      args: script,
      readonly: false,
      edit: (c) => void (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }),
    });
  });
  after(() => {
    plain?.cleanup();
    filtered?.cleanup();
    safeRemove(dir);
  });

  test('it is alone in its dir, and --version names its own Node', async () => {
    assert.deepEqual(readdirSync(join(dir, 'bin')), ['runts']);
    const r = await withoutNode(['--version']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^runc version 0\.1\.0 \(runts\)\n(.*\n)*node: v\d+\./);
  });

  for (const [label, b] of [['no seccomp', () => plain], ['seccomp (koffi from inside the executable)', () => filtered]]) {
    test(`run, ${label}`, async (t) => {
      const id = newId('sea');
      t.after(() => runtime('runts', { root }).forceDelete(id));
      const r = await withoutNode(['run', '--bundle', b().dir, id]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, label === 'no seccomp' ? /^hello\nmkdir=0\n$/ : /^hello\nmkdir: .*Operation not permitted\nmkdir=1\n$/, show(r));
    });
  }

  test('create, start, state, exec, kill, delete', async (t) => {
    const id = newId('sea-life');
    t.after(() => runtime('runts', { root }).forceDelete(id));
    const sleeper = await makeBundle({ name: 'sea-sleep', args: ['sleep', '1000'] });
    t.after(() => sleeper.cleanup());
    assert.equal((await withoutNode(['create', '--bundle', sleeper.dir, id])).code, 0);
    assert.equal((await withoutNode(['start', id])).code, 0);
    const s = await withoutNode(['state', id]);
    assert.equal(JSON.parse(s.stdout).status, 'running', show(s));
    const e = await withoutNode(['exec', id, 'echo', 'in']);
    assert.equal(e.stdout, 'in\n', show(e));
    assert.equal((await withoutNode(['kill', id, 'KILL'])).code, 0);
    const d = await withoutNode(['delete', '--force', id]);
    assert.equal(d.code, 0, show(d));
    assert.equal((await withoutNode(['state', id])).code, 1);
  });

  test('its code caches (made by its own Node) are used; damaged, they are ignored and it still runs', async (t) => {
    const report = { RUNTS_CODE_CACHE: 'report' };
    // stderr without the report line and the log's time
    const rest = (e) => e.replace(/.*code cache.*\n/, '').replace(/time="[^"]*"/g, 'time=T');
    const said = (r) => (/runts: code cache (\S+)/.exec(r.stderr) ?? [])[1];
    // which checksum took the cache: runts-spawn.node's (its embedded copy), in every verb; and the
    // bundle's text read in place from the executable (the addon's external string)
    const checker = (r) => (/runts: code cache \S+ \(checksum: (\w+)\)/.exec(r.stderr) ?? [])[1];
    const inPlace = (r) => / \(bundle mapped\)$/m.test(r.stderr);
    const v = await withoutNode(['--version'], {}, { vars: report });
    assert.equal(said(v), 'used', show(v));
    const s = await withoutNode(['state', 'sea-nope'], {}, { vars: report });
    assert.equal(s.code, 1, show(s));
    assert.equal(said(s), 'used', show(s));
    assert.equal(checker(s), 'native', show(s));
    assert.ok(inPlace(s) && inPlace(v), `${show(v)}\n${show(s)}`);
    const id = newId('sea-cache');
    t.after(() => runtime('runts', { root }).forceDelete(id));
    const r = await withoutNode(['run', '--bundle', plain.dir, id], {}, { vars: report });
    assert.equal(r.code, 0, show(r));
    assert.equal(said(r), 'used', show(r));
    assert.equal(checker(r), 'native', show(r));
    assert.ok(inPlace(r), show(r));

    // a copy with a byte of every cache flipped: each cache starts with its bundle's build id
    // (the bundle ends with `//# runtsBuild=<id>`), then 32 hex digits of checksums, then V8's data
    const other = join(dir, 'damaged', 'runts');
    mkdirSync(dirname(other), { recursive: true });
    const bytes = readFileSync(SEA);
    const tag = Buffer.from('//# runtsBuild=');
    let damaged = 0;
    for (let at = bytes.indexOf(tag); at >= 0; at = bytes.indexOf(tag, at + 1)) {
      const idHex = bytes.subarray(at + tag.length, at + tag.length + 40);
      for (let h = bytes.indexOf(idHex); h >= 0; h = bytes.indexOf(idHex, h + 1)) {
        if (h === at + tag.length || !/^[0-9a-f]{32}$/.test(bytes.toString('latin1', h + 40, h + 72))) continue;
        bytes[h + 72 + 4000] ^= 0x40;
        damaged++;
      }
    }
    assert.ok(damaged >= 10, `caches found and damaged: ${damaged}`);
    writeFileSync(other, bytes, { mode: 0o755 });
    const dv = await withoutNode(['--version'], {}, { vars: report, bin: other });
    assert.equal(dv.code, 0, show(dv));
    assert.equal(said(dv), 'corrupt', show(dv));
    assert.equal(dv.stdout, v.stdout);
    const ds = await withoutNode(['state', 'sea-nope'], {}, { vars: report, bin: other });
    assert.equal(said(ds), 'corrupt', show(ds));
    assert.equal(ds.code, 1);
    assert.equal(rest(ds.stderr), rest(s.stderr));
    const id2 = newId('sea-dcache');
    t.after(() => runtime('runts', { root }).forceDelete(id2));
    const dr = await withoutNode(['run', '--bundle', plain.dir, id2], {}, { vars: report, bin: other });
    assert.equal(dr.code, 0, show(dr));
    assert.equal(said(dr), 'corrupt', show(dr));
    assert.equal(checker(dr), 'native', show(dr));
    assert.equal(dr.stdout, r.stdout);
    // without the report asked for, nothing is said
    const quiet = await withoutNode(['state', 'sea-nope'], {}, { bin: other });
    assert.doesNotMatch(quiet.stderr, /cache/, show(quiet));
    assert.equal(rest(quiet.stderr), rest(s.stderr), show(quiet));

    // the index of its bundles damaged (not valid JSON), or a bundle gone from it: an error naming
    // the executable in runc's form, exit 1, no container
    const original = readFileSync(SEA);
    const at = original.indexOf(Buffer.from('{"cli.cjs":['));
    assert.ok(at > 0, 'the bundles\' index found');
    for (const [what, pos, args, msg] of [
      ['not JSON', at, ['run'], /the index of its command bundles is damaged \(.*\): reinstall it/],
      ['cli.cjs gone from it', at + 2, ['--version'], /: cannot read the command's bundle cli\.cjs \(cli\.cjs: not in the executable\): reinstall runts/],
    ]) {
      const b = Buffer.from(original);
      b[pos] = 0x58; // 'X'
      const broken = join(dir, 'damaged', 'runts');
      writeFileSync(broken, b, { mode: 0o755 });
      const id3 = newId('sea-dindex');
      const bad = await withoutNode(args[0] === 'run' ? ['run', '--bundle', plain.dir, id3] : args, {}, { bin: broken });
      assert.equal(bad.code, 1, `${what}: ${show(bad)}`);
      assert.match(bad.stderr, /^time="[^"]+" level=error msg="/, what);
      assert.match(bad.stderr, msg, `${what}: ${show(bad)}`);
      assert.equal(existsSync(join(root, id3)), false, `${what}: no container`);
    }
  });
});
