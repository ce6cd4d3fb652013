#!/usr/bin/env node
// Runs the e2e suite: every tests/*.test.mjs, serially (--test-concurrency=1), as root, with the
// leak check (tests/99-leaks.test.mjs) last; exits non-zero on any failure. node:test's own output
// (and its summary lines) goes straight to stdout.
//
//   node e2e/run.mjs                      # the runtime under test: E2E_RUNTIME (runc | runts | oci),
//                                         # default runts when packages/runts/dist/cli.js exists, else runc
//   E2E_RUNTIME=runc node e2e/run.mjs     # the known-good baseline
//   E2E_RUNTIME=sea node e2e/run.mjs      # runts as dist/runts, the single executable
//   E2E_NODE=$(node tools/build/node.mjs 24) node e2e/run.mjs   # runts and oci-* on another Node
//   node e2e/run.mjs tests/04-exec.test.mjs [--test-name-pattern=...]   # some files (+ the leak check)
//
// Before the run it removes what earlier, interrupted runs left (their run dirs, containers,
// mounts, cgroups, netns); after the run it removes everything of this run, whatever happened.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUN_DIR, TAG, PREFIX, RUN_DIR_PREFIX, E2E_DIR, cleanEnv, defaultRuntimeName } from './lib/env.mjs';
import { sweep, staleRunDirs } from './lib/cleanup.mjs';

if (process.getuid() !== 0) {
  console.error('e2e: must run as root (real containers)');
  process.exit(1);
}
writeFileSync(join(RUN_DIR, 'owner.pid'), String(process.pid));

// Leftovers of earlier runs whose runner is gone.
const stale = staleRunDirs(RUN_DIR_PREFIX).filter((d) => d !== RUN_DIR);
const liveOthers = readdirSync('/tmp').filter((e) => ('/tmp/' + e).startsWith(RUN_DIR_PREFIX) && '/tmp/' + e !== RUN_DIR && !stale.includes('/tmp/' + e));
const before = sweep({ runDirs: stale, idPrefix: liveOthers.length ? `${PREFIX}\0none` : PREFIX });
if (before.length) console.error(`e2e: removed leftovers of earlier runs:\n  ${before.join('\n  ')}`);

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('-'));
const LEAKS = join(E2E_DIR, 'tests/99-leaks.test.mjs');
let files = args.filter((a) => !a.startsWith('-')).map((f) => resolve(f));
if (files.length === 0) {
  files = readdirSync(join(E2E_DIR, 'tests'))
    .filter((f) => f.endsWith('.test.mjs'))
    .sort()
    .map((f) => join(E2E_DIR, 'tests', f));
}
files = [...files.filter((f) => f !== LEAKS), LEAKS];

console.log(`# e2e: runtime ${defaultRuntimeName()} (E2E_RUNTIME=${process.env.E2E_RUNTIME ?? ''}), Node ${process.env.E2E_NODE || process.execPath}, run dir ${RUN_DIR}, tag ${TAG}`);
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', ...flags, ...files], {
  stdio: 'inherit',
  cwd: E2E_DIR,
  // the tests run without NODE_EXTRA_CA_CERTS (cleanEnv); npm, in the tests that install with it,
  // needs it to reach a registry behind this environment's CA (40-installed: koffi, cache cold)
  env: cleanEnv({ E2E_RUN_DIR: RUN_DIR, E2E_TAG: TAG, ...(process.env.NODE_EXTRA_CA_CERTS ? { E2E_NPM_CA: process.env.NODE_EXTRA_CA_CERTS } : {}) }),
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    interrupted = true;
    child.kill(sig);
  });
}
const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? (s ? 1 : 0))));

const after = sweep({ runDirs: [RUN_DIR], idPrefix: `${PREFIX}${TAG}-` });
const leftovers = after.filter((l) => !l.startsWith('mount ') || existsSync(RUN_DIR));
if (leftovers.length) console.error(`e2e: removed leftovers of this run:\n  ${leftovers.join('\n  ')}`);
process.exit(code !== 0 || interrupted ? code || 1 : leftovers.length ? 1 : 0);
