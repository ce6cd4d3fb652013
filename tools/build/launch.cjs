#!/usr/bin/env node
'use strict';
// The start of every runts command (copied into each package's dist/ by build.mjs, where it is the
// package's bin: package.json's `bin` names ./dist/launch.cjs, which Node runs as its main script). It runs ./cli.cjs (or, for `runts <verb>`, ./verb-<verb>.cjs), the command bundled as CommonJS (no ESM
// loader: ~4 ms), compiled with the V8 code cache made at build time (./cli.cjs.cache, see
// codecache.cjs: ~3-7 ms less parsing and compiling). cli.cjs ends with `//# runtsBuild=<sha1 of
// the rest>\n` and the cache starts with the same 40 hex digits: a cache made for another build is
// never used (no hashing here: node:crypto alone costs ~3 ms to load), and V8 itself rejects a
// cache from another Node or V8 version or other V8 flags; the source is then compiled as usual.
// A cache whose checksum does not match (damaged, truncated) is not given to V8 at all.
// Nothing here writes a file, and nothing is said about the cache (unless asked, below).
// The single executable (tools/build/sea-main.ts) runs this same file, bundled, with its bundles
// and caches read from its assets instead of this dir: `bundles` below.
const { readFileSync, existsSync, statSync } = require('node:fs');
const { Script, constants } = require('node:vm');
/** Where the command bundles come from: this dir, unless the single executable set its own. */
const embedded = globalThis[Symbol.for('runts.bundles')];
// the CJS loader's Module, which node:module exports: that module itself also loads the ESM loader
// and the source map support (~0.3 ms of every command)
const Module = embedded?.Module ?? module.constructor;
const bundles = embedded ?? {
  exists: (name) => existsSync(__dirname + '/' + name),
  read: (name) => readFileSync(__dirname + '/' + name),
  /** the bundle's __filename (import.meta.url: the executor is found beside it) */
  filename: (name) => __dirname + '/' + name,
  // this file's own require: the bundles are in this dir, so it resolves for them as theirs would,
  // without createRequire's Module and node_modules paths (a path.resolve, whose per-character
  // loop is one reason Node >= 22 compiles node:path's normalizeString with Maglev in a create)
  require: () => require,
  parent: module,
};

const TAG = '//# runtsBuild=';
/** The cache file: 40 hex digits (the build), 16 hex digits (checksum of the Node that made it:
 *  nodeKey), 16 hex digits (checksum of the rest), then V8's data. */
const HEADER = 72;

/** Which Node this is. V8 checks only its own version and flags, and Node releases sharing a V8
 *  (20.19.0 and 20.20.2: 11.3.244.8) accept each other's caches and then crash (SIGSEGV): a
 *  cache is only for the Node whose versions (node, V8, libuv, OpenSSL, ...) and arch made it. */
function nodeKey() {
  return Buffer.from(JSON.stringify(process.versions) + process.arch, 'latin1');
}

/** A checksum of buf[start..] (sums and mixes of 32-bit words; the same function is in
 *  codecache.cjs): V8 does not verify its code cache's own checksum in release builds, and a
 *  damaged cache that passes its header checks crashes Node ("Fatal error ... unreachable code"),
 *  so a cache is used only when this matches. ~0.4 ms for 80 KB (0.64 before unrolling); node:crypto or zlib.crc32 cost
 *  more to load than this takes. */
