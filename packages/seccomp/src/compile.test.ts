import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeError } from '@runts/core';
import type { LinuxSeccomp } from '@runts/spec';
import { compileSeccomp, libseccomp, enosysStub, lastSyscalls, runStub, decodeBpf, ACTION, ARCH, SUPPORTED, type ArgCmp, type Insn, type Libseccomp } from './index.ts';

/** A libseccomp that records what the compiler asks of it. */
function fake(known: Record<string, number> = { read: 0, write: 1, mkdir: 83, personality: 135, clone: 56 }) {
  const calls: Array<[string, ...unknown[]]> = [];
  const lib: Libseccomp = {
    init(def) {
      calls.push(['init', def]);
      return {
        archAdd: (a) => (calls.push(['arch', a]), true),
        attrSet: (a, v) => void calls.push(['attr', a, v]),
        ruleAdd: (act, nr, args: ArgCmp[]) => void calls.push(['rule', act, nr, args]),
        exportBpf: () => new Uint8Array(16),
        release: () => void calls.push(['release']),
      };
    },
    archResolve: (name) => (name === 'x86' ? 0x40000003 : name === 'x86_64' ? 0xc000003e : 7),
    syscallResolve: (name) => known[name] ?? -1,
    syscallResolveArch: (_arch, name) => known[name] ?? -1,
    archNative: () => 0xc000003e,
    version: () => 'fake',
  };
  return { lib, calls, rules: () => calls.filter((c) => c[0] === 'rule').map((c) => c.slice(1)) };
}

const EPERM = 1;
const sc = (s: Partial<LinuxSeccomp> & Record<string, unknown>) => ({ defaultAction: 'SCMP_ACT_ALLOW', ...s }) as LinuxSeccomp;

function throwsField(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RuntimeError, String(e));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, re);
    return true;
  });
}

