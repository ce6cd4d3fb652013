'use strict';
// The start of every runts command (copied into each package's dist/ by build.mjs; a bin is
// `require('../dist/launch.cjs')`). It runs ./cli.cjs, the command bundled as CommonJS (no ESM
// loader: ~4 ms), compiled with the V8 code cache made at build time (./cli.cjs.cache, see
// codecache.cjs: ~3-7 ms less parsing and compiling). The cache is used only when its first 20
// bytes are the sha1 of this very cli.cjs; V8 itself rejects a cache from another Node or V8
// version or other flags, and then the source is compiled as usual. Nothing here writes a file.
const { readFileSync } = require('node:fs');
const { Script, constants } = require('node:vm');
const Module = require('node:module');

const file = __dirname + '/cli.cjs';
const src = readFileSync(file);
let cachedData;
try {
  const cache = readFileSync(file + '.cache');
  if (cache.length > 20 && require('node:crypto').createHash('sha1').update(src).digest().equals(cache.subarray(0, 20))) cachedData = cache.subarray(20);
} catch {
  // no cache: compile from source
}
const script = new Script(Module.wrap(src.toString('utf8')), {
  filename: file,
  cachedData,
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const mod = new Module(file, module);
mod.filename = file;
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, __dirname);
