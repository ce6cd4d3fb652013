'use strict';
// The start of every runts command (copied into each package's dist/ by build.mjs; a bin is
// `require('../dist/launch.cjs')`). It runs ./cli.cjs (or, for `runts <verb>`, ./verb-<verb>.cjs), the command bundled as CommonJS (no ESM
// loader: ~4 ms), compiled with the V8 code cache made at build time (./cli.cjs.cache, see
// codecache.cjs: ~3-7 ms less parsing and compiling). cli.cjs ends with `//# runtsBuild=<sha1 of
// the rest>\n` and the cache starts with the same 40 hex digits: a cache made for another build is
// never used (no hashing here: node:crypto alone costs ~3 ms to load), and V8 itself rejects a
// cache from another Node or V8 version or other V8 flags; the source is then compiled as usual.
// Nothing here writes a file.
const { readFileSync, existsSync } = require('node:fs');
const { Script, constants } = require('node:vm');
const Module = require('node:module');

const TAG = '//# runtsBuild=';
const file = __dirname + '/' + pick(process.argv.slice(2)) + '.cjs';

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
    return /^[a-z]+$/.test(a) && existsSync(__dirname + '/verb-' + a + '.cjs') ? 'verb-' + a : 'cli';
  }
  return 'cli';
}
const src = readFileSync(file);
const end = src.length - 1; // the final newline
let cachedData;
if (src.toString('latin1', end - 40 - TAG.length, end - 40) === TAG) {
  try {
    const cache = readFileSync(file + '.cache');
    if (cache.toString('latin1', 0, 40) === src.toString('latin1', end - 40, end)) cachedData = cache.subarray(40);
  } catch {
    // no cache: compile from source
  }
}
const script = new Script(Module.wrap(src.toString('utf8')), {
  filename: file,
  cachedData,
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const mod = new Module(file, module);
mod.filename = file;
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, __dirname);
