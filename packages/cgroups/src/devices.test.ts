import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceRules, formatRule, applyDeviceRules, DEFAULT_ALLOWED } from './devices.ts';

test('device rules as runc: spec rules in order, linux.devices, then the default allowed devices', () => {
  const rules = deviceRules(
    [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: -1, access: 'rw' }],
    [{ type: 'c', major: 10, minor: 229 }, { type: 'p', major: 0, minor: 0 }, { type: 'b', major: 8, minor: 0 }],
  );
  assert.deepEqual(rules.slice(0, 4).map(formatRule), ['a *:* rwm', 'c 4:* rw', 'c 10:229 rwm', 'b 8:0 rwm']);
  assert.equal(rules[0]!.allow, false);
  assert.equal(rules.length, 4 + DEFAULT_ALLOWED.length);
  assert.throws(() => deviceRules([{ allow: true, type: 'x' }], []), /linux.resources.devices\[0\].type: invalid device type "x"/);
  assert.throws(() => deviceRules([{ allow: true, access: 'rwx' }], []), /linux.resources.devices\[0\].access/);
});

test('rules are written to devices.deny and devices.allow after denying everything', () => {
  const d = mkdtempSync(join(tmpdir(), 'runts-dev-'));
  const dir = join(d, 'devices', 'c1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'devices.deny'), '');
  writeFileSync(join(dir, 'devices.allow'), '');
  assert.equal(applyDeviceRules({ devices: dir }, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]), true);
  // a regular file keeps only the last write: the fixture shows the last rule of each kind
  assert.equal(readFileSync(join(dir, 'devices.deny'), 'utf8'), 'a');
  assert.equal(readFileSync(join(dir, 'devices.allow'), 'utf8'), 'c 1:3 rwm');
  assert.equal(applyDeviceRules({ unified: d }, []), false);
});
