#!/usr/bin/env node
// Runs the guest tests: IN THE GUEST (a Debian 12 with systemd on pure cgroup v2, booted by
// tools/guest/run.sh), as root. Every e2e/guest/*.test.mjs runs as root through e2e/run.mjs (so
// with its cleanup sweep and the leak check last); then every e2e/guest/*.rootless.test.mjs runs
// as the unprivileged user `rootless` (tools/guest/as-rootless.sh: its user systemd, a delegated
// unit, its session bus); then, in a whole run (or with E2E_GUEST_SEA=1), the files that need
// this host's systemd and pure v2 run once more through the single executable (dist/runts, when
// built). Exits non-zero when any file fails, or when there is nothing to run.
//
//   pnpm test:guest                                   # from the host: boots the guest, runs this
//   tools/guest/run.sh node e2e/guest/run.mjs [FILE...] [--test-name-pattern=...]
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

if (process.getuid() !== 0) {
  console.error('e2e/guest: must run as root in the guest (pnpm test:guest boots it)');
  process.exit(1);
}
if (!existsSync('/sys/fs/cgroup/cgroup.controllers') || !existsSync('/run/systemd/system')) {
  console.error('e2e/guest: this host is not pure cgroup v2 with systemd; run the guest tests in the guest: pnpm test:guest');
  process.exit(1);
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('-'));
let files = args.filter((a) => !a.startsWith('-')).map((f) => resolve(f));
const all = files.length === 0 || process.env.E2E_GUEST_SEA === '1';
if (files.length === 0) files = readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(HERE, f));
const rootless = files.filter((f) => f.endsWith('.rootless.test.mjs'));
const root = files.filter((f) => !f.endsWith('.rootless.test.mjs'));
if (files.length === 0) {
  console.error('e2e/guest: no test files');
  process.exit(1);
}

// Per test and per file (node:test times a whole file too): under TCG Node is ~15x slower than on
// the host, and the host's 180 s is too short for a file of the host suite.
const TIMEOUT = '--test-timeout=600000';
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const results = [];
function step(name, argv, extra = {}) {
  const t0 = Date.now();
  console.log(`# e2e/guest: ${name}`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: REPO, env: { ...env, ...extra } });
  const code = r.status ?? 1;
  results.push(`${name}: ${code === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return code;
}

console.log(`# e2e/guest: kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, node ${process.version}, ${root.length} root + ${rootless.length} rootless file(s)`);
let failed = 0;
if (root.length) failed += step(`as root: ${root.map((f) => basename(f)).join(' ')}`, [process.execPath, join(REPO, 'e2e/run.mjs'), TIMEOUT, ...flags, ...root]) ? 1 : 0;
if (rootless.length) {
  failed += step(`as rootless: ${rootless.map((f) => basename(f)).join(' ')}`, [
    'sh', join(REPO, 'tools/guest/as-rootless.sh'),
    process.execPath, '--test', '--test-concurrency=1', TIMEOUT, ...flags, ...rootless,
  ]) ? 1 : 0;
}
// The single executable (dist/runts, Node's LTS inside) on this host too, for what only a
// systemd and pure cgroup v2 host has: the systemd driver (its D-Bus client is an asset, loaded
// only there) and the v2 cgroupfs files. Only in a whole run, and only where it is built.
const SEA_FILES = ['10-cgroupfs-v2.test.mjs', '30-systemd-driver.test.mjs'];
const seaRoot = root.filter((f) => SEA_FILES.includes(basename(f)));
if (all && seaRoot.length && existsSync(join(REPO, 'dist/runts'))) {
  failed += step(`as root, the single executable: ${seaRoot.map((f) => basename(f)).join(' ')}`, [process.execPath, join(REPO, 'e2e/run.mjs'), TIMEOUT, ...flags, ...seaRoot], { E2E_RUNTIME: 'sea' }) ? 1 : 0;
}
console.log(`# e2e/guest: summary\n#   ${results.join('\n#   ')}`);
process.exit(failed ? 1 : 0);
