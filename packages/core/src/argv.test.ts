// runc's command-line parsing (urfave/cli v1.22.1 over Go's flag package), case by case. The
// expectations are what runc 1.1.5 does with the same words (e2e/tests/40-cli.test.mjs runs the
// same kind of cases against runc itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cac } from 'cac';
import { addGlobalOptions, runCli, reorderArgs, parseFlags, flagSpec, checkArgCount, captureOutput } from './index.ts';

test('reorderArgs moves flags and the word after them to the front, as urfave/cli v1.22.1', () => {
  const cases: Array<[string[], string[]]> = [
    [['ID', '--force'], ['--force', 'ID']],
    [['--force', 'ID'], ['--force', 'ID']],
    [['ID', '--memory', '-1', '--memory-swap', '-1'], ['--memory', '-1', '--memory-swap', '-1', 'ID']],
    [['ID', '--all', '9'], ['--all', '9', 'ID']],
    [['ID', '--', '--force'], ['ID', '--', '--force']],
    [['ID', '-', 'x'], ['ID', '-', 'x']],
    [['--format=json', 'ID', 'x'], ['--format=json', 'ID', 'x']],
  ];
  for (const [input, want] of cases) assert.deepEqual(reorderArgs(input), want, input.join(' '));
});

test('flag declarations: names, kind and key', () => {
  assert.deepEqual(flagSpec('-f, --force'), { names: ['f', 'force'], kind: 'bool', key: 'force' });
  assert.deepEqual(flagSpec('--no-new-privs'), { names: ['no-new-privs'], kind: 'bool', key: 'noNewPrivs' });
  assert.deepEqual(flagSpec('--memory [value]'), { names: ['memory'], kind: 'value', key: 'memory' });
  assert.deepEqual(flagSpec('-u, --user <uid[:gid]>'), { names: ['u', 'user'], kind: 'value', key: 'user' });
  assert.deepEqual(flagSpec('-e, --env <var>', { type: [String] }), { names: ['e', 'env'], kind: 'list', key: 'env' });
});

test("Go's flag syntax: booleans never take the next word; values take it even with a dash", () => {
  const flags = [flagSpec('-f, --force'), flagSpec('--memory <v>'), flagSpec('-e, --env <v>', { type: [String] }), flagSpec('--format <f>', { default: 'table' })];
  type Want = { opts?: Record<string, unknown>; args?: string[]; err?: RegExp };
  const cases: Array<[string[], Want]> = [
    [['--force', 'ID'], { opts: { force: true }, args: ['ID'] }],
    [['-force', 'ID'], { opts: { force: true }, args: ['ID'] }],
    [['--f', 'ID'], { opts: { force: true }, args: ['ID'] }],
    [['--force=false', 'ID'], { opts: { force: false }, args: ['ID'] }],
    [['-f=1', 'ID'], { opts: { force: true }, args: ['ID'] }],
    [['--force=T', 'ID'], { opts: { force: true }, args: ['ID'] }],
    [['--force', 'true', 'ID'], { opts: { force: true }, args: ['true', 'ID'] }],
    [['--force=yes'], { err: /invalid boolean value "yes" for -force: parse error$/ }],
    [['--memory', '-1', 'ID'], { opts: { memory: '-1' }, args: ['ID'] }],
    [['--memory=0123'], { opts: { memory: '0123' }, args: [] }],
    [['--memory'], { err: /flag needs an argument: -memory$/ }],
    [['-e', 'A=1', '--env=B=2', 'x'], { opts: { env: ['A=1', 'B=2'] }, args: ['x'] }],
    [['--memory', '1', '--memory', '2'], { opts: { memory: '2' }, args: [] }],
    [['--', '--force'], { opts: { force: undefined }, args: ['--force'] }],
    [['-', '--force'], { opts: { force: undefined }, args: ['-', '--force'] }],
    [['--bogus'], { err: /flag provided but not defined: -bogus$/ }],
    [['-xf'], { err: /flag provided but not defined: -xf$/ }],
    [['---x'], { err: /bad flag syntax: ---x$/ }],
    [['-h', 'ID'], { opts: { help: true }, args: ['ID'] }],
    [[], { opts: { format: 'table' }, args: [] }],
    [['0123'], { args: ['0123'] }],
  ];
  for (const [argv, want] of cases) {
    const name = argv.join(' ');
    if (want.err) {
      assert.throws(() => parseFlags(argv, flags), want.err, name);
      continue;
    }
    const p = parseFlags(argv, flags);
    for (const [k, v] of Object.entries(want.opts ?? {})) assert.deepEqual(p.options[k], v, `${name}: ${k}`);
    assert.deepEqual(p.args, want.args, name);
  }
});

