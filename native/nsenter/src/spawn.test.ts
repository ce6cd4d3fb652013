// runts-spawn (spawn.c + spawn.ts): what the executor is given, checked with a python3 script in
// its place (no root, no executor): its fds, environment, signals, session, exit status, and the
// socket in both directions. Fails if the addon is not built (pnpm build): the fast path must exist.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readlinkSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { spawnExecutor, sealedExecutor, elfDefect, type Stage0, type Channel } from './spawn.ts';

const PY = '/usr/bin/python3';

// Run as `python3 SCRIPT N`: the socket is fd N. Sends what it sees as JSON, then echoes what it
// reads until end-of-file, then exits with the status it was told.
const SCRIPT = `
import os, sys, json
n = int(sys.argv[1])
fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))
# the signals as the wrapper (sh, before python3 ignores SIGPIPE and SIGXFSZ itself) found them
status = {l.split(':')[0]: l.split(':')[1].strip() for l in open(sys.argv[0] + '.status') if l.startswith(('SigIgn', 'SigBlk'))}
info = {
  'fds': fds,
  'links': {str(f): os.readlink('/proc/self/fd/%d' % f) for f in fds if f < n or f > n + 1},
  'cloexec': [f for f in fds if f <= n and os.get_inheritable(f) is False],
  'env': dict(os.environ),
  'sigign': status['SigIgn'], 'sigblk': status['SigBlk'],
  'sid_is_pid': os.getsid(0) == os.getpid(),
}
os.write(n, json.dumps(info).encode() + b'\\n')
got = b''
while True:
  d = os.read(n, 65536)
  if not d: break
  got += d
  if got.endswith(b'!'):
    os.write(n, b'echo:' + got)
    got = b''
code = int(open(sys.argv[0] + '.exit').read())
if code < 0: os.kill(os.getpid(), -code)
sys.exit(code)
`;

/** The Buffer that the external strings made by the test of `text` read: never freed while the
 *  process lives, as an asset is not. */
const keptAlive: Buffer[] = [];

function collect(child: Stage0, sock: Channel): { lines: Promise<string>; exit: Promise<{ code: number | null; signal: string | null }>; closed: Promise<void> } {
  let text = '';
  sock.on('data', (d) => (text += d.toString()));
  const closed = new Promise<void>((res) => sock.on('close', res));
  return {
    lines: closed.then(() => text),
    exit: new Promise((res) => child.on('exit', (code, signal) => res({ code, signal }))),
    closed,
  };
}

