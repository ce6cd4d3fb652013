// The few libseccomp calls the compiler makes, behind an interface: the real one loads
// libseccomp.so.2 through koffi (lazily: only a config with linux.seccomp pays for koffi), the
// tests can also record calls with a fake.
import { closeSync, fstatSync, readSync } from 'node:fs';
import { RuntimeError, ERRNO_NAMES } from '@runts/core';

/** struct scmp_arg_cmp */
export interface ArgCmp {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

/** One libseccomp filter context. Every method throws a RuntimeError naming the call on failure. */
export interface Filter {
  /** seccomp_arch_add; false when the arch was already in the filter (-EEXIST) */
  archAdd(arch: number): boolean;
  attrSet(attr: number, value: number): void;
  /** seccomp_rule_add_array */
  ruleAdd(action: number, syscall: number, args: ArgCmp[]): void;
  /** seccomp_export_bpf: struct sock_filter[] */
  exportBpf(): Uint8Array;
  release(): void;
}

export interface Libseccomp {
  /** seccomp_init */
  init(defaultAction: number): Filter;
  /** seccomp_arch_resolve_name: 0 when unknown */
  archResolve(name: string): number;
  /** seccomp_syscall_resolve_name (the native arch): -1 (__NR_SCMP_ERROR) when unknown */
  syscallResolve(name: string): number;
  /** seccomp_syscall_resolve_name_arch: the number on that arch (x32's with bit 30 set); negative
   *  when unknown (or a libseccomp pseudo-syscall) */
  syscallResolveArch(arch: number, name: string): number;
  /** seccomp_arch_native: the arch token of this machine */
  archNative(): number;
  /** seccomp_version */
  version(): string;
}

function fail(call: string, rc: number): RuntimeError {
  const name = ERRNO_NAMES[-rc] ?? `errno ${-rc}`;
  return new RuntimeError('ESYS', `libseccomp: ${call}: ${name}`, { errno: name });
}

let loaded: Libseccomp | undefined;

/** koffi's native part, loaded from its package where it is: koffi's index.js around it only adds
 *  deprecated aliases (the single executable loads the native part alone too), and it loads
 *  koffi's build tools at its top, with node:crypto, node:https and node:zlib (~7 ms). Undefined
 *  where it is not found or not koffi's own version: then require('koffi') as usual. */
function koffiNative(require: NodeJS.Require): typeof import('koffi') | undefined {
  const arch = ({ x64: 'x64', arm64: 'arm64', ia32: 'ia32', arm: 'armhf', riscv64: 'riscv64d', loong64: 'loong64' } as Record<string, string>)[process.arch];
  if (process.platform !== 'linux' || !arch) return undefined;
  let pkg: string;
  let version: unknown;
  try {
    pkg = require.resolve('koffi/package.json');
    version = (require(pkg) as { version?: unknown }).version;
  } catch {
    return undefined;
  }
  for (const triplet of [`linux_${arch}`, `musl_${arch}`]) {
    try {
      const native = require(pkg.replace(/package\.json$/, `build/koffi/${triplet}/koffi.node`)) as typeof import('koffi') & { version?: unknown };
      if (native.version === version) return native;
    } catch {
      // not built for this triplet (glibc or musl): the next, then koffi's own loader
    }
  }
  return undefined;
}

/** libseccomp.so.2 through koffi, loaded on the first call. */
export function libseccomp(): Libseccomp {
  if (loaded) return loaded;
  // node:module only here: it loads the ESM loader and source maps too (~0.3 ms of every create)
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  let koffi: typeof import('koffi');
  try {
    koffi = koffiNative(require) ?? (require('koffi') as typeof import('koffi'));
  } catch (err) {
    throw new RuntimeError('ESYS', `linux.seccomp: cannot load koffi: ${(err as Error).message}`, { cause: err });
  }
  let so: ReturnType<typeof koffi.load>;
  let libc: ReturnType<typeof koffi.load>;
  try {
    so = koffi.load('libseccomp.so.2');
    libc = koffi.load('libc.so.6');
  } catch (err) {
    throw new RuntimeError('ESYS', `linux.seccomp: cannot load libseccomp.so.2 (install libseccomp2): ${(err as Error).message}`, { cause: err });
  }
  // registered by name for the signatures below
  koffi.struct('scmp_arg_cmp', { arg: 'uint32_t', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' });
  koffi.struct('scmp_version', { major: 'uint32_t', minor: 'uint32_t', micro: 'uint32_t' });
  const f = {
    init: so.func('void *seccomp_init(uint32_t def_action)'),
    release: so.func('void seccomp_release(void *ctx)'),
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    archResolve: so.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    attrSet: so.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    syscallResolve: so.func('int seccomp_syscall_resolve_name(const char *name)'),
    syscallResolveArch: so.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    archNative: so.func('uint32_t seccomp_arch_native(void)'),
    ruleAdd: so.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const scmp_arg_cmp *arg_array)'),
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)'),
    version: so.func('const scmp_version *seccomp_version(void)'),
    memfd: libc.func('int memfd_create(const char *name, unsigned int flags)'),
    errno: libc.func('int *__errno_location(void)'),
  };
  loaded = {
    init(defaultAction) {
      const ctx: unknown = f.init(defaultAction >>> 0);
      if (!ctx) throw new RuntimeError('ESYS', `libseccomp: seccomp_init(0x${(defaultAction >>> 0).toString(16)}) failed`);
      let live = true;
      const check = (call: string, rc: number) => {
        if (rc < 0) throw fail(call, rc);
      };
      return {
        archAdd(arch) {
          const rc = f.archAdd(ctx, arch >>> 0) as number;
          if (rc === -17) return false; // EEXIST
          check('seccomp_arch_add', rc);
          return true;
        },
        attrSet(attr, value) {
          check('seccomp_attr_set', f.attrSet(ctx, attr, value >>> 0) as number);
        },
        ruleAdd(action, syscall, args) {
          const arr = args.map((a) => ({ arg: a.arg, op: a.op, datum_a: a.datumA, datum_b: a.datumB }));
          check('seccomp_rule_add_array', f.ruleAdd(ctx, action >>> 0, syscall, arr.length, arr.length ? arr : null) as number);
        },
        exportBpf() {
          const MFD_CLOEXEC = 1;
          const fd = f.memfd('runts-seccomp', MFD_CLOEXEC) as number;
          if (fd < 0) throw new RuntimeError('ESYS', `memfd_create: ${ERRNO_NAMES[koffi.decode(f.errno(), "int") as number] ?? 'failed'}`);
          try {
            check('seccomp_export_bpf', f.exportBpf(ctx, fd) as number);
            const size = fstatSync(fd).size;
            const out = new Uint8Array(size);
            let off = 0;
            while (off < size) {
              const n = readSync(fd, out, off, size - off, off);
              if (n === 0) break;
              off += n;
            }
            return off === size ? out : out.subarray(0, off);
          } finally {
            closeSync(fd);
          }
        },
        release() {
          if (live) f.release(ctx);
          live = false;
        },
      };
    },
    archResolve: (name) => f.archResolve(name) as number,
    syscallResolve: (name) => f.syscallResolve(name) as number,
    syscallResolveArch: (arch, name) => f.syscallResolveArch(arch >>> 0, name) as number,
    archNative: () => f.archNative() as number,
    version() {
      const v = koffi.decode(f.version(), 'scmp_version') as { major: number; minor: number; micro: number };
      return `${v.major}.${v.minor}.${v.micro}`;
    },
  };
  return loaded;
}
