'use strict';
// Build step: writes dist/cli.cjs.cache for launch.cjs: the sha1 of cli.cjs, then V8's code cache
// of it, taken after a harmless run of the command (`--version`), so that the functions every
// invocation needs (argument parsing, the CLI plumbing) are in it, not only the top level.
// usage: node codecache.cjs <dist dir>   (run by build.mjs, with the Node that will run runts)
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { Script, constants } = require('node:vm');
const { createHash } = require('node:crypto');
const Module = require('node:module');

const dir = require('node:path').resolve(process.argv[2]);
const file = dir + '/cli.cjs';
const src = readFileSync(file);
// Same wrapper and options as launch.cjs: the cache is only valid for the same source string.
const script = new Script(Module.wrap(src.toString('utf8')), { filename: file, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
const out = [];
process.stdout.write = (c) => (out.push(String(c)), true);
process.argv = [process.argv[0], file, '--version'];
const mod = new Module(file, module);
mod.filename = file;
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dir);
process.on('exit', () => {
  const tmp = `${file}.cache.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([createHash('sha1').update(src).digest(), script.createCachedData()]), { mode: 0o644 });
  renameSync(tmp, file + '.cache');
});
