// Unit tests of the wire encoding (no root, no executor run).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '@runts/core';
import {
  Op,
  ExecFlags,
  Msg,
  Signatures,
  encodeProgram,
  encodeStep,
  encodeMessage,
  decodeError,
  describeError,
  executorPath,
  MAX_PROGRAM_SIZE,
  type Step,
  type ArgKind,
} from './index.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('encodeStep', () => {
  it('encodes a record header and u64 arguments little-endian', () => {
    const b = encodeStep({ op: Op.Rlimit, resource: 7n, soft: 1024n, hard: (1n << 64n) - 1n });
    assert.equal(b.readUInt16LE(0), Op.Rlimit);
    assert.equal(b.readUInt16LE(2), 0);
    assert.equal(b.readUInt32LE(4), 24);
    assert.equal(b.readBigUInt64LE(8), 7n);
    assert.equal(b.readBigUInt64LE(16), 1024n);
    assert.equal(hex(b.subarray(24)), 'ff'.repeat(8));
  });

  it('encodes strings with a length, the bytes and one NUL', () => {
    const b = encodeStep({ op: Op.Hostname, name: 'héllo' });
    assert.equal(hex(b), hex(Buffer.concat([Buffer.from([29, 0, 0, 0, 11, 0, 0, 0, 6, 0, 0, 0]), Buffer.from('héllo'), Buffer.from([0])])));
  });

  it('encodes argument-less ops as an empty record', () => {
    assert.equal(hex(encodeStep({ op: Op.WaitStart })), '2b00000000000000');
    assert.equal(hex(encodeStep({ op: Op.NoNewPrivs })), '2300000000000000');
  });

  it('encodes string lists, u64 lists and bytes', () => {
    const exec = encodeStep({ op: Op.Exec, argv: ['sh', ''], env: [], preserveFds: 2n });
    // count 2, "sh\0" (4+3), "" (4+1), env count 0, u64 2
    assert.equal(exec.readUInt32LE(4), 4 + 7 + 5 + 4 + 8);
    assert.equal(hex(exec.subarray(8)), '02000000' + '02000000' + '736800' + '00000000' + '00' + '00000000' + '0200000000000000');
    const user = encodeStep({ op: Op.User, uid: 1n, gid: 2n, additionalGids: [3n, 4n], setgroups: 1n });
    assert.equal(user.readUInt32LE(4), 8 + 8 + 4 + 16 + 8);
    assert.equal(user.readUInt32LE(24), 2);
    assert.equal(user.readBigUInt64LE(28), 3n);
    assert.equal(user.readBigUInt64LE(36), 4n);
    const sec = encodeStep({ op: Op.Seccomp, bpf: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), flags: 1n });
    assert.equal(hex(sec.subarray(8)), '08000000' + '0102030405060708' + '0100000000000000');
  });

  it('encodes a Mount in signature order', () => {
    const b = encodeStep({ op: Op.Mount, source: 'a', target: '/b', fstype: 'c', flags: 1n, data: '', mflags: 2n, propagation: 3n, attrSet: 4n, attrClr: 5n, remountFlags: 6n });
    let off = 8;
    const str = (): string => {
      const n = b.readUInt32LE(off);
      const s = b.subarray(off + 4, off + 4 + n).toString();
      assert.equal(b[off + 4 + n], 0);
      off += 5 + n;
      return s;
    };
    const u64 = (): bigint => {
      const v = b.readBigUInt64LE(off);
      off += 8;
      return v;
    };
    assert.deepEqual([str(), str(), str(), u64(), str(), u64(), u64(), u64(), u64(), u64()], ['a', '/b', 'c', 1n, '', 2n, 3n, 4n, 5n, 6n]);
    assert.equal(off, b.length);
    assert.equal(b.readUInt32LE(4), b.length - 8);
  });

  it('rejects what the executor would reject', () => {
    assert.throws(() => encodeStep({ op: Op.Hostname, name: 'a\0b' }), /NUL/);
    assert.throws(() => encodeStep({ op: Op.Umask, mask: -1n }), /not a u64/);
    assert.throws(() => encodeStep({ op: Op.Umask, mask: 1n << 64n }), /not a u64/);
    assert.throws(() => encodeStep({ op: Op.Umask, mask: 1 as unknown as bigint }), /not a u64/);
    assert.throws(() => encodeStep({ op: 33 } as unknown as Step), /unknown op 33/);
    assert.throws(() => encodeStep({ op: Op.Exec, argv: 'sh', env: [], preserveFds: 0n } as unknown as Step), /not a string list/);
    assert.throws(() => encodeProgram([{ op: Op.Hostname, name: 'x'.repeat(4096) }], 4096), /too large/);
    assert.ok(MAX_PROGRAM_SIZE >= 64 * 1024 * 1024, 'a 10 MB config.json fits (runc has no cap)');
    assert.equal(encodeProgram([{ op: Op.Hostname, name: 'x'.repeat(12 * 1024 * 1024) }]).length > 12 * 1024 * 1024, true);
  });
});

