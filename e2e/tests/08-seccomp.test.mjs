// Seccomp (linux.seccomp): the filter the runtime loads decides what the container's process may
// call. Each profile runs under runc and under the runtime being tested, on the same bundle: they
// must agree on what is refused, with which errno, and on what kills the process.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, statSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, spawnCapture, safeRemove, RUN_DIR } from '../lib/index.mjs';
import { ARCHS, dockerLike } from '../lib/seccomp-profile.mjs';

const rt = runtime();
const runc = runtime('runc');
const bundles = [];
after(() => {
  for (const b of bundles) b.cleanup();
});

/** A bundle running `sh -c script` (stderr into stdout) under the profile. */
async function bundleWith(seccomp, script, opts = {}) {
  const b = await makeBundle({
    name: 'seccomp',
    args: opts.args ?? ['sh', '-c', `exec 2>&1; ${script}`],
    readonly: false,
    edit(c) {
      c.linux.seccomp = seccomp;
      opts.edit?.(c);
    },
  });
  b.write();
  bundles.push(b);
  return b;
}

/** `run` under runc and under the runtime tested: the same exit code and output, which are returned. */
async function agree(t, b, name) {
  const out = {};
  for (const r of [runc, rt]) {
    const id = newId(`${name}-${r.name}`);
    t.after(() => r.forceDelete(id));
    const res = await r.run(id, { bundle: b.dir });
    out[r.name] = { code: res.code, stdout: res.stdout, res };
  }
  const mine = out[rt.name];
  assert.equal(mine.code, out.runc.code, `exit code: runc ${out.runc.code}\n${show(out.runc.res)}\n${show(mine.res)}`);
  assert.equal(mine.stdout, out.runc.stdout, `runc:\n${show(out.runc.res)}\n${rt.name}:\n${show(mine.res)}`);
  return mine;
}

describe(`seccomp (${rt.name}, differential against runc)`, () => {
  test('SCMP_ACT_ERRNO refuses mkdir with EPERM; getpid and the rest run; Seccomp: 2 in /proc/self/status', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
      'mkdir /tmp/x; echo mkdir=$?; test -d /tmp/x && echo made; echo pid=$$; grep -E "^Seccomp(_filters)?:" /proc/self/status',
    );
    const r = await agree(t, b, 'errno');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /mkdir: can't create directory '\/tmp\/x': Operation not permitted\nmkdir=1\npid=1\nSeccomp:\t2\nSeccomp_filters:\t1\n$/);
  });

  test('errnoRet: another errno', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }, 'mkdir /tmp/x; echo mkdir=$?');
    const r = await agree(t, b, 'errnoret');
    assert.match(r.stdout, /Permission denied\nmkdir=1\n$/);
  });

  test("a Docker-like default profile (deny by default, long allow list): sh, echo and ls work; what is not listed gets EPERM", async (t) => {
    const b = await bundleWith(dockerLike(), 'echo ok; ls /; linux32 uname -m; sync && echo sync-ok; hostname other; echo sethostname=$?');
    const r = await agree(t, b, 'docker');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ok\n(.*\n)*bin\n(.*\n)*proc\n/);
    assert.match(r.stdout, /\ni686\nsync-ok\nhostname: sethostname: Operation not permitted\nsethostname=1\n$/);
  });

  test('argument conditions: personality(PER_LINUX32) refused by a masked compare, personality(0) allowed', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] }] },
      'linux64 uname -m; echo linux64=$?; linux32 uname -m; echo linux32=$?',
    );
    const r = await agree(t, b, 'args');
    assert.match(r.stdout, /^x86_64\nlinux64=0\n.*Operation not permitted\nlinux32=1\n$/);
  });

  test('two conditions on the same argument become two rules (runc): personality != 0, != 0xffffffff refuses both', async (t) => {
    const b = await bundleWith(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }, { index: 0, value: 4294967295, op: 'SCMP_CMP_NE' }] }],
      },
      'linux64 true; echo linux64=$?; linux32 true; echo linux32=$?',
    );
    const r = await agree(t, b, 'split');
    assert.match(r.stdout, /^linux64: personality\(0x0\): Operation not permitted\nlinux64=1\nlinux32: personality\(0x8\): Operation not permitted\nlinux32=1\n$/);
  });

  test('SCMP_ACT_KILL kills the process with SIGSYS (exit 159)', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] }, '', { args: ['mkdir', '/tmp/x'] });
    const r = await agree(t, b, 'kill');
    assert.equal(r.code, 159, show(r.res));
  });

  test('SCMP_ACT_KILL_PROCESS from a child: the shell sees it killed by SIGSYS', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] }, 'mkdir /tmp/x; echo status=$?');
    const r = await agree(t, b, 'killproc');
    assert.equal(r.stdout, 'Bad system call\nstatus=159\n');
  });

  test('syscall names the kernel or libseccomp does not know are skipped', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall_runts', 'mkdir', 'mkdirat', 'another_unknown_one'], action: 'SCMP_ACT_ERRNO' }] },
      'mkdir /tmp/x; echo mkdir=$?',
    );
    const r = await agree(t, b, 'unknown');
    assert.match(r.stdout, /mkdir=1\n$/);
  });

  test('no_new_privileges with a profile: the filter still loads, last', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, 'mkdir /tmp/x; echo mkdir=$?; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status', {
      edit(c) {
        c.process.noNewPrivileges = true;
      },
    });
    const r = await agree(t, b, 'nnp');
    assert.match(r.stdout, /mkdir=1\nNoNewPrivs:\t1\nSeccomp:\t2\n$/);
  });
});

