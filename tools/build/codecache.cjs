'use strict';
// Build step for launch.cjs: wraps <dist>/cli.cjs in the CommonJS function (as Module.wrap), ends it with `//# runtsBuild=<sha1 of the bundle>` and
// writes <dist>/cli.cjs.cache: the same 40 hex digits, 16 + 16 hex digits of checksums (of this
// Node's versions, and of the rest: launch.cjs), then
// V8's code cache of cli.cjs, taken after
// a harmless run of the command (`--version`), so that the functions every invocation needs
// (argument parsing, the CLI plumbing) are in it, not only the top level.
// usage: node codecache.cjs <dist dir> <final dist dir> [name]   (run by build.mjs, with the Node
// that will run runts; the final dir names the script in stack traces; name: cli, or another
// command bundle such as verb-create)
//    or: node codecache.cjs --postinstall   (npm's postinstall of an installed package, in its
// dist: the caches another Node made are made again by this one; see below)
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { Script, constants } = require('node:vm');
const { createHash } = require('node:crypto');
const Module = require('node:module');
const path = require('node:path');

/** launch.cjs's checksum (the same function: keep them in step; e2e/tests/41-code-cache checks a
 *  fresh build's cache is used). */
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

/** Which Node made a cache: the 16 hex digits launch.cjs compares (nodeKey there). */
const nodeSum = () => checksum(Buffer.from(JSON.stringify(process.versions) + process.arch, 'latin1'), 0);

// `codecache.cjs --postinstall` (each package's npm postinstall, from the dist it is shipped in):
// a cache is made by the Node of the build, and every other Node ignores it (launch.cjs), which
// costs that Node's users ~8 ms of every create and ~2.5 ms of every state (Node 26, this VM). So
// the caches of this dir that another Node made are made again, by the Node that npm runs (the
// one the commands will run on). A failure leaves that command without a cache, never broken.
if (process.argv[2] === '--postinstall') {
  const { readdirSync, openSync, readSync, closeSync } = require('node:fs');
  const { spawnSync } = require('node:child_process');
  const want = nodeSum();
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.cjs.cache'))) {
    const head = Buffer.alloc(72);
    let n = 0;
    try {
      const fd = openSync(path.join(__dirname, f), 'r');
      try {
        n = readSync(fd, head, 0, 72, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      // unreadable (a dir in its place, ...): made again below, or left to launch.cjs to ignore
    }
    if (n === 72 && head.toString('latin1', 40, 56) === want) continue;
    const name = f.slice(0, -'.cjs.cache'.length);
    const r = spawnSync(process.execPath, [__filename, __dirname, __dirname, name], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) process.stderr.write(`runts: ${path.join(__dirname, f)}: no code cache made for Node ${process.version} (exit ${r.status}): the command runs without one\n`);
  }
  process.exit(0);
}

/** The CommonJS wrapper's start, as Module.wrap's (launch.cjs calls the function with its five). */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const dir = path.resolve(process.argv[2]);
const finalDir = path.resolve(process.argv[3] ?? dir);
const name = process.argv[4] ?? 'cli';
const file = path.join(dir, `${name}.cjs`);
/** A module that a command loads on one path only (launch.cjs's moduleRequire: a chunk, the D-Bus
 *  client): a CommonJS file as Node loads it (the library builds import it too), so it is wrapped
 *  in the script, not in the file, and its cache is taken after its compile alone. */
const isModule = /^(lazy-[a-z0-9-]+|dbus-native)$/.test(name);
let src = readFileSync(file, 'utf8');
// a bundle that has its tag already (a cache made again, at install): the tag is of the rest
const tagged = /\/\/# runtsBuild=([0-9a-f]{40})\n$/.exec(src);
let id;
if (tagged) {
  id = tagged[1];
  if (createHash('sha1').update(src.slice(0, tagged.index)).digest('hex') !== id) throw new Error(`${file}: its runtsBuild tag is not of its text`);
} else {
  if (!src.endsWith('\n')) src += '\n';
  // wrapped as a CommonJS module (what Module.wrap does) in the file itself: launch.cjs compiles
  // the text as it is, mapped where it can (runts-spawn.node's map), with no copy joined to a
  // wrapper (a bundle the single executable's build took from a dist is wrapped already)
  if (!isModule && !src.startsWith(WRAP_HEAD)) src = `${WRAP_HEAD}${src}\n});\n`;
  id = createHash('sha1').update(src).digest('hex');
  src += `//# runtsBuild=${id}\n`;
  writeFileSync(file, src);
}
// The same text and options as launch.cjs: the cache is only valid for the same source string.
// Compiled eagerly (every function, not only those a --version run reaches): the cache then holds
// the bytecode of the verb's own work too (create's compiler, the cgroup code), which a run would
// otherwise compile lazily (create: ~10 ms; the cache grows from ~80 to ~490 KB, read and checked
// in ~2 ms). V8 puts its flags' hash in the cache, so --lazy is back on before the cache is made:
// runts runs with the default flags and must accept it (e2e 41-code-cache checks it is used).
const v8 = require('node:v8');
v8.setFlagsFromString('--no-lazy');
const script = new Script(isModule ? Module.wrap(src) : src, { filename: path.join(finalDir, `${name}.cjs`), importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
v8.setFlagsFromString('--lazy');
process.stdout.write = () => true;
process.argv = [process.argv[0], path.join(finalDir, `${name}.cjs`), '--version'];
const mod = new Module(file, module);
mod.filename = file;
process.on('exit', () => {
  const tmp = `${file}.cache.${process.pid}.tmp`;
  const data = script.createCachedData();
  const body = Buffer.concat([Buffer.alloc(72), data]);
  body.write(id, 0, 'latin1');
  body.write(nodeSum(), 40, 'latin1');
  body.write(checksum(body, 72), 56, 'latin1');
  writeFileSync(tmp, body, { mode: 0o644 });
  renameSync(tmp, file + '.cache');
});
// a module is not run: its cache holds what the compile made, every function (--no-lazy)
if (!isModule) script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dir);