describe('encodeProgram and messages', () => {
  it('concatenates records in order', () => {
    const steps: Step[] = [{ op: Op.Config, flags: 1n }, { op: Op.Setsid }, { op: Op.Chdir, cwd: '/' }];
    assert.equal(hex(encodeProgram(steps)), steps.map((s) => hex(encodeStep(s))).join(''));
    assert.equal(encodeProgram([]).length, 0);
  });

  it('lays out records the same across the buffer\'s growth (one buffer that doubles)', () => {
    // a record straddling each doubling, long strings and lists, multi-byte UTF-8
    const steps: Step[] = [];
    for (let i = 0; i < 300; i++) {
      steps.push({ op: Op.Hostname, name: `h${i}-${'é'.repeat(i * 7)}` });
      steps.push({ op: Op.User, uid: BigInt(i), gid: 2n, additionalGids: Array.from({ length: i % 9 }, (_, k) => BigInt(k)), setgroups: 1n });
      steps.push({ op: Op.Exec, argv: ['sh', '-c', 'x'.repeat(i * 13)], env: [`A=${i}`], preserveFds: 0n });
    }
    const program = encodeProgram(steps);
    assert.ok(program.length > 4 * 8192, `${program.length} bytes`);
    assert.equal(hex(program), steps.map((s) => hex(encodeStep(s))).join(''));
    // walk the records: each length field spans exactly its args
    let at = 0;
    for (const s of steps) {
      assert.equal(program.readUInt16LE(at), s.op);
      at += 8 + program.readUInt32LE(at + 4);
    }
    assert.equal(at, program.length);
    const h = encodeStep({ op: Op.Hostname, name: 'é'.repeat(5000) });
    assert.equal(h.readUInt32LE(4), 4 + 10000 + 1);
    assert.equal(h.readUInt32LE(8), 10000);
    assert.equal(h.subarray(12, 12 + 10000).toString('utf8'), 'é'.repeat(5000));
    assert.equal(h[12 + 10000], 0);
    // a bad element of a list names the op, the field and the index
    assert.throws(() => encodeStep({ op: Op.Exec, argv: ['a', 7 as unknown as string], env: [], preserveFds: 0n }), /^TypeError: op \d+ argv\[1\]: not a string$/);
  });

  it('frames messages as type, length, payload', () => {
    assert.equal(hex(encodeMessage(Msg.Go, Buffer.from('{}'))), '02000000' + '02000000' + '7b7d');
    assert.equal(hex(encodeMessage(Msg.Program)), '0100000000000000');
  });
});

