// A fake CompileFs for unit tests (of this package and of its users).
import { posix } from 'node:path';
import type { CompileFs, FileInfo } from './fs.ts';

export type FakeEntry =
  | { type: 'dir'; perm?: number }
  | { type: 'file'; perm?: number; content?: string }
  | { type: 'symlink'; target: string };

export interface FakeFsOptions {
  /** path -> entry; parent directories are implied */
  files?: Record<string, FakeEntry>;
  mountinfo?: string;
  procfs?: string[];
  /** trusted host files (readHostFile), e.g. /proc/sys/kernel/cap_last_cap */
  hostFiles?: Record<string, string>;
}

export function fakeFs(o: FakeFsOptions = {}): CompileFs {
  const files = new Map<string, FakeEntry>();
  for (const [p, e] of Object.entries(o.files ?? {})) {
    files.set(posix.normalize(p), e);
    for (let d = posix.dirname(p); d !== '/' && !files.has(d); d = posix.dirname(d)) files.set(d, { type: 'dir', perm: 0o755 });
  }
  const entry = (p: string): FakeEntry | undefined => (p === '/' ? { type: 'dir', perm: 0o755 } : files.get(p));
  const toInfo = (e: FakeEntry): FileInfo => ({
    isDirectory: e.type === 'dir',
    isSymlink: e.type === 'symlink',
    isFile: e.type === 'file',
    perm: e.type === 'symlink' ? 0o777 : (e.perm ?? (e.type === 'dir' ? 0o755 : 0o644)),
  });
  // follows every symlink (host semantics: absolute links are absolute on the host)
  const resolve = (p: string, depth = 0): string | undefined => {
    if (depth > 40) return undefined;
    const parts = posix.normalize(p).split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(cur, parts[i]!);
      const e = entry(next);
      if (e === undefined) return undefined;
      if (e.type === 'symlink') {
        const t = posix.resolve(cur, e.target);
        const r = resolve(posix.join(t, ...parts.slice(i + 1)), depth + 1);
        return r;
      }
      cur = next;
    }
    return cur;
  };
  return {
    stat(p) {
      const r = resolve(p);
      const e = r === undefined ? undefined : entry(r);
      return e && toInfo(e);
    },
    lstat(p) {
      const dir = resolve(posix.dirname(p));
      const e = dir === undefined ? undefined : entry(posix.join(dir, posix.basename(p)));
      return e && toInfo(e);
    },
    readlink(p) {
      const e = entry(posix.normalize(p));
      if (e?.type !== 'symlink') throw Object.assign(new Error(`readlink ${p}: invalid argument`), { code: 'EINVAL' });
      return e.target;
    },
    realpath(p) {
      const r = resolve(p);
      if (r === undefined) throw Object.assign(new Error(`realpath ${p}: no such file or directory`), { code: 'ENOENT' });
      return r;
    },
    readFileWithin(p, within, maxBytes) {
      const e = entry(posix.normalize(p));
      if (e?.type !== 'file') return undefined;
      const real = resolve(posix.dirname(p));
      if (real === undefined || !(real + '/').startsWith(within.endsWith('/') ? within : within + '/')) return undefined;
      const c = e.content ?? '';
      return c.length > maxBytes ? undefined : c;
    },
    mountinfo: () => o.mountinfo ?? '',
    isProcfs: (p) => (o.procfs ?? []).includes(p),
    readHostFile: (p) => o.hostFiles?.[p],
  };
}
