import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatState } from './index.ts';

test('state is printed as runc prints it: two-space indent, no trailing newline', () => {
  const s = formatState({ ociVersion: '1.0.2-dev', id: 'ref1', pid: 16037, status: 'created', bundle: '/b', rootfs: '/b/rootfs', created: '2026-11-22T07:47:33.061920354Z', annotations: { 'org.example/key': 'value' }, owner: '' });
  assert.equal(s, '{\n  "ociVersion": "1.0.2-dev",\n  "id": "ref1",\n  "pid": 16037,\n  "status": "created",\n  "bundle": "/b",\n  "rootfs": "/b/rootfs",\n  "created": "2026-11-22T07:47:33.061920354Z",\n  "annotations": {\n    "org.example/key": "value"\n  },\n  "owner": ""\n}');
});