describe('compileSeccomp (recorded libseccomp calls)', () => {
  it('default action with errno, archs, no_new_privs off, one rule per name, unknown names skipped', () => {
    const f = fake();
    const out = compileSeccomp(
      sc({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [{ names: ['read', 'no_such_syscall', 'write'], action: 'SCMP_ACT_ALLOW' }],
      }),
      'linux.seccomp',
      f.lib,
    );
    assert.deepEqual(f.calls[0], ['init', ACTION.SCMP_ACT_ERRNO | 38]);
    assert.deepEqual(f.calls.filter((c) => c[0] === 'arch'), [['arch', 0xc000003e], ['arch', 0x40000003]]);
    assert.deepEqual(f.calls.filter((c) => c[0] === 'attr'), [['attr', 3, 0]]);
    assert.deepEqual(f.rules(), [[ACTION.SCMP_ACT_ALLOW, 0, []], [ACTION.SCMP_ACT_ALLOW, 1, []]]);
    assert.deepEqual(f.calls.at(-1), ['release']);
    // defaultErrnoRet ENOSYS: no stub (runc's generatePatch)
    assert.equal(out.bpf.length, 16);
    assert.equal(out.flags, 0n);
  });

  it('rules with the default action are skipped; ERRNO defaults to EPERM, TRACE too', () => {
    const f = fake();
    compileSeccomp(
      sc({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ERRNO' },
          { names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['clone'], action: 'SCMP_ACT_TRACE' },
        ],
      }),
      'linux.seccomp',
      f.lib,
    );
    assert.deepEqual(f.rules(), [[(ACTION.SCMP_ACT_ERRNO | 13) >>> 0, 83, []], [(ACTION.SCMP_ACT_TRACE | EPERM) >>> 0, 56, []]]);
  });

  it('conditions: one rule with all of them, split when one argument has several (runc)', () => {
    const f = fake();
    compileSeccomp(
      sc({
        syscalls: [
          { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_NE' }, { index: 0, value: 0xffffffffn, op: 'SCMP_CMP_NE' }] },
          { names: ['clone'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }, { index: 2, value: 18446744073709551615n, op: 'SCMP_CMP_LT' }] },
        ],
      }),
      'linux.seccomp',
      f.lib,
    );
    const errno = (ACTION.SCMP_ACT_ERRNO | EPERM) >>> 0;
    assert.deepEqual(f.rules(), [
      [errno, 135, [{ arg: 0, op: 1, datumA: 8n, datumB: 0n }]],
      [errno, 135, [{ arg: 0, op: 1, datumA: 0xffffffffn, datumB: 0n }]],
      [ACTION.SCMP_ACT_KILL_PROCESS, 56, [{ arg: 0, op: 7, datumA: 0x7e020000n, datumB: 0n }, { arg: 2, op: 2, datumA: (1n << 64n) - 1n, datumB: 0n }]],
    ]);
  });

  it('flags', () => {
    const f = fake();
    const out = compileSeccomp(sc({ flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] }), 'linux.seccomp', f.lib);
    assert.equal(out.flags, 7n);
  });

  it('the binary tree optimisation over 400 rules, as runc', () => {
    const f = fake();
    compileSeccomp(sc({ syscalls: [{ names: Array.from({ length: 401 }, () => 'read'), action: 'SCMP_ACT_ERRNO' }] }), 'linux.seccomp', f.lib);
    assert.deepEqual(f.calls.filter((c) => c[0] === 'attr')[0], ['attr', 8, 2]);
  });

  it('errors name the field, before libseccomp is asked anything', () => {
    const f = fake();
    const bad = (s: Record<string, unknown>, re: RegExp) => throwsField(() => compileSeccomp(sc(s), 'linux.seccomp', f.lib), re);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, {}, {}, { names: ['x'], action: 'SCMP_ACT_FOO' }] }, /^linux\.seccomp\.syscalls\[1\]\.action: unknown action undefined$/);
    bad({ syscalls: [{ names: ['x'], action: 'SCMP_ACT_FOO' }] }, /^linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_FOO"$/);
    bad({ defaultAction: 'SCMP_ACT_NOTIFY' }, /^linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action$/);
    bad({ listenerPath: '/a.sock', syscalls: [{ names: ['mkdir', 'write'], action: 'SCMP_ACT_NOTIFY' }] }, /^linux\.seccomp\.syscalls\[0\]\.names\[1\]: SCMP_ACT_NOTIFY cannot be used for the write syscall$/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, /^linux\.seccomp\.listenerPath: required when a rule uses SCMP_ACT_NOTIFY$/);
    bad({ listenerPath: 'rel.sock', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, /^linux\.seccomp\.listenerPath: must be an absolute path/);
    bad({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }, /^linux\.seccomp\.defaultErrnoRet: SCMP_ACT_KILL does not take an errno/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, /^linux\.seccomp\.syscalls\[0\]\.errnoRet: SCMP_ACT_ALLOW does not take an errno/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, /^linux\.seccomp\.syscalls\[0\]\.errnoRet: must be an errno/);
    bad({ syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, /^linux\.seccomp\.syscalls\[0\]\.names: must not be empty/);
    bad({ syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ERRNO' }] }, /^linux\.seccomp\.syscalls\[0\]\.names\[1\]: must be a syscall name/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }, /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: must be a syscall argument index between 0 and 5/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_ABOUT' }] }] }, /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_ABOUT"/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.value: must be an integer between 0 and 18446744073709551615/);
    bad({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1n << 64n, op: 'SCMP_CMP_EQ' }] }] }, /\.value: must be an integer/);
    bad({ architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_VAX'] }, /^linux\.seccomp\.architectures\[1\]: unknown or unsupported architecture "SCMP_ARCH_VAX"/);
    bad({ flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, /^linux\.seccomp\.flags\[0\]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported/);
    bad({ flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /^linux\.seccomp\.flags\[0\]: unknown flag/);
    bad({ defaultAction: undefined }, /^linux\.seccomp\.defaultAction: required$/);
    assert.equal(f.calls.length, 0);
    throwsField(() => compileSeccomp(sc({ defaultAction: 'SCMP_ACT_BAD' as never }), 'process.seccomp', f.lib), /^process\.seccomp\.defaultAction: unknown action "SCMP_ACT_BAD"$/);
  });
});

