// A command's lazily loaded chunk (tools/build/build.mjs: start's `import('@runts/delete')`) has
// its own copy of @runts/core. These tests load a second copy of the modules (another URL is
// another module instance) and check that the two act as one: errors, log settings, output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeError, toRuntimeError } from './errors.ts';
import { configureLog, warn } from './log.ts';
import { captureOutput } from './output.ts';

const second = async <T>(name: string): Promise<T> => (await import(`./${name}.ts?second-copy`)) as T;

test("a RuntimeError of another copy of the module is a RuntimeError: toRuntimeError keeps it, code, errno and exit code", async () => {
  const other = await second<typeof import('./errors.ts')>('errors');
  assert.notEqual(other.RuntimeError, RuntimeError, 'two copies of the module');
  const e = new other.RuntimeError('EHOOK', 'hooks.poststart[0] (/bin/false): exit status 1', { errno: 'EPERM' }).withExitCode(3);
  assert.ok(e instanceof RuntimeError);
  assert.ok(new RuntimeError('ESYS', 'x') instanceof other.RuntimeError);
  const kept = toRuntimeError(e);
  assert.equal(kept, e);
  assert.deepEqual([kept.code, kept.errno, kept.exitCode, kept.message], ['EHOOK', 'EPERM', 3, 'hooks.poststart[0] (/bin/false): exit status 1']);
  // what is not one stays not one
  assert.ok(!(new Error('x') instanceof RuntimeError));
  assert.ok(!((null as unknown) instanceof RuntimeError));
  assert.ok(!(Object.create(null) instanceof RuntimeError));
  assert.equal(toRuntimeError(new Error('plain')).code, 'ESYS');
});

test('the log settings and the output are the process\'s: a second copy logs as the first was told to', async () => {
  const otherLog = await second<typeof import('./log.ts')>('log');
  const seen: string[] = [];
  const release = captureOutput((fd, text) => seen.push(`${fd}:${text}`));
  try {
    configureLog({ logFormat: 'json' });
    otherLog.warn('from the chunk');
    warn('from the bundle');
    configureLog({ logFormat: 'text' });
    otherLog.warn('text again');
  } finally {
    release();
  }
  assert.equal(seen.length, 3, seen.join(''));
  assert.match(seen[0]!, /^2:\{"level":"warning","msg":"from the chunk","time":"[^"]+"\}\n$/);
  assert.match(seen[1]!, /^2:\{"level":"warning","msg":"from the bundle"/);
  assert.match(seen[2]!, /^2:time="[^"]+" level=warning msg="text again"\n$/);
});
