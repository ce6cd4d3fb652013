// Installed as a user installs them: each command's package packed (pnpm pack) and installed alone
// into a fresh prefix with npm (`npm install -g --prefix P`, koffi from npm's cache or the
// registry), then run on real containers, with and without a seccomp profile (koffi and
// libseccomp). npm normalizes file modes, so the executor beside the bundle has no exec bit: the
// commands must not depend on it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, statSync, readFileSync, existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, waitStatus, waitPidExit, REPO, RUN_DIR, NODE, safeRemove, cleanEnv, nodesAtHand, nodeVersion } from '../lib/index.mjs';

const PACKAGES = { runts: 'runts', create: '@runts/create', start: '@runts/start', state: '@runts/state', kill: '@runts/kill', delete: '@runts/delete', run: '@runts/run', exec: '@runts/exec' };
const dir = join(RUN_DIR, 'installed');
const prefix = (name) => join(dir, `prefix-${name}`);

/** Runs argv to its end, output collected; rejects on a non-zero exit, with the output. */
function sh(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    // npm gets this environment's CA bundle back (run.mjs hands it over as E2E_NPM_CA): the
    // registry is reached through it here
    const env = { ...process.env };
    if (env.E2E_NPM_CA) env.NODE_EXTRA_CA_CERTS = env.E2E_NPM_CA;
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const c = spawn(argv[0], argv.slice(1), { cwd: opts.cwd ?? dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}\n${out}`))));
  });
}

const SECCOMP = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
const SCRIPT = 'exec 2>&1; echo hello; mkdir /tmp/made; echo mkdir=$?; rmdir /tmp/made 2>/dev/null; true';

describe('each command packed and installed alone with npm', () => {
  let plain;
  let filtered;
  let sleeper;
  const tarballs = {};
  before(async () => {
    mkdirSync(dir, { recursive: true });
    // pack one by one (pnpm writes the workspace's lock), install side by side
    for (const [name, pkg] of Object.entries(PACKAGES)) {
      const out = await sh(['pnpm', 'pack', '--pack-destination', dir], { cwd: join(REPO, 'packages', name) });
      tarballs[name] = out.trim().split('\n').filter((l) => l.endsWith('.tgz')).at(-1);
      assert.ok(tarballs[name] && existsSync(tarballs[name]), `${pkg}: no tarball in\n${out}`);
    }
    const install = (name) => sh(['npm', 'install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix(name), tarballs[name]]);
    // one first, alone: with npm's cache still cold, the others' concurrent fetches of koffi from
    // the registry failed here through this VM's TLS proxy (SELF_SIGNED_CERT_IN_CHAIN, one of eight)
    await install('runts');
    await Promise.all(Object.keys(PACKAGES).filter((name) => name !== 'runts').map(install));
    plain = await makeBundle({ name: 'inst', args: ['sh', '-c', SCRIPT], readonly: false });
    filtered = await makeBundle({ name: 'inst-sc', args: ['sh', '-c', SCRIPT], readonly: false, edit: (c) => void (c.linux.seccomp = SECCOMP) });
    sleeper = await makeBundle({ name: 'inst-sleep', args: ['sleep', '1000'], readonly: false, edit: (c) => void (c.linux.seccomp = SECCOMP) });
  });
  after(() => {
    plain?.cleanup();
    filtered?.cleanup();
    sleeper?.cleanup();
    safeRemove(dir);
  });

  const installed = (name) => join(prefix(name), 'lib/node_modules', PACKAGES[name]);

  test('npm leaves the executor without its exec bit (what the commands must cope with)', () => {
    for (const name of ['runts', 'create', 'run', 'exec']) {
      const mode = statSync(join(installed(name), 'dist/runts-init')).mode & 0o777;
      assert.equal(mode & 0o111, 0, `${name}: dist/runts-init mode ${mode.toString(8)}`);
    }
    assert.ok(existsSync(join(installed('create'), 'node_modules/koffi')), 'koffi installed with @runts/create');
  });

  test("each installed command is its package's dist/launch.cjs, started by its shebang (no bin/*.js loads it)", () => {
    const path = `${join(process.execPath, '..')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    for (const name of Object.keys(PACKAGES)) {
      const bin = join(prefix(name), 'bin', name === 'runts' ? 'runts' : `oci-${name}`);
      assert.equal(realpathSync(bin), join(installed(name), 'dist/launch.cjs'), `${bin}: links to`);
      assert.equal(statSync(bin).mode & 0o111, 0o111, `${bin}: exec bits`);
      // as a shell or a container manager runs it: the kernel reads its shebang, env finds node
      const v = spawnSync(bin, ['--version'], { encoding: 'utf8', env: cleanEnv({ PATH: path, RUNTS_CODE_CACHE: 'report' }) });
      assert.equal(v.status, 0, `${bin}: ${v.stderr}`);
      assert.match(v.stdout, /^(runc|oci-[a-z]+) version /m, `${bin}: ${v.stdout}`);
      assert.match(v.stderr, /^runts: code cache used /m, `${bin}: ${v.stderr}`);
    }
  });

  test('the installed commands start the executor with runts-spawn.node (dlopen needs no exec bit)', async (t) => {
    for (const name of ['runts', 'create', 'run', 'exec']) assert.ok(existsSync(join(installed(name), 'dist/runts-spawn.node')), `${name}: dist/runts-spawn.node`);
    const rt = runtime('runts', { command: [NODE, join(prefix('runts'), 'bin/runts'), '--debug'] });
    const id = newId('inst-spawn');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: plain.dir });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /level=debug/, 'debug output');
    assert.doesNotMatch(r.stderr, /runts-spawn: not loaded/, show(r));
    // launch.cjs checks the code caches with it too (the packed addon is the size the build wrote),
    // and maps the bundle and its cache with it
    for (const [name, bin] of [['runts', 'runts'], ['create', 'oci-create'], ['run', 'oci-run'], ['exec', 'oci-exec']]) {
      const v = spawnSync(process.execPath, [join(prefix(name), 'bin', bin), '--version'], { encoding: 'utf8', env: cleanEnv({ RUNTS_CODE_CACHE: 'report' }) });
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stderr, /^runts: code cache used \(checksum: native\) \(bundle mapped\)$/m, `${name}: ${v.stderr}`);
    }
  });

  for (const [label, bundle] of [['no seccomp', () => plain], ['seccomp', () => filtered]]) {
    test(`runts run (installed runts alone), ${label}`, async (t) => {
      const rt = runtime('runts', { command: [NODE, join(prefix('runts'), 'bin/runts')] });
      const id = newId('inst-runts');
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: bundle().dir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, label === 'seccomp' ? /^hello\nmkdir: can't create directory '\/tmp\/made': Operation not permitted\nmkdir=1\n$/ : /^hello\nmkdir=0\n$/, show(r));
    });

    test(`oci-run (installed alone), ${label}`, async (t) => {
      const oci = runtime('oci', { bin: join(prefix('run'), 'bin') });
      const id = newId('inst-run');
      t.after(() => oci.forceDelete(id));
      const r = await oci.run(id, { bundle: bundle().dir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, label === 'seccomp' ? /^hello\nmkdir: .*Operation not permitted\nmkdir=1\n$/ : /^hello\nmkdir=0\n$/, show(r));
    });
  }

  test('oci-create, oci-start, oci-state, oci-exec, oci-kill, oci-delete, each from its own install (seccomp)', async (t) => {
    const root = join(RUN_DIR, 'root-installed');
    const verb = (v) => runtime('oci', { root, bin: join(prefix(v), 'bin') });
    const id = newId('inst-oci');
    t.after(() => verb('delete').forceDelete(id));
    const c = await verb('create').create(id, { bundle: sleeper.dir });
    assert.equal(c.code, 0, show(c));
    assert.equal((await verb('state').stateJson(id)).status, 'created');
    const s = await verb('start').start(id);
    assert.equal(s.code, 0, show(s));
    const st = await verb('state').stateJson(id);
    assert.equal(st.status, 'running');
    const e = await verb('exec').exec(id, ['sh', '-c', 'exec 2>&1; mkdir /tmp/e; echo exec=$?']);
    assert.equal(e.code, 0, show(e));
    assert.match(e.stdout, /Operation not permitted\nexec=1\n$/, 'the exec runs under the same filter');
    assert.equal((await verb('kill').kill(id, 'KILL')).code, 0);
    assert.ok(await waitPidExit(st.pid));
    await waitStatus(verb('state'), id, 'stopped');
    const d = await verb('delete').delete(id);
    assert.equal(d.code, 0, show(d));
    assert.equal((await verb('state').state(id)).code, 1);
  });

  test('npm on another Node runs the postinstall with that Node: the code caches are its own, and used', async () => {
    // oci-state of a missing container: exit 1, and the launcher's one line on what became of the cache
    const said = (node, bin) => {
      const r = spawnSync(node, [bin, '--root', join(dir, 'root'), 'nosuch'], { encoding: 'utf8', env: cleanEnv({ RUNTS_CODE_CACHE: 'report' }) });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /container does not exist/);
      return /^runts: code cache (\S+)/m.exec(r.stderr)?.[1];
    };
    // installed by this Node's npm: the build's caches, kept
    assert.equal(said(process.execPath, join(prefix('state'), 'bin/oci-state')), 'used');
    const others = nodesAtHand().filter((n) => nodeVersion(n) !== process.version);
    if (NODE !== process.execPath) assert.ok(others.length > 0, `E2E_NODE=${NODE} is another Node`);
    const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
    for (const node of others) {
      const p = join(dir, `prefix-state-${nodeVersion(node)}`);
      // npm itself run by that Node, as that Node's own npm would be
      await sh([node, npmCli, 'install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', p, tarballs.state]);
      const bin = join(p, 'bin/oci-state');
      assert.equal(said(node, bin), 'used', `${nodeVersion(node)}: the caches made at install`);
      assert.equal(said(process.execPath, bin), 'other-node', `${process.version}: not the Node that made them, ignored`);
    }
  });

  test('installed runts: create, start, exec, kill, delete', async (t) => {
    const rt = runtime('runts', { command: [NODE, join(prefix('runts'), 'bin/runts')] });
    const id = newId('inst-life');
    t.after(() => rt.forceDelete(id));
    assert.equal((await rt.create(id, { bundle: sleeper.dir })).code, 0);
    assert.equal((await rt.start(id)).code, 0);
    const e = await rt.exec(id, ['echo', 'in']);
    assert.equal(e.code, 0, show(e));
    assert.equal(e.stdout, 'in\n');
    assert.equal((await rt.delete(id, { force: true })).code, 0);
    assert.equal((await rt.state(id)).code, 1);
    assert.equal(readFileSync(join(installed('runts'), 'package.json'), 'utf8').includes('"koffi"'), true);
  });
});