describe('runts-spawn', () => {
  let dir: string;
  let script: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-spawn-'));
    script = join(dir, 'stage0.py');
    writeFileSync(script, SCRIPT);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // spawnExecutor runs `path argv1`, argv1 being the socket's fd: a script needs the interpreter
  // as path, so a wrapper exec's python3 with the script (what is checked is python3's view)
  const start = (stdio: number[], setsid: boolean, exit: number) => {
    writeFileSync(script + '.exit', String(exit));
    const wrapper = join(dir, 'wrapper');
    // (read by the shell itself: a cat it forks would see the shell's mask while it forks)
    writeFileSync(wrapper, `#!/bin/sh\nwhile IFS= read -r l; do echo "$l"; done < /proc/self/status > ${script}.status\nexec ${PY} ${script} "$1"\n`, { mode: 0o755 });
    const r = spawnExecutor(wrapper, stdio, setsid);
    assert.ok(r, 'runts-spawn.node loads (pnpm build makes it)');
    return r;
  };

  it('gives the executor its fds 0..n-1 and the socket as fd n, nothing else, no environment, default signals', async () => {
    const file = join(dir, 'extra');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r'); // close-on-exec, as Node opens everything: passed on all the same
    try {
      const { child, sock } = start([-1, 1, 2, fd], false, 0);
      const out = collect(child, sock);
      sock.write(Buffer.from('ping!'));
      // what the script sent, then the echo; then end-of-file once we close
      await new Promise((res) => setTimeout(res, 300));
      sock.destroy();
      const text = await out.lines;
      const info = JSON.parse(text.split('\n')[0]!) as Record<string, unknown>;
      assert.deepEqual((info['fds'] as number[]).filter((f) => f <= 4), [0, 1, 2, 3, 4]);
      // beyond the socket: listdir's own fd, and whatever this process itself inherited without
      // close-on-exec (a caller's fd goes on to every child, as with child_process)
      const flags = (f: number): number => {
        try {
          return parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${f}`, 'utf8'))?.[1] ?? '0', 8);
        } catch {
          return 0o2000000; // readdir's own fd, closed by now
        }
      };
      const inherited = readdirSync('/proc/self/fd').map(Number).filter((f) => f > 4 && (flags(f) & 0o2000000) === 0);
      const beyond = (info['fds'] as number[]).filter((f) => f > 4 && !inherited.includes(f));
      assert.ok(beyond.length <= 1, `only listdir's own fd beyond the socket: ${JSON.stringify(info['links'])}`);
      const links = info['links'] as Record<string, string>;
      assert.equal(links['0'], '/dev/null');
      assert.equal(links['1'], readlinkSync('/proc/self/fd/1'));
      assert.equal(links['3'], file);
      assert.deepEqual(info['cloexec'], [], 'no target fd is close-on-exec');
      assert.deepEqual(Object.keys(info['env'] as object).filter((k) => k !== 'PWD' && k !== 'LC_CTYPE'), []);
      assert.equal(info['sigblk'], '0000000000000000');
      // SIGPIPE and SIGXFSZ (ignored by Node) are back at their default; glibc's posix_spawn leaves
      // its internal 32 and 33 ignored (runts-init sets them back: e2e 01 checks the container)
      assert.equal(BigInt(`0x${String(info['sigign'])}`) & ~0x180000000n, 0n, `SigIgn ${String(info['sigign'])}`);
      assert.equal(info['sid_is_pid'], false);
      assert.match(text, /echo:ping!/);
      assert.deepEqual(await out.exit, { code: 0, signal: null });
      assert.equal(child.exitCode, 0);
    } finally {
      closeSync(fd);
    }
  });

  it('starts a session of its own when detached, and reports exit codes and signals', async () => {
    let r = start([-1, -1, -1], true, 7);
    let out = collect(r.child, r.sock);
    await new Promise((res) => setTimeout(res, 200));
    r.sock.destroy();
    assert.equal((JSON.parse((await out.lines).split('\n')[0]!) as { sid_is_pid: boolean }).sid_is_pid, true);
    assert.deepEqual(await out.exit, { code: 7, signal: null });
    r = start([-1, -1, -1], false, -15);
    out = collect(r.child, r.sock);
    await new Promise((res) => setTimeout(res, 200));
    r.sock.destroy();
    assert.deepEqual(await out.exit, { code: null, signal: 'SIGTERM' });
    assert.equal(r.child.signalCode, 'SIGTERM');
  });

  it('reports a binary that cannot be run as child_process does: an error event, spawn PATH CODE', async () => {
    const r = spawnExecutor(join(dir, 'missing'), [-1, -1, -1], false);
    assert.ok(r);
    const err = await new Promise<Error>((res) => r.child.on('error', res));
    assert.equal(err.message, `spawn ${join(dir, 'missing')} ENOENT`);
    assert.equal(r.child.pid, undefined);
    writeFileSync(join(dir, 'plain'), 'not executable', { mode: 0o644 });
    const r2 = spawnExecutor(join(dir, 'plain'), [-1, -1, -1], false);
    const err2 = await new Promise<Error>((res) => r2!.child.on('error', res));
    // root may execute a 0644 file only if some x bit is set: EACCES either way
    assert.equal(err2.message, `spawn ${join(dir, 'plain')} EACCES`);
    assert.ok(readFileSync(join(dir, 'plain')).length > 0);
  });

  it('makes a sealed memfd of a file or of bytes, runs the executor from it, and leaves a file it cannot read to the caller', async () => {
    writeFileSync(join(dir, 'exe.sh'), '#!/bin/sh\nexit 7\n', { mode: 0o644 });
    for (const source of [join(dir, 'exe.sh'), readFileSync(join(dir, 'exe.sh'))]) {
      const path = sealedExecutor(source);
      assert.ok(path, 'the addon makes one');
      assert.match(readlinkSync(path), /^\/memfd:runts-init/);
      assert.equal(readFileSync(path, 'utf8'), '#!/bin/sh\nexit 7\n');
      assert.throws(() => writeFileSync(path, 'x'), /EPERM/); // sealed
      // no exec bit needed on the source (an npm install drops it): the memfd is executable
      const r = spawnExecutor(path, [-1, -1, -1], false);
      const code = await new Promise<number | null>((res) => r!.child.on('exit', (c) => res(c)));
      assert.equal(code, 7);
    }
    assert.equal(sealedExecutor(join(dir, 'missing')), undefined, 'a file it cannot read: the caller falls back to the file');
  });

  it('takes only a whole shared object for this machine (a truncated one would crash dlopen\'s caller)', () => {
    const good = readFileSync(new URL('../build/runts-spawn.node', import.meta.url));
    assert.equal(elfDefect(good, good.length), undefined);
    assert.match(elfDefect(good, good.length - 1) ?? '', /^truncated/);
    assert.match(elfDefect(good.subarray(0, 4096), 4096) ?? '', /^truncated/);
    assert.equal(elfDefect(Buffer.from('garbage'.repeat(20)), 140), 'not an ELF file');
    const foreign = Buffer.from(good);
    foreign.writeUInt16LE(foreign.readUInt16LE(18) === 62 ? 183 : 62, 18);
    assert.match(elfDefect(foreign, foreign.length) ?? '', /another machine/);
    const obj = Buffer.from(good);
    obj.writeUInt16LE(1, 16); // ET_REL
    assert.equal(elfDefect(obj, obj.length), 'not a shared object');
  });

  it('checksums as launch.cjs does, in JS and in WebAssembly, for every length and start (it checks the code caches with it)', () => {
    const m = { exports: {} as { checksum(b: Uint8Array, start: number): string } };
    process.dlopen(m, fileURLToPath(new URL('../build/runts-spawn.node', import.meta.url)));
    // launch.cjs's own functions (its SPAWNER_SIZE is 0 in the source: no addon, as in a package without one)
    const src = readFileSync(new URL('../../../tools/build/launch.cjs', import.meta.url), 'latin1');
    const from = src.indexOf('function checksum(');
    const to = src.indexOf('const name = pick(');
    assert.ok(from > 0 && to > from, 'launch.cjs has checksum() and checksumLarge()');
    const launch = new Function('Buffer', 'embedded', 'statSync', '__dirname', `${src.slice(from, to)}\nreturn { checksum, checksumLarge };`)(Buffer, undefined, undefined, '') as {
      checksum(b: Uint8Array, start: number): string;
      checksumLarge(b: Uint8Array, start: number): string;
    };
    let seed = 7;
    const bytes = (n: number): Buffer => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      return b;
    };
    for (const n of [0, 1, 15, 16, 17, 31, 72, 73, 88, 4096, 65535 + 72, 65536 + 72, 65536 + 73, 131072 + 72 + 16 * 3 + 5, 300001]) {
      for (const start of [0, 1, 72]) {
        if (start > n) continue;
        const b = bytes(n);
        const want = launch.checksum(b, start);
        assert.match(want, /^[0-9a-f]{16}$/);
        assert.equal(m.exports.checksum(b, start), want, `${n} bytes from ${start}`);
        assert.equal(launch.checksumLarge(b, start), want, `${n} bytes from ${start}: JS and WebAssembly agree`);
        // on a view into a larger buffer too (readFileSync's buffers are often pooled)
        const wide = Buffer.concat([bytes(13), b, bytes(5)]).subarray(13, 13 + n);
        assert.equal(m.exports.checksum(wide, start), want, `${n} bytes from ${start}, a view`);
      }
    }
    assert.throws(() => m.exports.checksum(bytes(10), 11), TypeError);
    assert.throws(() => m.exports.checksum('text' as unknown as Uint8Array, 0), TypeError);
  });

  it('exits at once with the code (its low 8 bits), and only with a number', () => {
    const addon = JSON.stringify(fileURLToPath(new URL('../build/runts-spawn.node', import.meta.url)));
    const run = (call: string) =>
      spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${addon}); process.on('exit', () => process.stdout.write('exit event')); ${call}`], { encoding: 'utf8' });
    for (const [code, want] of [[0, 0], [3, 3], [255, 255], [256 + 7, 7]]) {
      const r = run(`m.exports.exit(${code})`);
      assert.equal(r.status, want, r.stderr);
      assert.equal(r.stdout, '', 'no exit event: the process ended in the call');
    }
    const bad = run(`try { m.exports.exit('3') } catch (e) { process.stdout.write(e.constructor.name + ' ') }`);
    assert.equal(bad.status, 0);
    assert.equal(bad.stdout, 'TypeError exit event');
  });

  it('maps a file as launch.cjs reads a bundle and its cache: a Buffer, or an ASCII text as a string (null for any other byte); a missing file, a dir or an empty file throw with errno', () => {
    const m = { exports: {} as { map(path: string, text: boolean): Buffer | string | null } };
    process.dlopen(m, fileURLToPath(new URL('../build/runts-spawn.node', import.meta.url)));
    const ascii = Buffer.alloc(300001);
    for (let i = 0; i < ascii.length; i++) ascii[i] = 32 + ((i * 7) % 95);
    writeFileSync(join(dir, 'ascii.cjs'), ascii);
    const text = m.exports.map(join(dir, 'ascii.cjs'), true);
    assert.equal(typeof text, 'string');
    assert.equal(text, ascii.toString('latin1'));
    const bytes = m.exports.map(join(dir, 'ascii.cjs'), false);
    assert.ok(Buffer.isBuffer(bytes) && bytes.equals(ascii), 'the same bytes as a Buffer');
    // one byte that is not ASCII anywhere (first, middle, last): the caller decodes it as UTF-8 instead
    for (const at of [0, 150000, 300000]) {
      const other = Buffer.from(ascii);
      other[at] = 0xc3;
      writeFileSync(join(dir, 'other.cjs'), other);
      assert.equal(m.exports.map(join(dir, 'other.cjs'), true), null, `a byte 0xc3 at ${at}`);
      assert.ok((m.exports.map(join(dir, 'other.cjs'), false) as Buffer).equals(other));
    }
    writeFileSync(join(dir, 'empty.cjs'), '');
    for (const [path, errno] of [[join(dir, 'missing.cjs'), 2], [dir, 22], [join(dir, 'empty.cjs'), 61]] as const) {
      for (const asText of [true, false]) {
        assert.throws(() => m.exports.map(path, asText), (err: Error & { errno?: number }) => err.errno === errno, `${path} (${asText ? 'text' : 'bytes'})`);
      }
    }
    assert.throws(() => m.exports.map(7 as unknown as string, true), TypeError);
    assert.throws(() => m.exports.map(join(dir, 'ascii.cjs'), 'yes' as unknown as boolean), TypeError);
  });

  it('gives the text of a Buffer that outlives it (the single executable\'s assets) as a string read in place when it is ASCII, else null; anything but a Buffer throws', () => {
    const m = { exports: {} as { text(b: Buffer): string | null } };
    process.dlopen(m, fileURLToPath(new URL('../build/runts-spawn.node', import.meta.url)));
    // kept for the whole process, as an asset is: the string reads these bytes
    const ascii = Buffer.alloc(300001);
    keptAlive.push(ascii);
    for (let i = 0; i < ascii.length; i++) ascii[i] = 32 + ((i * 7) % 95);
    const text = m.exports.text(ascii);
    assert.equal(typeof text, 'string');
    assert.equal(text, ascii.toString('latin1'));
    // a view of part of a larger buffer (an asset is a subarray of the one pack)
    assert.equal(m.exports.text(ascii.subarray(1000, 2000)), ascii.toString('latin1', 1000, 2000));
    for (const at of [0, 150000, 300000]) {
      const other = Buffer.from(ascii); // no string made of it
      other[at] = 0xc3;
      assert.equal(m.exports.text(other), null, `a byte 0xc3 at ${at}`);
    }
    assert.equal(m.exports.text(Buffer.alloc(0)), null);
    assert.throws(() => m.exports.text('text' as unknown as Buffer), TypeError);
    assert.throws(() => (m.exports.text as () => string)(), TypeError);
  });

  it('reads the socket and waits for the exit on Node\'s own loop: no libuv thread is started, writes stay blocking, end-of-file and the exit status arrive; without pidfd_open, on a libuv thread', () => {
    // a plain CommonJS child that loads only the addon: nothing in it uses libuv's threadpool, so
    // its threads (/proc/self/task) are the same after a spawn, 4 MB each way and the wait
    const child = `
      const fs = require('node:fs');
      const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(fileURLToPath(new URL('../build/runts-spawn.node', import.meta.url)))});
      const lib = m.exports;
      const threads = () => fs.readdirSync('/proc/self/task').length;
      const before = threads();
      const [pid, fd] = lib.spawn('/bin/sh', ${JSON.stringify(join(dir, 'echo4m.sh'))}, [-1, -1, -1], false);
      let got = 0, eof = false, status;
      const id = lib.poll(fd, (st) => {
        const buf = Buffer.allocUnsafe(65536);
        const n = st < 0 ? st : lib.recv(fd, buf);
        if (n === -11) return;
        if (n > 0) return void (got += n);
        eof = n === 0;
        lib.unpoll(id);
        lib.unpoll(id); // a second unpoll of the same id: nothing
        fs.closeSync(fd);
      });
      lib.wait(pid, (st) => (status = st));
      // still blocking once polled (libuv's poll makes an fd non-blocking): the whole 4 MB goes in
      // one writeSync loop while sh's head drains it
      const big = Buffer.alloc(4 << 20, 120);
      for (let off = 0; off < big.length; ) off += fs.writeSync(fd, big, off);
      process.on('exit', () => process.stdout.write(JSON.stringify({ before, after: threads(), got, eof, status })));
    `;
    // sh reads the whole message first (as the executor does), then sends it back and exits 7
    writeFileSync(join(dir, 'echo4m.sh'), `head -c 4194304 <&3 > ${join(dir, 'echo4m.data')} && cat ${join(dir, 'echo4m.data')} >&3\nexit 7\n`);
    type Seen = { before: number; after: number; got: number; eof: boolean; status: number };
    const run = (argv: string[]): Seen => {
      const r = spawnSync(argv[0]!, [...argv.slice(1), process.execPath, '-e', child], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.error?.message ?? r.stderr}`);
      return JSON.parse(r.stdout) as Seen;
    };
    const o = run(['env']);
    assert.deepEqual(o, { before: o.before, after: o.before, got: 4 << 20, eof: true, status: 7 << 8 });
    // a kernel without pidfd_open (before 5.3): strace makes it fail with ENOSYS; the exit still
    // comes, waited for on a libuv thread (the pool's threads are there at the end)
    const old = run(['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=pidfd_open', '-e', 'inject=pidfd_open:error=ENOSYS']);
    assert.deepEqual({ ...old, after: undefined }, { before: old.before, after: undefined, got: 4 << 20, eof: true, status: 7 << 8 });
    assert.ok(old.after > old.before, `threads ${old.before} -> ${old.after}: the wait took a libuv thread`);
  });
});
