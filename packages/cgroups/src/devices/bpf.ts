// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the clean
// rules (emulator.ts), with runc's devicefilter semantics: the program reads the request
// (struct bpf_cgroup_dev_ctx: u32 access_type = type | access << 16, u32 major, u32 minor), tries
// each exception in turn and returns the exception's action on the first match (a request matches
// when the type is equal, its access bits are all in the exception's, and major/minor are equal or
// the exception's are wildcards), and the default action when none matches. Comparisons are 32-bit
// (BPF_JMP32), so every u32 major/minor compares correctly.
import { RuntimeError } from '@runts/core';
import { ACC_MKNOD, ACC_READ, ACC_WRITE, type CleanRules } from './emulator.ts';

/** BPF_DEVCG_DEV_* */
export const DEV_BLOCK = 1;
export const DEV_CHAR = 2;

/** Opcodes used (linux/bpf_common.h, linux/bpf.h). */
export const BPF = {
  LDX_MEM_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  ALU_RSH_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  ALU_MOV_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  ALU_MOV_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JMP32_JNE_K: 0x56, // BPF_JMP32 | BPF_JNE | BPF_K
  JMP32_JNE_X: 0x5e, // BPF_JMP32 | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

/** runc loads its device filter with this license. */
export const LICENSE = 'Apache';

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const MAX_U32 = 0xffffffff;

/** The program's instructions for the clean rules. */
export function deviceFilterInsns(clean: CleanRules): Insn[] {
  const out: Insn[] = [];
  const I = (code: number, dst: number, src: number, off: number, imm: number) => out.push({ code, dst, src, off, imm });
  // R2 <- type (low 16 bits of access_type), R3 <- access (high 16), R4 <- major, R5 <- minor
  I(BPF.LDX_MEM_W, 2, 1, 0, 0);
  I(BPF.ALU_AND_K, 2, 0, 0, 0xffff);
  I(BPF.LDX_MEM_W, 3, 1, 0, 0);
  I(BPF.ALU_RSH_K, 3, 0, 0, 16);
  I(BPF.LDX_MEM_W, 4, 1, 4, 0);
  I(BPF.LDX_MEM_W, 5, 1, 8, 0);
  const action = clean.defaultAllow ? 0 : 1; // every exception has the action opposite to the default
  for (const e of clean.exceptions) {
    const block: Array<Omit<Insn, 'off'> & { next: boolean }> = [];
    const jne = (code: number, dst: number, src: number, imm: number) => block.push({ code, dst, src, imm, next: true });
    jne(BPF.JMP32_JNE_K, 2, 0, e.type === 'b' ? DEV_BLOCK : DEV_CHAR);
    const all = ACC_READ | ACC_WRITE | ACC_MKNOD;
    if ((e.access & all) !== all) {
      // if ((R3 & access) != R3) next   (R1 is free: the context was read)
      block.push({ code: BPF.ALU_MOV_X, dst: 1, src: 3, imm: 0, next: false });
      block.push({ code: BPF.ALU_AND_K, dst: 1, src: 0, imm: e.access, next: false });
      jne(BPF.JMP32_JNE_X, 1, 3, 0);
    }
    for (const [v, reg, what] of [
      [e.major, 4, 'major'],
      [e.minor, 5, 'minor'],
    ] as const) {
      if (v === '*') continue;
      if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw new RuntimeError('EINVAL', `device rule: invalid ${what} ${v}`);
      jne(BPF.JMP32_JNE_K, reg, 0, v | 0);
    }
    block.push({ code: BPF.ALU_MOV_K, dst: 0, src: 0, imm: action, next: false });
    block.push({ code: BPF.EXIT, dst: 0, src: 0, imm: 0, next: false });
    // a jump to the next block skips the rest of this one
    block.forEach((b, i) => out.push({ code: b.code, dst: b.dst, src: b.src, imm: b.imm, off: b.next ? block.length - i - 1 : 0 }));
  }
  I(BPF.ALU_MOV_K, 0, 0, 0, clean.defaultAllow ? 1 : 0);
  I(BPF.EXIT, 0, 0, 0, 0);
  return out;
}

/** struct bpf_insn[]: u8 code, u8 dst:4 | src:4 << 4, s16 off, s32 imm (little-endian). */
export function encodeInsns(insns: readonly Insn[]): Uint8Array {
  // a DataView's setters are V8 builtins (Buffer's writeInt32LE & co. are JS that Node >= 22
  // compiles with Maglev once a create has called them a few hundred times)
  const v = new DataView(new ArrayBuffer(insns.length * 8));
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (x.off < -0x8000 || x.off > 0x7fff) throw new RangeError(`bpf insn ${i}: jump offset ${x.off} out of range`);
    v.setUint8(i * 8, x.code);
    v.setUint8(i * 8 + 1, (x.dst & 0xf) | ((x.src & 0xf) << 4));
    v.setInt16(i * 8 + 2, x.off, true);
    v.setInt32(i * 8 + 4, x.imm | 0, true);
  }
  return new Uint8Array(v.buffer);
}

export function decodeInsns(bytes: Uint8Array): Insn[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Insn[] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) {
    const regs = b.readUInt8(i + 1);
    out.push({ code: b.readUInt8(i), dst: regs & 0xf, src: regs >> 4, off: b.readInt16LE(i + 2), imm: b.readInt32LE(i + 4) });
  }
  return out;
}

/** The encoded program for the clean rules. */
export function deviceFilter(clean: CleanRules): Uint8Array {
  return encodeInsns(deviceFilterInsns(clean));
}
