import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { RuntimeError } from '@runts/core';
import { checkBundle, defaultSpec, loadBundle, parseConfig, validateConfig, writeDefaultSpec, type Spec } from './index.ts';

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(PKG, 'schema/test/config');
const BIN = join(PKG, 'bin/oci-spec.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'runts-spec-'));
const ociSpec = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
const messages = (config: unknown, forStart = false) => validateConfig(config, { forStart }).map((p) => `${p.path}: ${p.message}`);

function runcSpec(rootless: boolean): unknown {
  const d = tmp();
  const r = spawnSync('runc', ['spec', ...(rootless ? ['--rootless'] : [])], { cwd: d, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
}

test('every good fixture of runtime-spec passes', () => {
  const files = readdirSync(join(FIXTURES, 'good'));
  assert.ok(files.length >= 9);
  for (const f of files) assert.deepEqual(validateConfig(parseConfig(readFileSync(join(FIXTURES, 'good', f), 'utf8'), f)), [], f);
});

test('every bad fixture of runtime-spec fails with a message', () => {
  const got: Record<string, string[]> = {};
  for (const f of readdirSync(join(FIXTURES, 'bad'))) {
    const text = readFileSync(join(FIXTURES, 'bad', f), 'utf8');
    try {
      got[f] = messages(parseConfig(text, f));
    } catch (e) {
      assert.ok(e instanceof RuntimeError && e.code === 'EINVAL');
      got[f] = [e.message];
    }
  }
  assert.deepEqual(got, {
    'freebsd-vnet-disable.json': ['freebsd.jail.vnet: must be one of: new, inherit'],
    'invalid-json.json': ['invalid-json.json: invalid JSON at line 1, column 2: unexpected character "]"'],
    'linux-hugepage.json': ['linux.resources.hugepageLimits[0].pageSize: must match ^[1-9][0-9]*[KMG]B$'],
    'linux-netdevice.json': ['linux.netDevices.eth0.name: must be a string'],
    'linux-rdma.json': ['linux.resources.rdma.mlx5_1.hcaHandles: must be an integer'],
  });
});

test('the generated validator agrees with ajv on the schema (fixtures and mutations)', async () => {
  const { default: Ajv } = (await import('ajv')) as unknown as { default: new (o: object) => { addSchema(s: object): void; getSchema(id: string): ((d: unknown) => boolean) | undefined } };
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
  const dir = join(PKG, 'schema');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const s = JSON.parse(readFileSync(join(dir, f), 'utf8').replace(/"#definitions\//g, '"#/definitions/'));
    delete s.$schema;
    ajv.addSchema({ ...s, $id: f });
  }
  const oracle = ajv.getSchema('config-schema.json')!;
  const base = defaultSpec() as unknown as Record<string, unknown>;
  const cases: unknown[] = [base, 1, null, [], {}, { ociVersion: 1 }, { ...base, hostname: 3 }, { ...base, mounts: [{}] }, { ...base, mounts: {} }];
  const mutate = (path: string[], v: unknown) => {
    const c = structuredClone(base);
    let o = c as Record<string, unknown>;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[path.at(-1)!] = v;
    cases.push(c);
  };
  for (const v of [-1, 1.5, 'x', 4294967296, 0, true])
    for (const p of [['process', 'user', 'uid'], ['process', 'rlimits'], ['linux', 'namespaces'], ['process', 'terminal'], ['root', 'path'], ['linux', 'resources', 'devices'], ['process', 'env']]) mutate(p, v);
  mutate(['linux', 'namespaces'], [{ type: 'bogus' }]);
  mutate(['linux', 'namespaces'], [{ path: '/x' }]);
  mutate(['linux', 'seccomp'], { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] });
  mutate(['process', 'rlimits'], [{ type: 'RLIMIT_nofile', hard: 1, soft: 1 }]);
  mutate(['linux', 'sysctl'], { 'net.ipv4.ip_forward': 1 });
  for (const dir of ['good', 'bad']) for (const f of readdirSync(join(FIXTURES, dir))) if (f !== 'invalid-json.json') cases.push(JSON.parse(readFileSync(join(FIXTURES, dir, f), 'utf8')));
  for (const c of cases) {
    const ours = (await import('./generated/validate.js')).validateConfigSchema(c);
    assert.equal(ours.length === 0, oracle(c), JSON.stringify(c).slice(0, 300) + ' ' + JSON.stringify(ours));
  }
});

test('semantic checks name the path and what is wrong', () => {
  const base = defaultSpec();
  const spec = structuredClone(base) as Spec & Record<string, unknown>;
  spec.ociVersion = '1.3';
  spec.process!.args = [];
  spec.process!.cwd = 'home';
  spec.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', hard: 10, soft: 20 });
  spec.hooks = { prestart: [{ path: 'hook.sh' }] };
  spec.mounts![1]!.destination = '';
  spec.linux!.namespaces!.push({ type: 'pid' }, { type: 'user' }, { type: 'network', path: 'netns' });
  spec.linux!.devices = [{ type: 'c', path: 'dev/null' }];
  spec.linux!.maskedPaths!.push('proc/kcore');
  spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] };
  assert.deepEqual(messages(spec), [
    'ociVersion: must be a SemVer 2.0.0 version, not "1.3"',
    'process.args: must not be empty',
    'process.cwd: must be an absolute path, not "home"',
    'process.rlimits[1].type: duplicate RLIMIT_NOFILE (also in process.rlimits[0])',
    'process.rlimits[1].soft: must not be greater than hard (10)',
    'mounts[1].destination: must not be empty',
    'hooks.prestart[0].path: must be an absolute path, not "hook.sh"',
    'linux.namespaces[5].type: duplicate namespace type "pid" (also in linux.namespaces[0])',
    'linux.namespaces[7].type: duplicate namespace type "network" (also in linux.namespaces[1])',
    'linux.namespaces[7].path: must be an absolute path, not "netns"',
    'linux.uidMappings: is required with a new user namespace',
    'linux.gidMappings: is required with a new user namespace',
    'linux.devices[0].path: must be an absolute path, not "dev/null"',
    'linux.devices[0].major: is required for a device of type "c"',
    'linux.devices[0].minor: is required for a device of type "c"',
    'linux.maskedPaths[10]: must be an absolute path, not "proc/kcore"',
    'linux.seccomp.syscalls[0].args[0].index: must be less than 6',
  ]);
  // Relative mount destinations are deprecated but allowed on Linux (config.md).
  const rel = structuredClone(base);
  rel.mounts![0]!.destination = 'proc';
  assert.deepEqual(validateConfig(rel), []);
  // Mappings without a user namespace; hostname without uts.
  const m = structuredClone(base);
  m.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  m.linux!.namespaces = m.linux!.namespaces!.filter((n) => n.type !== 'uts');
  assert.deepEqual(messages(m), ['linux.uidMappings: requires a user namespace in linux.namespaces', 'hostname: requires a uts namespace in linux.namespaces']);
  // forStart: process and root are required.
  assert.deepEqual(messages({ ociVersion: '1.3.0' }, true), ['root: is required', 'process: is required']);
  assert.deepEqual(messages({ ociVersion: '1.3.0', process: { cwd: '/' } }), ['process.args: is required']);
  // Schema and paths of odd keys.
  assert.deepEqual(messages({ ociVersion: '1.3.0', linux: { sysctl: { 'net.ipv4.ip_forward': 1 } }, process: { cwd: '/', args: ['sh', 2] } }), [
    'process.args[1]: must be a string',
    'linux.sysctl["net.ipv4.ip_forward"]: must be a string',
  ]);
  assert.deepEqual(messages('x'), [': must be an object']);
  assert.deepEqual(validateConfig(defaultSpec({ rootless: true }), { forStart: true }), []);
});

test('uint64 and int64 values are parsed and validated losslessly', () => {
  const text = JSON.stringify(defaultSpec()).replace('"hard":1024,"soft":1024', '"hard":18446744073709551615,"soft":9007199254740993');
  const c = parseConfig(text.replace('"resources":{', '"resources":{"memory":{"limit":-9223372036854775808,"swap":9223372036854775807},')) as Spec;
  const r = c.process!.rlimits![0]!;
  assert.equal(r.hard, 18446744073709551615n);
  assert.equal(r.soft, 9007199254740993n);
  assert.equal(c.linux!.resources!.memory!.limit, -9223372036854775808n);
  assert.equal(c.linux!.resources!.memory!.swap, 9223372036854775807n);
  assert.equal(c.process!.user!.uid, 0); // small integers stay numbers
  assert.deepEqual(validateConfig(c), []);
  // One above the maximum, exactly.
  assert.deepEqual(messages(parseConfig(text.replace('18446744073709551615', '18446744073709551616'))), ['process.rlimits[0].hard: must be between 0 and 18446744073709551615']);
  assert.deepEqual(messages({ ...defaultSpec(), process: { ...defaultSpec().process, user: { uid: 4294967296n } } }), ['process.user.uid: must be between 0 and 4294967295']);
  // Floats and escapes on the slow path are plain JSON.
  assert.deepEqual(parseConfig('{"a":[1.5e3,-0.25,"\\u00e9\\n\\"",1234567890123456789012,true,null,{}]}'), { a: [1500, -0.25, 'é\n"', 1234567890123456789012n, true, null, {}] });
});

test('parseConfig: errors name the file and position; __proto__ is data', () => {
  assert.throws(() => parseConfig('{\n  "a": 1,\n  "b": tru\n}', '/b/config.json'), { code: 'EINVAL', message: '/b/config.json: invalid JSON at line 3, column 8: unexpected character "t"' });
  assert.throws(() => parseConfig('{"a": 12345678901234567890', 'c.json'), { message: 'c.json: invalid JSON at line 1, column 27: unexpected end of input' });
  assert.throws(() => parseConfig('[' .repeat(5000)), /nesting deeper than 1000 levels/);
  for (const text of ['{"__proto__":{"polluted":1},"n":12345678901234567890}', '{"__proto__":{"polluted":1}}']) {
    const o = parseConfig(text) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o)[0], '__proto__');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }
});

