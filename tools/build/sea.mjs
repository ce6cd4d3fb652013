#!/usr/bin/env node
// Builds dist/runts: runts as one executable file (a Node single executable application) for
// hosts without Node: the node binary of the current LTS (node.mjs; RUNTS_SEA_NODE=<path> for
// another) with sea-main.ts bundled (it starts as launch.cjs does), and as assets: the command
// bundles of packages/runts/dist with eager V8 code caches made here by that Node (codecache.cjs),
// the native executor and koffi's native part. Run by `pnpm build` after the packages are built.
//
//   node tools/build/sea.mjs [--out dist/runts]
//
// Node >= 25.5 builds the executable itself (`node --build-sea`); older ones get the blob
// injected with postject (npm registry), which must then be installed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { nodeBinary } from './node.mjs';
import { copyInPieces } from './pieces.mjs';

const REPO = resolve(import.meta.dirname, '../..');
const outArg = process.argv.indexOf('--out');
// --snapshot: a V8 startup snapshot of every command module instead of a code cache (sea-snapshot.ts)
const snapshot = process.argv.includes('--snapshot');
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(REPO, 'dist/runts'));
const work = join(dirname(out), '.sea');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const node = process.env.RUNTS_SEA_NODE || nodeBinary('lts');
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const [major, minor] = version.slice(1).split('.').map(Number);