describe('errors', () => {
  const err = (step: number, errno: number, message: string): Buffer => {
    const m = Buffer.from(message);
    const b = Buffer.alloc(13 + m.length);
    b.writeUInt32LE(step, 0);
    b.writeInt32LE(errno, 4);
    b.writeUInt32LE(m.length, 8);
    m.copy(b, 12);
    return b;
  };
  const steps = [
    { step: { op: Op.Config, flags: 0n } as Step, field: 'config' },
    { step: { op: Op.Mount, source: 'x', target: '/data', fstype: '', flags: 0n, data: '', mflags: 0n, propagation: 0n, attrSet: 0n, attrClr: 0n, remountFlags: 0n } as Step, field: 'mounts[2]', label: '/data' },
    { step: { op: Op.Resolve, name: 'foo', path: '' } as Step, field: 'process.args' },
    { step: { op: Op.Hook, path: '/h', args: [], env: [], timeout: 0n } as Step, field: 'hooks.prestart[0]', label: '/h' },
  ];

  it('decodes Msg.Error', () => {
    assert.deepEqual(decodeError(err(3, 2, 'mount')), { step: 3, errno: 2, message: 'mount' });
    assert.throws(() => decodeError(Buffer.alloc(5)), /short/);
  });

  it('names the field and label of the failing step and appends strerror', () => {
    const e = describeError(decodeError(err(1, 2, 'mount')), steps);
    assert.ok(e instanceof RuntimeError);
    assert.equal(e.message, 'mounts[2] (/data): mount: no such file or directory');
    assert.equal(e.errno, 'ENOENT');
    assert.equal(e.code, 'ESYS');
  });

  it('keeps runc text as is for the exec lookup and hook status', () => {
    const e = describeError(decodeError(err(2, 2, 'exec: "foo": executable file not found in $PATH')), steps);
    assert.equal(e.message, 'process.args: exec: "foo": executable file not found in $PATH');
    assert.equal(e.code, 'EEXEC');
    const h = describeError(decodeError(err(3, 0, 'hook /h: exit status 2')), steps);
    assert.equal(h.message, 'hooks.prestart[0] (/h): hook /h: exit status 2');
    assert.equal(h.code, 'EHOOK');
    assert.equal(h.errno, undefined);
  });

  it('reports errors outside any step with the message alone', () => {
    assert.equal(describeError(decodeError(err(0xffffffff, 22, 'invalid program record')), steps).message, 'invalid program record: invalid argument');
  });
});

describe('the C executor agrees with program.ts', () => {
  it('has the same op numbers and argument signatures', () => {
    const header = readFileSync(fileURLToPath(new URL('./runts-init.h', import.meta.url)), 'utf8');
    const proto = readFileSync(fileURLToPath(new URL('./proto.c', import.meta.url)), 'utf8');
    const num = new Map<string, number>();
    for (const m of header.matchAll(/\bOP_([A-Z0-9_]+) = (\d+)/g)) num.set(m[1]!, Number(m[2]));
    const csig = new Map<number, string>();
    for (const m of proto.matchAll(/\[OP_([A-Z0-9_]+)\] = "([^"]*)"/g)) {
      const n = num.get(m[1]!);
      assert.ok(n !== undefined, `OP_${m[1]} has no number`);
      csig.set(n, m[2]!);
    }
    const letter: Record<ArgKind, string> = { u64: 'u', str: 's', strlist: 'L', u64list: 'U', bytes: 'b' };
    const tsOps = Object.entries(Op);
    assert.equal(csig.size, tsOps.length, 'the C table and Op have different sizes');
    for (const [name, code] of tsOps) {
      const sig = (Signatures as Record<number, ReadonlyArray<readonly [string, ArgKind]>>)[code]!;
      assert.equal(csig.get(code), sig.map(([, k]) => letter[k]).join(''), `op ${name} (${code})`);
    }
  });
});

describe('the C executor agrees with program.ts on the flags', () => {
  it('has the same ExecFlags bits', () => {
    const header = readFileSync(fileURLToPath(new URL('./runts-init.h', import.meta.url)), 'utf8');
    const c = new Map<string, bigint>();
    for (const m of header.matchAll(/#define EXEC_([A-Z0-9_]+) (\d+)u/g)) c.set(m[1]!.replace(/_/g, ''), BigInt(m[2]!));
    const ts = Object.entries(ExecFlags);
    assert.equal(c.size, ts.length, 'the C defines and ExecFlags have different sizes');
    for (const [name, bit] of ts) assert.equal(c.get(name.toUpperCase()), bit, `ExecFlags.${name}`);
  });
});

describe('executorPath', () => {
  it('prefers $RUNTS_INIT, else a sealed memfd of the build next to the sources', () => {
    const saved = process.env.RUNTS_INIT;
    try {
      process.env.RUNTS_INIT = '/opt/x/runts-init';
      assert.equal(executorPath(), '/opt/x/runts-init');
      delete process.env.RUNTS_INIT;
      const built = fileURLToPath(new URL('../build/runts-init', import.meta.url));
      const path = executorPath();
      assert.match(path, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
      assert.match(readlinkSync(path), /^\/memfd:runts-init/);
      assert.deepEqual(readFileSync(path), readFileSync(built), 'the memfd holds the build');
      // sealed as main.c requires: no write, no growing or shrinking, no more seals
      assert.throws(() => writeFileSync(path, 'x'), /EPERM/);
    } finally {
      if (saved === undefined) delete process.env.RUNTS_INIT;
      else process.env.RUNTS_INIT = saved;
    }
  });
});
