// JSON that keeps bigints (uint64 fields of config.json) exact when written.
const BIG = '\u0002big:';

export function stringifyLossless(value: unknown, indent?: string | number): string {
  const s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIG + v.toString() : v), indent);
  return s.includes('\\u0002big:') ? s.replace(/"\\u0002big:(-?\d+)"/g, '$1') : s;
}
