#!/usr/bin/env node
// Builds one workspace package: bundles src/index.ts (the library) and src/cli.ts (the command)
// into single ESM files under dist/, with koffi kept external (it finds its native part next to
// itself), and copies the native executor next to the bundle when package.json asks for it
// ("runts": { "native": true }).
import { build } from 'esbuild';
import { existsSync, readFileSync, mkdirSync, copyFileSync, chmodSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? process.cwd());
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const out = join(dir, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const entryPoints = {};
for (const name of ['index', 'cli']) {
  const src = join(dir, 'src', `${name}.ts`);
  if (existsSync(src)) entryPoints[name] = src;
}
for (const extra of pkg.runts?.entries ?? []) entryPoints[extra.replace(/^src\//, '').replace(/\.ts$/, '')] = join(dir, extra);

if (Object.keys(entryPoints).length > 0) {
  await build({
    entryPoints,
    outdir: out,
    bundle: true,
    splitting: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    external: ['koffi'],
    minifySyntax: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __runtsCreateRequire } from 'node:module'; const require = __runtsCreateRequire(import.meta.url);",
    },
  });
}

if (pkg.runts?.native) {
  const exe = resolve(dir, '../../native/nsenter/build/runts-init');
  if (!existsSync(exe)) throw new Error(`${exe}: native executor not built (build @runts/nsenter first)`);
  copyFileSync(exe, join(out, 'runts-init'));
  chmodSync(join(out, 'runts-init'), 0o755);
}
