// Terminals (issue 4): process.terminal with --console-socket (create+start, run, exec) driven
// through the received pty master, as conmon and containerd's shim do; run/exec with a terminal
// and no console socket, where the runtime relays the user's terminal (driven through `script`
// and tmux); a differential check against runc of what the container sees.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, spawnCapture, cleanEnv, RUN_DIR, TAG, waitStatus } from '../lib/index.mjs';

const rt = runtime();
const runc = runtime('runc');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// What the container reports about its terminal, one `key=value` line each. It runs as a script so
// that the terminal's echo of the typed command line holds none of these lines. $$ is the shell
// running it, whose fds are the ones the container was given.
const REPORT = `echo "tty=$(tty)"
echo "fds=$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"
echo "stdin=$(stat -L -c %t:%T /proc/$$/fd/0)"
echo "console=$(stat -c %t:%T /dev/console 2>&1)"
echo "size=$(stty size 2>&1)"
echo "ctty=$(cut -d' ' -f7 /proc/$$/stat)"
echo "owner=$(stat -L -c %u:%g /proc/$$/fd/0)"
`;
// The input a user types: `echo hi` whose echo is `echo h""i` (so "hi" alone is the output), the
// report, and an exit status.
const typed = (code) => `echo h""i; sh /report.sh; exit ${code}\n`;

/** key=value lines of the output (CRs dropped), and whether the shell said "hi". */
function parseReport(out) {
  const lines = out.replace(/\r/g, '').split('\n');
  const r = { hi: lines.includes('hi') };
  for (const l of lines) {
    const m = /^(tty|fds|stdin|console|size|ctty|owner)=(.*)$/.exec(l);
    if (m) r[m[1]] = m[2];
  }
  return r;
}

/** The checks every terminal shares: stdio is the pty, `tty` works, it is the controlling terminal. */
function assertTerminal(r, out, { console: consoleBound = true, size } = {}) {
  const ctx = `output:\n${out}`;
  assert.ok(r.hi, `echo hi ran: ${ctx}`);
  assert.match(r.tty ?? '', /^\/dev\/pts\/\d+$/, ctx);
  assert.equal(r.fds, `${r.tty} ${r.tty} ${r.tty}`, `stdio is the pty: ${ctx}`);
  assert.match(r.stdin ?? '', /^88:\d+$/, `a devpts slave (major 136 = 0x88): ${ctx}`);
  assert.notEqual(r.ctty, '0', `a controlling terminal (tty_nr): ${ctx}`);
  if (consoleBound) assert.equal(r.console, r.stdin, `/dev/console is the pty (same device number): ${ctx}`);
  if (size) assert.equal(r.size, size, `consoleSize / window size: ${ctx}`);
}

// ---- a console socket receiver: conmon's part, in python3 ----
const RECEIVER = String.raw`
import json, os, select, socket, sys, time
path, data = sys.argv[1], sys.argv[2].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
print("listening", flush=True)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(60)
payloads, fds = [], []
while True:
    try:
        msg, got, flags, addr = socket.recv_fds(c, 4096, 8)
    except socket.timeout:
        break
    if not msg and not got:
        break
    payloads.append(msg.decode(errors="replace"))
    fds += got
    c.settimeout(2)  # the sender closes the socket after the master: more would be a second message
out = b""
if fds:
    m = fds[0]
    os.write(m, data)
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([m], [], [], 1)
        if not r:
            continue
        try:
            d = os.read(m, 65536)
        except OSError:
            break  # EIO: every slave fd is closed, the container is done
        if not d:
            break
        out += d
print(json.dumps({"payload": "".join(payloads), "nfds": len(fds), "messages": len(payloads), "out": out.decode(errors="replace")}), flush=True)
`;

/** Starts a receiver on a fresh socket path; it types `input` into the master and reads to EIO. */
async function consoleReceiver(input) {
  const sock = join(RUN_DIR, `console-${TAG}-${Math.random().toString(36).slice(2, 8)}.sock`);
  const py = spawn('python3', ['-c', RECEIVER, sock, input], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  let stdout = '';
  let stderr = '';
  py.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => py.on('exit', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    py.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('listening\n')) resolve();
    });
    py.on('exit', () => reject(new Error(`console receiver exited: ${stderr}`)));
  });
  return {
    sock,
    /** { payload, nfds, messages, out } once the container's side of the pty is closed. */
    async result() {
      const code = await done;
      rmSync(sock, { force: true });
      const line = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
      assert.ok(line, `receiver (exit ${code}) printed no result: ${stdout} ${stderr}`);
      return JSON.parse(line);
    },
    kill() {
      py.kill('SIGKILL');
      rmSync(sock, { force: true });
    },
  };
}

