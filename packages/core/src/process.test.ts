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
  assert.equal(parseSignal('0'), 0, 'kill ID 0 probes, as in runc');
  assert.equal(parseSignal('99'), 99, 'any number goes to kill(2), which refuses it');
  assert.equal(parseSignal('+9'), 9);
  assert.throws(() => parseSignal('99999999999999999999'), /invalid signal/);
});
