// The executable copy of the executor (no root: the executor only prints its usage and exits 2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { executableCopy, isExecutable, runnable } from './executable.ts';

const built = fileURLToPath(new URL('../build/runts-init', import.meta.url));

describe('executable copy of runts-init', () => {
  it('a 0644 copy (as npm installs it) is not run as it is but from an unnamed 0700 file', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'runts-exe-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'runts-init');
    copyFileSync(built, file);
    chmodSync(file, 0o644);
    // even root may not execute a file without any exec bit
    assert.equal(isExecutable(file), false);
    const path = runnable(file);
    assert.match(path, /^\/proc\/\d+\/fd\/\d+$/);
    assert.equal(statSync(path).mode & 0o777, 0o700);
    assert.match(readlinkSync(path), /\(deleted\)$|^\/[^ ]*\/#\d+/);
    assert.deepEqual(readFileSync(path), readFileSync(built));
    const r = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /usage: runts-init <sync-fd>/);
  });

  it('an executable file is used as it is', () => {
    assert.equal(runnable(built), built);
  });

  it('no usable dir: an error naming each', () => {
    assert.throws(() => executableCopy(Buffer.from('x'), ['/nonexistent-runts-dir']), /no directory allows an executable copy of runts-init \(\/nonexistent-runts-dir: ENOENT\)/);
  });
});