/** A bundle whose process is an interactive shell on a terminal, with /report.sh in the rootfs. */
async function terminalBundle(name, { consoleSize, args = ['sh'], terminal = true, user } = {}) {
  return makeBundle({
    name,
    args,
    terminal,
    user,
    env: [PATH_ENV, 'TERM=xterm', 'PS1=$ '],
    edit(c, b) {
      writeFileSync(b.path('rootfs', 'report.sh'), REPORT);
      if (consoleSize) c.process.consoleSize = consoleSize;
    },
  });
}

/** The POSIX-shell quoting of an argv, for `script -c` and tmux. */
const shq = (argv) => argv.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');

const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

describe(`terminal with --console-socket (${rt.name})`, () => {
  test('create + start: the master arrives alone with a name; a shell is driven through it', async (t) => {
    const b = await terminalBundle('ttycreate', { consoleSize: { height: 33, width: 111 } });
    const id = newId('ttycreate');
    const rec = await consoleReceiver(typed(3));
    t.after(async () => {
      rec.kill();
      await rt.forceDelete(id);
      b.cleanup();
    });
    const c = await rt.create(id, { bundle: b.dir, extra: ['--console-socket', rec.sock] });
    assert.equal(c.code, 0, show(c));
    assert.equal(c.stdout + c.stderr, '', 'the container\'s output goes to the pty, not to the runtime\'s stdio');
    const s = await rt.start(id);
    assert.equal(s.code, 0, show(s));
    const got = await rec.result();
    assert.equal(got.nfds, 1, 'exactly one fd');
    assert.equal(got.messages, 1, 'in one message');
    assert.ok(got.payload.length > 0, 'with a non-empty payload (go-runc and conmon need one)');
    const r = parseReport(got.out);
    assertTerminal(r, got.out, { size: '33 111' });
    await waitStatus(rt, id, 'stopped');
  });

  test('run --detach: the shell driven through the master', async (t) => {
    const b = await terminalBundle('ttyrund', { consoleSize: { height: 20, width: 70 } });
    const id = newId('ttyrund');
    const rec = await consoleReceiver(typed(7));
    t.after(async () => {
      rec.kill();
      await rt.forceDelete(id);
      b.cleanup();
    });
    const r = await rt.run(id, { bundle: b.dir, detach: true, extra: ['--console-socket', rec.sock] });
    assert.equal(r.code, 0, show(r));
    const got = await rec.result();
    assert.equal(got.nfds, 1);
    assert.ok(got.payload.length > 0);
    assertTerminal(parseReport(got.out), got.out, { size: '20 70' });
    await waitStatus(rt, id, 'stopped');
  });

  test('run --console-socket in the foreground: exits with the status of the shell driven through the master', async (t) => {
    const b = await terminalBundle('ttyrun', { consoleSize: { height: 20, width: 70 } });
    const id = newId('ttyrun');
    const rec = await consoleReceiver(typed(7));
    t.after(async () => {
      rec.kill();
      await rt.forceDelete(id);
      b.cleanup();
    });
    const r = await rt.run(id, { bundle: b.dir, extra: ['--console-socket', rec.sock] });
    if (rt.name === 'runc') {
      // runc 1.1 takes a console socket only when it detaches; runts also serves the foreground
      // (its caller keeps the exit status), the one place where it accepts more than runc.
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.error, /cannot use console socket if runc will not detach or allocate tty/);
      return;
    }
    assert.equal(r.code, 7, show(r));
    const got = await rec.result();
    assert.equal(got.nfds, 1);
    assert.ok(got.payload.length > 0);
    assertTerminal(parseReport(got.out), got.out, { size: '20 70' });
    assert.equal(await rt.stateJson(id), null, 'run deleted the container');
  });

  describe('exec', () => {
    let b;
    let id;
    before(async () => {
      b = await terminalBundle('ttyexec', { args: ['sleep', '1000'], terminal: false });
      id = newId('ttyexec');
      assert.equal((await rt.create(id, { bundle: b.dir })).code, 0);
      assert.equal((await rt.start(id)).code, 0);
    });
    after(async () => {
      await rt.forceDelete(id);
      b?.cleanup();
    });

    test('exec --detach -t --console-socket (conmon\'s and the shim\'s form): a shell driven through the master', async (t) => {
      const rec = await consoleReceiver(typed(5));
      t.after(() => rec.kill());
      const pidFile = b.path(`exec-tty-${id}.pid`);
      const r = await rt.exec(id, ['sh'], { detach: true, pidFile, extra: ['-t', '--console-socket', rec.sock] });
      assert.equal(r.code, 0, show(r));
      assert.match(readFileSync(pidFile, 'utf8'), /^[1-9]\d*$/);
      const got = await rec.result();
      assert.equal(got.nfds, 1);
      assert.equal(got.messages, 1);
      assert.ok(got.payload.length > 0);
      // runc binds /dev/console only for the container's init, not for an exec
      assertTerminal(parseReport(got.out), got.out, { console: false });
    });

    test('exec -t --console-socket in the foreground: exits with the shell\'s status', async (t) => {
      const rec = await consoleReceiver(typed(5));
      t.after(() => rec.kill());
      const r = await rt.exec(id, ['sh'], { extra: ['-t', '--console-socket', rec.sock] });
      if (rt.name === 'runc') {
        assert.equal(r.code, 255, show(r)); // runc 1.1: only with --detach (see run above)
        assert.match(r.error, /cannot use console socket if runc will not detach or allocate tty/);
        return;
      }
      assert.equal(r.code, 5, show(r));
      assert.equal(r.stdout, '', 'nothing on the runtime\'s own stdout');
      const got = await rec.result();
      assert.equal(got.nfds, 1);
      assert.ok(got.payload.length > 0);
      assertTerminal(parseReport(got.out), got.out, { console: false });
    });

    test('exec --detach -p process.json with terminal and consoleSize, --console-socket', async (t) => {
      const rec = await consoleReceiver(typed(0));
      t.after(() => rec.kill());
      const file = b.path(`process-tty-${id}.json`);
      writeFileSync(file, JSON.stringify({ terminal: true, consoleSize: { height: 21, width: 71 }, user: { uid: 0, gid: 0 }, args: ['sh'], env: [PATH_ENV, 'PS1=# '], cwd: '/' }));
      const r = await rt.exec(id, [], { process: file, detach: true, extra: ['--console-socket', rec.sock] });
      assert.equal(r.code, 0, show(r));
      const got = await rec.result();
      assert.equal(got.nfds, 1);
      assertTerminal(parseReport(got.out), got.out, { console: false, size: '21 71' });
    });

    test('exec --detach -t without a console socket is refused, nothing runs', async () => {
      const r = await rt.exec(id, ['sleep', '77'], { detach: true, extra: ['-t'] });
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.error, /cannot allocate tty if \w+ will detach without setting console socket/);
      const ps = spawnSync('pgrep', ['-f', '^sleep 77$'], { encoding: 'utf8' });
      assert.equal(ps.stdout.trim(), '', 'no process left');
    });

    test('exec --console-socket with a process.json without a terminal is refused', async (t) => {
      const rec = await consoleReceiver('');
      t.after(() => rec.kill());
      const file = b.path(`process-notty-${id}.json`);
      writeFileSync(file, JSON.stringify({ terminal: false, user: { uid: 0, gid: 0 }, args: ['true'], env: [PATH_ENV], cwd: '/' }));
      const r = await rt.exec(id, [], { process: file, detach: true, extra: ['--console-socket', rec.sock] });
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.error, /cannot use console socket if (the )?process does not allocate a tty|console socket/);
    });
  });

  test('create with a terminal and no console socket is refused like runc, nothing left', async (t) => {
    const b = await terminalBundle('ttynosock');
    const id = newId('ttynosock');
    t.after(async () => {
      await rt.forceDelete(id);
      b.cleanup();
    });
    const c = await rt.create(id, { bundle: b.dir });
    assert.notEqual(c.code, 0, show(c));
    assert.match(c.error, /cannot allocate tty if \w+ will detach without setting console socket/);
    assert.equal(await rt.stateJson(id), null, 'no container');
    const d = await rt.run(id, { bundle: b.dir, detach: true });
    assert.notEqual(d.code, 0, show(d));
    assert.match(d.error, /cannot allocate tty if \w+ will detach without setting console socket/);
    assert.equal(await rt.stateJson(id), null, 'no container');
  });
});

