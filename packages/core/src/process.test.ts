import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from './index.ts';

test('signals as runc takes them: numbers, names with or without SIG, any case', () => {
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal('SIGRTMIN'.replace('RTMIN', 'USR1')), 10);
  assert.throws(() => parseSignal('FOO'), /unknown signal "FOO"/);
  assert.throws(() => parseSignal('0'), /invalid signal: 0/);
  assert.throws(() => parseSignal('99'), /invalid signal: 99/);
});
