// Compiled filters kept between runs, as crun keeps them (<state root>/.cache/seccomp): Podman,
// Docker and Kubernetes (RuntimeDefault) give every container the same profile of ~440 syscalls,
// and compiling it is most of what seccomp costs a create or an exec (loading koffi and
// libseccomp ~7.5 ms, seccomp_export_bpf ~11 ms here). The filter a profile compiles to depends
// only on the profile, on runts's own compiler (the build id of the running bundle) and on the
// libseccomp that compiled it (which syscalls it knows), so an entry is:
//   <root>/@cache/seccomp/<fingerprint of its key: (build id, arch, LD_LIBRARY_PATH, LD_PRELOAD, the profile)>
// holding the key's whole text, the filter, its fingerprint, and the identity (dev, inode, size,
// mtime, ctime) of the libseccomp file that compiled it and of /etc/ld.so.cache. An entry is used
// only when all of it still holds: the key equals this one's (in full: two profiles whose
// fingerprints meet only take turns in one entry), the filter's fingerprint matches (a damaged
// entry), and the library dlopen would load is the
// same file (an upgrade replaces it, an ldconfig run rewrites ld.so.cache). Anything else (no
// entry, a damaged or foreign one, a dir or file another user could write, any error) compiles
// afresh; a cache that cannot be written is skipped. `@` is not in a container id, so the dir is
// never a container's. Without a build id (the library used directly, not a runts command) there
// is no cache.
import { closeSync, constants as fs, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { debug, joinPath } from '@runts/core';
import type { LinuxSeccomp } from '@runts/spec';
import type { CompiledSeccomp } from './compile.ts';

export interface SeccompCache {
  /** the cache dir: `<root>/@cache/seccomp` (cacheDir) */
  dir: string;
  /** the running bundle's build id (launch.cjs sets it): part of every key */
  build: string;
}

/** The cache of a state root, for the running runts command (undefined: no build id, no cache). */
export function seccompCache(root: string, build = (globalThis as Record<symbol, unknown>)[Symbol.for('runts.build')]): SeccompCache | undefined {
  return typeof build === 'string' && build !== '' ? { dir: joinPath(root, '@cache', 'seccomp'), build } : undefined;
}

/** Entries kept: past this many, the older half is removed when one is added. */
const MAX_ENTRIES = 64;
const MAX_ENTRY_BYTES = 4 << 20;
const LD_CACHE = '/etc/ld.so.cache';

/** 64 bits of the data (two FNV-1a lanes over its 32-bit words, one of them rotated; hex): an
 *  entry's name and its filter's check. Not a cryptographic hash, and it need not be one: an entry
 *  is used only when its whole key text is this key, and only this user can write the cache (a
 *  forged entry needs no collision). A change to any one word changes both lanes (each step is a
 *  bijection of the lane for a given word). node:crypto, for sha256, cost every create with a
 *  seccomp profile 3.3 ms (Node 20) to 6 ms (Node 26) to load. */
export function fingerprint(data: Uint8Array): string {
  const n = data.length >>> 2;
  const w = new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + n * 4));
  let a = 0x811c9dc5 | 0;
  let b = (0x050c5d1f ^ data.length) | 0;
  for (let i = 0; i < n; i++) {
    const x = w[i]!;
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ ((x << 13) | (x >>> 19)), 0x01000193);
  }
  for (let i = n * 4; i < data.length; i++) {
    a = Math.imul(a ^ data[i]!, 0x01000193);
    b = Math.imul(b ^ (data[i]! << 13), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The profile as text for the key: objects in their key order, numbers and bigints as digits (a
 *  value means the same to the compiler either way), strings JSON-quoted. */
export function canonical(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, e]) => `${JSON.stringify(k)}:${canonical(e)}`).join(',')}}`;
  return String(v); // true, false, null, undefined
}

/** The key's whole text. */
function keyOf(seccomp: LinuxSeccomp, cache: SeccompCache): string {
  const env = process.env;
  return JSON.stringify(['runts-seccomp-cache-2', cache.build, process.arch, env['LD_LIBRARY_PATH'] ?? '', env['LD_PRELOAD'] ?? '']) + canonical(seccomp);
}

/** dev:ino:size:mtime:ctime (ns) of a path, or '' when it is not there. */
function identity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return '';
  }
}

/** Only what this user alone can write is trusted: a real dir or file (not a link), ours, not
 *  writable by group or others. */
function ownedPrivately(st: { uid: number; mode: number }): boolean {
  return st.uid === process.geteuid!() && (st.mode & 0o022) === 0;
}

interface Entry {
  key: string;
  lib: { path: string; id: string };
  ldcache: string;
  flags: string;
  listener?: { path: string; metadata: string };
  bpf: string;
  /** the filter's fingerprint */
  sum: string;
}

function readEntry(file: string, key: string): CompiledSeccomp | undefined {
  let fd: number;
  try {
    fd = openSync(file, fs.O_RDONLY | fs.O_NOFOLLOW | fs.O_NONBLOCK);
  } catch {
    return undefined; // none yet
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedPrivately(st) || st.size > MAX_ENTRY_BYTES) return refuse(file, 'not a private regular file');
    const buf = Buffer.alloc(st.size);
    if (readSync(fd, buf, 0, st.size, 0) !== st.size) return refuse(file, 'short read');
    text = buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
  let e: Entry;
  try {
    e = JSON.parse(text) as Entry;
  } catch {
    return refuse(file, 'not JSON');
  }
  if (e?.key !== key || typeof e.bpf !== 'string' || typeof e.flags !== 'string' || !/^\d+$/.test(e.flags)) return refuse(file, 'not an entry for this profile');
  const bpf = Buffer.from(e.bpf, 'base64');
  if (bpf.length === 0 || bpf.length % 8 !== 0 || fingerprint(bpf) !== e.sum) return refuse(file, 'its filter does not match its fingerprint');
  if (typeof e.lib?.path !== 'string' || identity(e.lib.path) !== e.lib.id || identity(LD_CACHE) !== e.ldcache) return refuse(file, 'libseccomp or ld.so.cache changed since');
  const out: CompiledSeccomp = { bpf: new Uint8Array(bpf), flags: BigInt(e.flags) };
  if (e.listener) out.listener = { path: String(e.listener.path), metadata: String(e.listener.metadata) };
  return out;
}

function refuse(file: string, why: string): undefined {
  debug(`seccomp cache: ${file}: ${why}: compiled afresh`);
  return undefined;
}

/** The libseccomp this process loaded (koffi dlopens it): its file, from /proc/self/maps. */
function loadedLibseccomp(): string | undefined {
  try {
    const m = /\s(\/\S*\/libseccomp\.so[.\d]*)$/m.exec(readFileSync('/proc/self/maps', 'latin1'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** Is dir a real dir of ours that no one else can write? */
function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    if (st.isDirectory() && ownedPrivately(st)) return true;
    debug(`seccomp cache: ${dir}: not a private dir of this user: not used`);
  } catch {
    // not made yet
  }
  return false;
}

/** The cache dir, made if missing; undefined when it is not a private dir of ours. */
function openDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    debug(`seccomp cache: ${dir}: ${(err as Error).message}: not used`);
    return undefined;
  }
  return privateDir(dir) ? dir : undefined;
}

function store(dir: string, name: string, key: string, c: CompiledSeccomp): void {
  const lib = loadedLibseccomp();
  if (!lib || !openDir(dir)) return;
  const entry: Entry = {
    key,
    lib: { path: lib, id: identity(lib) },
    ldcache: identity(LD_CACHE),
    flags: String(c.flags),
    ...(c.listener ? { listener: c.listener } : {}),
    bpf: Buffer.from(c.bpf).toString('base64'),
    sum: fingerprint(c.bpf),
  };
  try {
    const names = readdirSync(dir);
    if (names.length >= MAX_ENTRIES) {
      const aged = names.map((n) => ({ n, t: lstatSync(joinPath(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
      for (const { n } of aged.slice(0, aged.length >> 1)) unlinkSync(joinPath(dir, n));
    }
    const tmp = joinPath(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, joinPath(dir, name));
  } catch (err) {
    debug(`seccomp cache: ${dir}: ${(err as Error).message}: not stored`);
  }
}

/** compile(seccomp), or the filter a run before compiled from the same profile with the same
 *  runts and libseccomp. Bad input fails exactly as compile fails (an invalid profile is never
 *  stored, so it never hits). */
export function compileSeccompCached(seccomp: LinuxSeccomp, cache: SeccompCache | undefined, compile: (s: LinuxSeccomp) => CompiledSeccomp): CompiledSeccomp {
  if (!cache || typeof process.geteuid !== 'function') return compile(seccomp);
  let key: string;
  try {
    key = keyOf(seccomp, cache);
  } catch {
    return compile(seccomp); // not a profile that serializes: let the compiler say what is wrong
  }
  const name = fingerprint(Buffer.from(key));
  const hit = privateDir(cache.dir) ? readEntry(joinPath(cache.dir, name), key) : undefined;
  if (hit) {
    debug(`seccomp cache: ${name}: used`);
    return hit;
  }
  const compiled = compile(seccomp);
  store(cache.dir, name, key, compiled);
  return compiled;
}