/** Runs `cmd` (an argv) under script(1) in a pty of rows x cols, typing the input file's content. */
async function underScript(argv, input, { rows = 25, cols = 90, timeout = 60_000 } = {}) {
  const inFile = join(RUN_DIR, `script-in-${TAG}-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(inFile, input);
  // stty in the pty script made: a known window size, and the modes to compare afterwards
  const before = `${inFile}.before`;
  const afterF = `${inFile}.after`;
  const cmd = `stty rows ${rows} cols ${cols}; stty -g > ${before}; ${shq(argv)}; rc=$?; stty -g > ${afterF}; exit $rc`;
  try {
    const r = await spawnCapture(['script', '-qec', cmd, '/dev/null'], { stdin: inFile, timeout });
    const read = (p) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : '');
    return { ...r, sttyBefore: read(before), sttyAfter: read(afterF) };
  } finally {
    for (const p of [inFile, before, afterF]) rmSync(p, { force: true });
  }
}

describe(`terminal relayed by the runtime: no --console-socket (${rt.name})`, () => {
  test('run under script(1): typed input, output, window size, exit status, terminal restored', async (t) => {
    const b = await terminalBundle('ttyrelay', { consoleSize: { height: 10, width: 10 } });
    const id = newId('ttyrelay');
    t.after(async () => {
      await rt.forceDelete(id);
      b.cleanup();
    });
    const r = await underScript([...rt.argv('run'), '--bundle', b.dir, id], typed(6), { rows: 27, cols: 93 });
    assert.equal(r.code, 6, show(r));
    // the size of the user's terminal wins over process.consoleSize (as runc resizes to it)
    assertTerminal(parseReport(r.stdout), r.stdout, { size: '27 93' });
    assert.ok(r.sttyBefore.length > 0);
    assert.equal(r.sttyAfter, r.sttyBefore, 'the terminal modes are restored');
    assert.equal(await rt.stateJson(id), null, 'run deleted the container');
  });

  test('exec -t under script(1): typed input, output, exit status, terminal restored', async (t) => {
    const b = await terminalBundle('ttyrelayexec', { args: ['sleep', '1000'], terminal: false });
    const id = newId('ttyrelayexec');
    t.after(async () => {
      await rt.forceDelete(id);
      b.cleanup();
    });
    assert.equal((await rt.create(id, { bundle: b.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const r = await underScript([...rt.argv('exec'), '-t', id, 'sh'], typed(4), { rows: 31, cols: 101 });
    assert.equal(r.code, 4, show(r));
    assertTerminal(parseReport(r.stdout), r.stdout, { console: false, size: '31 101' });
    assert.ok(r.sttyBefore.length > 0);
    assert.equal(r.sttyAfter, r.sttyBefore, 'the terminal modes are restored');
    // stdin at its end: the shell reads end-of-file and exits 0 without an `exit`
    const eof = await underScript([...rt.argv('exec'), '-t', id, 'sh', '-c', 'cat; echo "cat got eof"'], 'some input\n');
    assert.equal(eof.code, 0, show(eof));
    assert.match(eof.stdout, /cat got eof/);
  });

  test('run in tmux: interactive shell, SIGWINCH resizes the pty, exit status, terminal restored', { skip: hasTmux ? false : 'tmux is not installed (apt-get install tmux)' }, async (t) => {
    const b = await terminalBundle('ttytmux');
    const id = newId('ttytmux');
    const server = `rte2e-${TAG}-${process.pid}`;
    const tmux = (...a) => spawnSync('tmux', ['-L', server, ...a], { encoding: 'utf8', env: cleanEnv() });
    const rcFile = b.path('rc');
    const sttyBefore = b.path('stty-before');
    const sttyAfter = b.path('stty-after');
    t.after(async () => {
      tmux('kill-server');
      await rt.forceDelete(id);
      b.cleanup();
    });
    const cmd = `stty -g > ${sttyBefore}; ${shq([...rt.argv('run'), '--bundle', b.dir, id])}; echo $? > ${rcFile}; stty -g > ${sttyAfter}; sleep 60`;
    const s = tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', cmd);
    assert.equal(s.status, 0, s.stderr);
    const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'e2e').stdout;
    const waitFor = async (re, what) => {
      for (let i = 0; i < 200; i++) {
        const p = pane();
        if (re.test(p)) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${what}: not seen in the pane:\n${pane()}`);
    };
    await waitFor(/^\$ $/m, 'the shell prompt');
    tmux('send-keys', '-t', 'e2e', 'echo h""i; sh /report.sh', 'Enter');
    let p = await waitFor(/^ctty=/m, 'the report');
    assertTerminal(parseReport(p), p, { size: '40 120' });
    tmux('resize-window', '-t', 'e2e', '-x', '100', '-y', '30');
    tmux('send-keys', '-t', 'e2e', 'clear; stty size', 'Enter');
    p = await waitFor(/^30 100$/m, 'the new size after SIGWINCH');
    // raw mode: ^C is a byte for the container's terminal (its shell survives it), not a signal to the runtime
    tmux('send-keys', '-t', 'e2e', 'sleep 30', 'Enter');
    await new Promise((r) => setTimeout(r, 300));
    tmux('send-keys', '-t', 'e2e', 'C-c');
    tmux('send-keys', '-t', 'e2e', 'echo "after ^C: $?"', 'Enter');
    await waitFor(/^after \^C: 130$/m, 'the interrupted sleep');
    tmux('send-keys', '-t', 'e2e', 'exit 9', 'Enter');
    for (let i = 0; i < 200 && !existsSync(sttyAfter); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(rcFile, 'utf8').trim(), '9', `the exit status; pane:\n${pane()}`);
    assert.equal(readFileSync(sttyAfter, 'utf8'), readFileSync(sttyBefore, 'utf8'), 'the terminal modes are restored');
  });
});