test("runc's argument-count messages", () => {
  assert.throws(() => checkArgCount('runts', 'state', 0, { required: 1, optional: 0, variadic: false }), /^Error: runts: "state" requires exactly 1 argument\(s\)$/);
  assert.throws(() => checkArgCount('runts', 'kill', 3, { required: 1, optional: 1, variadic: false }), /"kill" requires a maximum of 2 argument\(s\)/);
  assert.throws(() => checkArgCount('runts', 'exec', 0, { required: 1, optional: 0, variadic: true }), /"exec" requires a minimum of 1 argument\(s\)/);
  checkArgCount('runts', 'exec', 5, { required: 1, optional: 0, variadic: true });
});

/** A runc-shaped CLI whose actions record what they were given. */
function model(): { cli: ReturnType<typeof cac>; calls: Array<{ cmd: string; args: unknown[]; opts: Record<string, unknown> }> } {
  const calls: Array<{ cmd: string; args: unknown[]; opts: Record<string, unknown> }> = [];
  const cli = addGlobalOptions(cac('runts'));
  const rec = (cmd: string) => (...a: unknown[]) => {
    calls.push({ cmd, args: a.slice(0, -1), opts: a[a.length - 1] as Record<string, unknown> });
  };
  cli.command('create <id>').option('-b, --bundle <dir>', '').option('--no-pivot', '').option('--no-new-keyring', '').option('--pid-file <f>', '').action(rec('create'));
  cli.command('delete <id>').option('-f, --force', '').action(rec('delete'));
  cli.command('kill <id> [signal]').option('-a, --all', '').action(rec('kill'));
  cli.command('exec <id> [...command]').option('-t, --tty', '').option('--ignore-paused', '').option('-d, --detach', '').option('-p, --process <f>', '').action(rec('exec'));
  cli.command('ps <id> [...psArgs]').option('-f, --format <f>', '', { default: 'table' }).action(rec('ps'));
  cli.command('update <id>').option('--memory <v>', '').option('--memory-swap <v>', '').option('--pids-limit <v>', '').action(rec('update'));
  cli.command('list').option('-q, --quiet', '').option('-f, --format <f>', '', { default: 'table' }).action(rec('list'));
  return { cli, calls };
}

