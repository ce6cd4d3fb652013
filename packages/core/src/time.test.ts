import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339Utc } from './time.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('rfc3339Utc is toISOString without its milliseconds', () => {
  const cases = [0, 999, 1000, 86_399_999, 86_400_000, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 2, 1), Date.UTC(2100, 1, 28, 12), Date.UTC(2100, 2, 1), Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2026, 11, 2, 1, 40), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59), Date.UTC(1, 0, 1), Date.UTC(1600, 1, 29)];
  for (const ms of cases) assert.equal(rfc3339Utc(ms), iso(ms), String(ms));
  // every day from 1900 to 2300, at a different time of day each
  for (let d = Date.UTC(1900, 0, 1), i = 0; d < Date.UTC(2300, 0, 1); d += 86_400_000, i++) {
    const ms = d + ((i * 7_919_000 + i) % 86_400_000);
    assert.equal(rfc3339Utc(ms), iso(ms), String(ms));
  }
});

test('rfc3339Utc puts the fraction in as given', () => {
  assert.equal(rfc3339Utc(Date.UTC(2026, 0, 2, 3, 4, 5, 678), '.678123456'), '2026-01-02T03:04:05.678123456Z');
});