function checksum(buf, start) {
  const n = (buf.length - start) >>> 4;
  const w = new Int32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * 16));
  let a = 1;
  let b = n | 0;
  let c = 0;
  let d = 0;
  // four words a turn (unrolled: ~40% less time in the interpreter); each step is a bijection of
  // the state for given words, so a change to any one word always changes the state, and the 64
  // bits kept of it miss that with odds of 2^-64
  for (let i = 0; i < w.length; i += 4) {
    a = (a + w[i]) | 0;
    b = (b + a) | 0;
    c = ((c ^ w[i + 1]) + (w[i + 2] ^ d)) | 0;
    d = (d + w[i + 3] + c) | 0;
  }
  for (let i = start + n * 16; i < buf.length; i++) {
    a = (a + buf[i]) | 0;
    b = (b + a) | 0;
  }
  return ((a ^ c) >>> 0).toString(16).padStart(8, '0') + ((b ^ d) >>> 0).toString(16).padStart(8, '0');
}
/** The same checksum, its loop in WebAssembly (the module below: 1,140 bytes, made by
 *  tools/build/checksum-wasm.py, which also has its text), for a cache of 64 KB or more (an eagerly
 *  compiled verb's is 90-640 KB): ~1 ms for 100 to 500 KB, where the interpreted loop takes 1.3 ms
 *  for 100 KB and 2.3 for 480 (first run in a process, Node 20). Node 20's V8 also compiles the JS
 *  loop over 100 KB again with TurboFan on a background thread, which pages in ~2-3 MB of
 *  TurboFan's code (peak RSS: `state` and `kill` had it); 64 KB does not reach its budget. So the
 *  module has 8 copies of the loop, a to h, each run over at most 128 KB: V8 counts that budget per
 *  function, and one over a whole 500 KB cache was compiled again too. */
const CHECKSUM_WASM = '0061736d0100000001060160027f7f00020801016d016d020001030908000000000000000007210801610000016200010163000201640003016500040166000501670006016800070aa90808830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b830101047f410028020021024100280204210341002802082104410028020c210502400340200020014f0d01200220002802006a2102200320026a2103200420002802047320002802082005736a21042005200028020c6a20046a2105200041106a21000c000b0b4100200236020041002003360204410020043602084100200536020c0b';
/** runts-spawn.node's size, when this package ships it beside this file (build.mjs writes it here
 *  as it copies this file; 0: no addon). Its `checksum` is the same function in C: ~0.05 ms for a
 *  500 KB cache, where the WebAssembly module costs ~1-1.5 ms to compile and run and the addon ~0.5
 *  ms to load; create, run and exec load it anyway, and take it from here (@runts/nsenter's
 *  spawn.ts: globalThis[Symbol.for('runts.spawner.loaded')]). A file of another size is not
 *  loaded: dlopen maps a truncated one, and touching a page past its end kills the process
 *  (SIGBUS). The single executable offers its own copy (sea-main.ts: `spawner`). */
const SPAWNER_SIZE = 0;
const SPAWNER_FILE = __dirname + '/runts-spawn.node';
/** The addon's exports, or null (not shipped, not whole, or not loadable here: then WebAssembly);
 *  loaded once (asked for before the bundle is read, and again by checksumLarge). */
