import { RuntimeError } from './errors.ts';

// JSON that keeps bigints (uint64 fields of config.json) exact when written.
const BIG = '\u0002big:';

export function stringifyLossless(value: unknown, indent?: string | number): string {
  // Without a replacer unless there is a bigint (JSON.stringify throws a TypeError at one): the
  // replacer is a JS call per value, ~500 for a config with a seccomp profile, enough for Node >= 22
  // to compile it with Maglev in every create
  try {
    return JSON.stringify(value, null, indent);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIG + v.toString() : v), indent);
  return s.includes('\\u0002big:') ? s.replace(/"\\u0002big:(-?\d+)"/g, '$1') : s;
}

// Lossless JSON for config.json: integers beyond 2^53 (uint64 rlimits such as
// 18446744073709551615, memory limits) come back as bigints instead of being rounded.
//
// Fast path: when no run of 16 digits appears anywhere in the text, no integer literal can exceed
// Number.MAX_SAFE_INTEGER (9007199254740991 has 16 digits), so JSON.parse is exact. Otherwise a
// small scanner parses the text, turning unsafe integer literals into bigints. The scanner also
// explains JSON.parse's failures with a line and column.

/** Parses JSON text; unsafe integers become bigints. Throws RuntimeError('EINVAL') naming `file` and the position. */
export function parseJsonLossless(text: string, file = 'config.json'): unknown {
  if (!/\d{16}/.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      // fall through: the scanner reports where and why
      return new Scanner(text, file).document();
    }
    if (mayNestDeeperThan(text, MAX_DEPTH)) checkDepth(v, file);
    return v;
  }
  return new Scanner(text, file).document();
}

/** JSON.parse takes any depth, but what walks the value afterwards (the validator, stringify)
 *  recurses: deeper than MAX_DEPTH is refused here, naming the field (Go's encoding/json stops
 *  at 10000, runc's "exceeded max depth"). Iterative, so it cannot overflow itself. */
function checkDepth(root: unknown, file: string): void {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: root, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      const shown = path.length > 80 ? `${path.slice(0, 80)}...` : path;
      throw new RuntimeError('EINVAL', `${file}: invalid JSON: ${shown.replace(/^\./, '')}: nested deeper than ${MAX_DEPTH} levels`);
    }
    if (Array.isArray(v)) v.forEach((e, i) => stack.push({ v: e, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, e] of Object.entries(v)) stack.push({ v: e, depth: depth + 1, path: /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]` });
  }
}

const MAX_DEPTH = 1000;

/** Whether the text holds at least `depth` opening brackets: fewer cannot nest that deep, and the
 *  walk (a path string for every value) is then skipped; counted with indexOf, not a loop per char. */
function mayNestDeeperThan(text: string, depth: number): boolean {
  let n = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i >= 0; i = text.indexOf(c, i + 1)) if (++n >= depth) return true;
  }
  return false;
}

class Scanner {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {}

  document(): unknown {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail();
    return v;
  }

  private fail(what?: string): never {
    const before = this.s.slice(0, this.i);
    const line = before.split('\n').length;
    const column = this.i - before.lastIndexOf('\n');
    const c = this.s[this.i];
    const found = what ?? (c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
    throw new RuntimeError('EINVAL', `${this.file}: invalid JSON at line ${line}, column ${column}: ${found}`);
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  private value(): unknown {
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.word('true', true);
      case 'f':
        return this.word('false', false);
      case 'n':
        return this.word('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail();
    }
  }

  private word<T>(w: string, v: T): T {
    if (this.s.startsWith(w, this.i)) {
      this.i += w.length;
      return v;
    }
    return this.fail();
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.i++; // {
    const o: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      this.depth--;
      return o;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail();
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail();
      this.i++;
      this.ws();
      const v = this.value();
      // Like JSON.parse: `__proto__` is an own property, never the prototype; the last duplicate wins.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      else o[k] = v;
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === '}') break;
      if (c !== ',') {
        this.i--;
        this.fail();
      }
      this.ws();
    }
    this.depth--;
    return o;
  }

  private array(): unknown[] {
    this.enter();
    this.i++; // [
    const a: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      this.depth--;
      return a;
    }
    for (;;) {
      this.ws();
      a.push(this.value());
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === ']') break;
      if (c !== ',') {
        this.i--;
        this.fail();
      }
    }
    this.depth--;
    return a;
  }

  private string(): string {
    const s = this.s;
    const start = ++this.i; // opening quote
    let i = start;
    let out = '';
    let from = start;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) break; // "
      if (Number.isNaN(c)) {
        this.i = i;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('control character in string');
      }
      if (c === 0x5c) {
        out += s.slice(from, i);
        const e = s[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          this.i = i;
          this.fail('invalid escape in string');
        }
        from = i;
        continue;
      }
      i++;
    }
    out += s.slice(from, i);
    this.i = i + 1;
    return out;
  }

  private number(): number | bigint {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r || r[0] === '-') this.fail('invalid number');
    const lit = r[0];
    this.i += lit.length;
    const n = Number(lit);
    if (r[1] === undefined && r[2] === undefined && !Number.isSafeInteger(n)) return BigInt(lit);
    return n;
  }
}
