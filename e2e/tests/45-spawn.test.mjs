// runts-spawn.node (native/nsenter/src/spawn.c): create, run and exec start the executor with
// posix_spawn (clone with CLONE_VM | CLONE_VFORK: nothing of the Node process is copied), not with
// node:child_process (fork). Without the addon, or with a damaged one, they fall back to
// child_process: the same containers, the same exit codes, nothing said unless --debug.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, openSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, RUN_DIR, RUNTS_COMMAND, REPO, NODE, cleanEnv } from '../lib/index.mjs';

const rt = runtime('runts');
let exit3;
let sleeper;
let dir;
before(async () => {
  exit3 = await makeBundle({ name: 'spawn3', args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  sleeper = await makeBundle({ name: 'spawns', args: ['sleep', '1000'] });
  dir = mkdtempSync(join(RUN_DIR, 'spawn-'));
});
after(() => {
  exit3?.cleanup();
  sleeper?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `argv`, its stdout and stderr to files (a container started by create inherits them: a pipe
 *  would stay open), with fds 3 .. 3+extra-1 all open on one file (or none) */
function spawnToFiles(argv, tag, extra = 0) {
  const out = join(dir, `out-${tag}`);
  const err = join(dir, `err-${tag}`);
  const file = openSync(join(dir, 'pf-canary'), 'w');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(argv[0], argv.slice(1), { env: cleanEnv(), timeout: 60_000, stdio: ['ignore', fds[0], fds[1], ...Array(extra).fill(file)] });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    [file, ...fds].forEach((fd) => closeSync(fd));
  }
}

/** `runts ARGS` with `command` (default: the runtime under test) */
function runts(args, command = RUNTS_COMMAND) {
  const r = spawnToFiles([...command, '--root', rt.root, ...args], 'runts');
  return { ...r, stderr: r.stderr.replace(/time="[^"]*"/g, 'time=T') };
}

/** The executor's start under strace: the clones runts's main thread made (where the executor
 *  is started; threads are clones with CLONE_THREAD, left out). */
function mainClones(args) {
  const out = join(dir, `trace-${Math.random().toString(16).slice(2)}`);
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=clone,clone3,vfork,fork', '-o', out, ...RUNTS_COMMAND, '--root', rt.root, ...args], { encoding: 'utf8', timeout: 60_000 });
  const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  rmSync(out, { force: true });
  const main = lines[0]?.split(' ')[0];
  // (a vfork shows as "clone3({flags=... <unfinished ...>" until the child has exec'd)
  const clones = lines.filter((l) => l.startsWith(`${main} `) && /(clone3?|vfork|fork)\(/.test(l) && !/CLONE_THREAD/.test(l));
  return { r, clones };
}

describe('runts-spawn', { skip: spawnSync('strace', ['-V']).status === 0 ? false : 'strace is not installed (tools/setup.sh installs it)' }, () => {
  test('create and run start the executor with CLONE_VM | CLONE_VFORK (posix_spawn), not a fork', (t) => {
    const id = newId('spawn');
    t.after(() => rt.forceDelete(id));
    const { r, clones } = mainClones(['run', '--detach', '--bundle', exit3.dir, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(clones.length, 1, `one process started: ${clones.join('\n')}`);
    assert.match(clones[0], /CLONE_VM\|CLONE_VFORK/, 'posix_spawn, not fork');
  });

  test('exec starts it the same way, and the exit code comes through', async (t) => {
    const id = newId('spawnx');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.run(id, { bundle: sleeper.dir, detach: true })).code, 0);
    const { r, clones } = mainClones(['exec', id, 'sh', '-c', 'exit 5']);
    assert.equal(r.status, 5, r.stderr);
    assert.equal(clones.length, 1, `one process started: ${clones.join('\n')}`);
    assert.match(clones[0], /CLONE_VM\|CLONE_VFORK/, 'posix_spawn, not fork');
  });
});

describe('without runts-spawn.node, or with a damaged one: child_process, the same results', () => {
  const copy = () => join(dir, 'dist');
  const launch = () => [NODE, join(copy(), 'launch.cjs')];
  const fresh = () => {
    rmSync(copy(), { recursive: true, force: true });
    cpSync(join(REPO, 'packages/runts/dist'), copy(), { recursive: true });
    // no ../build/runts-spawn.node beside the copy either (the repository's fallback path)
    assert.equal(existsSync(join(dir, 'build')), false);
  };
  const expectSame = (command, what) => {
    const id = newId('spawnf');
    const a = runts(['run', '--bundle', exit3.dir, id], command);
    assert.deepEqual({ code: a.code, stdout: a.stdout, stderr: a.stderr }, { code: 3, stdout: 'out\n', stderr: 'err\n' }, `${what}: run`);
    const id2 = newId('spawnf');
    try {
      assert.equal(runts(['create', '--bundle', sleeper.dir, id2], command).code, 0, `${what}: create`);
      assert.equal(runts(['start', id2], command).code, 0);
      const x = runts(['exec', id2, 'sh', '-c', 'echo in; exit 4'], command);
      assert.deepEqual({ code: x.code, stdout: x.stdout }, { code: 4, stdout: 'in\n' }, `${what}: exec`);
    } finally {
      rt.forceDelete(id2);
    }
    const d = runts(['--debug', 'run', '--bundle', exit3.dir, newId('spawnf')], command);
    assert.equal(d.code, 3);
    return d.stderr;
  };

  test('the build as it is loads it (--debug says nothing of a fallback)', () => {
    fresh();
    const said = expectSame(launch(), 'as built');
    assert.doesNotMatch(said, /runts-spawn: not loaded/);
  });

  test('a missing addon: child_process', () => {
    fresh();
    rmSync(join(copy(), 'runts-spawn.node'));
    const said = expectSame(launch(), 'missing');
    assert.match(said, /runts-spawn: not loaded \([^)]*\): the executor is started with child_process/);
  });

  test('a damaged addon (truncated, garbage, another architecture\'s ELF): child_process', () => {
    for (const [what, bytes] of [
      ['truncated', readFileSync(join(REPO, 'packages/runts/dist/runts-spawn.node')).subarray(0, 4096)],
      ['garbage', Buffer.from('not an ELF file\n'.repeat(64))],
      ['foreign', (() => {
        const b = Buffer.from(readFileSync(join(REPO, 'packages/runts/dist/runts-spawn.node')));
        b.writeUInt16LE(b.readUInt16LE(18) === 62 ? 183 : 62, 18); // e_machine: x86-64 <-> aarch64
        return b;
      })()],
    ]) {
      fresh();
      writeFileSync(join(copy(), 'runts-spawn.node'), bytes);
      const said = expectSame(launch(), what);
      assert.match(said, /runts-spawn: not loaded/, what);
    }
  });
});

// --preserve-fds, against runc: what reaches the container, and a closed fd in the range
describe('--preserve-fds', () => {
  const runc = runtime('runc');
  /** `r verb args` with fds 3 .. 3+extra-1 all open on one file (or none) */
  const withFds = (r, verb, args, extra) => spawnToFiles([...r.argv(verb), ...args], `pf-${r.name}`, extra);
  // fds 3 and 1032 are the container's, and nothing is above them
  const PROBE = 'for f in 3 1032 1033; do [ -e /proc/self/fd/$f ] && echo "$f open" || echo "$f closed"; done';
  let probe;
  let wide;
  before(async () => {
    // (fds above RLIMIT_NOFILE's 1,024 of the default config: runc's init cannot open /proc/self/fd)
    const edit = (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }];
    };
    probe = await makeBundle({ name: 'spawnpf', args: ['sh', '-c', PROBE], edit });
    wide = await makeBundle({ name: 'spawnpfs', args: ['sleep', '1000'], edit });
  });
  after(() => {
    probe?.cleanup();
    wide?.cleanup();
  });

  test('run and exec pass 1,030 fds (beyond runts-spawn.node\'s 1,024: child_process), as runc does', async (t) => {
    const seen = {};
    for (const r of [rt, runc]) {
      const id = newId(`spawnpf-${r.name}`);
      t.after(() => r.forceDelete(id));
      const ran = withFds(r, 'run', ['--preserve-fds', '1030', '--bundle', probe.dir, id], 1030);
      assert.equal(ran.code, 0, `${r.name} run: ${ran.stderr}`);
      const sid = newId(`spawnpfx-${r.name}`);
      t.after(() => r.forceDelete(sid));
      assert.equal((await r.run(sid, { bundle: wide.dir, detach: true })).code, 0);
      const execd = withFds(r, 'exec', ['--preserve-fds', '1030', sid, 'sh', '-c', PROBE], 1030);
      assert.equal(execd.code, 0, `${r.name} exec: ${execd.stderr}`);
      seen[r.name] = [ran.stdout, execd.stdout];
    }
    assert.deepEqual(seen[rt.name], seen.runc);
    assert.deepEqual(seen.runc, Array(2).fill('3 open\n1032 open\n1033 closed\n'));
  });

  test('a closed fd in the range is an error that names it, as runc\'s, and nothing is made', async (t) => {
    const msg = /unable to stat preserved-fd \d+ \(of 300\): stat \/proc\/self\/fd\/\d+: no such file or directory/;
    const codes = {};
    for (const r of [runc, rt]) {
      const id = newId(`spawnpfc-${r.name}`);
      t.after(() => r.forceDelete(id));
      for (const verb of ['run', 'create']) {
        const res = withFds(r, verb, ['--preserve-fds', '300', '--bundle', probe.dir, id], 0);
        assert.equal(res.code, 1, `${r.name} ${verb}: ${res.stderr}`);
        assert.match(res.stderr, msg, `${r.name} ${verb}`);
        assert.equal(existsSync(join(r.root, id)), false, `${r.name} ${verb}: no state dir`);
      }
      const sid = newId(`spawnpfcx-${r.name}`);
      t.after(() => r.forceDelete(sid));
      assert.equal((await r.run(sid, { bundle: sleeper.dir, detach: true })).code, 0);
      const res = withFds(r, 'exec', ['--preserve-fds', '300', sid, 'true'], 0);
      assert.match(res.stderr, msg, `${r.name} exec`);
      codes[r.name] = res.code;
    }
    // runc's exec exits 255 on an error of its own, as runts's does
    assert.equal(codes[rt.name], codes.runc);
    assert.notEqual(codes.runc, 0);
  });
});

// launch.cjs ends a command with the addon's exit (_exit) once every 'exit' listener has run: no
// teardown of Node's threads and heap. Its output and exit code are the command's; with a profile
// asked for (Node options), Node ends it and writes the profile.
describe('the end of a command', () => {
  const bin = join(REPO, 'packages/runts/bin/runts.js');
  test('with _exit: no thread of Node exits on its own; the output and the exit code are whole', () => {
    const root = mkdtempSync(join(RUN_DIR, 'exit-'));
    try {
      for (const [args, code, out] of [[['list'], 0, /^ID +PID +STATUS/], [['state', 'nosuch'], 1, /^$/], [['--help'], 0, /^runts\n/]]) {
        const trace = join(root, 'trace');
        const r = spawnSync('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=exit,exit_group', NODE, bin, '--root', root, ...args], { encoding: 'utf8', env: cleanEnv() });
        assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, out, args.join(' '));
        const calls = readFileSync(trace, 'utf8').split('\n').filter((l) => /\b(exit|exit_group)\(/.test(l));
        assert.deepEqual(calls.map((l) => l.replace(/^\d+ +/, '').replace(/ += \?$/, '')), [`exit_group(${code})`], `${args.join(' ')}: one exit_group and no thread's exit\n${calls.join('\n')}`);
      }
      // through a pipe read late (cac's help goes through process.stdout): all of it arrives
      const whole = spawnSync(NODE, [bin, '--help'], { encoding: 'utf8', env: cleanEnv() }).stdout;
      const piped = spawnSync('sh', ['-c', `"$0" "$1" --help | (sleep 0.3; wc -c)`, NODE, bin], { encoding: 'utf8', env: cleanEnv() });
      assert.equal(Number(piped.stdout.trim()), Buffer.byteLength(whole), 'the piped --help is whole');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  test('with a profile asked for, Node ends it (the profile is written)', () => {
    const root = mkdtempSync(join(RUN_DIR, 'exitprof-'));
    try {
      const r = spawnSync(NODE, ['--cpu-prof', '--cpu-prof-dir', root, bin, '--root', root, 'list'], { encoding: 'utf8', env: cleanEnv() });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readdirSync(root).filter((f) => f.endsWith('.cpuprofile')).length, 1, 'the profile');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
