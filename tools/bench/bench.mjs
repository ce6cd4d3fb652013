#!/usr/bin/env node
// runts benchmark: runts, runc and crun side by side, in one run, on the same busybox bundle.
//
//   node tools/bench/bench.mjs [--quick] [--only NAME[,NAME]] [--runtimes runts,runc,crun]
//                              [--out DIR] [--no-subreaper] [--make-bundle DIR] [--help]
//
// A benchmark, never a timed test: nothing here asserts on a time. Every command is spawned with
// child_process.spawnSync and timed with process.hrtime.bigint() around the spawn; runtimes are
// alternated (rotated) on every iteration, warm-up iterations are discarded, and cleanup is never
// inside a timed region. Every container created is deleted, even on error or Ctrl-C (try/finally
// plus a final sweep with each runtime's `list -q`). See tools/bench/README.md for the method.
import { spawnSync, spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync, openSync, closeSync,
  readdirSync, statSync, copyFileSync, linkSync, lstatSync, chmodSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { figManagers } from './managers.mjs';
import { copyInPieces } from '../build/pieces.mjs';
import { dockerLike } from '../../e2e/lib/seccomp-profile.mjs';

const SELF = fileURLToPath(import.meta.url);
const HERE = path.dirname(SELF);
const REPO = path.resolve(HERE, '../..');
// what `npm install -g runts` links as the runts command: the packed package's bin (publishConfig's,
// which pnpm pack writes into the tarball: dist/launch.cjs itself), run as `node FILE` (its
// shebang, `#!/usr/bin/env node`, adds env's exec); the workspace's bin/runts.js loads that same file
const RUNTS_PKG = JSON.parse(readFileSync(path.join(REPO, 'packages/runts/package.json'), 'utf8'));
let RUNTS_BIN = path.join(REPO, 'packages/runts', (RUNTS_PKG.publishConfig?.bin ?? RUNTS_PKG.bin).runts);
let RUNTS_DIST = path.join(REPO, 'packages/runts/dist/cli.js');
const MAKE_ROOTFS = path.join(REPO, 'tools/make-rootfs/make-rootfs.sh');
const CGROUP2_UNIFIED = '/sys/fs/cgroup/unified';
const TIME_BIN = '/usr/bin/time';
const SEA = path.join(REPO, 'dist/runts');
const UNSET_ENV = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

// ---------------------------------------------------------------------------------------------
// options

const FIGURE_NAMES = ['baseline', 'run', 'lifecycle', 'verbs', 'seccomp', 'rss', 'seq100', 'par20', 'list1000', 'managers'];
const USAGE = `usage: node tools/bench/bench.mjs [options]

  --quick              ~1 minute run (fewer iterations)
  --only NAME[,NAME]   run only these figures: ${FIGURE_NAMES.join(', ')}
  --runtimes LIST      comma-separated subset of runts,sea,runc,crun (default: all that are present;
                       sea: dist/runts, the single executable)
  --out DIR            where to write the JSON/SVG/markdown (default tools/bench/results)
  --no-subreaper       don't run under the python3 child-subreaper (orphaned container inits are then
                       reaped by the host's pid 1, which on this VM takes ~1.4 s)
  --runts-bin FILE     benchmark another runts build (a JS entry run with node) instead of
                       packages/runts/dist/launch.cjs (the installed package's bin)
  --make-bundle DIR    only build the busybox bundles in DIR (DIR/rootfs, DIR/true, DIR/sleep) and exit
  --help

A full run (no --quick/--only/--runtimes) writes <out>/latest.{json,svg,md}; any partial run writes
<out>/partial.{json,svg,md} so that it never overwrites the committed full results.`;

function parseArgs(argv) {
  const o = { quick: false, only: null, runtimes: null, out: path.join(HERE, 'results'), subreaper: true, makeBundle: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) o.only = new Set(val().split(',').filter(Boolean));
    else if (a === '--runtimes' || a.startsWith('--runtimes=')) o.runtimes = val().split(',').filter(Boolean);
    else if (a === '--out' || a.startsWith('--out=')) o.out = path.resolve(val());
    else if (a === '--runts-bin' || a.startsWith('--runts-bin=')) o.runtsBin = path.resolve(val());
    else if (a === '--no-subreaper') o.subreaper = false;
    else if (a === '--make-bundle' || a.startsWith('--make-bundle=')) o.makeBundle = path.resolve(val());
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else die(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.only) for (const n of o.only) if (!FIGURE_NAMES.includes(n)) die(`--only: unknown figure ${n} (one of ${FIGURE_NAMES.join(', ')})`);
  if (o.runtimes) for (const n of o.runtimes) if (!['runts', 'sea', 'runc', 'crun'].includes(n)) die(`--runtimes: unknown runtime ${n}`);
  return o;
}

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

const OPTS = parseArgs(process.argv.slice(2));
if (OPTS.runtsBin) RUNTS_BIN = RUNTS_DIST = OPTS.runtsBin;
const wants = (name) => !OPTS.only || OPTS.only.has(name);

// Iteration counts. Default: <= 5 minutes on 2 cores with all three runtimes; --quick: ~1 minute.
const ITER = OPTS.quick
  ? { warm: 1, n: 8, rssN: 2, seqReps: 1, seqCount: 100, parReps: 2, parCount: 20, listN: 4, listWarm: 1, listCount: 1000, baseN: 8 }
  : { warm: 3, n: 30, rssN: 8, seqReps: 3, seqCount: 100, parReps: 8, parCount: 20, listN: 15, listWarm: 2, listCount: 1000, baseN: 30 };

// ---------------------------------------------------------------------------------------------
// run under a child subreaper, like a real container would be (containerd-shim, conmon): the
// container's init is orphaned when `create` exits, and whoever adopts it must reap it. The host
// pid 1 of this VM reaps orphans only every ~1.4 s, which leaves zombies in the container's
// cgroups and turns delete into a retry loop. Python's ctypes is the dependency-free way to call
// prctl(PR_SET_CHILD_SUBREAPER) around this Node process.

const SUBREAPER_PY = `
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:
    sys.stderr.write('bench: prctl(PR_SET_CHILD_SUBREAPER) failed\\n')
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, lambda s, f: os.kill(pid, s))
code = 1
while True:
    try:
        p, st = os.wait()
    except InterruptedError:
        continue
    except ChildProcessError:
        break
    if p == pid:
        code = os.waitstatus_to_exitcode(st)
        code = 128 - code if code < 0 else code
        break
try:
    while os.waitpid(-1, os.WNOHANG)[0] > 0:
        pass
except ChildProcessError:
    pass
sys.exit(code)
`;

if (OPTS.subreaper && !OPTS.makeBundle && process.env.RUNTS_BENCH_SUBREAPER !== '1') {
  const r = spawnSync('python3', ['-c', SUBREAPER_PY, process.execPath, SELF, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, RUNTS_BENCH_SUBREAPER: '1' },
  });
  if (!r.error) process.exit(r.status ?? 1);
  console.error(`bench: python3 not usable (${r.error.code}); running without a child subreaper`);
  process.env.RUNTS_BENCH_SUBREAPER = 'unavailable';
}
const REAPER = process.env.RUNTS_BENCH_SUBREAPER === '1'
  ? 'child subreaper (python3 prctl PR_SET_CHILD_SUBREAPER around the bench, like containerd-shim/conmon)'
  : 'host pid 1 (no subreaper: orphaned inits are reaped late; delete figures include that)';

// The environment every runtime gets: ours, minus the Node variables that slow a Node start
// (NODE_EXTRA_CA_CERTS alone costs a bare `node -e 0` several ms here) or change its behaviour.
const ENV = { ...process.env };
for (const k of UNSET_ENV) delete ENV[k];
delete ENV.RUNTS_BENCH_SUBREAPER;

// ---------------------------------------------------------------------------------------------
// small utilities

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms) => Atomics.wait(sleepBuf, 0, 0, ms);
const now = () => process.hrtime.bigint();
const msSince = (t0) => Number(now() - t0) / 1e6;
const which = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { interrupted = true; });
function checkInterrupted() {
  if (interrupted) throw new Error('interrupted');
}

function stats(values) {
  const a = [...values].sort((x, y) => x - y);
  const n = a.length;
  if (n === 0) return null;
  const median = n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  const p90 = a[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  const mean = a.reduce((s, x) => s + x, 0) / n;
  const r = (x) => Math.round(x * 100) / 100;
  return { median: r(median), p90: r(p90), mean: r(mean), min: r(a[0]), max: r(a[n - 1]), n };
}

/** CPU time of this process's waited-for children (/proc/self/stat cutime, cstime), in ms: the
 *  difference around one spawnSync is that command's user and system time (10 ms ticks; the
 *  figures take the mean over the iterations). */
function childCpu() {
  const f = readFileSync('/proc/self/stat', 'latin1');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[13]) * 10, sys: Number(fields[14]) * 10 };
}