test('defaultSpec is runc spec (and --rootless), ociVersion aside', () => {
  for (const rootless of [false, true]) {
    const ours = defaultSpec({ rootless }) as Spec;
    const theirs = runcSpec(rootless) as Spec;
    assert.equal(ours.ociVersion, '1.3.0');
    assert.deepEqual({ ...ours, ociVersion: theirs.ociVersion }, theirs);
  }
});

test('oci-spec writes runc spec byte for byte (ociVersion aside), 0644, and never overwrites', () => {
  for (const rootless of [false, true]) {
    const d = tmp();
    const r = ociSpec(rootless ? ['--rootless'] : [], d);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    const ours = readFileSync(join(d, 'config.json'), 'utf8');
    const theirsDir = tmp();
    spawnSync('runc', ['spec', ...(rootless ? ['--rootless'] : [])], { cwd: theirsDir });
    assert.equal(ours.replace('"1.3.0"', '"1.0.2-dev"'), readFileSync(join(theirsDir, 'config.json'), 'utf8'));
    assert.equal(statSync(join(d, 'config.json')).mode & 0o777, 0o644);
    // A second run refuses and leaves the file alone.
    writeFileSync(join(d, 'config.json'), 'mine');
    const again = ociSpec(rootless ? ['--rootless'] : [], d);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`level=error msg="${join(d, 'config.json').replace(/[.]/g, '\\.')} already exists: remove it first"`));
    assert.equal(readFileSync(join(d, 'config.json'), 'utf8'), 'mine');
  }
  const d = tmp();
  writeFileSync(join(d, 'config.json'), 'mine');
  assert.throws(() => writeDefaultSpec(d), { code: 'EINVAL', message: `${join(d, 'config.json')} already exists: remove it first` });
  assert.equal(readFileSync(join(d, 'config.json'), 'utf8'), 'mine');
});