/** The BPF program's instructions: struct sock_filter { u16 code; u8 jt, jf; u32 k }. */
function instructions(bpf: Uint8Array): Array<{ code: number; k: number }> {
  const v = new DataView(bpf.buffer, bpf.byteOffset, bpf.byteLength);
  const out = [];
  for (let i = 0; i < bpf.length; i += 8) out.push({ code: v.getUint16(i, true), k: v.getUint32(i + 4, true) });
  return out;
}
const BPF_RET_K = 0x06;

describe('compileSeccomp (libseccomp through koffi; no privilege needed)', () => {
  it('exports a BPF program whose returns are the configured actions', () => {
    const out = compileSeccomp(
      sc({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [
          { names: ['mkdir', 'mkdirat', 'not_a_syscall_at_all'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_NE' }] },
          { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' },
        ],
      }),
    );
    assert.ok(out.bpf.length > 0 && out.bpf.length % 8 === 0, `${out.bpf.length} bytes`);
    const rets = new Set(instructions(out.bpf).filter((i) => i.code === BPF_RET_K).map((i) => i.k >>> 0));
    for (const k of [ACTION.SCMP_ACT_ALLOW, (ACTION.SCMP_ACT_ERRNO | 13) >>> 0, (ACTION.SCMP_ACT_ERRNO | EPERM) >>> 0, ACTION.SCMP_ACT_KILL_PROCESS]) assert.ok(rets.has(k), `return 0x${k.toString(16)}`);
  });

  it('a default-deny profile with a long allow list and 64-bit values', () => {
    const names = ['read', 'write', 'openat', 'close', 'execve', 'exit_group', 'brk', 'mmap', 'munmap', 'arch_prctl', 'getdents64', 'newfstatat', 'ioctl', 'rt_sigaction'];
    const out = compileSeccomp(
      sc({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        syscalls: [
          { names, action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 18446744073709551615n, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        ],
      }),
    );
    assert.ok(out.bpf.length >= names.length * 8 && out.bpf.length % 8 === 0);
    const rets = new Set(instructions(out.bpf).filter((i) => i.code === BPF_RET_K).map((i) => i.k >>> 0));
    assert.ok(rets.has((ACTION.SCMP_ACT_ERRNO | 38) >>> 0) && rets.has(ACTION.SCMP_ACT_ALLOW));
  });

  it('every action, operator and architecture that features lists compiles', () => {
    for (const action of SUPPORTED.actions) {
      const out = compileSeccomp(sc({ defaultAction: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW', listenerPath: '/a.sock', syscalls: [{ names: ['getpid'], action: action as never }] }));
      assert.ok(out.bpf.length > 0, action);
    }
    for (const op of SUPPORTED.operators) compileSeccomp(sc({ syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 3, valueTwo: 1, op: op as never }] }] }));
    const lib = libseccomp();
    for (const arch of SUPPORTED.archs) assert.notEqual(lib.archResolve(ARCH[arch as keyof typeof ARCH]), 0, arch);
    compileSeccomp(sc({ architectures: SUPPORTED.archs.filter((a) => a.startsWith('SCMP_ARCH_X') || a === 'SCMP_ARCH_AARCH64') as never }));
  });

  it('resolves names for the native arch; unknown ones are -1', () => {
    const lib = libseccomp();
    assert.ok(lib.syscallResolve('getpid') >= 0);
    assert.equal(lib.syscallResolve('not_a_syscall_at_all'), -1);
    assert.match(lib.version(), /^2\.\d+\.\d+$/);
  });
});

describe('SCMP_ACT_NOTIFY', () => {
  it('sets SECCOMP_FILTER_FLAG_NEW_LISTENER and returns listenerPath and listenerMetadata', () => {
    const f = fake();
    const out = compileSeccomp(sc({ listenerPath: '/run/agent.sock', listenerMetadata: 'md', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }), 'linux.seccomp', f.lib);
    assert.equal(out.flags, 8n);
    assert.deepEqual(out.listener, { path: '/run/agent.sock', metadata: 'md' });
    assert.deepEqual(f.rules(), [[ACTION.SCMP_ACT_NOTIFY, 83, []]]);
    assert.equal(compileSeccomp(sc({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }), 'linux.seccomp', fake().lib).listener, undefined);
  });
});

describe('the -ENOSYS stub (runc patchbpf)', () => {
  const ALLOW = ACTION.SCMP_ACT_ALLOW;
  const EPERM_ACT = ACTION.SCMP_ACT_ERRNO | 1;
  const ENOSYS_ACT = ACTION.SCMP_ACT_ERRNO | 38;
  const X86_64 = 0xc000003e;
  const I386 = 0x40000003;
  const X32 = 0x4000003e;
  const AARCH64 = 0xc00000b7;
  // a stand-in for libseccomp's program: the default action
  const run = (stub: Insn[], nr: number, arch: number, def = EPERM_ACT) => runStub([...stub, { code: 0x06, jt: 0, jf: 0, k: def }], { nr, arch });

  it('x86_64 alone: above the largest number ENOSYS, at or below it the filter; x32 numbers and other archs go to the filter', () => {
    const s = enosysStub(new Map([[X86_64, { native: 231 }]]));
    assert.equal(run(s, 1000, X86_64), ENOSYS_ACT);
    assert.equal(run(s, 232, X86_64), ENOSYS_ACT);
    assert.equal(run(s, 231, X86_64), EPERM_ACT);
    assert.equal(run(s, 39, X86_64), EPERM_ACT);
    assert.equal(run(s, 0x40000000 + 5, X86_64), EPERM_ACT);
    assert.equal(run(s, 1000, I386), EPERM_ACT);
  });

  it('x86_64, x32 and i386 together, each with its own largest number', () => {
    const s = enosysStub(new Map([[X86_64, { native: 300, x32: 0x40000000 + 200 }], [I386, { native: 400 }]]));
    assert.equal(run(s, 301, X86_64), ENOSYS_ACT);
    assert.equal(run(s, 300, X86_64), EPERM_ACT);
    assert.equal(run(s, 0x40000000 + 201, X86_64), ENOSYS_ACT);
    assert.equal(run(s, 0x40000000 + 200, X86_64), EPERM_ACT);
    assert.equal(run(s, 401, I386), ENOSYS_ACT);
    assert.equal(run(s, 350, I386), EPERM_ACT);
    assert.equal(run(s, 5000, AARCH64), EPERM_ACT);
  });

  it('x32 alone: x86_64 numbers go to the filter', () => {
    const s = enosysStub(new Map([[X86_64, { x32: 0x40000000 + 100 }]]));
    assert.equal(run(s, 0x40000000 + 101, X86_64), ENOSYS_ACT);
    assert.equal(run(s, 5000, X86_64), EPERM_ACT);
  });

  it('lastSyscalls: per arch token, x32 folded into AUDIT_ARCH_X86_64, unknown names ignored', () => {
    const table: Record<number, Record<string, number>> = { [X86_64]: { read: 0, clone3: 435 }, [X32]: { read: 0x40000000, clone3: 0x40000000 + 435 }, [I386]: { read: 3 } };
    const last = lastSyscalls([X86_64, X32, I386, X86_64], ['read', 'clone3', 'nope'], (a, n) => table[a]?.[n] ?? -1);
    assert.deepEqual([...last], [[X86_64, { native: 435, x32: 0x40000000 + 435 }], [I386, { native: 3 }]]);
  });

  it('compileSeccomp prepends it for a deny-by-default profile, not for allow, log or trace, nor with defaultErrnoRet ENOSYS', () => {
    const prof = (defaultAction: string, extra: Record<string, unknown> = {}) => sc({ defaultAction: defaultAction as LinuxSeccomp['defaultAction'], syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }], ...extra });
    for (const def of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']) assert.equal(compileSeccomp(prof(def), 'linux.seccomp', fake().lib).bpf.length, 16, def);
    assert.equal(compileSeccomp(sc({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 }), 'linux.seccomp', fake().lib).bpf.length, 16);
    for (const def of ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
      const out = compileSeccomp(prof(def), 'linux.seccomp', fake().lib);
      const insns = decodeBpf(out.bpf);
      const stub = insns.slice(0, insns.length - 2); // the fake's export is 16 zero bytes: 2 insns
      assert.ok(stub.length > 0, def);
      // write (1) is the largest the profile names on the native x86_64
      assert.equal(run(stub, 2, X86_64, ALLOW), ENOSYS_ACT, def);
      assert.equal(run(stub, 1, X86_64, ALLOW), ALLOW, def);
    }
  });
});
