#!/usr/bin/env node
// Scaffolds a package in the one shape every runts package has:
//   node tools/build/new-package.mjs <dir> [--bin oci-x] [--native]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';

const args = process.argv.slice(2);
const dir = args[0];
const bin = args.includes('--bin') ? args[args.indexOf('--bin') + 1] : undefined;
const native = args.includes('--native');
const name = basename(dir);
const pkgName = name === 'runts' ? 'runts' : `@runts/${name}`;
mkdirSync(join(dir, 'src'), { recursive: true });
const pkg = {
  name: pkgName,
  version: '0.1.0',
  description: '',
  license: 'Apache-2.0',
  type: 'module',
  engines: { node: '>=20.19' },
  exports: { '.': { source: './src/index.ts', types: './src/index.ts', default: './dist/index.js' } },
  ...(bin ? { bin: { [bin]: `./bin/${bin}.js` } } : {}),
  // the packed package's bin is dist/launch.cjs itself (build.mjs gives it its shebang and exec
  // bit): Node starts it as the main script, with no bin/*.js to resolve and load first; the
  // workspace keeps bin/ (pnpm links a bin at install, before dist/ is built)
  ...(bin ? { publishConfig: { bin: { [bin]: './dist/launch.cjs' } } } : {}),
  files: ['dist', 'bin', 'src', '!src/**/*.test.ts', 'README.md'],
  ...(native ? { runts: { native: true } } : {}),
  scripts: {
    build: 'node ../../tools/build/build.mjs',
    typecheck: 'tsc -p tsconfig.json',
    test: "node ../../tools/build/test.mjs",
    // the installing Node makes the code caches again when it is not the build's (codecache.cjs)
    ...(bin ? { postinstall: 'test ! -f dist/codecache.cjs || "${npm_node_execpath:-node}" dist/codecache.cjs --postinstall' } : {}),
  },
  dependencies: {},
  devDependencies: {},
};
if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'] }, null, 2) + '\n');
if (bin) {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  // CommonJS (bin/package.json): no ESM loader at start; launch.cjs runs the bundled dist/cli.cjs
  writeFileSync(join(dir, 'bin', `${bin}.js`), `#!/usr/bin/env node\nrequire('../dist/launch.cjs');\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'package.json'), '{ "type": "commonjs" }\n');
}
