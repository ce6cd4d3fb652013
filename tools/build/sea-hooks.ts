// Run-time hooks of the single executable (sea-main.ts, sea-snapshot.ts):
// - the executor: its bytes come from the asset; @runts/nsenter's executorPath() writes them into
//   an unnamed 0700 file on a tmpfs (O_TMPFILE) and runs that, and the executor then re-executes
//   from a sealed memfd as always; runts-spawn.node (which starts it) is written the same way and
//   loaded with process.dlopen;
// - koffi (seccomp, through libseccomp): `require('koffi')` is answered here: its native part is
//   written the same way into an unnamed file and loaded with process.dlopen from /proc/<pid>/fd/N
//   (nothing on disk, nothing left behind), only when a config has linux.seccomp. Chosen over a
//   seccomp compiler without koffi: the filter stays libseccomp's, the same as with Node.
import { getAsset } from 'node:sea';
import Module from 'node:module';
import { EMBEDDED_EXECUTOR, EMBEDDED_SPAWNER, executableCopy } from '../../native/nsenter/src/index.ts';

export function installHooks(): void {
  (globalThis as Record<symbol, unknown>)[EMBEDDED_EXECUTOR] = () => new Uint8Array(getAsset('runts-init'));
  (globalThis as Record<symbol, unknown>)[EMBEDDED_SPAWNER] = () => new Uint8Array(getAsset('runts-spawn.node'));
  let koffi: unknown;
  const M = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const load = M._load;
  M._load = function (request: string, parent: unknown, isMain: boolean): unknown {
    if (request !== 'koffi') return load.call(this, request, parent, isMain);
    if (koffi) return koffi;
    const native = { exports: {} as Record<string, unknown> };
    process.dlopen(native, executableCopy(new Uint8Array(getAsset('koffi.node'))));
    // koffi's JS around its native part only adds deprecated aliases: the native exports are the API
    koffi = native.exports;
    return koffi;
  };
}

/** As launch.cjs's pick: the first word after runc's global options, when it is one of `verbs`. */
export function pick(args: string[], verbs: object): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (!a.includes('=') && /^--?(root|log|log-format|criu|rootless)$/.test(a)) i++;
      continue;
    }
    return Object.hasOwn(verbs, a) ? a : undefined;
  }
  return undefined;
}