test('--bundle keeps number-like values as typed (cac/mri regression)', () => {
  const d = tmp();
  mkdirSync(join(d, '0123'));
  const r = ociSpec(['--bundle', '0123'], d);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(d, '0123', 'config.json')));
  assert.ok(!existsSync(join(d, '123')));
  mkdirSync(join(d, '00'));
  mkdirSync(join(d, '00', 'rootfs'));
  assert.equal(ociSpec(['-b', '00'], d).status, 0);
  const v = ociSpec(['validate', '--bundle', '00'], d);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.equal(v.stdout, '');
});

test('oci-spec validate prints every problem of a broken bundle and exits 1', () => {
  const d = tmp();
  const spec = defaultSpec() as Spec;
  spec.process!.args = [];
  spec.linux!.namespaces!.push({ type: 'pid' });
  spec.process!.user!.uid = -1;
  writeFileSync(join(d, 'config.json'), JSON.stringify(spec));
  const r = ociSpec(['validate', '--bundle', d]);
  assert.equal(r.status, 1);
  assert.equal(
    r.stdout,
    [
      'config.json: process.user.uid: must be between 0 and 4294967295',
      'config.json: process.args: must not be empty',
      'config.json: linux.namespaces[5].type: duplicate namespace type "pid" (also in linux.namespaces[0])',
      `config.json: root.path: stat ${join(d, 'rootfs')}: no such file or directory`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(d, 'rootfs'), '');
  assert.match(ociSpec(['validate', '--bundle', d]).stdout, /root\.path: .*\/rootfs: not a directory\n$/);
  const empty = tmp();
  assert.deepEqual({ ...ociSpec(['validate'], empty), pid: 0, output: [], signal: null }, { status: 1, stdout: `config.json: open ${join(empty, 'config.json')}: no such file or directory\n`, stderr: '', pid: 0, output: [], signal: null });
  writeFileSync(join(empty, 'config.json'), '{"ociVersion": }');
  assert.equal(ociSpec(['validate'], empty).stdout, 'config.json: invalid JSON at line 1, column 16: unexpected character "}"\n');
  assert.equal(ociSpec(['nonsense'], empty).status, 1);
});

test('loadBundle: absolute realpaths, the spec, and errors that name the file', () => {
  const d = tmp();
  writeDefaultSpec(d);
  mkdirSync(join(d, 'rootfs'));
  const link = join(tmp(), 'link');
  symlinkSync(d, link);
  const b = loadBundle(link, { forStart: true });
  assert.equal(b.bundle, d);
  assert.equal(b.configPath, join(d, 'config.json'));
  assert.equal(b.rootfs, join(d, 'rootfs'));
  assert.equal(b.spec.process?.args?.[0], 'sh');
  assert.throws(() => loadBundle('/b-does-not-exist'), { code: 'EINVAL', message: 'stat /b-does-not-exist: no such file or directory' });
  const e = tmp();
  assert.throws(() => loadBundle(e), { message: `open ${join(e, 'config.json')}: no such file or directory` });
  writeFileSync(join(e, 'config.json'), '{"ociVersion": "1.3.0", "process": {"cwd": "x", "args": []}}');
  assert.throws(() => loadBundle(e), {
    code: 'EINVAL',
    message: `invalid ${join(e, 'config.json')}: process.args: must not be empty; process.cwd: must be an absolute path, not "x"; root: is required`,
  });
  assert.equal(checkBundle(e).problems.length, 3);
});

test('generated code is up to date (codegen --check)', () => {
  const r = spawnSync(process.execPath, [join(PKG, '../../tools/codegen/codegen.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('deep nesting that JSON.parse takes is refused naming the field, never a stack overflow', () => {
  const deep = `{"ociVersion":"1.0.0","linux":{"x":${'['.repeat(100000)}${']'.repeat(100000)}}}`;
  assert.throws(() => parseConfig(deep, 'config.json'), /config\.json: invalid JSON: linux\.x\[0\]\[0\].*: nested deeper than 1000 levels/);
  assert.doesNotThrow(() => parseConfig(`{"a":${'['.repeat(900)}${']'.repeat(900)}}`));
});

test('config.json must be a regular file: a FIFO is refused without blocking, a symlink is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runts-spec-fifo-'));
  const fifo = spawnSync('mkfifo', [join(dir, 'config.json')]);
  assert.equal(fifo.status, 0);
  assert.throws(() => loadBundle(dir), /config\.json: not a regular file \(a fifo\)/);
  const other = mkdtempSync(join(tmpdir(), 'runts-spec-link-'));
  writeFileSync(join(other, 'real.json'), JSON.stringify(defaultSpec()));
  mkdirSync(join(other, 'rootfs'));
  symlinkSync(join(other, 'real.json'), join(other, 'config.json'));
  assert.equal(loadBundle(other).spec.ociVersion, defaultSpec().ociVersion);
});