/** /proc/<pid>/stat state letter, or null when the process is gone. */
function procState(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Waits (untimed) until pid is a zombie or gone: every runtime calls that `stopped`. */
function waitStopped(pid, timeoutMs = 10000) {
  const t0 = now();
  for (;;) {
    const st = procState(pid);
    if (st === null || st === 'Z' || st === 'X') return true;
    if (msSince(t0) > timeoutMs) return false;
    sleepMs(1);
  }
}

function vmRssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function isMountpoint(p) {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
  } catch {
    return false;
  }
}

function firstLine(s) {
  return String(s ?? '').trim().split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// the bundle: busybox (static) and its applets as hard links, the runc-spec default config
// (tools/bench/config.template.json, `runc spec` with terminal off), one config per command.

function makeRootfs(rootfs) {
  if (existsSync(MAKE_ROOTFS)) {
    const r = spawnSync('bash', [MAKE_ROOTFS, rootfs], { encoding: 'utf8', env: ENV });
    if (r.status === 0 && existsSync(path.join(rootfs, 'bin/busybox')) && existsSync(path.join(rootfs, 'bin/sleep'))) return 'tools/make-rootfs/make-rootfs.sh';
    rmSync(rootfs, { recursive: true, force: true });
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) die('busybox not found (apt-get install busybox-static)');
  const ldd = spawnSync('ldd', [busybox], { encoding: 'utf8' });
  if (ldd.status === 0 && !/not a dynamic executable|statically linked/.test(ldd.stdout + ldd.stderr)) {
    die(`${busybox} is dynamically linked; install busybox-static`);
  }
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(path.join(rootfs, d), { recursive: true });
  const bb = path.join(rootfs, 'bin/busybox');
  copyFileSync(busybox, bb);
  chmodSync(bb, 0o755);
  const list = spawnSync(bb, ['--list'], { encoding: 'utf8' });
  for (const applet of list.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
    if (applet === 'busybox' || applet.includes('/')) continue;
    try { linkSync(bb, path.join(rootfs, 'bin', applet)); } catch { /* duplicate */ }
  }
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\n');
  return `copy of ${busybox} with its applets as hard links`;
}

function makeBundles(dir) {
  mkdirSync(dir, { recursive: true });
  const rootfs = path.join(dir, 'rootfs');
  const how = makeRootfs(rootfs);
  const template = JSON.parse(readFileSync(path.join(HERE, 'config.template.json'), 'utf8'));
  const bundles = {};
  for (const [name, args, seccomp] of [['true', ['true']], ['sleep', ['sleep', '3600']], ['sleep-seccomp', ['sleep', '3600'], dockerLike()]]) {
    const b = path.join(dir, name);
    mkdirSync(b, { recursive: true });
    const cfg = structuredClone(template);
    cfg.process.args = args;
    cfg.process.terminal = false;
    cfg.root = { path: rootfs, readonly: true };
    if (seccomp) cfg.linux.seccomp = seccomp;
    writeFileSync(path.join(b, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
    bundles[name] = b;
  }
  return { rootfs, how, sleepSeccomp: bundles['sleep-seccomp'], ...bundles };
}

if (OPTS.makeBundle) {
  const b = makeBundles(OPTS.makeBundle);
  console.log(JSON.stringify(b));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// runtimes

const WORK = mkdtempSync('/run/runts-bench-');
// The single executable and its Node (its floor) are installed in WORK by copyInPieces (written in
// 64 KiB pieces, as `install` or cp write a binary) and run from there. The page cache keeps a file
// that something read whole (e2e 42 copies dist/runts; sea.mjs reads its Node) in large folios,
// which every run of it then maps: ~2 ms more of each command of the single executable (`state`,
// 150 alternating runs of the same build, read against freshly written), which says nothing about
// runts. runts and its floor run the same node binary.
/** The single executable as the bench runs it: its copy in WORK. */
let seaRun = SEA;
chmodSync(WORK, 0o711);
const LOG = path.join(WORK, 'cmd.log');
const TIMEFILE = path.join(WORK, 'time.out');
const RUFILE = path.join(WORK, 'rusage.out');

/** tools/bench/rusage.c, built here with cc: every command runs under it, which times it from
 *  fork to wait4 and reads wait4's rusage (CPU to the microsecond, peak RSS). Without cc: wall time
 *  around spawnSync, CPU from /proc/self/stat's cutime/cstime (10 ms ticks), peak RSS from GNU time. */
const RUSAGE = (() => {
  const out = path.join(WORK, 'rusage');
  const r = spawnSync('cc', ['-O2', '-o', out, path.join(HERE, 'rusage.c')], { encoding: 'utf8' });
  if (r.status === 0) return out;
  console.log(`cc could not build tools/bench/rusage.c (${r.error ? r.error.message : firstLine(r.stderr)}): wall time from spawnSync, CPU in 10 ms ticks, peak RSS from ${TIME_BIN}`);
  return null;
})();
/** Peak RSS can be measured (rusage, or GNU time). */
const HAVE_RSS = RUSAGE !== null || existsSync(TIME_BIN);
const CPU_HOW = RUSAGE ? 'wait4 rusage of the command (µs)' : 'mean of cutime+cstime differences (10 ms ticks)';

const CRUN_WRAPPER = [`umount ${CGROUP2_UNIFIED}; exec crun "$@"`];

/** What identifies the runts build: a hash of the entry and of the files of its dist dir
 *  (code caches excluded: runts may write those itself). */
function runtsBuild() {
  const h = createHash('sha1');
  const files = [RUNTS_BIN];
  try {
    const dist = path.dirname(RUNTS_DIST);
    for (const n of readdirSync(dist).sort()) if (!/cache/.test(n) && statSync(path.join(dist, n)).isFile()) files.push(path.join(dist, n));
  } catch { /* no dist */ }
  let bytes = 0;
  for (const p of [...new Set(files)]) {
    try {
      const b = readFileSync(p);
      bytes += b.length;
      h.update(p).update(b);
    } catch {
      h.update(`${p}:missing`);
    }
  }
  return `sha1:${h.digest('hex').slice(0, 16)} (${files.length} files, ${bytes} bytes)`;
}

function makeRuntimes() {
  const out = [];
  const missing = {};
  const want = (n) => !OPTS.runtimes || OPTS.runtimes.includes(n);
  const mk = (name, argv0, prefix, extra = {}) => {
    const root = path.join(WORK, 'root', name);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    return { name, root, argv0, prefix, wrapperCalls: 0, live: new Set(), ...extra, cmd: (args) => [argv0, ...prefix, '--root', root, ...args] };
  };
  if (want('runts')) {
    if (!existsSync(RUNTS_DIST)) missing.runts = `${path.relative(REPO, RUNTS_DIST)} does not exist (not built yet)`;
    else {
      const v = spawnSync(process.execPath, [RUNTS_BIN, '--version'], { encoding: 'utf8', env: ENV, timeout: 20000 });
      if (v.status !== 0) missing.runts = `runts --version failed (exit ${v.status}): ${firstLine(v.stderr) || firstLine(v.stdout)}`;
      else out.push(mk('runts', process.execPath, [RUNTS_BIN], { version: firstLine(v.stdout), invocation: `node ${path.relative(REPO, RUNTS_BIN)}`, build: runtsBuild() }));
    }
  }
  if (want('runc')) {
    const p = which('runc');
    if (!p) missing.runc = 'runc not on PATH';
    else out.push(mk('runc', p, [], { version: firstLine(spawnSync(p, ['--version'], { encoding: 'utf8' }).stdout), invocation: p }));
  }
  if (want('crun')) {
    const p = which('crun');
    if (!p) missing.crun = 'crun not on PATH';
    else {
      const version = firstLine(spawnSync(p, ['--version'], { encoding: 'utf8' }).stdout);
      // crun 1.8 cannot cope with a cgroup2 mount next to the v1 hierarchies: hide it in a
      // private mount namespace. The wrapper's own cost is measured in the baseline figure.
      if (isMountpoint(CGROUP2_UNIFIED)) {
        out.push(mk('crun', 'unshare', ['-m', 'sh', '-c', ...CRUN_WRAPPER, 'crun'], {
          version, wrapperCalls: 1,
          invocation: `unshare -m sh -c 'umount ${CGROUP2_UNIFIED}; exec crun "$@"' crun`,
        }));
      } else out.push(mk('crun', p, [], { version, invocation: p }));
    }
  }
  if (want('sea')) {
    if (!existsSync(SEA)) missing.sea = `${path.relative(REPO, SEA)} does not exist (pnpm build makes it)`;
    else {
      seaRun = copyInPieces(SEA, path.join(WORK, 'runts'));
      const v = spawnSync(seaRun, ['--version'], { encoding: 'utf8', env: ENV, timeout: 20000 });
      if (v.status !== 0) missing.sea = `dist/runts --version failed (exit ${v.status})`;
      else out.push(mk('sea', seaRun, [], { version: firstLine(v.stdout), node: (/node: (\S+)/.exec(v.stdout) ?? [])[1], invocation: `${path.relative(REPO, SEA)}, installed as ${seaRun}` }));
    }
  }
  const order = ['runts', 'sea', 'runc', 'crun'];
  out.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { list: out, missing };
}

/** Spawns one runtime command. Output goes to a file unless captured: a created container
 *  inherits the stdio of `create`, and a pipe would keep spawnSync waiting for the container. */
function exec(rt, args, { capture = false, timeout = 60000, time = false } = {}) {
  let full = rt.cmd(args);
  if (RUSAGE) {
    full = [RUSAGE, RUFILE, ...full];
    rmSync(RUFILE, { force: true });
  } else if (time) full = [TIME_BIN, '-f', '%M', '-o', TIMEFILE, ...full];
  const opts = { env: ENV, timeout, killSignal: 'SIGKILL', maxBuffer: 256 << 20 };
  let fd = null;
  if (capture) opts.stdio = ['ignore', 'pipe', 'pipe'];
  else {
    fd = openSync(LOG, 'w');
    opts.stdio = ['ignore', fd, fd];
  }
  // (CPU from cutime/cstime only without the rusage helper, which reports the command's own)
  const c0 = RUSAGE ? null : childCpu();
  const t0 = now();
  const r = spawnSync(full[0], full.slice(1), opts);
  const ms = msSince(t0);
  const c1 = RUSAGE ? null : childCpu();
  if (fd !== null) closeSync(fd);
  const res = { ms, userMs: c1 ? c1.user - c0.user : 0, sysMs: c1 ? c1.sys - c0.sys : 0, status: r.status, signal: r.signal, error: r.error, stdout: capture ? r.stdout.toString() : '', stderr: capture ? r.stderr.toString() : '' };
  if (res.status !== 0 && !capture) res.stderr = readFileSync(LOG, 'utf8');
  if (RUSAGE) {
    // the command's own figures (spawnSync's include this process's spawn and the helper's exec)
    const m = existsSync(RUFILE) ? /^(\d+) (\d+) (\d+) (\d+)/.exec(readFileSync(RUFILE, 'latin1')) : null;
    if (m) Object.assign(res, { ms: Number(m[1]) / 1e6, userMs: Number(m[2]) / 1000, sysMs: Number(m[3]) / 1000, maxrssKiB: Number(m[4]) });
  } else if (time && res.status === 0) {
    const m = /(\d+)\s*$/.exec(readFileSync(TIMEFILE, 'utf8'));
    res.maxrssKiB = m ? Number(m[1]) : null;
  }
  return res;
}

/** The telling line of an error output: runc-style `level=error`, a Node stack's `Error: ...`,
 *  else the last line. */
function tellingLine(stderr) {
  const lines = String(stderr).trim().split('\n').filter((l) => l.trim());
  return (lines.find((l) => /level=error|^\s*\w*Error\b|\berror:/i.test(l)) ?? lines.at(-1) ?? '').trim();
}

function must(rt, args, r) {
  if (r.status === 0) return r;
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const e = new Error(`${rt.name} ${args.join(' ')}: ${why}: ${tellingLine(r.stderr)}`);
  e.detail = r.stderr.slice(0, 3000);
  throw e;
}

function run(rt, args, o) {
  return must(rt, args, exec(rt, args, o));
}

let idSeq = 0;
function newId(rt, tag) {
  const id = `rb${process.pid}-${tag}-${++idSeq}-${rt.name}`;
  rt.live.add(id);
  return id;
}

const hasState = (rt, id) => existsSync(path.join(rt.root, id));

/** Untimed: removes a container if it is still there. */
function cleanup(rt, id) {
  try {
    if (hasState(rt, id)) {
      const r = exec(rt, ['delete', '--force', id]);
      if (r.status !== 0 && hasState(rt, id)) console.error(`  warning: ${rt.name} delete --force ${id}: ${firstLine(r.stderr)}`);
    }
  } finally {
    if (!hasState(rt, id)) rt.live.delete(id);
  }
}

function spawnAsync(rt, args, logPath) {
  return new Promise((resolve) => {
    const full = rt.cmd(args);
    const fd = openSync(logPath, 'w');
    const t0 = now();
    const c = spawn(full[0], full.slice(1), { env: ENV, stdio: ['ignore', fd, fd] });
    let done = false;
    const finish = (status, error) => {
      if (done) return;
      done = true;
      closeSync(fd);
      resolve({ ms: msSince(t0), status, error, stderr: status === 0 ? '' : readFileSync(logPath, 'utf8') });
    };
    c.on('error', (e) => finish(null, e));
    c.on('exit', (code) => finish(code, null));
  });
}

async function cleanupParallel(rt, ids) {
  const todo = ids.filter((id) => hasState(rt, id));
  await Promise.all(todo.map((id, k) => spawnAsync(rt, ['delete', '--force', id], path.join(WORK, `del-${k}.log`))));
  for (const id of ids) if (!hasState(rt, id)) rt.live.delete(id);
  for (const id of ids) if (hasState(rt, id)) cleanup(rt, id);
}

/** Final sweep: delete what we know of, then whatever `list -q` still shows in our private root. */
function sweep(rts) {
  let clean = true;
  for (const rt of rts) {
    for (const id of [...rt.live]) cleanup(rt, id);
    const l = exec(rt, ['list', '-q'], { capture: true });
    const ids = l.status === 0 ? l.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
    for (const id of ids) {
      const r = exec(rt, ['delete', '--force', id]);
      if (r.status !== 0) {
        clean = false;
        console.error(`  warning: sweep: ${rt.name} delete --force ${id}: ${firstLine(r.stderr)}`);
      }
    }
    if (rt.live.size > 0) clean = false;
  }
  return clean;
}

// ---------------------------------------------------------------------------------------------
// the figures

const figures = []; // { key, group, title, unit, wrapperCalls, samples: {rt: []}, note }
function figure(key, group, title, unit, wrapperCalls, note) {
  let f = figures.find((x) => x.key === key);
  if (!f) {
    f = { key, group, title, unit, wrapperCalls, note, samples: {}, errors: {}, failures: {}, lastError: {} };
    figures.push(f);
  }
  return f;
}
const add = (f, rt, v) => {
  if (v === null || v === undefined || Number.isNaN(v)) return;
  (f.samples[rt.name] ??= []).push(v);
};

/** Rotates the runtime order every iteration so that no runtime always goes first. A runtime
 *  that fails is recorded as failed for these figures and left out of their remaining
 *  iterations; the others go on (runts is being written while this benchmark runs). */
function loop(figs, rts, n, warm, body) {
  for (let i = 0; i < warm + n; i++) {
    for (let k = 0; k < rts.length; k++) {
      checkInterrupted();
      const rt = rts[(i + k) % rts.length];
      if (figs.some((f) => f.errors[rt.name])) continue;
      try {
        body(rt, i >= warm, i);
      } catch (err) {
        if (interrupted) throw err;
        fail(figs, rt, err, maxFails(warm + n));
      }
    }
  }
}

/** A failed iteration is skipped and counted; after max(3, 10% of the attempts) failures in one
 *  figure the runtime is left out of it (a deterministic failure costs three attempts, a rare
 *  flake costs one sample, and the count is reported). */
const MAX_FAILS = 3;
const maxFails = (attempts) => Math.max(MAX_FAILS, Math.ceil(attempts / 10));
function fail(figs, rt, err, max = MAX_FAILS) {
  const msg = err.message.replace(/\s+/g, ' ').slice(0, 400);
  let count = 0;
  for (const f of figs) {
    count = f.failures[rt.name] = (f.failures[rt.name] ?? 0) + 1;
    f.lastError[rt.name] = msg;
    if (err.detail) (f.errorDetail ??= {})[rt.name] = err.detail;
    if (count >= max) {
      f.errors[rt.name] = msg;
      delete f.samples[rt.name];
    }
  }
  console.log(`  ${rt.name}: failed (${count}/${max})${count >= max ? ', left out of this figure' : ', iteration skipped'}: ${msg}`);
}

function progress(f) {
  const order = ['runts', 'sea', 'runc', 'crun'];
  const parts = Object.entries(f.samples).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([n, s]) => {
    const st = stats(s);
    return `${n} ${fmt(st.median, f.unit)} (p90 ${fmt(st.p90, f.unit)})`;
  });
  for (const n of Object.keys(f.errors)) parts.push(`${n} FAILED`);
  for (const [n, c] of Object.entries(f.failures)) if (!f.errors[n]) parts.push(`(${n}: ${c} failed iteration${c > 1 ? 's' : ''} skipped)`);
  console.log(`  ${f.title.padEnd(40)} ${parts.join('   ')}`);
}

function fmt(v, unit) {
  if (v === null || v === undefined) return '—';
  if (unit === 'KiB') return `${Math.round(v).toLocaleString('en-US')}`;
  return v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v.toFixed(2);
}

/** The Node binary inside the single executable, as tools/build/node.mjs fetched it (v26.12.1), for
 *  its floor: installed the same way as the executable itself (copyInPieces), so that the two
 *  binaries are in the page cache alike. */
const seaNodes = new Map();
const seaNodePath = (version) => {
  const cached = path.join(os.homedir(), '.cache/runts/node', version.slice(1), 'bin/node');
  if (!existsSync(cached)) return cached;
  if (!seaNodes.has(version)) seaNodes.set(version, copyInPieces(cached, path.join(WORK, `node-${version}`)));
  return seaNodes.get(version);
};

function figBaseline(rts, bundles) {
  console.log('\n[baseline] process-spawn floors (not runtime comparisons)');
  const pseudo = (name, argv) => ({ name, live: new Set(), cmd: (args) => [...argv, ...args] });
  const items = [
    ['spawn /bin/true', pseudo('true', ['/bin/true'])],
    ['node -e 0 (Node start floor)', pseudo('node', [process.execPath, '-e', '0'])],
    ['crun wrapper running `true`', pseudo('wrapper', ['unshare', '-m', 'sh', '-c', `umount ${CGROUP2_UNIFIED} 2>/dev/null; exec "$@"`, 'sh', '/bin/true'])],
  ];
  if (rts.some((r) => r.name === 'runts')) items.push(['runts --version', pseudo('runts', [process.execPath, RUNTS_BIN, '--version'])]);
  const sea = rts.find((r) => r.name === 'sea');
  const seaNode = sea?.node ? seaNodePath(sea.node) : null;
  if (sea) items.push(['sea --version', pseudo('sea', [seaRun, '--version'])]);
  if (seaNode && existsSync(seaNode)) items.push([`node ${sea.node} -e 0 (the single executable's Node)`, pseudo('node-sea', [seaNode, '-e', '0'])]);
  const out = {};
  const cpu = {};
  for (let i = 0; i < ITER.warm + ITER.baseN; i++) {
    for (let k = 0; k < items.length; k++) {
      checkInterrupted();
      const [label, p] = items[(i + k) % items.length];
      const r = must(p, [], exec(p, []));
      if (i >= ITER.warm) {
        (out[label] ??= []).push(r.ms);
        (cpu[label] ??= []).push({ user: r.userMs, sys: r.sysMs });
      }
    }
  }
  // peak RSS of the wrapper itself (its exec chain: unshare, sh, true)
  const w = items[2][1];
  const wr = exec(w, [], { time: true });
  const res = {};
  const cpuMean = {};
  const rss = {};
  for (const [label, p] of items) {
    const c = cpu[label] ?? [];
    cpuMean[label] = { user: c.reduce((a, x) => a + x.user, 0) / (c.length || 1), sys: c.reduce((a, x) => a + x.sys, 0) / (c.length || 1) };
    if (HAVE_RSS && /node|--version/.test(label)) {
      const m = [];
      for (let k = 0; k < 5; k++) m.push(exec(p, [], { time: true }).maxrssKiB);
      rss[label] = stats(m.filter((x) => x > 0))?.median ?? null;
    }
  }
  for (const [label, s] of Object.entries(out)) {
    res[label] = stats(s);
    console.log(`  ${label.padEnd(40)} ${fmt(res[label].median, 'ms')} ms (p90 ${fmt(res[label].p90, 'ms')})`);
  }
  const overhead = Math.max(0, res['crun wrapper running `true`'].median - res['spawn /bin/true'].median);
  console.log(`  crun wrapper overhead per call: ${overhead.toFixed(2)} ms; its own peak RSS ${wr.maxrssKiB ?? '?'} KiB`);
  return { stats: res, cpuMs: cpuMean, maxRssKiB: rss, seaNodeLabel: seaNode && existsSync(seaNode) ? `node ${sea.node} -e 0 (the single executable's Node)` : null, crunWrapperOverheadMs: Math.round(overhead * 100) / 100, crunWrapperMaxRssKiB: wr.maxrssKiB ?? null };
}

/** A figure that is the sum of a few commands' wall times per iteration, each command run on a
 *  fresh id (`commands(id)`: their argv, in order). */
function figCommands(rts, heading, [key, group, title], idPrefix, commands) {
  console.log(heading);
  const f = figure(key, group, title, 'ms', commands('x').length);
  loop([f], rts, ITER.n, ITER.warm, (rt, keep) => {
    const id = newId(rt, idPrefix);
    try {
      let ms = 0;
      for (const argv of commands(id)) ms += run(rt, argv).ms;
      if (keep) add(f, rt, ms);
    } finally {
      cleanup(rt, id);
    }
  });
  progress(f);
}

function figRun(rts, bundles) {
  figCommands(rts, '\n[run] `run` of `true`: the whole lifecycle in one command', ['run', 'run', 'run `true`'], 'run', (id) => [['run', '--bundle', bundles.true, id]]);
}

function figLifecycle(rts, bundles) {
  figCommands(rts, '\n[lifecycle] create + start + delete --force of a sleeping container', ['lifecycle', 'lifecycle', 'create + start + delete --force'], 'cyc', (id) => [
    ['create', '--bundle', bundles.sleep, id],
    ['start', id],
    ['delete', '--force', id],
  ]);
}

/** create of a sleeping container with a Docker-like seccomp profile (e2e/lib/seccomp-profile.mjs:
 *  deny by default, ~290 syscalls allowed, 3 architectures), as every Docker, Podman and
 *  Kubernetes (RuntimeDefault) container has; runts compiles it once, then takes it from its
 *  cache (packages/seccomp: <root>/@cache/seccomp). */
function figSeccomp(rts, bundles) {
  figCommands(rts, '\n[seccomp] create of a sleeping container with a Docker-like seccomp profile', ['seccomp-create', 'seccomp', 'create, Docker-like seccomp profile'], 'sc', (id) => [['create', '--bundle', bundles.sleepSeccomp, id]]);
}

function statePid(rt, r) {
  const st = JSON.parse(r.stdout);
  if (!(st.pid > 0)) throw new Error(`${rt.name} state: no pid in ${r.stdout.slice(0, 200)}`);
  return st.pid;
}

/** create, state, (init RSS), start, exec true, kill 9, (wait), delete: each timed alone. */
function figVerbs(rts, bundles) {
  console.log('\n[verbs] each verb alone (sleeping container): create, state, start, exec `true`, kill 9, delete');
  const V = {};
  for (const v of ['create', 'state', 'start', 'exec', 'kill', 'delete']) {
    const title = v === 'exec' ? 'exec `true`' : v === 'kill' ? 'kill 9' : v === 'delete' ? 'delete (stopped)' : v;
    V[v] = figure(`verb-${v}`, 'verbs', title, 'ms', 1);
  }
  const rss = figure('rss-init', 'rss', 'init RSS, waiting between create and start', 'KiB', 0, 'VmRSS of the state pid');
  const C = {};
  for (const v of Object.keys(V)) C[v] = figure(`cpu-${v}`, 'cpu', `CPU user+sys: ${V[v].title}`, 'ms', 1, '${CPU_HOW}');
  for (const f of Object.values(C)) f.mean = !RUSAGE;
  const cpuOf = (r) => r.userMs + r.sysMs;
  const SYS = {};
  for (const v of Object.keys(V)) SYS[v] = figure(`sys-${v}`, 'sys', `CPU sys: ${V[v].title}`, 'ms', 1, RUSAGE ? 'wait4 rusage of the command, ru_stime (µs)' : 'mean of cstime differences (10 ms ticks)');
  for (const f of Object.values(SYS)) f.mean = !RUSAGE;
  // `node -e 0` of the Node each runts runs on, in the same iterations as its verbs: the floor the
  // goals subtract from them (the baseline's is taken minutes earlier, and this VM's speed drifts
  // by more than runc's whole call between the two)
  const FW = figure('floor-verbs', 'verbs', 'node -e 0, amid the verbs (its Node)', 'ms', 0, 'the Node start floor taken in the verbs\' iterations');
  const FC = figure('cpu-floor-verbs', 'cpu', 'CPU user+sys: node -e 0, amid the verbs', 'ms', 0, CPU_HOW);
  FC.mean = !RUSAGE;
  loop([...Object.values(V), rss, ...Object.values(C), ...Object.values(SYS), FW, FC], rts, ITER.n, ITER.warm, (rt, keep) => {
    const id = newId(rt, 'verb');
    try {
      const c = run(rt, ['create', '--bundle', bundles.sleep, id]);
      const s = run(rt, ['state', id], { capture: true });
      const pid = statePid(rt, s);
      const kib = vmRssKiB(pid);
      const st = run(rt, ['start', id]);
      const e = run(rt, ['exec', id, 'true']);
      const k = run(rt, ['kill', id, '9']);
      if (!waitStopped(pid)) throw new Error(`${rt.name}: init ${pid} still alive 10 s after kill 9`);
      const d = run(rt, ['delete', id]);
      if (keep) {
        add(V.create, rt, c.ms); add(V.state, rt, s.ms); add(V.start, rt, st.ms);
        add(V.exec, rt, e.ms); add(V.kill, rt, k.ms); add(V.delete, rt, d.ms); add(rss, rt, kib);
        const rs = { create: c, state: s, start: st, exec: e, kill: k, delete: d };
        for (const [v, r] of Object.entries(rs)) {
          add(C[v], rt, cpuOf(r));
          add(SYS[v], rt, r.sysMs);
        }
      }
      const f = nodeFloorRun(rt);
      if (f && keep) {
        add(FW, rt, f.ms);
        add(FC, rt, cpuOf(f));
      }
    } finally {
      cleanup(rt, id);
    }
  });
  for (const f of Object.values(V)) progress(f);
  for (const f of Object.values(C)) progress(f);
  progress(rss);
}

/** Peak RSS (wait4 ru_maxrss via /usr/bin/time -f %M) of each verb, and the waiting init's VmRSS. */
function figRss(rts, bundles) {
  console.log(`\n[rss] init RSS between create and start; peak RSS of each verb (${RUSAGE ? 'wait4 ru_maxrss' : '/usr/bin/time -f %M'})`);
  const rss = figure('rss-init', 'rss', 'init RSS, waiting between create and start', 'KiB', 0, 'VmRSS of the state pid');
  if (!HAVE_RSS) {
    console.log(`  no cc and ${TIME_BIN} missing (apt-get install gcc or time): peak RSS of the verbs skipped`);
  }
  const P = {};
  for (const v of ['run', 'create', 'state', 'start', 'exec', 'kill', 'delete']) {
    P[v] = figure(`maxrss-${v}`, 'rss', `peak RSS: ${v}`, 'KiB', 1, 'wait4 ru_maxrss of the command (its exec chain and the children it reaped)');
  }
  const T = HAVE_RSS;
  // the init RSS figure is shared with [verbs]: a failure here only marks the peak-RSS figures
  loop(Object.values(P), rts, ITER.rssN, 1, (rt, keep) => {
    const id = newId(rt, 'rss');
    const id2 = newId(rt, 'rssrun');
    try {
      const c = run(rt, ['create', '--bundle', bundles.sleep, id], { time: T });
      const s = run(rt, ['state', id], { capture: !T, time: T });
      const pid = T ? statePid(rt, run(rt, ['state', id], { capture: true })) : statePid(rt, s);
      const kib = vmRssKiB(pid);
      const st = run(rt, ['start', id], { time: T });
      const e = run(rt, ['exec', id, 'true'], { time: T });
      const k = run(rt, ['kill', id, '9'], { time: T });
      waitStopped(pid);
      const d = run(rt, ['delete', id], { time: T });
      const r = run(rt, ['run', '--bundle', bundles.true, id2], { time: T });
      if (keep) {
        add(rss, rt, kib);
        if (T) {
          add(P.create, rt, c.maxrssKiB); add(P.state, rt, s.maxrssKiB); add(P.start, rt, st.maxrssKiB);
          add(P.exec, rt, e.maxrssKiB); add(P.kill, rt, k.maxrssKiB); add(P.delete, rt, d.maxrssKiB); add(P.run, rt, r.maxrssKiB);
        }
      }
    } finally {
      cleanup(rt, id);
      cleanup(rt, id2);
    }
  });
  progress(rss);
  if (T) for (const f of Object.values(P)) progress(f);
}

function figSeq(rts, bundles) {
  const N = ITER.seqCount;
  console.log(`\n[seq100] ${N} containers run sequentially (\`run\` of \`true\`), total wall time`);
  const f = figure('seq100', 'scale', `${N} × run \`true\`, sequential (total)`, 'ms', N);
  loop([f], rts, ITER.seqReps, 0, (rt, keep) => {
    const ids = [];
    try {
      // a failed `run` is counted and the sequence goes on (its time stays in the total)
      const t0 = now();
      for (let k = 0; k < N; k++) {
        const id = newId(rt, 'seq');
        ids.push(id);
        try {
          run(rt, ['run', '--bundle', bundles.true, id]);
        } catch (err) {
          if (interrupted) throw err;
          fail([f], rt, err, maxFails(N * ITER.seqReps));
          if (f.errors[rt.name]) return;
        }
      }
      const ms = msSince(t0);
      if (keep) add(f, rt, ms);
    } finally {
      for (const id of ids) cleanup(rt, id);
    }
  });
  progress(f);
}

async function figPar(rts, bundles) {
  const N = ITER.parCount;
  console.log(`\n[par20] ${N} containers created in parallel (sleeping), wall time until the last create exits`);
  // no "crun − wrapper" here: the wrappers of parallel creates overlap on the CPUs
  const f = figure('par20', 'scale', `${N} × create, in parallel (wall)`, 'ms', null);
  for (let i = 0; i < 1 + ITER.parReps; i++) {
    for (let k = 0; k < rts.length; k++) {
      checkInterrupted();
      const rt = rts[(i + k) % rts.length];
      if (f.errors[rt.name]) continue;
      const ids = Array.from({ length: N }, () => newId(rt, 'par'));
      try {
        const t0 = now();
        const rs = await Promise.all(ids.map((id, j) => spawnAsync(rt, ['create', '--bundle', bundles.sleep, id], path.join(WORK, `par-${j}.log`))));
        const ms = msSince(t0);
        const bad = rs.find((r) => r.status !== 0);
        if (bad) {
          const e = new Error(`${rt.name} parallel create: ${bad.error?.message ?? `exit ${bad.status}`}: ${tellingLine(bad.stderr)}`);
          e.detail = bad.stderr.slice(0, 3000);
          throw e;
        }
        if (i >= 1) add(f, rt, ms);
      } catch (err) {
        if (interrupted) throw err;
        fail([f], rt, err, maxFails(1 + ITER.parReps));
      } finally {
        await cleanupParallel(rt, ids);
      }
    }
  }
  progress(f);
}

/** The state-dir record of one real container, taken while it exists, to fabricate others from. */
function stateTemplate(rt, bundles) {
  const id = newId(rt, 'tmpl');
  try {
    run(rt, ['create', '--bundle', bundles.sleep, id]);
    const dir = path.join(rt.root, id);
    const files = [];
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (!st.isFile()) continue; // exec.fifo, sockets: not part of a stopped container
      files.push({ name, mode: st.mode & 0o7777, text: readFileSync(p, 'utf8') });
    }
    return { id, dirMode: statSync(dir).mode & 0o7777, files };
  } finally {
    cleanup(rt, id);
  }
}

// Fields that name the init process, by runtime format: zeroed so the container reads as stopped.
const PID_FIELDS = { pid: 0, init_process_pid: 0, init_process_start: 0, 'process-start-time': 0, startTime: '' };

function fabricate(rt, tmpl, count, ids) {
  for (let k = 0; k < count; k++) {
    const id = `rbfab${process.pid}-${String(k).padStart(4, '0')}`;
    const dir = path.join(rt.root, id);
    mkdirSync(dir, { mode: tmpl.dirMode });
    chmodSync(dir, tmpl.dirMode);
    ids.push(id);
    for (const f of tmpl.files) {
      let text = f.text.split(tmpl.id).join(id);
      try {
        const j = JSON.parse(text);
        if (j && typeof j === 'object' && !Array.isArray(j)) {
          for (const [key, v] of Object.entries(PID_FIELDS)) if (key in j) j[key] = v;
          text = JSON.stringify(j);
        }
      } catch { /* not JSON: copied with the id replaced */ }
      writeFileSync(path.join(dir, f.name), text, { mode: f.mode });
    }
  }
}

/** The Node a runtime's calls start (runts: this one; sea: its own), or null (runc, crun). */
const floorCmd = (rt) => (rt.name === 'runts' ? [process.execPath] : rt.name === 'sea' && rt.node ? [seaNodePath(rt.node)] : null);
/** One `node -e 0` of that Node, timed as the runtime's commands are; null when it has none. */
function nodeFloorRun(rt) {
  const node = floorCmd(rt);
  if (!node || !existsSync(node[0])) return null;
  const p = { name: `${rt.name} node`, live: new Set(), cmd: () => [...node, '-e', '0'] };
  return must(p, [], exec(p, []));
}

function figList(rts, bundles) {
  const N = ITER.listCount;
  console.log(`\n[list1000] \`list\` with ${N} (fabricated, stopped) containers in the state dir; and with none`);
  const empty = figure('list-empty', 'list', '`list`, empty state dir', 'ms', 1);
  const full = figure('list1000', 'list', `\`list\`, ${N} stopped containers`, 'ms', 1,
    'state dirs fabricated in each runtime\'s own format from a real container\'s, with the init pid zeroed');
  // `node -e 0` in the same iterations, the floor of list's goal (as the verbs' is taken amid
  // them: the baseline's, minutes earlier, moved that goal by ±1 between runs on a drifting VM)
  const FL = figure('floor-list', 'list', 'node -e 0, amid the list calls (its Node)', 'ms', 0, 'the Node start floor taken in the empty list\'s iterations');
  loop([empty, FL], rts, ITER.listN, ITER.listWarm, (rt, keep) => {
    const r = run(rt, ['list'], { capture: true });
    const f = nodeFloorRun(rt);
    if (keep) {
      add(empty, rt, r.ms);
      if (f) add(FL, rt, f.ms);
    }
  });
  const fab = new Map();
  try {
    for (const rt of rts) {
      checkInterrupted();
      for (const id of [...rt.live]) cleanup(rt, id); // leftovers of earlier failures would count
      try {
        const t0 = now();
        const tmpl = stateTemplate(rt, bundles);
        const ids = [];
        fab.set(rt, ids);
        fabricate(rt, tmpl, N, ids);
        const q = run(rt, ['list', '-q'], { capture: true });
        const seen = q.stdout.split('\n').filter((s) => s.trim()).length;
        rt.listEntries = seen;
        console.log(`  ${rt.name}: fabricated ${N} state dirs (${tmpl.files.map((f) => f.name).join(', ')}) in ${msSince(t0).toFixed(0)} ms; list -q shows ${seen}`);
        if (seen !== N) console.log(`  warning: ${rt.name} list -q shows ${seen} entries, expected ${N}`);
      } catch (err) {
        if (interrupted) throw err;
        fail([full], rt, err);
      }
    }
    loop([full], rts, ITER.listN, ITER.listWarm, (rt, keep) => {
      const r = run(rt, ['list'], { capture: true });
      if (keep) add(full, rt, r.ms);
    });
  } finally {
    for (const [rt, ids] of fab) for (const id of ids) rmSync(path.join(rt.root, id), { recursive: true, force: true });
  }
  progress(empty);
  progress(full);
}

// ---------------------------------------------------------------------------------------------
// report: JSON, markdown, SVG

function summarize(rts, baseline) {
  const names = rts.map((r) => r.name);
  const overhead = baseline?.crunWrapperOverheadMs ?? null;
  return figures.map((f) => {
    const st = {};
    for (const n of names) if (f.samples[n]?.length) st[n] = stats(f.samples[n]);
    // CPU figures in 10 ms ticks (no rusage helper): their mean is the estimate, reported as the figure's value
    if (f.mean) for (const n of Object.keys(st)) st[n] = { ...st[n], median: st[n].mean, of: 'mean' };
    const ratio = (a, b) => (st[a] && st[b] && st[b].median > 0 ? Math.round((st[a].median / st[b].median) * 1000) / 1000 : null);
    const out = {
      key: f.key, group: f.group, title: f.title, unit: f.unit, stats: st,
      ratios: { 'runts/runc': ratio('runts', 'runc'), 'runts/crun': ratio('runts', 'crun'), 'crun/runc': ratio('crun', 'runc'), 'sea/runc': ratio('sea', 'runc') },
      samples: f.samples,
    };
    if (f.note) out.note = f.note;
    if (Object.keys(f.errors).length) out.errors = f.errors;
    if (Object.keys(f.failures).length) {
      out.failedIterations = f.failures;
      out.lastError = f.lastError;
      if (f.errorDetail) out.lastErrorStderr = f.errorDetail;
    }
    if (f.unit === 'ms' && f.wrapperCalls && st.crun && overhead !== null && rts.find((r) => r.name === 'crun')?.wrapperCalls) {
      out.crunNetOfWrapperMs = Math.round((st.crun.median - f.wrapperCalls * overhead) * 100) / 100;
    }
    return out;
  });
}

function markdown(results) {
  const names = results.runtimeOrder;
  const hasRunts = names.includes('runts');
  const head = ['figure', ...names.map((n) => `${n}`), ...(names.includes('crun') ? ['crun − wrapper'] : [])];
  if (hasRunts && names.includes('runc')) head.push('runts/runc');
  if (names.includes('sea') && names.includes('runc')) head.push('sea/runc');
  if (hasRunts && names.includes('crun')) head.push('runts/crun');
  if (!hasRunts && names.includes('crun') && names.includes('runc')) head.push('crun/runc');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const f of results.figures.filter((x) => x.group !== 'sys')) {
    const unit = f.unit === 'KiB' ? ' (KiB)' : ' (ms)';
    const row = [f.title + unit];
    for (const n of names) row.push(f.stats[n] ? fmt(f.stats[n].median, f.unit) + (f.failedIterations?.[n] ? ' †' : '') : f.errors?.[n] ? 'failed' : '—');
    if (names.includes('crun')) row.push(f.crunNetOfWrapperMs !== undefined ? fmt(f.crunNetOfWrapperMs, 'ms') : '—');
    const r = (x) => (x === null || x === undefined ? '—' : `${x.toFixed(2)}×`);
    if (hasRunts && names.includes('runc')) row.push(r(f.ratios['runts/runc']));
    if (names.includes('sea') && names.includes('runc')) row.push(r(f.ratios['sea/runc']));
    if (hasRunts && names.includes('crun')) row.push(r(f.ratios['runts/crun']));
    if (!hasRunts && names.includes('crun') && names.includes('runc')) row.push(r(f.ratios['crun/runc']));
    lines.push(`| ${row.join(' | ')} |`);
  }
  const byMsg = new Map();
  for (const f of results.figures) {
    for (const [n, c] of Object.entries(f.failedIterations ?? {})) {
      const m = f.lastError[n];
      const k = `${n}\0${m.replace(/rb\d+-[a-z]+-\d+-/g, 'ID-').replace(/ \/run\/runts-bench-\w+/g, ' ')}`;
      if (!byMsg.has(k)) byMsg.set(k, []);
      byMsg.get(k).push(f.errors?.[n] ? `${f.title} (left out after ${c} failures)` : `${f.title} (${c} failed iteration${c > 1 ? 's' : ''} skipped)`);
    }
  }
  if (byMsg.size) {
    lines.push('', '† some iterations failed and were skipped. Failures:');
    for (const [k, titles] of byMsg) {
      const [n, m] = k.split('\0');
      lines.push(`- ${n}: ${titles.join('; ')}: ${m}`);
    }
  }
  return lines.join('\n');
}

const VERB_FIGS = [['run', 'run `true`'], ['verb-create', 'create'], ['seccomp-create', 'create with a seccomp profile'], ['verb-state', 'state'], ['verb-start', 'start'], ['verb-exec', 'exec `true`'], ['verb-kill', 'kill 9'], ['verb-delete', 'delete'], ['list-empty', 'list']];

/** Where a `node -e 0` was run amid a figure's own calls: its wall figure and its CPU figure. */
const AMID_FLOORS = { verbs: ['floor-verbs', 'cpu-floor-verbs', 'amid the verbs'], list: ['floor-list', null, 'amid the list calls'] };

/** The floor of a runtime's calls: `node -e 0` of the Node it runs on (for sea, its own Node),
 *  from the baseline; `amid` ('verbs', 'list': AMID_FLOORS): the one taken in those iterations,
 *  where there is one (wall median; CPU mean, where taken). */
function floorOf(results, rt, amid) {
  const b = results.baseline;
  if (!b) return null;
  const label = rt === 'sea' && b.seaNodeLabel ? b.seaNodeLabel : 'node -e 0 (Node start floor)';
  const jsLabel = rt === 'sea' ? 'sea --version' : 'runts --version';
  const floor = { label, wall: b.stats[label]?.median, cpu: b.cpuMs[label], rss: b.maxRssKiB?.[label], version: b.stats[jsLabel]?.median };
  if (!amid) return floor;
  const [wallKey, cpuKey, where] = AMID_FLOORS[amid];
  const fw = results.figures.find((f) => f.key === wallKey)?.stats[rt];
  const fc = cpuKey && results.figures.find((f) => f.key === cpuKey)?.stats[rt];
  if (!fw || (cpuKey && !fc)) return floor;
  return { ...floor, label: `${label}, ${where}`, wall: fw.median, ...(fc ? { cpu: { user: fc.median, sys: 0 } } : {}) };
}
/** The goals whose figures come from iterations that also ran a `node -e 0` (AMID_FLOORS): their
 *  floor is that one. */
const AMID_OF = { 'verb-create': 'verbs', 'verb-state': 'verbs', 'verb-start': 'verbs', 'verb-exec': 'verbs', 'verb-kill': 'verbs', 'verb-delete': 'verbs', 'list-empty': 'list' };

/** Issue 11's goals, as ratios (value <= target is met). */
function goals(results) {
  const fig = (k) => results.figures.find((f) => f.key === k);
  const out = [];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  for (const rt of ['runts', 'sea']) {
    if (!results.runtimeOrder.includes(rt) || !results.runtimeOrder.includes('runc')) continue;
    const floor = floorOf(results, rt);
    if (!floor?.wall) continue;
    const push = (goal, value, target) => value !== null && Number.isFinite(value) && out.push({ runtime: rt, goal, value: r3(value), target, met: value <= target });
    const amid = floorOf(results, rt, 'verbs');
    for (const [k, label] of VERB_FIGS) {
      const f = fig(k);
      const fl = AMID_OF[k] ? floorOf(results, rt, AMID_OF[k]) : floor;
      if (f?.stats[rt] && f.stats.runc) push(`${label}: (wall − node -e 0) / runc wall`, (f.stats[rt].median - fl.wall) / f.stats.runc.median, 1);
    }
    const lc = fig('lifecycle');
    if (lc?.stats[rt] && lc.stats.runc) push('create + start + delete: wall / runc', lc.stats[rt].median / lc.stats.runc.median, 0.8);
    const par = fig('par20');
    if (par?.stats[rt] && par.stats.runc) push('20 parallel creates: wall / runc', par.stats[rt].median / par.stats.runc.median, 2);
    const floorCpu = amid.cpu ? amid.cpu.user + amid.cpu.sys : 0;
    for (const v of ['create', 'state', 'start', 'exec', 'kill', 'delete']) {
      const f = fig(`cpu-${v}`);
      if (f?.stats[rt] && f.stats.runc?.median > 0) push(`CPU ${v}: (user+sys − node -e 0's) / runc`, (f.stats[rt].median - floorCpu) / f.stats.runc.median, 1);
    }
    if (floor.rss) {
      for (const v of ['run', 'create', 'state', 'start', 'exec', 'kill', 'delete']) {
        const f = fig(`maxrss-${v}`);
        if (f?.stats[rt]) push(`peak RSS ${v}: (KiB − node -e 0's) / 8 MiB`, (f.stats[rt].median - floor.rss) / 8192, 1);
      }
    }
  }
  for (const m of results.managers ?? []) {
    if (m.error) continue;
    out.push({ runtime: 'runts', goal: `${m.manager} run --rm true: wall / (runc + ${m.calls} × node -e 0)`, value: r3(m.runts / (m.runc + m.calls * m.nodeFloor)), target: 1, met: m.runts <= m.runc + m.calls * m.nodeFloor });
  }
  return out;
}

function goalsMarkdown(list) {
  const lines = ['| runtime | goal | value | target | met |', '|---|---|---:|---:|:---:|'];
  for (const g of list) lines.push(`| ${g.runtime} | ${g.goal} | ${g.value.toFixed(2)} | ≤ ${g.target} | ${g.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

/** Where each verb's time goes: Node's start (node -e 0), our JS start (runts --version minus
 *  that), the kernel (system CPU time beyond node -e 0's) and our work (the rest of the wall
 *  time: JS run, waiting on the executor and the container), with runc's whole call beside. */
function breakdownSvg(results) {
  const fig = (k) => results.figures.find((f) => f.key === k);
  const rts = ['runts', 'sea'].filter((n) => results.runtimeOrder.includes(n));
  const rows = [];
  for (const [k, label] of VERB_FIGS) {
    for (const rt of rts) {
      const f = fig(k);
      const floor = floorOf(results, rt);
      if (!f?.stats[rt] || !floor?.wall) continue;
      const wall = f.stats[rt].median;
      const node = Math.min(wall, floor.wall);
      const js = Math.max(0, Math.min(wall - node, (floor.version ?? node) - node));
      const sysFig = fig(`sys-${k.replace(/^verb-/, '')}`);
      const kernel = sysFig?.stats[rt] ? Math.max(0, Math.min(wall - node - js, sysFig.stats[rt].median - (floor.cpu?.sys ?? 0))) : 0;
      rows.push({ label: `${label} (${rt})`, parts: [node, js, kernel, Math.max(0, wall - node - js - kernel)], wall, runc: f.stats.runc?.median });
    }
  }
  const colors = [['Node start (node -e 0)', '#9ecae1'], ['our JS start', '#3182bd'], ['kernel (sys CPU beyond node -e 0)', '#fdae6b'], ['our work (the rest)', '#e6550d']];
  const W = 980, labelW = 200, plotW = W - labelW - 60, barH = 14, rowH = 34, top = 80;
  const H = top + rows.length * rowH + 40;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.wall, r.runc ?? 0)));
  const x = (v) => labelW + (v / max) * plotW;
  const o = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="#fff"/>`];
  o.push(`<text x="12" y="22" font-size="15" font-weight="bold">Where each verb's time goes (medians, ms; grey: runc's whole call)</text>`);
  o.push(`<text x="12" y="40" fill="#555">${esc(`${results.generated} · ${results.host.cpus} CPUs · Node ${results.host.node} · kernel share from ${RUSAGE ? 'wait4 rusage ru_stime' : 'cstime (10 ms ticks, mean)'}`)}</text>`);
  let lx = 12;
  for (const [name, c] of colors) {
    o.push(`<rect x="${lx}" y="50" width="12" height="12" fill="${c}"/><text x="${lx + 17}" y="60">${esc(name)}</text>`);
    lx += 215;
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    o.push(`<text x="${labelW - 8}" y="${y + 11}" text-anchor="end">${esc(r.label)}</text>`);
    let acc = 0;
    r.parts.forEach((v, j) => {
      if (v <= 0) return;
      o.push(`<rect x="${x(acc).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(acc + v) - x(acc)).toFixed(1)}" height="${barH}" fill="${colors[j][1]}"><title>${esc(`${colors[j][0]}: ${v.toFixed(1)} ms`)}</title></rect>`);
      acc += v;
    });
    o.push(`<text x="${(x(acc) + 4).toFixed(1)}" y="${y + 11}" font-size="10">${r.wall.toFixed(1)}</text>`);
    if (r.runc) {
      o.push(`<rect x="${labelW}" y="${y + barH + 2}" width="${Math.max(0.5, x(r.runc) - labelW).toFixed(1)}" height="7" fill="#aaa"/>`);
      o.push(`<text x="${(x(r.runc) + 4).toFixed(1)}" y="${y + barH + 9}" font-size="9" fill="#555">runc ${r.runc.toFixed(1)}</text>`);
    }
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars of the ratios per figure on a log scale, anchored at a line at 1.0. */
function svg(results) {
  const hasRunts = results.runtimeOrder.includes('runts');
  const series = hasRunts
    ? [['runts/runc', '#1f77b4'], ['sea/runc', '#2ca02c'], ['runts/crun', '#ff7f0e']]
    : [['crun/runc', '#7f7f7f']];
  const failed = (f) => hasRunts && f.errors?.runts;
  const rows = results.figures.filter((f) => series.some(([k]) => f.ratios[k] !== null) || failed(f));
  const all = rows.flatMap((f) => series.map(([k]) => f.ratios[k]).filter((x) => x !== null && x > 0));
  let lo = Math.min(0.5, ...all.map((x) => x / 1.3));
  let hi = Math.max(2, ...all.map((x) => x * 1.3));
  lo = 2 ** Math.floor(Math.log2(lo));
  hi = 2 ** Math.ceil(Math.log2(hi));
  const W = 980, labelW = 330, plotW = W - labelW - 40, barH = 13, gap = 6;
  const rowH = series.length * barH + gap * 2;
  const top = 78, H = top + Math.max(1, rows.length) * rowH + 60;
  const x = (v) => labelW + ((Math.log2(v) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo))) * plotW;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  const title = hasRunts ? 'runts vs runc and crun: ratio of medians (< 1 is faster / smaller than the other runtime)' : 'runts not built yet: crun/runc ratio of medians shown for reference';
  out.push(`<text x="12" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="12" y="42" fill="#555">${esc(`${results.generated} · ${results.host.cpus} CPUs · Linux ${results.host.kernel} · Node ${results.host.node} · ${results.runtimeOrder.map((n) => `${n} ${String(results.runtimes[n].version).replace(/^\S+ version /, '').replace(/ \(runts\)$/, '')}`).join(' · ')} · log scale`)}</text>`);
  // legend
  let lx = 12;
  for (const [k, c] of series) {
    out.push(`<rect x="${lx}" y="52" width="12" height="12" fill="${c}"/><text x="${lx + 17}" y="62">${esc(k)}</text>`);
    lx += 110;
  }
  // grid
  for (let v = lo; v <= hi + 1e-9; v *= 2) {
    const gx = x(v).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${H - 44}" stroke="${v === 1 ? '#000' : '#ddd'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`);
    out.push(`<text x="${gx}" y="${H - 28}" text-anchor="middle" fill="#333">${v >= 1 ? v : `1/${1 / v}`}${v === 1 ? '.0' : ''}</text>`);
  }
  out.push(`<text x="${x(1).toFixed(1)}" y="${H - 12}" text-anchor="middle" fill="#000">ratio (1.0 = same as the other runtime)</text>`);
  rows.forEach((f, i) => {
    const y0 = top + i * rowH + gap;
    out.push(`<text x="${labelW - 10}" y="${y0 + (series.length * barH) / 2 + 4}" text-anchor="end">${esc(f.title + (f.unit === 'KiB' ? ' [RSS]' : ''))}</text>`);
    if (failed(f)) {
      out.push(`<text x="${(x(1) + 6).toFixed(1)}" y="${y0 + (series.length * barH) / 2 + 4}" fill="#c00">runts failed: ${esc(((/msg="([^"]+)"/.exec(f.errors.runts) ?? [])[1] ?? f.errors.runts.split(': ').slice(-1)[0]).slice(0, 75))}</text>`);
      return;
    }
    series.forEach(([k, c], j) => {
      const v = f.ratios[k];
      if (v === null || !(v > 0)) return;
      const y = y0 + j * barH;
      const x1 = x(1), x2 = x(Math.min(hi, Math.max(lo, v)));
      out.push(`<rect x="${Math.min(x1, x2).toFixed(1)}" y="${y}" width="${Math.max(1, Math.abs(x2 - x1)).toFixed(1)}" height="${barH - 2}" fill="${c}"><title>${esc(`${f.title}: ${k} = ${v}`)}</title></rect>`);
      const tx = v >= 1 ? x2 + 4 : x2 - 4;
      out.push(`<text x="${tx.toFixed(1)}" y="${y + barH - 3}" font-size="10" text-anchor="${v >= 1 ? 'start' : 'end'}" fill="#333">${v.toFixed(2)}</text>`);
    });
  });
  if (rows.length === 0) out.push(`<text x="${labelW}" y="${top + 20}">no ratios to plot</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const t0 = now();
  const loadStart = os.loadavg();
  const { list: rts, missing } = makeRuntimes();
  const bundles = makeBundles(path.join(WORK, 'bundle'));
  const full = !OPTS.quick && !OPTS.only && !OPTS.runtimes && !OPTS.runtsBin;
  const base = full ? 'latest' : 'partial';

  console.log('# runts benchmark');
  console.log(`runtimes: ${rts.map((r) => `${r.name} (${r.version})`).join(', ') || 'none'}`);
  for (const [n, why] of Object.entries(missing)) console.log(`MISSING: ${n}: ${why}${n === 'runts' ? ' — benchmarking the others only' : ''}`);
  console.log(`env: ${UNSET_ENV.join(' and ')} are unset for every runtime (and for the node baselines)`);
  console.log(`reaper: ${REAPER}`);
  console.log(`bundle: ${bundles.how}; config: runc spec default (terminal off), rootfs read-only; work dir ${WORK}`);
  const crun = rts.find((r) => r.name === 'crun');
  if (crun?.wrapperCalls) console.log(`crun runs as: ${crun.invocation} <args> (wrapper overhead measured in [baseline])`);
  console.log(`mode: ${OPTS.quick ? 'quick' : 'default'}${OPTS.only ? `, only ${[...OPTS.only].join(',')}` : ''}; iterations: ${JSON.stringify(ITER)}`);
  console.log(`load average at start: ${loadStart.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  if (loadStart[0] > os.cpus().length * 0.5) console.log('warning: the machine is busy (load average above half the CPUs): figures will be noisier; ratios are still taken side by side');
  if (rts.length === 0) die('no runtime to benchmark');

  let baseline = null;
  let error = null;
  let managers = null;
  try {
    if (wants('baseline') || wants('run') || wants('lifecycle') || wants('verbs') || wants('seccomp') || wants('seq100') || wants('par20') || wants('list1000') || wants('rss') || wants('managers')) baseline = figBaseline(rts, bundles);
    if (wants('run')) figRun(rts, bundles);
    if (wants('lifecycle')) figLifecycle(rts, bundles);
    if (wants('verbs')) figVerbs(rts, bundles);
    if (wants('seccomp')) figSeccomp(rts, bundles);
    if (wants('rss')) figRss(rts, bundles);
    if (wants('seq100')) figSeq(rts, bundles);
    if (wants('par20')) await figPar(rts, bundles);
    if (wants('list1000')) figList(rts, bundles);
    if (wants('managers')) managers = await figManagers({ runts: [process.execPath, RUNTS_BIN], runc: which('runc'), nodeFloor: baseline?.stats['node -e 0 (Node start floor)']?.median, env: ENV, n: OPTS.quick ? 4 : 12, work: WORK, repo: REPO });
  } catch (err) {
    error = err;
    console.error(`\nbench: ${err.message}`);
  } finally {
    const clean = sweep(rts);
    if (clean) rmSync(WORK, { recursive: true, force: true });
    else console.error(`bench: some containers could not be deleted; left ${WORK} in place`);
  }

  const runtsRt = rts.find((r) => r.name === 'runts');
  const runtsBuildEnd = runtsRt ? runtsBuild() : null;
  const rebuilt = runtsRt && runtsBuildEnd !== runtsRt.build;
  if (rebuilt) console.log(`\nwarning: runts was rebuilt during the run (${runtsRt.build} -> ${runtsBuildEnd}): its figures mix builds; re-run`);
  const results = {
    schema: 1,
    generated: new Date().toISOString(),
    mode: OPTS.quick ? 'quick' : 'default',
    only: OPTS.only ? [...OPTS.only] : null,
    complete: error === null,
    runtsRebuiltDuringRun: Boolean(rebuilt),
    error: error ? error.message : null,
    durationS: Math.round(msSince(t0) / 100) / 10,
    host: {
      kernel: os.release(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '',
      memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.versions.node,
      loadavgStart: loadStart.map((x) => Math.round(x * 100) / 100),
      loadavgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      cgroups: isMountpoint(CGROUP2_UNIFIED) ? `v1 hierarchies + cgroup2 at ${CGROUP2_UNIFIED}` : existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1',
    },
    method: {
      timing: RUSAGE
        ? 'each command under tools/bench/rusage (spawned with child_process.spawnSync): CLOCK_MONOTONIC from its fork to wait4, CPU user+sys and peak RSS from the rusage of wait4; runtimes rotated every iteration; warm-up discarded; cleanup untimed'
        : 'child_process.spawnSync, process.hrtime.bigint() around each spawn, CPU from cutime/cstime (10 ms ticks); runtimes rotated every iteration; warm-up discarded; cleanup untimed',
      env: `${UNSET_ENV.join(', ')} unset for every runtime`,
      reaper: REAPER,
      bundle: `${bundles.how}; runc spec default config (tools/bench/config.template.json), terminal off, read-only rootfs`,
      peakRss: RUSAGE ? 'tools/bench/rusage: wait4 ru_maxrss of the command, i.e. the largest of its exec chain and of the children it reaped (for crun that includes unshare and sh)' : 'GNU time -f %M: wait4 ru_maxrss of the command, i.e. the largest of its exec chain and of the children it reaped (for crun that includes unshare and sh)',
      initRss: 'VmRSS from /proc/<pid>/status of the pid `state` reports, between create and start',
      list1000: 'one real container is created per runtime; its state-dir files are copied 1,000 times with the id replaced and the init pid/start time zeroed (stopped containers), in the runtime\'s own format: runc <root>/<id>/state.json, crun <root>/<id>/{status,config.json}, runts <root>/<id>/state.json',
      iterations: ITER,
    },
    runtimes: Object.fromEntries(rts.map((r) => [r.name, {
      version: r.version, invocation: r.invocation, root: 'private temp dir under /run',
      ...(r.build ? { build: r.build, buildAtEnd: runtsBuildEnd } : {}),
      ...(r.listEntries !== undefined ? { listEntriesSeen: r.listEntries } : {}),
    }])),
    repoHead: firstLine(spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout),
    missing,
    runtimeOrder: rts.map((r) => r.name),
    baseline,
    figures: summarize(rts, baseline),
    managers: managers ?? undefined,
  };
  results.goals = goals(results);

  const md = markdown(results);
  console.log(`\n## Results (median; ${results.mode} run, ${results.durationS} s)\n`);
  console.log(md);
  if (missing.runts) console.log(`\nrunts is missing: ${missing.runts}. Ratios need it; crun/runc is shown for reference.`);
  if (baseline) console.log(`\nFloors: spawn /bin/true ${fmt(baseline.stats['spawn /bin/true'].median, 'ms')} ms, node -e 0 ${fmt(baseline.stats['node -e 0 (Node start floor)'].median, 'ms')} ms; crun wrapper overhead ${baseline.crunWrapperOverheadMs} ms per call ("crun − wrapper" subtracts it once per crun command).`);
  console.log(`${UNSET_ENV.join(' and ')} were unset for every runtime.`);
  const goalsMd = results.goals.length ? `\n### Goals (issue 11; value ≤ target is met)\n\n${goalsMarkdown(results.goals)}\n` : '';
  console.log(goalsMd);

  mkdirSync(OPTS.out, { recursive: true });
  const jsonPath = path.join(OPTS.out, `${base}.json`);
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(OPTS.out, `${base}.svg`), svg(results));
  writeFileSync(path.join(OPTS.out, `${base}-breakdown.svg`), breakdownSvg(results));
  writeFileSync(path.join(OPTS.out, `${base}.md`), `${md}\n${goalsMd}\nMedians; ${results.mode} run on ${results.generated}, ${results.host.cpus} CPUs, Linux ${results.host.kernel}, Node ${results.host.node}; ${results.method.env}. Reproduce: \`pnpm bench\`.\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), jsonPath)}, ${base}.svg and ${base}.md in ${path.relative(process.cwd(), OPTS.out) || '.'}`);
  if (error) process.exitCode = 1;
}

await main();