let loadedSpawner;
function spawner() {
  if (loadedSpawner !== undefined) return loadedSpawner;
  loadedSpawner = null;
  try {
    let lib = null;
    // the single executable's own copy (an unnamed file, then dlopen: ~0.3 ms) for every verb,
    // as for the npm packages: the checksum, the bundle's text read in place (`text`) and the
    // fast end below; against the WebAssembly checksum, the text decoded and Node's teardown,
    // `state` and `delete` 0.3-0.5 ms faster and 1.2-1.5 MB less peak RSS (tools/bench/README,
    // 2026-12-05)
    if (embedded) lib = embedded.spawner?.() ?? null;
    else if (SPAWNER_SIZE && statSync(SPAWNER_FILE).size === SPAWNER_SIZE) {
      const m = { exports: {} };
      process.dlopen(m, SPAWNER_FILE);
      lib = m.exports;
    }
    if (typeof lib?.checksum !== 'function') return null;
    globalThis[Symbol.for('runts.spawner.loaded')] = lib;
    return (loadedSpawner = lib);
  } catch {
    return null;
  }
}
/** Which checksum ran over the cache: 'native', 'wasm' or 'js' (RUNTS_CODE_CACHE=report says). */
let checker = 'js';
const CHECKSUM_CHUNK = 128 * 1024;
const CHECKSUM_WINDOW = 64 * 1024;
function checksumLarge(buf, start) {
  const native = spawner();
  if (native) {
    checker = 'native';
    return native.checksum(buf, start);
  }
  if (buf.length - start < 64 * 1024 || typeof WebAssembly !== 'object') return checksum(buf, start);
  checker = 'wasm';
  const n = (buf.length - start) >>> 4;
  // the blocks go through the module's memory 64 KB at a time (a, b, c, d at 0..15, the window
  // after them): two pages, not a copy of the whole cache (~0.45 MB less peak RSS for create's)
  const memory = new WebAssembly.Memory({ initial: 2 });
  const loops = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(CHECKSUM_WASM, 'hex')), { m: { m: memory } }).exports;
  const bytes = new Uint8Array(memory.buffer);
  const s = new Int32Array(memory.buffer, 0, 4);
  s[0] = 1; // a, b, c, d before the blocks; after them, the same
  s[1] = n | 0;
  for (let at = 0; at < n * 16; at += CHECKSUM_WINDOW) {
    const len = Math.min(CHECKSUM_WINDOW, n * 16 - at);
    bytes.set(buf.subarray(start + at, start + at + len), 16);
    loops['abcdefgh'[Math.min(Math.floor(at / CHECKSUM_CHUNK), 7)]](16, 16 + len);
  }
  let a = s[0];
  let b = s[1];
  for (let i = start + n * 16; i < buf.length; i++) {
    a = (a + buf[i]) | 0;
    b = (b + a) | 0;
  }
  return ((a ^ s[2]) >>> 0).toString(16).padStart(8, '0') + ((b ^ s[3]) >>> 0).toString(16).padStart(8, '0');
}

const name = pick(process.argv.slice(2)) + '.cjs';
const file = bundles.filename(name);

/** `runts [global options] <verb> ...` starts the verb's own bundle (verb-<verb>.cjs) when the
 *  package has one; everything else (help, version, an unknown word, the oci-* commands) cli.cjs.
 *  The global options that take a value are runc's. */
function pick(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return 'cli';
    if (a.startsWith('-')) {
      if (!a.includes('=') && /^--?(root|log|log-format|criu|rootless)$/.test(a)) i++;
      continue;
    }
    return /^[a-z]+$/.test(a) && bundles.exists('verb-' + a + '.cjs') ? 'verb-' + a : 'cli';
  }
  return 'cli';
}
/** For create and run as root with --systemd-cgroup, whose systemd moves the init into its scope:
 *  starts the wait for the RCU grace period that migration needs when the kernel's migration lock
 *  was idle (5-25 ms here), before the bundle is read and compiled, by writing this process's pid
 *  to the cgroup.procs of the cgroup2 cgroup it is already in (nothing moves; the lock then has its
 *  fast path open when systemd moves the init; @runts/cgroups' warmCgroupMigration says more).
 *  Not with the cgroupfs driver: there nothing waits for a grace period any more (the executor
 *  joins v1 dirs by their tasks file and is cloned into cgroup2 ones), and a warm-up would hold
 *  cgroup_mutex through its own, keeping every mkdir of a cgroup waiting. Only the cgroup2
 *  hierarchy, found from mountinfo and /proc/self/cgroup; anything unexpected skips it; errors are
 *  ignored. */
function warmCgroupMigration() {
  try {
    const self = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'latin1'));
    if (!self) return;
    const mountinfo = readFileSync('/proc/self/mountinfo', 'latin1');
    for (const line of mountinfo.split('\n')) {
      const sep = line.indexOf(' - cgroup2 ');
      if (sep < 0) continue;
      const f = line.slice(0, sep).split(' ');
      const root = f[3];
      const path = self[1];
      if (f.length < 5 || /\\/.test(f[3] + f[4])) return; // an escaped name: leave it to the verb
      let rel;
      if (root === '/') rel = path;
      else if (path === root || path.startsWith(root + '/')) rel = path.slice(root.length);
      else return;
      if (rel.split('/').includes('..')) return;
      const fs = require('node:fs');
      const fd = fs.openSync(f[4] + (rel === '/' ? '' : rel) + '/cgroup.procs', fs.constants.O_WRONLY);
      fs.write(fd, String(process.pid), () => fs.closeSync(fd));
      return;
    }
  } catch {
    // no warm-up: the verb's migration waits the whole grace period, as without it
  }
}
if (/^verb-(create|run)\.cjs$/.test(name) && process.geteuid?.() === 0 && process.argv.some((a) => /^--systemd-cgroup(=true)?$/.test(a))) warmCgroupMigration();

