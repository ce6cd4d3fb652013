import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeError } from '@runts/core';
import { runHooks } from './hooks.ts';

describe('runHooks', () => {
  let dir: string;
  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-hooks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const state = { ociVersion: '1.2.0', id: 'c1', status: 'created', pid: 42, bundle: '/b' };

  it('passes the state on stdin, argv0 and args, only the hook env, and the cwd', async () => {
    const out = join(dir, 'out');
    const body = `{ tr '\\0' '|' < /proc/$$/cmdline; echo; env | sort; pwd; cat; } > ${out}`;
    await runHooks([{ path: '/bin/sh', args: ['my-hook', '-c', body, 'a'], env: ['X=1', 'Y=two=2'] }], 'hooks.prestart', state, { cwd: dir });
    const lines = readFileSync(out, 'utf8').split('\n');
    assert.equal(lines[0], `my-hook|-c|${body}|a|`);
    const env = lines.filter((l) => /^[A-Z_]+=/.test(l) && !l.startsWith('PWD=') && !l.startsWith('SHLVL=') && !l.startsWith('_='));
    assert.deepEqual(env, ['X=1', 'Y=two=2']);
    assert.ok(lines.includes(dir));
    assert.deepEqual(JSON.parse(lines.at(-1)!), state);
  });

  it('args default to [path]', async () => {
    const out = join(dir, 'out0');
    const p = script('argv0', `echo "$0 $#" > ${out}`);
    await runHooks([{ path: p }], 'hooks.poststart', state);
    assert.equal(readFileSync(out, 'utf8').trim(), `${p} 0`);
  });

  it('runs hooks in order and stops at the first failure, naming it', async () => {
    const log = join(dir, 'order');
    const ok = script('ok', `echo ok >> ${log}`);
    const bad = script('bad', 'echo oops >&2; exit 3');
    const never = script('never', `echo never >> ${log}`);
    await assert.rejects(
      runHooks([{ path: ok }, { path: bad }, { path: never }], 'hooks.prestart', state),
      (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.equal(e.code, 'EHOOK');
        assert.equal(e.message, `hooks.prestart[1] (${bad}): exit status 3, stderr: oops`);
        return true;
      },
    );
    assert.equal(readFileSync(log, 'utf8'), 'ok\n');
  });

  it('exit status 1 without output reads like runc', async () => {
    const p = script('one', 'exit 1');
    await assert.rejects(runHooks([{ path: p }], 'hooks.createRuntime', state), { message: `hooks.createRuntime[0] (${p}): exit status 1` });
  });

  it('kills a hook past its timeout', async () => {
    const p = script('slow', 'exec sleep 10');
    const t0 = Date.now();
    await assert.rejects(runHooks([{ path: p, timeout: 1 }], 'hooks.prestart', state), {
      message: `hooks.prestart[0] (${p}): hook ran past specified timeout of 1s`,
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('a death by signal', async () => {
    const p = script('sig', 'kill -TERM $$');
    await assert.rejects(runHooks([{ path: p }], 'hooks.prestart', state), { message: `hooks.prestart[0] (${p}): signal: terminated` });
  });

  it('a missing executable', async () => {
    const p = join(dir, 'missing');
    await assert.rejects(runHooks([{ path: p }], 'hooks.prestart', state), { message: `hooks.prestart[0] (${p}): fork/exec ${p}: no such file or directory` });
  });

  it('a hook that does not read stdin, and one that leaves a child holding stdout, do not hang', async () => {
    const p1 = script('noread', 'exit 0');
    const p2 = script('daemon', 'sleep 5 & exit 0');
    const t0 = Date.now();
    await runHooks([{ path: p1 }, { path: p2 }], 'hooks.poststart', state);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('poststop semantics: warn and go on', async () => {
    const log = join(dir, 'ps');
    const bad = script('bad2', 'exit 2');
    const ok = script('ok2', `echo ran > ${log}`);
    const warnings: string[] = [];
    await runHooks([{ path: bad }, { path: ok }], 'hooks.poststop', state, { continueOnError: true, warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [`hooks.poststop[0] (${bad}): exit status 2`]);
    assert.equal(readFileSync(log, 'utf8'), 'ran\n');
  });

  it('validates hooks', async () => {
    await assert.rejects(runHooks([{ path: 'relative' }], 'hooks.prestart', state), { code: 'EINVAL', message: /^hooks\.prestart\[0\]\.path: must be an absolute path/ });
    await assert.rejects(runHooks([{ path: '/bin/true', timeout: -1 }], 'hooks.prestart', state), { code: 'EINVAL' });
  });

  it('no hooks: nothing to do', async () => {
    await runHooks(undefined, 'hooks.prestart', state);
    await runHooks([], 'hooks.prestart', state);
  });
});
