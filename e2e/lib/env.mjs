// Shared paths and per-run settings for the e2e suite.
//
// A run has one directory (E2E_RUN_DIR, made by run.mjs; a test file run on its own makes its
// own) holding bundles, state roots and captured output, and one tag (E2E_TAG) that prefixes
// every container id, netns and cgroup the run makes, so that the leak check and the cleanup
// sweep can find exactly what this suite made.
import { existsSync, mkdtempSync, mkdirSync, chmodSync, writeFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export const E2E_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO = dirname(E2E_DIR);
export const MAKE_ROOTFS = join(REPO, 'tools/make-rootfs/make-rootfs.sh');
/** Everything this suite names starts with this: ids, netns, cgroups, tmp dirs. */
export const PREFIX = 'rte2e-';
export const RUN_DIR_PREFIX = '/tmp/runts-e2e-';

if (!process.env.E2E_TAG) process.env.E2E_TAG = randomBytes(3).toString('hex');
export const TAG = process.env.E2E_TAG;

let runDir = process.env.E2E_RUN_DIR;
/** True when this process made the run dir itself (a test file run on its own). */
export const OWN_RUN_DIR = !runDir;
if (!runDir) {
  runDir = mkdtempSync(RUN_DIR_PREFIX);
  process.env.E2E_RUN_DIR = runDir;
  writeFileSync(`${runDir}/owner.pid`, String(process.pid));
  // A test file run on its own removes its run dir at exit (its tests delete their containers).
  process.on('exit', () => {
    cleanupOwnRunDir?.(runDir);
  });
}
// Traversable by everyone: a container with a user namespace reaches its rootfs as a mapped uid.
mkdirSync(runDir, { recursive: true });
chmodSync(runDir, 0o755);
export const RUN_DIR = runDir;

/** The runtime under test: E2E_RUNTIME, else runts when it is built, else runc. */
export function defaultRuntimeName() {
  const env = process.env.E2E_RUNTIME;
  if (env) {
    if (!['runc', 'runts', 'oci', 'sea'].includes(env)) throw new Error(`E2E_RUNTIME=${env}: expected runc, runts, oci or sea`);
    return env === 'sea' ? 'runts' : env; // sea: runts as the single executable (runtime.mjs)
  }
  return existsSync(join(REPO, 'packages/runts/dist/cli.js')) ? 'runts' : 'runc';
}

let seq = 0;
/** A fresh container id for this run: rte2e-<tag>-<name>-<n>. */
export function newId(name = 'c') {
  seq += 1;
  return `${PREFIX}${TAG}-${name}-${process.pid % 100000}-${seq}`;
}

/** The environment for every process the suite spawns. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT; // node:test's, would confuse a node child
  if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return env;
}

let cleanupOwnRunDir;
/** Set by cleanup.mjs (avoids an import cycle at load time). */
export function setRunDirRemover(fn) {
  cleanupOwnRunDir = fn;
}

/** The Node binaries at hand: this one, E2E_NODE, and those tools/build/node.mjs fetched. */
export function nodesAtHand() {
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'runts', 'node');
  const fetched = existsSync(cache) ? readdirSync(cache).filter((v) => /^\d/.test(v)).map((v) => join(cache, v, 'bin/node')) : [];
  return [...new Set([process.execPath, process.env.E2E_NODE || process.execPath, ...fetched])].filter((n) => existsSync(n));
}

/** `node --version` of a Node binary. */
export const nodeVersion = (node) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