async function run(argv: string[]): Promise<{ code: number; out: string; call?: { cmd: string; args: unknown[]; opts: Record<string, unknown> } }> {
  const { cli, calls } = model();
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write; // cac's help text
  const restore = captureOutput((fd, text) => {
    if (fd === 1) out += text; // the version and usage lines; the log (fd 2) is dropped
  });
  try {
    await runCli(cli, ['node', 'runts', ...argv], { exit: false, versionText: 'v\n' });
  } finally {
    process.stdout.write = write;
    restore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return calls[0] ? { code, out, call: calls[0] } : { code, out };
}

test('--version prints the version, --help and no command the help', async () => {
  assert.equal((await run(['--version'])).out, 'v\n');
  assert.equal((await run(['-v'])).out, 'v\n');
  assert.match((await run(['--help'])).out, /Usage:/);
  assert.match((await run([])).out, /Usage:/);
});

test('the runc command line, end to end through runCli', async () => {
  type Want = { code?: number; cmd?: string; args?: unknown[]; opts?: Record<string, unknown> };
  const cases: Array<[string, Want]> = [
    ['--systemd-cgroup create ID', { cmd: 'create', args: ['ID'], opts: { systemdCgroup: true } }],
    ['--systemd-cgroup=false create ID', { cmd: 'create', args: ['ID'], opts: { systemdCgroup: false } }],
    ['--debug --systemd-cgroup --root /r delete ID', { cmd: 'delete', args: ['ID'], opts: { debug: true, root: '/r' } }],
    ['--rootless true delete ID', { cmd: 'delete', args: ['ID'], opts: { rootless: 'true' } }],
    ['--rootless create ID', { code: 3 }], // runc: --rootless takes "create"; "No help topic for 'ID'"
    ['create --no-pivot --no-new-keyring -b /b ID', { cmd: 'create', args: ['ID'], opts: { noPivot: true, noNewKeyring: true, bundle: '/b' } }],
    ['create ID --no-pivot --bundle /b', { cmd: 'create', args: ['ID'], opts: { noPivot: true, bundle: '/b' } }],
    ['create --no-pivot=false ID', { cmd: 'create', args: ['ID'], opts: { noPivot: false } }],
    ['create ID', { cmd: 'create', args: ['ID'], opts: { noPivot: undefined, noNewKeyring: undefined, systemdCgroup: undefined, logFormat: 'text', rootless: 'auto' } }], // cac's --no-x default (true) is not runc's
    ['delete ID --force', { cmd: 'delete', args: ['ID'], opts: { force: true } }],
    ['delete --force 0123', { cmd: 'delete', args: ['0123'], opts: { force: true } }],
    ['delete --force true ID', { code: 1 }], // two arguments
    ['delete ID -- --force', { code: 1 }],
    ['delete --root /r ID', { code: 1 }], // a global flag after the command word
    ['kill ID 0', { cmd: 'kill', args: ['ID', '0'] }],
    ['kill ID KILL --all', { cmd: 'kill', args: ['ID', 'KILL'], opts: { all: true } }],
    ['kill ID --all 9', { cmd: 'kill', args: ['9', 'ID'], opts: { all: true } }], // runc's reorder takes 9 along
    ['kill ID 9 x', { code: 1 }],
    ['exec --ignore-paused ID sh -c true', { cmd: 'exec', args: ['ID', ['sh', '-c', 'true']], opts: { ignorePaused: true } }],
    ['exec -t -d ID sh', { cmd: 'exec', args: ['ID', ['sh']], opts: { tty: true, detach: true } }],
    ['exec --tty=false ID sh', { cmd: 'exec', args: ['ID', ['sh']], opts: { tty: false } }],
    ['exec ID --tty sh', { cmd: 'exec', args: ['ID', ['--tty', 'sh']], opts: { tty: undefined } }],
    ['exec -p p.json ID', { cmd: 'exec', args: ['ID', []], opts: { process: 'p.json' } }],
    ['exec', { code: 1 }],
    ['ps ID -e -x', { cmd: 'ps', args: ['ID', ['-e', '-x']], opts: { format: 'table' } }],
    ['ps -f json ID', { cmd: 'ps', args: ['ID', []], opts: { format: 'json' } }],
    ['update ID --memory -1 --memory-swap -1', { cmd: 'update', args: ['ID'], opts: { memory: '-1', memorySwap: '-1' } }],
    ['update --pids-limit=5 ID', { cmd: 'update', args: ['ID'], opts: { pidsLimit: '5' } }],
    ['list -q', { cmd: 'list', args: [], opts: { quiet: true } }],
    ['list x', { code: 1 }],
    ['foo -h', { code: 3 }],
    ['foo', { code: 3 }],
    ['--bogus state ID', { code: 1 }],
    ['delete ID --help', { code: 0 }],
    ['--help', { code: 0 }],
    ['--version', { code: 0 }],
    ['', { code: 0 }],
  ];
  for (const [line, want] of cases) {
    const r = await run(line === '' ? [] : line.split(' '));
    assert.equal(r.code, want.code ?? 0, `${line}: exit code`);
    if (!want.cmd) {
      assert.equal(r.call, undefined, `${line}: no action runs`);
      continue;
    }
    assert.equal(r.call?.cmd, want.cmd, line);
    assert.deepEqual(r.call.args, want.args, `${line}: arguments`);
    for (const [k, v] of Object.entries(want.opts ?? {})) assert.deepEqual(r.call.opts[k], v, `${line}: ${k}`);
  }
});

test('a tool with one command (oci-delete) takes its flags and the global ones in any order', async () => {
  const calls: unknown[][] = [];
  const mk = () => {
    const cli = addGlobalOptions(cac('oci-delete'));
    cli.command('<id>').option('-f, --force', '').action((...a: unknown[]) => void calls.push(a));
    return cli;
  };
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await runCli(mk(), ['node', 'oci-delete', 'ID', '--root', '/r', '--force'], { exit: false });
    await runCli(mk(), ['node', 'oci-delete', '--systemd-cgroup', '0123'], { exit: false });
  } finally {
    process.stderr.write = write;
  }
  process.exitCode = 0;
  assert.equal(calls[0]![0], 'ID');
  assert.equal((calls[0]![1] as Record<string, unknown>).root, '/r');
  assert.equal((calls[0]![1] as Record<string, unknown>).force, true);
  assert.equal(calls[1]![0], '0123');
});
