#!/usr/bin/env node
// Builds one workspace package: bundles src/index.ts (the library) and src/cli.ts (the command)
// into single files under dist/, with koffi kept external (it finds its native part next to
// itself), and copies the native executor next to the bundle when package.json asks for it
// ("runts": { "native": true }).
// The library entries are ESM (dist/index.js, dist/command.js, ...). The command of a package with
// a `bin` is CommonJS (dist/cli.cjs), started by dist/launch.cjs with a V8 code cache made here
// (dist/cli.cjs.cache): the ESM loader and compiling the bundle cost ~10 ms of every command.
// dist/cli.js stays as an ESM alias of the command for scripts that run it by that name.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, chmodSync, rmSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const dir = resolve(process.argv[2] ?? process.cwd());
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
// Built into dist.new, which then replaces dist: a command run meanwhile (e2e, a benchmark) sees
// the old build or the new one, never a half-made one.
const final = join(dir, 'dist');
const out = join(dir, 'dist.new');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const entryPoints = {};
const command = pkg.bin && existsSync(join(dir, 'src', 'cli.ts')) ? join(dir, 'src', 'cli.ts') : undefined;
for (const name of command ? ['index'] : ['index', 'cli']) {
  const src = join(dir, 'src', `${name}.ts`);
  if (existsSync(src)) entryPoints[name] = src;
}
for (const extra of pkg.runts?.entries ?? []) entryPoints[extra.replace(/^src\//, '').replace(/\.ts$/, '')] = join(dir, extra);

// Heavy dependencies loaded only on one path (the D-Bus client of the systemd cgroup driver) are
// not bundled into the commands: `import('dbus-native')` becomes `./dbus-native.cjs` next to the
// bundle, built here on its own, so a command that never takes that path neither reads nor
// compiles it.
const LAZY = { 'dbus-native': 'dbus-native.cjs' };
const lazyUsed = new Set();
const lazyPlugin = {
  name: 'runts-lazy',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(LAZY).join('|')})$`) }, (args) => {
      lazyUsed.add(args.path);
      return { path: `./${LAZY[args.path]}`, external: true };
    });
  },
};

// In a command bundle, a dynamic import() of a workspace package (start's `import('@runts/delete')`,
// taken only when a poststart hook fails) is a chunk of its own, ./lazy-<name>.cjs beside the
// bundle, bundled here as CommonJS: the verb's bundle and its eager code cache (codecache.cjs)
// then hold only what every run needs (start's went from 86 to 54 KB, its cache from 168 to 102
// KB: start −1.2 ms wall and CPU). A chunk has its own copies of the modules it shares with the
// bundle; what those keep for the whole process (the log settings, the output state) lives on
// globalThis, and a RuntimeError is recognized across copies (@runts/core). A chunk is compiled
// without a cache, when its path is taken.
const chunks = new Map(); // chunk file -> resolved entry
const chunkPlugin = {
  name: 'runts-chunks',
  setup(b) {
    b.onResolve({ filter: /^@runts\// }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData?.chunk) return undefined;
      const r = await b.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir, pluginData: { chunk: true } });
      if (r.errors.length > 0) return { errors: r.errors };
      const file = `lazy-${args.path.slice('@runts/'.length).replace(/[^a-z0-9]+/g, '-')}.cjs`;
      if (chunks.has(file) && chunks.get(file) !== r.path) throw new Error(`${file}: two modules would be this chunk`);
      chunks.set(file, r.path);
      return { path: `./${file}`, external: true };
    });
  },
};

const common = {
  plugins: [lazyPlugin],
  bundle: true,
  splitting: false,
  platform: 'node',
  target: 'node20',
  conditions: ['source'],
  external: ['koffi'],
  minifySyntax: true,
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning',
};

// More command bundles (package.json "runts": { "commands": { "verb-create": "src/verbs/create.ts" } }):
// launch.cjs starts dist/<name>.cjs instead of cli.cjs when argv names one (runts <verb>).
const commands = command ? { cli: command } : {};
for (const [name, src] of Object.entries(pkg.runts?.commands ?? {})) commands[name] = join(dir, src);

/** The options of a CommonJS command bundle (a verb's, or a chunk's). */
const cjs = {
  ...common,
  plugins: [lazyPlugin, chunkPlugin],
  outdir: out,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // import() of a lazy external (./dbus-native.cjs, a chunk) becomes require(): launch.cjs runs the
  // bundle as a vm.Script, where a real import() has no loader on every Node
  supported: { 'dynamic-import': false },
  // import.meta.dirname (the executor is found next to the bundle) and .url without the ESM
  // loader, the URL computed only when asked
  define: { 'import.meta': '__runtsImportMeta' },
  banner: {
    js: "var __runtsImportMeta = { dirname: __dirname, filename: __filename, get url() { return require('node:url').pathToFileURL(__filename).href; } };",
  },
};

if (command) {
  await build({ ...cjs, entryPoints: commands });
  // the chunks, and the chunks of chunks
  for (const built = new Set(); built.size < chunks.size; ) {
    for (const [file, entry] of [...chunks]) {
      if (built.has(file)) continue;
      built.add(file);
      await build({ ...cjs, entryPoints: { [file.slice(0, -'.cjs'.length)]: entry } });
    }
  }
  // the package's bin itself (package.json's `bin` names it): Node starts it as its main script, with
  // no bin/*.js to load it first (a second module load, its path resolved and made real: ~0.3-0.5 ms
  // of every command); .cjs: CommonJS without a package.json type lookup
  copyFileSync(join(import.meta.dirname, 'launch.cjs'), join(out, 'launch.cjs'));
  chmodSync(join(out, 'launch.cjs'), 0o755);
  // shipped for the package's npm postinstall (`codecache.cjs --postinstall`): an installing Node
  // other than this one makes the caches again for itself
  copyFileSync(join(import.meta.dirname, 'codecache.cjs'), join(out, 'codecache.cjs'));
  writeFileSync(join(out, 'cli.js'), "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./launch.cjs');\n");
  for (const name of Object.keys(commands)) codeCache(name);
}

/** dist/<name>.cjs.cache: the V8 code cache of a command bundle or of a module it loads (codecache.cjs) */
function codeCache(name) {
  const cache = spawnSync(process.execPath, [join(import.meta.dirname, 'codecache.cjs'), out, final, name], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (cache.status !== 0) throw new Error(`${out}/${name}.cjs.cache: code cache not made (exit ${cache.status})`);
}

if (Object.keys(entryPoints).length > 0) {
  await build({
    ...common,
    entryPoints,
    outdir: out,
    format: 'esm',
    banner: {
      js: "import { createRequire as __runtsCreateRequire } from 'node:module'; const require = __runtsCreateRequire(import.meta.url);",
    },
  });
}

// Node's builtins that the D-Bus client requires at its top level but calls only on paths the
// systemd driver does not take (a bus it autolaunches, cookie authentication, a server): each is
// a stand-in that requires the builtin at its first call. At load they cost ~4 ms (Node 20: crypto,
// child_process with dgram, assert). Every function of the builtin, as this Node has it, stands in
// (called or constructed); any other export is a getter that loads it.
const LAZY_BUILTINS = ['assert', 'child_process', 'crypto'];
const lazyBuiltinsPlugin = {
  name: 'runts-lazy-builtins',
  setup(b) {
    // (the stand-in's own require of the builtin is left to Node)
    b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`) }, (args) =>
      args.namespace === 'runts-lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'runts-lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'runts-lazy-builtin' }, async (args) => {
      const real = createRequire(import.meta.url)(`node:${args.path}`);
      const lines = [
        `let real;`,
        `const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));`,
        `const call = (get) => function (...a) { const f = get(); return new.target ? Reflect.construct(f, a, new.target) : f.apply(this, a); };`,
        typeof real === 'function' ? `module.exports = call(() => load());` : `module.exports = {};`,
      ];
      for (const k of Object.keys(real)) {
        const key = JSON.stringify(k);
        if (typeof real[k] === 'function') lines.push(`module.exports[${key}] = call(() => load()[${key}]);`);
        else lines.push(`Object.defineProperty(module.exports, ${key}, { enumerable: true, get: () => load()[${key}] });`);
      }
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

for (const name of lazyUsed) {
  // resolved from the package that depends on it (pnpm: not hoisted)
  const owner = resolve(import.meta.dirname, '../../packages/cgroups/package.json');
  await build({
    entryPoints: [createRequire(owner).resolve(name)],
    outfile: join(out, LAZY[name]),
    plugins: [lazyBuiltinsPlugin],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

// the chunks and the D-Bus client, loaded by launch.cjs's moduleRequire with caches of their own
// (the D-Bus client's compile: ~5 ms without one, ~2.5 with it, read and checked)
if (command) {
  for (const file of [...chunks.keys(), ...[...lazyUsed].map((n) => LAZY[n])]) codeCache(file.slice(0, -'.cjs'.length));
}

if (pkg.runts?.native) {
  const exe = resolve(dir, '../../native/nsenter/build/runts-init');
  if (!existsSync(exe)) throw new Error(`${exe}: native executor not built (build @runts/nsenter first)`);
  copyFileSync(exe, join(out, 'runts-init'));
  chmodSync(join(out, 'runts-init'), 0o755);
  // the addon that starts it (native/nsenter/src/spawn.c): loaded with process.dlopen, no exec bit needed
  const spawner = resolve(dir, '../../native/nsenter/build/runts-spawn.node');
  if (!existsSync(spawner)) throw new Error(`${spawner}: runts-spawn.node not built (build @runts/nsenter first)`);
  copyFileSync(spawner, join(out, 'runts-spawn.node'));
  // launch.cjs checks the code caches with the addon's checksum (not WebAssembly) when the file
  // beside it has this size
  const launch = join(out, 'launch.cjs');
  if (existsSync(launch)) {
    const text = readFileSync(launch, 'utf8');
    const sized = text.replace(/^const SPAWNER_SIZE = 0;$/m, `const SPAWNER_SIZE = ${statSync(spawner).size};`);
    if (sized === text) throw new Error(`${launch}: no SPAWNER_SIZE line to set`);
    writeFileSync(launch, sized);
  }
}

rmSync(final, { recursive: true, force: true });
renameSync(out, final);
