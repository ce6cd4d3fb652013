#!/usr/bin/env node
// A Node.js binary of a given major version from the npm registry (the platform package
// node-linux-<arch>, which the registry's `node` package installs), cached under
// ~/.cache/runts/node/<version>/; prints the path of its bin/node.
//
//   node tools/build/node.mjs 24        # newest 24.x
//   node tools/build/node.mjs lts       # the current LTS line (LTS below)
//   node tools/build/node.mjs 20.19.0   # an exact version
//
// npm does the fetching (its proxy, CA and cache settings apply); nothing runs from the package.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, mkdtempSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Active LTS line: Node 26 entered LTS in October 2026 (24 is in maintenance until 2028).
 *  Change it when the next even release enters LTS (each October). */
export const LTS = '26';

const npm = (args, opts = {}) => execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });

export function nodeBinary(want) {
  const spec = want === 'lts' ? LTS : want;
  const arch = { x64: 'x64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' }[process.arch];
  if (!arch) throw new Error(`no node binary package for ${process.arch}`);
  const pkg = `node-linux-${arch}`;
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'runts', 'node');
  let version = /^\d+\.\d+\.\d+$/.test(spec) ? spec : undefined;
  // a major already fetched: its newest copy here, without asking the registry (RUNTS_NODE_REFRESH=1 asks)
  if (!version && /^\d+$/.test(spec) && !process.env.RUNTS_NODE_REFRESH && existsSync(cache)) {
    const have = readdirSync(cache).filter((v) => v.startsWith(`${spec}.`) && existsSync(join(cache, v, 'bin', 'node')));
    version = have.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  }
  if (!version) {
    const list = JSON.parse(npm(['view', `${pkg}@${spec}`, 'version', '--json']));
    version = [list].flat().at(-1);
  }
  const bin = join(cache, version, 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, `.${version}-`));
  try {
    const tgz = npm(['pack', `${pkg}@${version}`, '--silent'], { cwd: tmp }).trim().split('\n').at(-1);
    execFileSync('tar', ['xzf', tgz, '-C', tmp], { cwd: tmp });
    rmSync(join(cache, version), { recursive: true, force: true });
    renameSync(join(tmp, 'package'), join(cache, version));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`${pkg}@${version}: no bin/node in the package`);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const want = process.argv[2];
  if (!want) {
    console.error('usage: node tools/build/node.mjs <major | x.y.z | lts>');
    process.exit(2);
  }
  console.log(nodeBinary(want));
}
