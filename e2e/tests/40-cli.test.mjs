// runc's command line, differentially: the same words to runc and to runts, against a real running
// container, give the same exit code (and, where runc's text is the contract, the same message).
// Also --debug (text and JSON lines), exec -p without a user, and the hooks runc runs in a given
// working directory or whose failure ends the container.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR, runtime, available, makeBundle, newId, show, spawnCapture, errorText, waitPidExit, processesOf, cgroupsOf } from '../lib/index.mjs';

const RUNTIMES = ['runc', 'runts'].filter((n) => available(n));

/** `<runtime> --root R [globals...] verb args...` */
function raw(rt, globals, verb, args, opts) {
  const argv = rt.argv(verb);
  argv.splice(argv.length - 1, 0, ...globals);
  return spawnCapture([...argv, ...args], opts);
}

describe('the command line, as runc parses it', () => {
  assert.deepEqual(RUNTIMES, ['runc', 'runts'], 'runc and a built runts');
  const rts = Object.fromEntries(RUNTIMES.map((n) => [n, runtime(n)]));
  const ids = {};
  let bundle;
  before(async () => {
    bundle = await makeBundle({ name: 'cli', args: ['sleep', '1000'] });
    for (const n of RUNTIMES) {
      ids[n] = newId(`cli${n}`);
      const r = await rts[n].create(ids[n], { bundle: bundle.dir });
      assert.equal(r.code, 0, show(r));
      assert.equal((await rts[n].start(ids[n])).code, 0);
    }
  });
  after(async () => {
    for (const n of RUNTIMES) await rts[n].forceDelete(ids[n]);
    bundle?.cleanup();
  });

  // [globals, verb, args (ID = the running container), exit code, message regex (both runtimes)]
  const CASES = [
    [['--systemd-cgroup'], 'state', ['ID'], 0],
    [['--systemd-cgroup=false'], 'state', ['ID'], 0],
    [['--systemd-cgroup=true', '--debug=false'], 'state', ['ID'], 0],
    [['--rootless', 'false'], 'state', ['ID'], 0],
    [['--rootless'], 'state', ['ID'], 3, /No help topic for '/], // --rootless takes a value: state
    [['--log-format=text'], 'state', ['ID'], 0],
    [['--bogus'], 'state', ['ID'], 1, /flag provided but not defined: -bogus/],
    [[], 'state', ['--root', '/tmp', 'ID'], 1, /flag provided but not defined: -root/],
    [[], 'state', [], 1, /"state" requires exactly 1 argument\(s\)/],
    [[], 'state', ['ID', 'x'], 1, /"state" requires exactly 1 argument\(s\)/],
    [[], 'state', ['--', 'ID'], 0],
    [[], 'kill', ['ID', '0'], 0],
    [[], 'kill', ['ID', 'CONT'], 0],
    [[], 'kill', ['ID', 'SIGCONT'], 0],
    [[], 'kill', ['ID', '18'], 0],
    [[], 'kill', ['--all=true', 'ID', '0'], 0],
    [[], 'kill', ['ID', '0', '--all'], 0],
    [[], 'kill', ['-a', 'ID', '0'], 0],
    [[], 'kill', ['ID', 'FOO'], 1, /unknown signal "FOO"/],
    [[], 'kill', ['ID', '99'], 1, /invalid argument/],
    [[], 'kill', ['ID', '--all', '0'], 1, /container does not exist/], // runc's reorder takes 0 along: id "0"
    [[], 'kill', ['ID', '0', 'x'], 1, /"kill" requires a maximum of 2 argument\(s\)/],
    [[], 'delete', ['ID'], 1],
    [[], 'delete', ['--force=yes', 'ID'], 1, /invalid boolean value "yes" for -force/],
    [[], 'delete', ['--force', 'true', 'ID'], 1, /"delete" requires exactly 1 argument\(s\)/],
    [[], 'exec', ['--ignore-paused', 'ID', 'true'], 0],
    [[], 'exec', ['--tty=false', 'ID', 'true'], 0],
    [[], 'exec', ['-d', 'ID', 'true'], 0],
    [[], 'exec', ['--detach=true', '--no-new-privs', 'ID', 'true'], 0],
    [[], 'exec', ['ID', 'sh', '-c', 'exit 7'], 7],
    [[], 'exec', ['ID', '--tty', 'true'], 255, /"--tty": executable file not found/], // after the id: the command
    [[], 'exec', [], 1, /"exec" requires a minimum of 1 argument\(s\)/],
    [[], 'ps', ['ID', '-e', '-x'], 0],
    [[], 'ps', ['-f', 'json', 'ID'], 0],
    [[], 'ps', ['--format=json', 'ID'], 0],
    [[], 'update', ['ID', '--pids-limit', '100'], 0],
    [[], 'update', ['--pids-limit=200', 'ID'], 0],
    [[], 'update', ['ID', '--memory', '-1', '--memory-swap', '-1'], 0],
    [[], 'update', ['ID', '--memory'], 1, /"update" requires exactly 1 argument/], // reordered: --memory takes the id
    [[], 'update', ['--memory'], 1, /flag needs an argument: -memory/],
    [[], 'list', ['-q'], 0],
    [[], 'list', ['--quiet=true', '--format', 'json'], 0],
    [[], 'list', ['x'], 1, /"list" requires exactly 0 argument\(s\)/],
    [[], 'pause', ['ID'], 0],
    [[], 'exec', ['ID', 'true'], 255, /paused/],
    [[], 'resume', ['ID'], 0],
    [[], 'delete', ['ID', '--help'], 0],
  ];

  for (const [globals, verb, args, code, message] of CASES) {
    test(`${[...globals, verb, ...args].join(' ')} -> ${code}`, async () => {
      for (const n of RUNTIMES) {
        const r = await raw(rts[n], globals, verb, args.map((a) => (a === 'ID' ? ids[n] : a)), { timeout: 20_000 });
        assert.equal(r.code, code, `${n}: ${show(r)}`);
        if (message) assert.match(errorText(r.stderr), message, `${n}: ${show(r)}`);
      }
    });
  }

  test('unknown commands: No help topic, exit 3', async () => {
    for (const n of RUNTIMES) {
      for (const args of [['foo', '-h'], ['foo']]) {
        const argv = rts[n].argv('state').slice(0, -1);
        const r = await spawnCapture([...argv, ...args]);
        assert.equal(r.code, 3, `${n}: ${show(r)}`);
        assert.match(errorText(r.stderr), /No help topic for 'foo'/);
      }
    }
  });

  test('ps ID -e -x and ps -f json: the words after the id go to ps(1)', async () => {
    for (const n of RUNTIMES) {
      const r = await raw(rts[n], [], 'ps', [ids[n], '-o', 'pid,comm']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout.split('\n')[0], /^\s*PID\s+COMMAND\s*$/, `${n}: ${r.stdout}`);
      assert.match(r.stdout, /sleep/);
      const j = await raw(rts[n], [], 'ps', ['-f', 'json', ids[n]]);
      assert.equal(JSON.parse(j.stdout).length, 1, `${n}: ${j.stdout}`);
    }
  });

  test('update ID --memory -1 --memory-swap -1 sets no limit; --pids-limit as given', async () => {
    for (const n of RUNTIMES) {
      assert.equal((await raw(rts[n], [], 'update', [ids[n], '--pids-limit', '321'])).code, 0);
      const st = await rts[n].stateJson(ids[n]);
      const cg = readFileSync(`/proc/${st.pid}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l)).split(':')[2];
      assert.equal(readFileSync(join('/sys/fs/cgroup/pids', cg, 'pids.max'), 'utf8').trim(), '321', n);
    }
  });

  test('exec -p process.json without user runs as uid 0, gid 0', async () => {
    const p = bundle.path('nouser.json');
    writeFileSync(p, JSON.stringify({ args: ['sh', '-c', 'echo $(id -u):$(id -g)'], cwd: '/', env: ['PATH=/bin:/usr/bin'] }));
    for (const n of RUNTIMES) {
      const r = await rts[n].exec(ids[n], [], { process: p });
      assert.equal(r.code, 0, `${n}: ${show(r)}`);
      assert.equal(r.stdout.trim(), '0:0', n);
    }
  });

  test('--debug: debug lines for the verb, in text, or as JSON lines in --log', async () => {
    const r = await raw(rts.runts, ['--debug'], 'kill', [ids.runts, '0']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /^time="[^"]+" level=debug msg=/m, show(r));
    assert.match(r.stderr, /container .*running/);
    const log = bundle.path('debug.json');
    const s = await raw(rts.runts, ['--debug', '--log', log, '--log-format', 'json'], 'state', [ids.runts]);
    assert.equal(s.code, 0, show(s));
    assert.equal(s.stderr, '', 'all of it goes to the log file');
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2 && lines.every((l) => l.level === 'debug' && typeof l.msg === 'string' && /^\d{4}-\d\d-\d\dT/.test(l.time)), JSON.stringify(lines));
    // runc's JSON lines have the same keys (and, with --debug, the Go caller)
    const rl = bundle.path('runc.json');
    assert.equal((await raw(rts.runc, ['--debug', '--log', rl, '--log-format', 'json'], 'exec', [ids.runc, 'true'])).code, 0);
    const runcLines = readFileSync(rl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const k of ['level', 'msg', 'time']) assert.ok(runcLines.every((l) => k in l), k);
  });

  test('--debug on create: cgroups, the executor program step by step, hooks', async () => {
    const b = await makeBundle({
      name: 'clidbg',
      args: ['true'],
      edit(c) {
        c.hooks = { prestart: [{ path: '/bin/true' }] };
      },
    });
    const id = newId('clidbg');
    try {
      const r = await raw(rts.runts, ['--debug'], 'create', ['--bundle', b.dir, id]);
      assert.equal(r.code, 0, show(r));
      const text = errorText(r.stderr);
      assert.match(text, /cgroup \S+: \/sys\/fs\/cgroup\//);
      assert.match(text, /runts-init: program of \d+ steps/);
      assert.match(text, /runts-init: step \d+: PivotRoot root\.path \(.*\) mode=0x0$/m, 'pivot_root unless --no-pivot is given');
      assert.match(text, /hook hooks\.prestart\[0\]: run/);
    } finally {
      await rts.runts.forceDelete(id);
      b.cleanup();
    }
  });
});

describe('hooks: working directory and a failing poststart', () => {
  const rts = Object.fromEntries(RUNTIMES.map((n) => [n, runtime(n)]));

  test('createContainer hooks run in the rootfs directory, the host-side hooks in the bundle', async () => {
    const seen = {};
    for (const n of RUNTIMES) {
      const b = await makeBundle({ name: `hookcwd${n}`, args: ['true'] });
      const log = b.path('hooks.log');
      const hook = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} "$(pwd)" >> ${log}`] });
      b.config.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')], poststop: [hook('poststop')] };
      b.write();
      const id = newId(`hookcwd${n}`);
      try {
        const c = await rts[n].create(id, { bundle: b.dir });
        assert.equal(c.code, 0, show(c));
        assert.equal((await rts[n].delete(id, { force: true })).code, 0);
        seen[n] = readFileSync(log, 'utf8').replaceAll(b.dir, 'BUNDLE');
      } finally {
        await rts[n].forceDelete(id);
        b.cleanup();
      }
    }
    // runc's delete runs poststop hooks in its own working directory (the e2e run dir here)
    assert.equal(seen.runc, `prestart BUNDLE\ncreateRuntime BUNDLE\ncreateContainer BUNDLE/rootfs\npoststop ${RUN_DIR}\n`);
    assert.equal(seen.runts, seen.runc);
  });

  test('a failing poststart hook: an error, the container stopped and destroyed, poststop run', async () => {
    for (const n of RUNTIMES) {
      const b = await makeBundle({ name: `poststart${n}`, args: ['sleep', '1000'] });
      const log = b.path('hooks.log');
      b.config.hooks = {
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${log}; exit 3`] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }],
      };
      b.write();
      const id = newId(`poststart${n}`);
      try {
        // runc 1.1.5 runs poststart hooks at the end of create, runts in start (runtime.md): run
        // covers both, and so does create && start
        const r = await rts[n].run(id, { bundle: b.dir, detach: true });
        assert.notEqual(r.code, 0, `${n}: ${show(r)}`);
        assert.match(errorText(r.stderr), /exit status 3/, `${n}: ${show(r)}`);
        assert.equal(readFileSync(log, 'utf8'), 'poststart\npoststop\n', n);
        const st = await rts[n].state(id);
        assert.match(errorText(st.stderr), /container does not exist/, n);
        assert.deepEqual(processesOf({ dirs: [b.dir], idPrefix: id }), [], `${n}: no process left`);
        assert.deepEqual(cgroupsOf(id), [], `${n}: no cgroup left`);
      } finally {
        await rts[n].forceDelete(id);
        b.cleanup();
      }
    }
    // runts: create succeeds, start fails the same way
    const b = await makeBundle({ name: 'poststart2', args: ['sleep', '1000'] });
    const log = b.path('hooks.log');
    b.config.hooks = { poststart: [{ path: '/bin/false' }], poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }] };
    b.write();
    const id = newId('poststart2');
    try {
      assert.equal((await rts.runts.create(id, { bundle: b.dir })).code, 0);
      const pid = (await rts.runts.stateJson(id)).pid;
      const s = await rts.runts.start(id);
      assert.equal(s.code, 1, show(s));
      assert.match(errorText(s.stderr), /hooks\.poststart\[0\] \(\/bin\/false\): exit status 1/);
      assert.ok(await waitPidExit(pid), 'the container was stopped');
      assert.equal(readFileSync(log, 'utf8'), 'poststop\n');
      assert.equal((await rts.runts.state(id)).code, 1);
      assert.ok(!existsSync(join(rts.runts.root, id)));
    } finally {
      await rts.runts.forceDelete(id);
      rmSync(log, { force: true });
      b.cleanup();
    }
  });

  // start's destroy after a failed poststart hook is a chunk of its own (tools/build/build.mjs:
  // lazy-delete.cjs beside the bundle, an asset of the single executable), loaded only then: it
  // must log as start was told to (--log-format json: every line JSON, the poststop hook's
  // warning too) and fail start as the bundle's own code would. runts, and oci-start installed
  // alone as its package builds it.
  test('a failing poststart hook with --log-format json: the destroy (a lazily loaded chunk) logs JSON lines too', async () => {
    for (const n of ['runts', 'oci']) {
      const rt = runtime(n);
      const b = await makeBundle({ name: `poststartjson${n}`, args: ['sleep', '1000'] });
      const log = b.path('hooks.log');
      b.config.hooks = {
        poststart: [{ path: '/bin/false' }],
        poststop: [
          { path: '/bin/sh', args: ['sh', '-c', 'exit 7'] },
          { path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] },
        ],
      };
      b.write();
      const id = newId(`psjson${n}`);
      try {
        assert.equal((await rt.create(id, { bundle: b.dir })).code, 0, n);
        const pid = (await rt.stateJson(id)).pid;
        // runc's global flags go before the verb; oci-start takes them anywhere
        const s = n === 'oci' ? await spawnCapture([...rt.argv('start'), '--log-format', 'json', id]) : await raw(rt, ['--log-format', 'json'], 'start', [id]);
        assert.equal(s.code, 1, `${n}: ${show(s)}`);
        const lines = s.stderr.trim().split('\n').map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            assert.fail(`${n}: a line on stderr that is not JSON: ${l}\n${show(s)}`);
          }
        });
        const warning = lines.find((l) => l.level === 'warning');
        assert.match(warning?.msg ?? '', new RegExp(`^container ${id}: hooks\\.poststop\\[0\\] \\(/bin/sh\\): exit status 7`), `${n}: ${show(s)}`);
        assert.match(lines.at(-1).msg, /hooks\.poststart\[0\] \(\/bin\/false\): exit status 1/, `${n}: ${show(s)}`);
        assert.equal(lines.at(-1).level, 'error', n);
        assert.ok(await waitPidExit(pid), `${n}: the container was stopped`);
        assert.equal(readFileSync(log, 'utf8'), 'poststop\n', `${n}: the other poststop hook ran`);
        assert.ok(!existsSync(join(rt.root, id)), `${n}: its state is gone`);
        assert.deepEqual(cgroupsOf(id), [], `${n}: no cgroup left`);
      } finally {
        await rt.forceDelete(id);
        b.cleanup();
      }
    }
  });
});
