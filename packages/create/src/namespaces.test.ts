import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNamespacePaths } from './namespaces.ts';

test('a namespace path must be a namespace of its type, checked without blocking', () => {
  const d = mkdtempSync(join(tmpdir(), 'runts-ns-'));
  writeFileSync(join(d, 'file'), '');
  mkdirSync(join(d, 'dir'));
  assert.equal(spawnSync('mkfifo', [join(d, 'fifo')]).status, 0);
  const at = (type: string, path: string) => [{ type: 'mount' }, { type, path }];
  assert.throws(() => checkNamespacePaths(at('network', join(d, 'file'))), /linux\.namespaces\[1\]\.path: .*file is not a namespace \(a regular file\)/);
  assert.throws(() => checkNamespacePaths(at('network', join(d, 'dir'))), /is not a namespace \(a directory\)/);
  assert.throws(() => checkNamespacePaths(at('network', join(d, 'fifo'))), /is not a namespace \(a fifo\)/);
  assert.throws(() => checkNamespacePaths(at('network', join(d, 'missing'))), /linux\.namespaces\[1\]\.path: open .*missing: no such file or directory/);
  assert.throws(() => checkNamespacePaths(at('network', '/proc/self/ns/ipc')), /is a ipc namespace, not network/);
  assert.doesNotThrow(() => checkNamespacePaths(at('network', '/proc/self/ns/net')));
  assert.doesNotThrow(() => checkNamespacePaths(at('pid', '/proc/self/ns/pid')));
});