// The bundle and its cache, mapped by the addon where this package ships it (its map: the bundle's
// text as an external string, read by V8 in place, and the cache's bytes as the page cache's own
// pages; a create ~350 page faults and ~0.9 ms fewer than reading them into fresh memory), else
// read. The bundle is already wrapped as a CommonJS module (codecache.cjs), so its text is the
// script as it is, never copied again. The single executable's come from its assets, which are
// its own mapped image already: there the addon makes the bundle's text an external string over
// the asset's bytes (`text`), and the cache is read in place (a subarray of the asset).
const lib = spawner();
/** The addon's map of a file of this dir, or in the single executable the text of an asset (null:
 *  none, not ASCII, or an error: then read it). */
function mapped(name, asText) {
  try {
    if (embedded) return asText ? (lib?.text?.(bundles.read(name)) ?? null) : null;
    return lib?.map?.(__dirname + '/' + name, asText) ?? null;
  } catch {
    return null;
  }
}

/** A bundle or module compiled with its code cache when the cache is this build's, this Node's and
 *  whole: { script, report, mapped }. `wrapped`: the file is the CommonJS function already (a
 *  command bundle); a module (a chunk, the D-Bus client) is a CommonJS file as Node would load it,
 *  wrapped here. Throws what reading the file threw. */
