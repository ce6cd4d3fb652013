import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulate, v1Writes, type DeviceRule } from './emulator.ts';
import { deviceRules } from '../devices.ts';

const r = (allow: boolean, type: 'a' | 'b' | 'c', major: number | '*', minor: number | '*', access: string): DeviceRule => ({ allow, type, major, minor, access });

test('deny-all by default; exceptions merge and sort as runc', () => {
  const c = emulate([r(true, 'c', 5, 1, 'r'), r(true, 'c', 1, 3, 'rw'), r(true, 'c', 5, 1, 'wm')]);
  assert.equal(c.defaultAllow, false);
  assert.deepEqual(v1Writes(c), [
    ['devices.allow', 'c 1:3 rw'],
    ['devices.allow', 'c 5:1 rwm'],
  ]);
});

test('"a" resets, whatever its access', () => {
  const c = emulate([r(true, 'c', 1, 3, 'rw'), r(true, 'a', '*', '*', 'r'), r(false, 'b', 8, 0, 'rwm')]);
  assert.deepEqual(v1Writes(c), [
    ['devices.allow', 'a *:* rwm'],
    ['devices.deny', 'b 8:0 rwm'],
  ]);
  assert.deepEqual(emulate([r(true, 'a', '*', '*', 'rwm'), r(false, 'a', 3, 4, 'm')]), { defaultAllow: false, exceptions: [] });
});

test('removing from a non-existent exception is a no-op; partial removal keeps the rest', () => {
  assert.deepEqual(emulate([r(false, 'c', 10, 229, 'rwa')]).exceptions, []);
  assert.deepEqual(v1Writes(emulate([r(true, 'c', 10, 229, 'rwm'), r(false, 'c', 10, 229, 'rw')])), [['devices.allow', 'c 10:229 m']]);
});

test('punching a hole in a wildcard exception is refused, naming the field', () => {
  const rules = deviceRules([{ allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }], []);
  assert.throws(() => emulate(rules), /^RuntimeError: linux.resources.devices\[1\]: deny c 1:3 rw: not supported by the devices cgroup \(cannot punch a hole in the earlier wildcard rule c \*:\* rwm\)$/);
  // a deny of a device whose wildcard does not overlap in access is fine
  assert.doesNotThrow(() => emulate([r(true, 'c', '*', '*', 'm'), r(false, 'c', 1, 3, 'rw')]));
});

test("linux.devices gets nodes, not rules; a listed default device loses its default rule (runc's createDevices)", () => {
  const rules = deviceRules([{ allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }], [{ path: '/dev/fuse' }, { path: '/dev/null' }]);
  const c = emulate(rules);
  assert.ok(!c.exceptions.some((e) => e.major === 10 && e.minor === 229));
  assert.ok(!c.exceptions.some((e) => e.major === 1 && e.minor === 3), '/dev/null in linux.devices drops its default rule');
  assert.ok(c.exceptions.some((e) => e.major === 1 && e.minor === 5));
});

test('bad device rules name the field', () => {
  assert.throws(() => deviceRules([{ allow: true, type: 'x', access: 'rwm' }], []), /linux.resources.devices\[0\].type: invalid cgroup device type "x"/);
  assert.throws(() => deviceRules([{ allow: true, type: 'u', access: 'rwm' }], []), /linux.resources.devices\[0\].type/);
  assert.throws(() => deviceRules([{ allow: true, type: 'c' }], []), /linux.resources.devices\[0\].access: must not be empty/);
  assert.throws(() => deviceRules([{ allow: true, type: 'c', access: 'rw' }, { allow: true, type: 'c', major: -5, access: 'rw' }], []), /linux.resources.devices\[1\].major: invalid device number -5/);
  assert.throws(() => deviceRules([{ allow: true, type: 'c', minor: 2 ** 32, access: 'rw' }], []), /linux.resources.devices\[0\].minor/);
  assert.deepEqual(deviceRules([{ allow: true, type: 'b', major: null, minor: -1, access: 'r' }], []).slice(0, 1), [{ allow: true, type: 'b', major: '*', minor: '*', access: 'r', field: 'linux.resources.devices[0]' }]);
});

test('v1: devices.deny a first, then the clean rules (a fixture keeps the last write of each file)', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { applyDeviceRules } = await import('../devices.ts');
  const d = mkdtempSync(join(tmpdir(), 'runts-dev-'));
  const dir = join(d, 'devices', 'c1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'devices.deny'), '');
  writeFileSync(join(dir, 'devices.allow'), '');
  assert.equal(applyDeviceRules({ devices: dir }, [r(true, 'c', 1, 3, 'rwm'), r(true, 'c', 1, 5, 'rwa')]), true);
  assert.equal(readFileSync(join(dir, 'devices.deny'), 'utf8'), 'a');
  assert.equal(readFileSync(join(dir, 'devices.allow'), 'utf8'), 'c 1:5 rw');
  assert.equal(applyDeviceRules({ unified: d }, []), false);
});
