// runts-spawn.node (native/nsenter/src/spawn.c): create, run and exec start the executor with
// posix_spawn (clone with CLONE_VM | CLONE_VFORK: nothing of the Node process is copied), not with
// node:child_process (fork). Without the addon, or with a damaged one, they fall back to
// child_process: the same containers, the same exit codes, nothing said unless --debug.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, openSync, closeSync } from 'node:fs';
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

/** `runts ARGS` with `command` (default: the runtime under test); its stdout and stderr go to
 *  files (a container started by create inherits them: a pipe would stay open) */
function runts(args, command = RUNTS_COMMAND) {
  const out = join(dir, 'out');
  const err = join(dir, 'err');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(command[0], [...command.slice(1), '--root', rt.root, ...args], { env: cleanEnv(), timeout: 60_000, stdio: ['ignore', fds[0], fds[1]] });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8').replace(/time="[^"]*"/g, 'time=T') };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
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