describe('differential against runc: what the container sees on a terminal', { skip: rt.name === 'runc' ? 'the runtime under test is runc' : false }, () => {
  /** The report of a shell run with `run --detach --console-socket` (runc's only form). */
  async function seen(r, name, user) {
    const b = await terminalBundle(name, { consoleSize: { height: 24, width: 80 }, user });
    const id = newId(name);
    const rec = await consoleReceiver(typed(0));
    try {
      const res = await r.run(id, { bundle: b.dir, detach: true, extra: ['--console-socket', rec.sock] });
      assert.equal(res.code, 0, show(res));
      const got = await rec.result();
      return { got, report: parseReport(got.out) };
    } finally {
      rec.kill();
      await r.forceDelete(id);
      b.cleanup();
    }
  }

  test('run --console-socket: the same terminal, /dev/console, size and payload form', async () => {
    const ours = await seen(rt, 'ttydiff');
    const theirs = await seen(runc, 'ttydiffrunc');
    assertTerminal(theirs.report, theirs.got.out, { size: '24 80' });
    assertTerminal(ours.report, ours.got.out, { size: '24 80' });
    const shape = ({ got, report }) => ({
      nfds: got.nfds,
      payload: got.payload.replace(/\d+$/, 'N'),
      tty: report.tty.replace(/\d+$/, 'N'),
      consoleIsTty: report.console === report.stdin,
      size: report.size,
      hi: report.hi,
      owner: report.owner,
    });
    assert.deepEqual(shape(ours), shape(theirs));
    assert.equal(ours.report.owner, '0:5', 'root:tty');
  });

  test('a non-root process.user owns its terminal (runc chowns it, keeping the group tty)', async () => {
    const user = { uid: 1000, gid: 1000 };
    const ours = await seen(rt, 'ttyuser', user);
    const theirs = await seen(runc, 'ttyuserrunc', user);
    assertTerminal(theirs.report, theirs.got.out);
    assertTerminal(ours.report, ours.got.out);
    assert.equal(theirs.report.owner, '1000:5', theirs.got.out);
    assert.equal(ours.report.owner, theirs.report.owner, ours.got.out);
  });

  test('a non-root process.user owns its stdio (pipes, files), /dev/null is left alone (as runc)', async (t) => {
    const b = await makeBundle({ name: 'stdiouser', user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', 'stat -L -c %u:%g /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2'] });
    const input = b.path('stdin.txt');
    writeFileSync(input, '');
    t.after(() => b.cleanup());
    const out = {};
    for (const r of [runc, rt]) {
      const id = newId(`stdiouser-${r.name}`);
      t.after(() => r.forceDelete(id));
      const res = await r.run(id, { bundle: b.dir }, { stdin: input });
      assert.equal(res.code, 0, show(res));
      out[r.name] = res.stdout;
    }
    // runc run in the foreground relays stdio through pipes of its own; runts hands its stdio over:
    // both chown what the process gets
    assert.equal(out[rt.name], out.runc);
    assert.match(out.runc, /^1000:\d+\n1000:\d+\n1000:\d+\n$/);
    // /dev/null (runc's rule: same device as the container's /dev/null) stays root's
    const id = newId('stdiouser-null');
    t.after(() => rt.forceDelete(id));
    const res = await rt.run(id, { bundle: b.dir }, { stdin: '/dev/null' });
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /^0:0\n1000:\d+\n1000:\d+\n$/, show(res));
  });
});
