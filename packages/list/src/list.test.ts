import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from './index.ts';

test('table is laid out like runc list (tabwriter: min width 12, padding 3, last column unpadded)', () => {
  // ../shared/reference/runc-1.1.5/list.txt, with the bundle path as runc printed it
  const out = formatTable([
    { ociVersion: '1.0.2-dev', id: 'ref1', pid: 16037, status: 'running', bundle: '/var/lib/b/t1', rootfs: '', created: '2026-11-22T07:47:33.061920354Z', owner: 'root' },
  ]);
  assert.equal(
    out,
    'ID          PID         STATUS      BUNDLE          CREATED                          OWNER\n' +
      'ref1        16037       running     /var/lib/b/t1   2026-11-22T07:47:33.061920354Z   root\n',
  );
  assert.equal(formatTable([]), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
});
