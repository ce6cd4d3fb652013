import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceFilter, decodeInsns, encodeInsns, deviceFilterInsns, BPF, DEV_BLOCK, DEV_CHAR, type Insn } from './bpf.ts';
import { emulate, ACC_MKNOD, ACC_READ, ACC_WRITE, type DeviceRule } from './emulator.ts';
import { deviceRules, deviceFilterTarget } from '../devices.ts';

/** A tiny eBPF interpreter for exactly the instructions the generator may emit; anything else
 *  fails the test. Returns R0 for a request (type, access, major, minor). */
function run(program: Uint8Array, type: number, access: number, major: number, minor: number): number {
  const insns = decodeInsns(program);
  const ctx = [((access & 0xffff) << 16 | (type & 0xffff)) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  const u32 = (v: number) => v >>> 0;
  for (let pc = 0, steps = 0; ; pc++, steps++) {
    assert.ok(pc >= 0 && pc < insns.length, `pc ${pc} outside the program`);
    assert.ok(steps < 10_000, 'no termination');
    const x = insns[pc]!;
    switch (x.code) {
      case BPF.LDX_MEM_W:
        assert.equal(x.src, 1, 'loads only from the context');
        assert.ok(x.off % 4 === 0 && x.off >= 0 && x.off <= 8);
        r[x.dst] = ctx[x.off / 4]!;
        break;
      case BPF.ALU_AND_K:
        r[x.dst] = u32(r[x.dst]! & x.imm);
        break;
      case BPF.ALU_RSH_K:
        r[x.dst] = u32(r[x.dst]!) >>> x.imm;
        break;
      case BPF.ALU_MOV_K:
        r[x.dst] = u32(x.imm);
        break;
      case BPF.ALU_MOV_X:
        r[x.dst] = u32(r[x.src]!);
        break;
      case BPF.JMP32_JNE_K:
        if (u32(r[x.dst]!) !== u32(x.imm)) pc += x.off;
        break;
      case BPF.JMP32_JNE_X:
        if (u32(r[x.dst]!) !== u32(r[x.src]!)) pc += x.off;
        break;
      case BPF.EXIT:
        return r[0]!;
      default:
        assert.fail(`unexpected opcode 0x${x.code.toString(16)} at ${pc}`);
    }
  }
}

/** The v1 kernel's answer for the same rules, straight from the rule list (the reference the
 *  program must match): the clean rules' default, unless an exception covers the request. */
const R = ACC_READ, W = ACC_WRITE, M = ACC_MKNOD;
const runcDefault = deviceRules([], []);

test('encode/decode round trip, and runc-shaped prologue and epilogue', () => {
  const insns = deviceFilterInsns(emulate(runcDefault));
  assert.deepEqual(decodeInsns(encodeInsns(insns)), insns);
  assert.deepEqual(insns.slice(0, 6).map((i: Insn) => i.code), [BPF.LDX_MEM_W, BPF.ALU_AND_K, BPF.LDX_MEM_W, BPF.ALU_RSH_K, BPF.LDX_MEM_W, BPF.LDX_MEM_W]);
  assert.deepEqual(insns.slice(-2), [
    { code: BPF.ALU_MOV_K, dst: 0, src: 0, off: 0, imm: 0 },
    { code: BPF.EXIT, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
  // every jump lands inside the program
  insns.forEach((x, i) => {
    if (x.code === BPF.JMP32_JNE_K || x.code === BPF.JMP32_JNE_X) assert.ok(i + 1 + x.off < insns.length && x.off > 0);
  });
});

test("runc's default list: the usual char devices, mknod of anything, nothing else", () => {
  const p = deviceFilter(emulate(runcDefault));
  const cases: Array<[number, number, number, number, number]> = [
    // type, access, major, minor, expected
    [DEV_CHAR, R | W, 1, 3, 1], // /dev/null
    [DEV_CHAR, R, 1, 9, 1], // urandom
    [DEV_CHAR, R | W, 5, 0, 1], // tty
    [DEV_CHAR, R | W, 136, 7, 1], // pts
    [DEV_CHAR, R | W, 10, 200, 1], // tun
    [DEV_CHAR, R | W, 5, 2, 1], // ptmx
    [DEV_CHAR, M, 10, 229, 1], // mknod of fuse
    [DEV_BLOCK, M, 8, 0, 1], // mknod of a disk
    [DEV_BLOCK, R, 8, 0, 0], // reading the disk
    [DEV_BLOCK, R | W, 8, 0, 0],
    [DEV_CHAR, R | W, 10, 229, 0], // fuse
    [DEV_CHAR, R, 1, 1, 0], // /dev/mem
    [DEV_CHAR, R | M, 10, 229, 0], // not all access bits covered
    [DEV_CHAR, R | W, 137, 0, 0],
  ];
  for (const [type, access, major, minor, want] of cases) assert.equal(run(p, type, access, major, minor), want, `${type} ${major}:${minor} access ${access}`);
});

test('an explicit deny holds; a later allow wins; the last match wins', () => {
  const rules = (devs: object[]) => deviceRules(devs as never, [{ path: '/dev/fuse' }]);
  // deny fuse only: with default deny-all, it stays denied
  const deny = deviceFilter(emulate(rules([{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }])));
  assert.equal(run(deny, DEV_CHAR, R | W, 10, 229), 0);
  // allow then deny: denied; deny then allow: allowed
  const allowDeny = deviceFilter(emulate(rules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }])));
  assert.equal(run(allowDeny, DEV_CHAR, R | W, 10, 229), 0);
  const denyAllow = deviceFilter(emulate(rules([{ allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }])));
  assert.equal(run(denyAllow, DEV_CHAR, R | W, 10, 229), 1);
  assert.equal(run(denyAllow, DEV_CHAR, R, 10, 229), 1);
  // allow-all, then deny the disk: block reads of 8:0 refused, other disks allowed
  const allowAll = deviceFilter(emulate(rules([{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'rw' }])));
  assert.equal(run(allowAll, DEV_BLOCK, R, 8, 0), 0);
  assert.equal(run(allowAll, DEV_BLOCK, M, 8, 0), 1);
  assert.equal(run(allowAll, DEV_BLOCK, R, 8, 16), 1);
  assert.equal(run(allowAll, DEV_CHAR, R | W, 1, 1), 1);
  // "a" with any access resets; "rwa" in a deny is a deny of rw (runc ignores the "a")
  const rwa = deviceFilter(emulate(rules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwa' }])));
  assert.equal(run(rwa, DEV_CHAR, R, 10, 229), 0);
  assert.equal(run(rwa, DEV_CHAR, M, 10, 229), 1);
});

test('majors and minors beyond 2^31 compare as u32', () => {
  const rules: DeviceRule[] = [{ allow: true, type: 'c', major: 0xfffffffe, minor: 0x80000001, access: 'rw' }];
  const p = deviceFilter(emulate(rules));
  assert.equal(run(p, DEV_CHAR, R, 0xfffffffe, 0x80000001), 1);
  assert.equal(run(p, DEV_CHAR, R, 0xfffffffe, 1), 0);
});

test('deviceFilterTarget: the unified cgroup on pure v2; on hybrid only without a v1 devices cgroup; never rootless or on v1', () => {
  const unified = '/sys/fs/cgroup/c1';
  assert.deepEqual(deviceFilterTarget('v2', { unified }, false), { dir: unified, bestEffort: false });
  // hybrid: the v1 devices cgroup enforces the rules (as runc's and crun's v1 managers do)
  assert.equal(deviceFilterTarget('hybrid', { unified: '/sys/fs/cgroup/unified/c1', devices: '/sys/fs/cgroup/devices/c1', pids: '/sys/fs/cgroup/pids/c1' }, false), undefined);
  // ... also where devices is co-mounted with other controllers (the hierarchy's key names them all)
  assert.equal(deviceFilterTarget('hybrid', { unified: '/sys/fs/cgroup/unified/c1', 'cpu,devices': '/sys/fs/cgroup/cpu,devices/c1' }, false), undefined);
  // hybrid without the devices controller mounted: the filter, best effort, is all there is
  assert.deepEqual(deviceFilterTarget('hybrid', { unified: '/sys/fs/cgroup/unified/c1', pids: '/sys/fs/cgroup/pids/c1' }, false), { dir: '/sys/fs/cgroup/unified/c1', bestEffort: true });
  assert.equal(deviceFilterTarget('v1', { devices: '/sys/fs/cgroup/devices/c1' }, false), undefined);
  assert.equal(deviceFilterTarget('v2', { unified }, true), undefined);
  assert.equal(deviceFilterTarget('v2', {}, false), undefined);
});