function compile(name, wrapped) {
  const file = bundles.filename(name);
  const source = mapped(name, true);
  const src = source === null ? bundles.read(name) : null;
  /** latin1 text of the file from a to b (its tag: ASCII either way) */
  const text = (a, b) => (source !== null ? source.slice(a, b) : src.toString('latin1', a, b));
  const end = (source ?? src).length - 1; // the final newline
  let cachedData;
  let report = 'absent';
  if (text(end - 40 - TAG.length, end - 40) === TAG) {
    const id = text(end - 40, end);
    // the build id, for what keys on runts's own code (@runts/seccomp's cache of compiled filters)
    if (wrapped) globalThis[Symbol.for('runts.build')] = id;
    try {
      const cache = mapped(name + '.cache', false) ?? bundles.read(name + '.cache');
      report = 'stale';
      if (cache.length > HEADER && cache.toString('latin1', 0, 40) === id) {
        const key = nodeKey();
        report = 'other-node';
        if (cache.toString('latin1', 40, 56) === checksum(key, 0)) report = 'corrupt';
        if (report === 'corrupt' && cache.toString('latin1', 56, HEADER) === checksumLarge(cache, HEADER)) {
          cachedData = cache.subarray(HEADER);
          report = 'used';
        }
      }
    } catch {
      // no cache: compile from source
    }
  }
  const code = source ?? src.toString('utf8');
  const script = new Script(wrapped ? code : Module.wrap(code), {
    filename: file,
    cachedData,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (report === 'used' && script.cachedDataRejected) report = 'rejected';
  return { script, report, mapped: source !== null };
}

/** The bundles' require: the files a bundle loads only on one path (./lazy-<name>.cjs, a chunk of
 *  a workspace package, build.mjs; ./dbus-native.cjs, the systemd driver's D-Bus client) compiled
 *  with their own code caches, as the bundle is (the D-Bus client, 400 KB, took ~5 ms to compile
 *  without one); anything else, and a file not there, as the bundle's require would. */
const modules = new Map();
const baseRequire = bundles.require(file);
function moduleRequire(id) {
  const m = /^\.\/((?:lazy-[a-z0-9-]+|dbus-native)\.cjs)$/.exec(id);
  if (!m || !bundles.exists(m[1])) return baseRequire(id);
  const name = m[1];
  if (!modules.has(name)) {
    const c = compile(name, false);
    if (process.env.RUNTS_CODE_CACHE === 'report') process.stderr.write(`runts: code cache of ${name}: ${c.report}\n`);
    const f = bundles.filename(name);
    const mod = new Module(f, bundles.parent);
    mod.filename = f;
    modules.set(name, mod);
    try {
      c.script.runInThisContext()(mod.exports, moduleRequire, mod, f, require('node:path').dirname(f));
    } catch (err) {
      modules.delete(name); // as Node's require forgets a module whose top level threw
      throw err;
    }
  }
  return modules.get(name).exports;
}

let main;
try {
  main = compile(name, true);
} catch (err) {
  // an installation with a file missing (or a damaged single executable): runc's form, exit 1
  const msg = `${file}: cannot read the command's bundle ${name} (${err.code ?? err.message}): reinstall runts`;
  process.stderr.write(`time="${new Date().toISOString().slice(0, 19)}Z" level=error msg="${msg.replace(/[\\"]/g, '\\$&')}"\n`);
  process.exit(1);
}
// RUNTS_CODE_CACHE=report: one line on stderr saying what became of the cache and, when its
// checksum was taken, which one took it, and whether the bundle was mapped (for tests)
if (process.env.RUNTS_CODE_CACHE === 'report') {
  const { report } = main;
  process.stderr.write(`runts: code cache ${report}${/^(used|rejected|corrupt)$/.test(report) ? ` (checksum: ${checker})` : ''}${main.mapped ? ' (bundle mapped)' : ''}\n`);
}
// The end of the process: once every 'exit' listener has run, the addon's exit (_exit) ends it
// where it is loaded (npm packages that ship it; create, run and exec in the single executable),
// without Node's teardown after the 'exit' event, which a runts command has no use for: its
// platform threads woken and joined, the environment's handles closed and the heap freed (~0.8 ms
// wall and ~1 ms of CPU of every command here, `node -e 0` against `_exit`). The listeners added
// after this one are called from it, in their order, as Node would; the exit code is the one Node
// would exit with. Node's own end instead: when process.stdout or stderr has data queued, and
// when anything that writes at Node's exit may have been asked for (a profile, coverage, a report:
// Node options other than the single executable's own).
const QUIET_FLAGS = /^--(single-threaded-gc|v8-pool-size=\d+|min-semi-space-size=\d+)$/;
if (!process.env.NODE_V8_COVERAGE && !process.env.NODE_OPTIONS && process.execArgv.every((a) => QUIET_FLAGS.test(a))) {
  // which of process.stdout and stderr the command made (each is made at its first use)
  const touched = new Set();
  for (const name of ['stdout', 'stderr']) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    if (d?.get && d.configurable)
      Object.defineProperty(process, name, {
        configurable: true,
        enumerable: d.enumerable,
        get() {
          touched.add(name);
          return d.get.call(this);
        },
      });
  }
  process.on('exit', function last(code) {
    const exit = globalThis[Symbol.for('runts.spawner.loaded')]?.exit;
    if (typeof exit !== 'function') return;
    // (checked before the listeners after this one run, which Node would then call again; what
    // they write to stdout or stderr is written at once: Node's stdio is synchronous on Linux)
    for (const name of touched) if (process[name].writableLength > 0) return;
    const listeners = process.listeners('exit');
    for (const l of listeners.slice(listeners.indexOf(last) + 1)) l.call(process, code);
    exit(Number(process.exitCode ?? code) | 0);
  });
}
const mod = new Module(file, bundles.parent);
mod.filename = file;
main.script.runInThisContext()(mod.exports, moduleRequire, mod, file, require('node:path').dirname(file));