await build({
  entryPoints: [join(import.meta.dirname, snapshot ? 'sea-snapshot.ts' : 'sea-main.ts')],
  outfile: join(work, 'main.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${major}`,
  conditions: ['source'],
  external: ['koffi'],
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // import.meta.url: the executable's own path (nothing is looked up beside it: the executor and
  // koffi come from the assets)
  define: { 'import.meta': '__runtsImportMeta' },
  banner: { js: "var __runtsImportMeta = { get dirname() { return require('node:path').dirname(process.execPath); }, filename: process.execPath, get url() { return require('node:url').pathToFileURL(process.execPath).href; } };" },
});

const exe = join(REPO, 'native/nsenter/build/runts-init');
if (!existsSync(exe)) throw new Error(`${exe}: native executor not built`);
const spawner = join(REPO, 'native/nsenter/build/runts-spawn.node');
if (!existsSync(spawner)) throw new Error(`${spawner}: runts-spawn.node not built`);
const koffiDir = dirname(createRequire(join(REPO, 'packages/seccomp/package.json')).resolve('koffi/package.json'));
const triplet = `linux_${process.arch}`;
const koffiNode = join(koffiDir, 'build/koffi', triplet, 'koffi.node');
if (!existsSync(koffiNode)) throw new Error(`${koffiNode}: koffi has no native part for ${triplet}`);

// The command bundles, as packages/runts/dist has them (without their build tag: codecache.cjs
// adds it again with a cache for the executable's Node)
const dist = join(REPO, 'packages/runts/dist');
const bundles = snapshot ? [] : readdirSync(dist).filter((f) => /^(cli|verb-[a-z]+|lazy-[a-z0-9-]+|dbus-native)\.cjs$/.test(f)).sort();
if (!snapshot && !bundles.includes('cli.cjs')) throw new Error(`${dist}: runts not built (pnpm build first)`);
const codecache = join(import.meta.dirname, 'codecache.cjs');
// Node's options for every start of the executable (sea-config's execArgv; a Node that does not
// read it ignores it). A command's heap is a few MB and lives ~50 ms:
// - single-threaded GC and one V8 worker thread: on Node 26 the parallel and concurrent GC cost
//   more than they save, more so on a host's 2 CPUs shared with the container being made
//   (alternating A/B, 40-80 runs each on this 2-CPU VM: state -2.3 to -3.4 ms wall and -3 ms CPU,
//   create -3.3 ms wall and -6 ms CPU, run -5.2 ms wall and -4 ms CPU; `node -e 0` -0.7 ms);
// - a young generation of 3 MB from the start (V8's first is 1 MB): a create or run allocates
//   ~1.3 MB there, so the 1 MB one took a scavenge, whose to-space pages then counted in the peak
//   RSS (A/B after the two above: create -3 ms wall, -3 ms CPU, -1.15 MB peak RSS; with a seccomp
//   profile -4.7 ms, -4.4 ms CPU; run -3 ms, -3.6 ms CPU, -1.2 MB; state and exec unchanged).
// None of them is in V8's flag hash, so the caches made below (with the same flags) and Node's
// own cache of main.cjs are accepted (e2e 42 checks every command's is used). Node 20 through the
// npm bin has no such lever (a `#!/usr/bin/env node` bin takes no flags; v8.setFlagsFromString at
// start cost more than it saved).
const execArgv = ['--single-threaded-gc', '--v8-pool-size=1', '--min-semi-space-size=3'];

// Unchanged inputs (bundles, Node, assets): the executable already made is kept (writing ~150 MB
// costs seconds of every build).
const stamp = createHash('sha256');
for (const f of [join(work, 'main.cjs'), node, exe, spawner, koffiNode, codecache, ...bundles.map((b) => join(dist, b))]) stamp.update(readFileSync(f));
stamp.update(JSON.stringify(execArgv));
const id = stamp.digest('hex');
const stampFile = `${out}.stamp`;
if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === id) {
  rmSync(work, { recursive: true, force: true });
  console.log(`${out}: up to date (Node ${version})`);
  process.exit(0);
}
const env = { ...process.env, NODE_OPTIONS: '' };
delete env.NODE_EXTRA_CA_CERTS;
const assets = { 'runts-init': exe, 'runts-spawn.node': spawner, 'koffi.node': koffiNode };
// The bundles and their caches are one asset, 'bundles' (sea-main.ts reads it): a 4-byte length,
// a JSON index of name -> [offset, length], then the files, each bundle beside its cache. Node
// reads the header of every asset when it starts, and each read faults in the 64 KB of the
// executable around it (the kernel's fault-around): as ~40 assets, they cost every command
// ~2.5 MB of peak RSS (RssFile), 3.1 MB of the executable's assets resident for `runts state`.
const packed = [];
for (const b of bundles) {
  writeFileSync(join(work, b), readFileSync(join(dist, b), 'utf8').replace(/\/\/# runtsBuild=[0-9a-f]{40}\n$/, ''));
  // the modules loaded on one path only (the systemd driver's D-Bus client, a chunk) have caches
  // of their own too (launch.cjs's moduleRequire)
  const name = b.slice(0, -'.cjs'.length);
  execFileSync(node, [...execArgv, codecache, work, work, name], { stdio: ['ignore', 'ignore', 'inherit'], env });
  packed.push(b, `${b}.cache`);
}
if (!snapshot) {
  const index = {};
  const parts = packed.map((f) => readFileSync(join(work, f)));
  // the files start after the index, whose length depends on their offsets: until it holds still
  for (let start = 4, again = true; again; ) {
    let at = start;
    packed.forEach((f, i) => {
      index[f] = [at, parts[i].length];
      at += parts[i].length;
    });
    const next = 4 + Buffer.byteLength(JSON.stringify(index));
    again = next !== start;
    start = next;
  }
  const json = Buffer.from(JSON.stringify(index));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const pack = Buffer.concat([len, json, ...parts]);
  writeFileSync(join(work, 'bundles.pack'), pack);
  assets.bundles = join(work, 'bundles.pack');
}
const tmp = `${out}.tmp`;
const config = {
  main: join(work, 'main.cjs'),
  output: tmp,
  disableExperimentalSEAWarning: true,
  useCodeCache: !snapshot,
  useSnapshot: snapshot,
  execArgv,
  assets,
};
if (major > 25 || (major === 25 && minor >= 5)) {
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify({ ...config, executable: node }));
  execFileSync(node, ['--build-sea', join(work, 'sea-config.json')], { stdio: 'inherit', env });
} else {
  const blob = join(work, 'sea.blob');
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify({ ...config, output: blob }));
  execFileSync(node, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'inherit', env });
  copyFileSync(node, tmp);
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  execFileSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: 'inherit', env });
}
// Written again in 64 KiB pieces, as `install`, cp or a download write it: node --build-sea (and
// postject) write it at once, and Linux then keeps it in the page cache as 2 MB folios (ext4's large
// folios) that a process maps whole: each run counted ~35 MB more of the binary in its peak RSS
// (RssFile: `runts --version` 88 MB, the same file written in pieces 54 MB) until the cache is dropped.
const pieces = copyInPieces(tmp, `${out}.pieces`);
rmSync(tmp);
renameSync(pieces, out);
writeFileSync(stampFile, id);
rmSync(work, { recursive: true, force: true });
console.log(`${out}: runts on Node ${version}, single executable`);
