// The -ENOSYS stub runc 1.1 prepends to the filter libseccomp makes (libcontainer/seccomp/patchbpf):
// a syscall whose number is greater than the largest one the profile names on that architecture is
// newer than the profile, and gets ENOSYS instead of the default action, so that libcs fall back
// (clone3 -> clone, faccessat2 -> faccessat, ...). Our own emitter, unit-tested by running it.

/** libseccomp's arch tokens are the kernel's AUDIT_ARCH_* values, except x32's. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const SCMP_ARCH_X32 = 0x4000003e;
/** x32 system calls come with AUDIT_ARCH_X86_64 and this bit set in their number. */
export const X32_SYSCALL_BIT = 0x40000000;
export const RET_ERRNO_ENOSYS = 0x00050000 | 38;

// classic BPF opcodes
export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The largest syscall number per audit arch: `native` for the arch's own ABI, `x32` for x32. */
export type LastSyscalls = Map<number, { native?: number; x32?: number }>;

/** Per-arch largest numbers, from the arch tokens of the filter (the native one always included, as
 *  runc does) and every syscall name of the profile; archs without any known name are left out. */
export function lastSyscalls(archTokens: number[], names: string[], resolve: (arch: number, name: string) => number): LastSyscalls {
  const out: LastSyscalls = new Map();
  for (const token of new Set(archTokens)) {
    let max = -1;
    for (const n of names) {
      const nr = resolve(token, n);
      if (nr > max) max = nr;
    }
    if (max <= 0) continue;
    const audit = token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token >>> 0;
    const e = out.get(audit) ?? {};
    if (token === SCMP_ARCH_X32) e.x32 = max;
    else e.native = max;
    out.set(audit, e);
  }
  return out;
}

/** The stub: per arch, `ld arch; jeq A; ld nr; [jset x32 bit]; jgt last -> ret ENOSYS; ja filter`.
 *  Every jump stays within its block except the `ja` into the filter (32-bit offset). */
export function enosysStub(last: LastSyscalls): Insn[] {
  const blocks: Array<(toFilter: (at: number) => number) => Insn[]> = [];
  const I = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, jt, jf, k: k >>> 0 });
  for (const [audit, { native, x32 }] of last) {
    blocks.push((toFilter) => {
      const body: Insn[] = [];
      const x86_64 = audit === AUDIT_ARCH_X86_64;
      if (!x86_64 || x32 === undefined) {
        if (native === undefined) return [];
        // x86_64 without x32 in the profile: x32 numbers go to the filter as they are
        if (x86_64) body.push(I(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 2, 0));
        body.push(I(BPF.JMP_JGT_K, native, 0, 1));
      } else if (native === undefined) {
        body.push(I(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 0, 2), I(BPF.JMP_JGT_K, x32, 0, 1));
      } else {
        body.push(I(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 1, 0), I(BPF.JMP_JGT_K, native, 1, 2), I(BPF.JMP_JGT_K, x32, 0, 1));
      }
      body.push(I(BPF.RET_K, RET_ERRNO_ENOSYS));
      const block = [I(BPF.LD_W_ABS, 4), I(BPF.JMP_JEQ_K, audit, 0, body.length + 2), I(BPF.LD_W_ABS, 0), ...body];
      const at = block.length;
      block.push(I(BPF.JMP_JA, toFilter(at)));
      return block;
    });
  }
  // two passes: the sizes first, then the offsets of the `ja`s to the end of the stub
  const sizes = blocks.map((b) => b(() => 0).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: Insn[] = [];
  blocks.forEach((b) => {
    const start = out.length;
    out.push(...b((at) => total - (start + at + 1)));
  });
  return out;
}

export function encode(insns: Insn[]): Uint8Array {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    buf.writeUInt16LE(x.code, i * 8);
    buf.writeUInt8(x.jt, i * 8 + 2);
    buf.writeUInt8(x.jf, i * 8 + 3);
    buf.writeUInt32LE(x.k, i * 8 + 4);
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export function decode(bpf: Uint8Array): Insn[] {
  const b = Buffer.from(bpf.buffer, bpf.byteOffset, bpf.length);
  const out: Insn[] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) out.push({ code: b.readUInt16LE(i), jt: b.readUInt8(i + 2), jf: b.readUInt8(i + 3), k: b.readUInt32LE(i + 4) });
  return out;
}

/** Runs the instructions the stub uses (ld abs, ja, jeq/jgt/jset with a constant, ret with a
 *  constant) over struct seccomp_data (nr, arch): for tests. Returns the action, or undefined at
 *  an instruction it does not know (e.g. inside libseccomp's own program). */
export function runStub(prog: Insn[], data: { nr: number; arch: number }): number | undefined {
  const words = [data.nr >>> 0, data.arch >>> 0];
  let A = 0;
  for (let pc = 0; pc < prog.length; ) {
    const { code, jt, jf, k } = prog[pc]!;
    switch (code) {
      case BPF.LD_W_ABS:
        A = words[k / 4] ?? 0;
        pc++;
        break;
      case BPF.JMP_JA:
        pc += 1 + k;
        break;
      case BPF.JMP_JEQ_K:
        pc += 1 + (A === k ? jt : jf);
        break;
      case BPF.JMP_JGT_K:
        pc += 1 + (A > k ? jt : jf);
        break;
      case BPF.JMP_JSET_K:
        pc += 1 + ((A & k) !== 0 ? jt : jf);
        break;
      case BPF.RET_K:
        return k;
      default:
        return undefined;
    }
  }
  return undefined;
}
