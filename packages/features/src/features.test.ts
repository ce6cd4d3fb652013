import { test } from 'node:test';
import assert from 'node:assert/strict';
import { features } from './index.ts';
import { validateFeaturesSchema } from '@runts/spec';

test('features JSON is valid against the vendored features schema and lists what runts does', () => {
  const f = features();
  assert.deepEqual(validateFeaturesSchema(f), []);
  assert.ok(f.mountOptions.includes('rbind') && f.mountOptions.includes('rro') && !f.mountOptions.includes('idmap'));
  assert.deepEqual(f.linux.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  assert.equal(f.linux.capabilities[0], 'CAP_CHOWN');
  assert.equal(f.linux.seccomp.enabled, true);
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_ERRNO') && !f.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.equal(f.linux.seccomp.operators.length, 7);
  assert.ok(f.linux.seccomp.archs.includes('SCMP_ARCH_X86_64') && f.linux.seccomp.archs.includes('SCMP_ARCH_X32'));
  assert.ok(!f.linux.seccomp.supportedFlags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'));
});
