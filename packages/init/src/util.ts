import { joinPath, normalPath } from '@runts/core';
import { U64_MAX } from './constants.ts';
import { invalid } from './errors.ts';
import type { CompileFs } from './fs.ts';
import type { Uint } from './types.ts';

/** A uint64 from config.json (number or bigint). A JSON number that rounded up past 2^64-1 (as
 *  18446744073709551615 does when parsed as a double) is taken as 2^64-1. */
export function u64(v: Uint | undefined, field: string, dflt?: bigint): bigint {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw invalid(field, 'required');
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw invalid(field, `${v} is out of range`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(field, `${String(v)} is not an unsigned integer`);
  const b = BigInt(v);
  return b > U64_MAX ? U64_MAX : b;
}

/** A uint32 field (ids, modes). */
export function u32(v: Uint | undefined, field: string, dflt?: bigint): bigint {
  const b = u64(v, field, dflt);
  if (b > 0xffffffffn) throw invalid(field, `${b} is out of range`);
  return b;
}

/** A signed 64-bit integer field. */
export function i64(v: Uint | undefined, field: string, dflt: bigint): bigint {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && !Number.isInteger(v)) throw invalid(field, `${v} is not an integer`);
  if (typeof v !== 'number' && typeof v !== 'bigint') throw invalid(field, 'must be an integer');
  const b = BigInt(v);
  if (b < -(1n << 63n) || b >= 1n << 63n) throw invalid(field, `${b} is out of range`);
  return b;
}

/** runc's utils.CleanPath for container paths, made absolute: a relative path is relative to "/". */
export function containerPath(p: string): string {
  return normalPath(p.startsWith('/') ? p : '/' + p).replace(/(.)\/+$/, '$1');
}

export function checkString(v: unknown, field: string): string {
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.includes('\0')) throw invalid(field, 'contains a NUL byte');
  return v;
}

/** Resolves `p` inside `root` like filepath-securejoin: symlinks (absolute or relative) and ".." are
 *  evaluated with `root` as "/", so the result never leaves root. Missing components are appended as is. */
export function resolveInRoot(root: string, p: string, fs: CompileFs): string {
  let pending = p.split('/').filter((c) => c !== '' && c !== '.');
  let cur: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      cur.pop();
      continue;
    }
    const host = joinPath(root, ...cur, c);
    const st = fs.lstat(host);
    if (st?.isSymlink) {
      if (++links > 255) throw new Error(`${p}: too many levels of symbolic links`);
      const target = fs.readlink(host);
      if (target.startsWith('/')) cur = [];
      pending = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...pending];
      continue;
    }
    cur.push(c);
    if (st === undefined) {
      // the rest does not exist: keep it lexical (".." can no longer climb over a symlink)
      for (const r of pending) {
        if (r === '..') cur.pop();
        else cur.push(r);
      }
      break;
    }
  }
  return joinPath(root, ...cur);
}

/** HOME of `uid` from <root>/etc/passwd (first matching entry), like runc's user.GetExecUser; "/" if none. */
export function lookupHome(root: string, uid: bigint, fs: CompileFs): string {
  let text: string | undefined;
  try {
    text = fs.readFileWithin(resolveInRoot(root, '/etc/passwd', fs), fs.realpath(root), 4 << 20);
  } catch {
    text = undefined;
  }
  if (text === undefined) return '/';
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    if (/^\d+$/.test(f[2]!) && BigInt(f[2]!) === uid) return f[5]! === '' ? '/' : f[5]!;
  }
  return '/';
}

/** runc's populateProcessEnvironment + os.Environ(): every entry must be NAME=value with a non-empty
 *  name; a repeated name keeps its first position and takes the last value; HOME is set when unset
 *  or empty. */
export function processEnv(env: readonly string[] | undefined, field: string, home: () => string): string[] {
  const out: string[] = [];
  const index = new Map<string, number>();
  (env ?? []).forEach((e, i) => {
    const f = `${field}[${i}]`;
    checkString(e, f);
    const eq = e.indexOf('=');
    if (eq < 0) throw invalid(f, `invalid environment variable: ${JSON.stringify(e)}`);
    if (eq === 0) throw invalid(f, `environment variable name can't be empty: ${JSON.stringify(e)}`);
    const name = e.slice(0, eq);
    const at = index.get(name);
    if (at === undefined) {
      index.set(name, out.length);
      out.push(e);
    } else out[at] = e;
  });
  const h = index.get('HOME');
  if (h === undefined) out.push(`HOME=${home()}`);
  else if (out[h] === 'HOME=') out[h] = `HOME=${home()}`;
  return out;
}

/** The value of PATH in an env list ("" when absent). */
export function envPath(env: readonly string[]): string {
  const e = env.find((x) => x.startsWith('PATH='));
  return e === undefined ? '' : e.slice(5);
}

export interface MountInfo {
  mountpoint: string;
  optional: string[];
  /** the root of the mount within its file system ("/" for a full mount) */
  root: string;
  fstype: string;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 10) continue;
    const sep = f.indexOf('-', 6);
    if (sep < 0) continue;
    out.push({ mountpoint: unescapeMountinfo(f[4]!), optional: f.slice(6, sep), root: unescapeMountinfo(f[3]!), fstype: f[sep + 1] ?? '' });
  }
  return out;
}

/** The mount a path lives on (longest mount point that is the path or one of its parents). */
export function parentMount(mounts: readonly MountInfo[], path: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const mp = m.mountpoint;
    const under = mp === '/' || path === mp || path.startsWith(mp + '/');
    if (under && (best === undefined || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}
