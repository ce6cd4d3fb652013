// Bundles: a directory with a busybox rootfs (a copy of one cached pristine rootfs made by
// tools/make-rootfs) and a config.json from `runc spec`, with terminal false and the overrides.
//
//   const b = await makeBundle({ args: ['/probe.sh'], env: ['A=1'], hostname: 'h', edit(c) { ... } });
//   b.dir, b.rootfs, b.config (the object written), b.write(config), b.cleanup()
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, copyFileSync, existsSync, chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_DIR, MAKE_ROOTFS, RUN_DIR, cleanEnv } from './env.mjs';
import { safeRemove } from './cleanup.mjs';

// E2E_WORK_DIR moves the cached rootfs off the checkout (the guest lane sets it: its checkout is a 9p share).
const WORK = process.env.E2E_WORK_DIR ?? join(E2E_DIR, '.work');
const PRISTINE = join(WORK, 'rootfs');
const PROBE = join(E2E_DIR, 'lib/probe.sh');
let pristineReady = false;
let baseSpec;

/** The cached pristine busybox rootfs (made or refreshed once per process). */
export function pristineRootfs() {
  if (!pristineReady) {
    mkdirSync(WORK, { recursive: true });
    execFileSync('sh', [MAKE_ROOTFS, PRISTINE], { stdio: ['ignore', 'ignore', 'inherit'], env: cleanEnv() });
    pristineReady = true;
  }
  return PRISTINE;
}

/** `runc spec` output (the default config every bundle starts from). */
export function baseConfig() {
  if (!baseSpec) {
    const dir = join(RUN_DIR, `spec-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'config.json'))) execFileSync('runc', ['spec', '--bundle', dir], { env: cleanEnv() });
    baseSpec = readFileSync(join(dir, 'config.json'), 'utf8');
  }
  return JSON.parse(baseSpec);
}

let n = 0;

/**
 * Makes a bundle under the run dir.
 * opts: name, args, env (replaces process.env), cwd, user ({uid,gid,additionalGids,umask}),
 * hostname, readonly (root.readonly), mounts (appended), terminal (default false),
 * rootfsOwner ('uid:gid': chown -R of the rootfs copy, for user namespaces),
 * edit(config, bundle) (any other change; may return a new config).
 */
export async function makeBundle(opts = {}) {
  const dir = join(RUN_DIR, 'bundles', `${opts.name ?? 'b'}-${process.pid}-${++n}`);
  mkdirSync(join(RUN_DIR, 'bundles'), { recursive: true });
  mkdirSync(dir, { mode: 0o755 });
  const rootfs = join(dir, 'rootfs');
  execFileSync('cp', ['-a', pristineRootfs(), rootfs]);
  copyFileSync(PROBE, join(rootfs, 'probe.sh'));
  chmodSync(join(rootfs, 'probe.sh'), 0o755);
  if (opts.rootfsOwner) execFileSync('chown', ['-R', opts.rootfsOwner, rootfs]);

  let c = baseConfig();
  c.process.terminal = opts.terminal ?? false;
  if (opts.args) c.process.args = opts.args;
  if (opts.env) c.process.env = opts.env;
  if (opts.cwd) c.process.cwd = opts.cwd;
  if (opts.user) c.process.user = { ...c.process.user, ...opts.user };
  if (opts.hostname !== undefined) c.hostname = opts.hostname;
  if (opts.readonly !== undefined) c.root.readonly = opts.readonly;
  if (opts.mounts) c.mounts.push(...opts.mounts);
  const bundle = {
    dir,
    rootfs,
    config: c,
    /** Rewrites config.json (the object, or bundle.config when omitted). */
    write(config = bundle.config) {
      bundle.config = config;
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    },
    /** A path in the bundle dir. */
    path(...p) {
      return join(dir, ...p);
    },
    cleanup() {
      safeRemove(dir);
    },
  };
  if (opts.edit) {
    const r = await opts.edit(c, bundle);
    if (r) c = r;
  }
  bundle.write(c);
  return bundle;
}

/** The probe's process.args. */
export const PROBE_ARGS = ['/bin/sh', '/probe.sh'];

export function bundlesLeft() {
  const d = join(RUN_DIR, 'bundles');
  return existsSync(d) ? readdirSync(d) : [];
}