// runc refuses these too, in its own words: the messages are checked for runts only
describe(`seccomp (${rt.name})`, () => {
  test('a bad action is refused, the error names the field; nothing is left behind', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_FOO' }] }, 'true');
    const runcId = newId('bad-runc');
    t.after(() => runc.forceDelete(runcId));
    const rr = await runc.run(runcId, { bundle: b.dir });
    assert.notEqual(rr.code, 0, `runc refuses it too\n${show(rr)}`);
    const id = newId('bad');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    // the schema check names it first; the compiler's own message is unit-tested in @runts/seccomp
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.syscalls\[1\]\.action: /, show(r));
    const s = await rt.state(id);
    assert.notEqual(s.code, 0, `no container: ${show(s)}`);
  });

  test('an architecture libseccomp 2.5 does not know is refused (runc too), naming the field', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] }, 'true');
    const runcId = newId('arch-runc');
    t.after(() => runc.forceDelete(runcId));
    const rr = await runc.run(runcId, { bundle: b.dir });
    assert.notEqual(rr.code, 0, `runc refuses it too\n${show(rr)}`);
    const id = newId('arch');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.architectures\[1\]: unknown or unsupported architecture "SCMP_ARCH_LOONGARCH64"/, show(r));
  });

  test('SCMP_ACT_NOTIFY without an agent on listenerPath fails clearly (the agent itself: 32-seccomp-notify)', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/none.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'true');
    const id = newId('notify');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.listenerPath \(\/run\/none\.sock\): connect \/run\/none\.sock: No such file or directory/, show(r));
  });

  test('exec into a container with a profile: the process gets the filter too (as with runc)', async (t) => {
    // a uint64 past 2^53 (the mask): exec must read it back from the state exactly
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 'U64_MAX', valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    const b = await bundleWith(profile, '', { args: ['sleep', '1000'] });
    writeFileSync(b.path('config.json'), readFileSync(b.path('config.json'), 'utf8').replace('"U64_MAX"', '18446744073709551615'));
    const out = {};
    for (const r of [runc, rt]) {
      const id = newId(`exec-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.run(id, { bundle: b.dir, detach: true });
      assert.equal(c.code, 0, show(c));
      const e = await r.exec(id, ['sh', '-c', 'exec 2>&1; mkdir /tmp/y; echo mkdir=$?; linux64 true; echo linux64=$?; linux32 true; echo linux32=$?; grep -E "^Seccomp:" /proc/self/status']);
      assert.equal(e.code, 0, show(e));
      out[r.name] = e.stdout;
    }
    assert.equal(out[rt.name], out.runc);
    assert.match(out[rt.name], /Permission denied\nmkdir=1\nlinux64=0\nlinux32: personality\(0x8\): Operation not permitted\nlinux32=1\nSeccomp:\t2\n$/);
  });

  test('a compiled filter is kept in <root>/@cache/seccomp: the next container with that profile uses it and the filter holds; a damaged or unsafe entry is compiled afresh', { skip: rt.name !== 'runts' ? 'the runts command only' : false }, async (t) => {
    const root = join(RUN_DIR, `sccache-${process.pid}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    t.after(() => safeRemove(root));
    const mine = runtime('runts', { root });
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, 'mkdir /tmp/x; echo mkdir=$?');
    const run = async () => {
      const id = newId('sccache');
      const argv = mine.argv('run');
      const at = argv.indexOf('--root');
      const r = await spawnCapture([...argv.slice(0, at), '--debug', ...argv.slice(at), '--bundle', b.dir, id]);
      await mine.forceDelete(id);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Operation not permitted\nmkdir=1\n$/, `the filter holds\n${show(r)}`);
      return r.stderr;
    };
    const dir = join(root, '@cache', 'seccomp');
    assert.doesNotMatch(await run(), /seccomp cache: [0-9a-f]{16}: used/, 'compiled the first time');
    const names = readdirSync(dir);
    assert.equal(names.length, 1, `one entry: ${names}`);
    assert.match(names[0], /^[0-9a-f]{16}$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const file = join(dir, names[0]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(await run(), new RegExp(`seccomp cache: ${names[0]}: used`), 'the second container used it');

    const entry = JSON.parse(readFileSync(file, 'utf8'));
    const bpf = Buffer.from(entry.bpf, 'base64');
    bpf[bpf.length - 4] ^= 0x01; // the last instruction's k: the default action
    writeFileSync(file, JSON.stringify({ ...entry, bpf: bpf.toString('base64') }));
    assert.match(await run(), /does not match its fingerprint: compiled afresh/);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).bpf, entry.bpf, 'the entry is made again');
    chmodSync(file, 0o646);
    assert.match(await run(), /not a private regular file: compiled afresh/);
    assert.match(await run(), /: used/, 'and stored again, private');
  });

  test('four containers with one new profile at once: each gets the filter, one entry is kept, no temp file is left', { skip: rt.name !== 'runts' ? 'the runts command only' : false }, async (t) => {
    const root = join(RUN_DIR, `sccache-par-${process.pid}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    t.after(() => safeRemove(root));
    const mine = runtime('runts', { root });
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, syscalls: [{ names: ['mkdir', 'mkdirat', 'rmdir'], action: 'SCMP_ACT_ERRNO' }] }, 'mkdir /tmp/x; echo mkdir=$?');
    const ids = [0, 1, 2, 3].map(() => newId('sccpar'));
    t.after(() => Promise.all(ids.map((id) => mine.forceDelete(id))));
    const rs = await Promise.all(ids.map((id) => mine.run(id, { bundle: b.dir })));
    for (const r of rs) {
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Operation not permitted\nmkdir=1\n$/, show(r));
    }
    assert.deepEqual(readdirSync(join(root, '@cache', 'seccomp')).filter((n) => !/^[0-9a-f]{16}$/.test(n)), [], 'only entries, no temp files');
    assert.equal(readdirSync(join(root, '@cache', 'seccomp')).length, 1);
  });
});
