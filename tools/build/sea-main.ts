// The main script of the single executable runts (dist/runts, made by sea.mjs): a Node single
// executable application carrying, as assets, the same command bundles as packages/runts/dist
// (cli.cjs, verb-<verb>.cjs, lazy-<name>.cjs, dbus-native.cjs; one asset) with V8 code caches made by its own Node, the native
// executor and koffi's native part, so that it runs on a host without Node and with no file
// beside it. (sea-hooks.ts says how the executor and koffi get out of the executable.)
// The start is launch.cjs's, bundled in: it picks the verb's bundle from argv, checks its cache
// (made eagerly, as for Node: every function compiled) and runs it; only where the bundles come
// from differs, set here.
import { getRawAsset } from 'node:sea';
import type ModuleType from 'node:module';
import { installHooks } from './sea-hooks.ts';
import { loadSpawner } from '../../native/nsenter/src/index.ts';

installHooks();

// the CJS loader's Module (node:module itself also loads the ESM loader and source maps, as in
// launch.cjs); this file is bundled as CommonJS, where `module` is its own Module
declare const module: { constructor: typeof ModuleType };
const Module = module.constructor;

// The bundles and their caches: one asset (sea.mjs: a 4-byte length, a JSON index of name ->
// [offset, length], the files), read in place (getRawAsset: no copy)
const pack = Buffer.from(getRawAsset('bundles') as ArrayBuffer);
let index: Record<string, [number, number]>;
try {
  index = JSON.parse(pack.toString('latin1', 4, 4 + pack.readUInt32LE(0))) as Record<string, [number, number]>;
  if (typeof index !== 'object' || index === null) throw new Error('not an index');
} catch (err) {
  // a damaged executable: say so in runc's form (a damaged cache alone is only not used)
  const msg = `${process.execPath}: the index of its command bundles is damaged (${(err as Error).message}): reinstall it`;
  process.stderr.write(`time="${new Date().toISOString().slice(0, 19)}Z" level=error msg="${msg.replace(/[\\"]/g, '\\$&')}"\n`);
  process.exit(1);
}
const has = (name: string): boolean => Object.hasOwn(index, name);
const asset = (name: string): Buffer => {
  if (!has(name)) throw new Error(`${name}: not in the executable`);
  const [at, length] = index[name]!;
  return pack.subarray(at, at + length);
};
/** The bundles' require for Node's builtins and koffi (sea-hooks); what a bundle loads lazily (the
 *  D-Bus client of the systemd driver, `./dbus-native.cjs`, and the chunks, `./lazy-<name>.cjs`)
 *  launch.cjs's moduleRequire compiles from the assets, with their caches. */
const base = Module.createRequire(process.execPath);

(globalThis as Record<symbol, unknown>)[Symbol.for('runts.bundles')] = {
  exists: has,
  read: asset,
  // import.meta.url of every bundle is the executable itself, as before
  filename: () => process.execPath,
  require: () => base,
  parent: undefined,
  Module,
  // runts-spawn.node, for launch.cjs: the caches' checksum, the bundles' text read in place and
  // the fast end, in every verb
  spawner: loadSpawner,
};

require('./launch.cjs');
