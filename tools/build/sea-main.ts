// The main script of the single executable runts (dist/runts, made by sea.mjs): a Node single
// executable application carrying this bundle, the native executor and koffi's native part as
// assets, so that it runs on a host without Node and with no file beside it.
// - the executor: its bytes come from the asset; @runts/nsenter's executorPath() writes them into
//   an unnamed 0700 file on a tmpfs (O_TMPFILE) and runs that, and the executor then re-executes
//   from a sealed memfd as always;
// - koffi (seccomp, through libseccomp): `require('koffi')` is answered here: its native part is
//   written the same way into an unnamed file and loaded with process.dlopen from /proc/self/fd/N
//   (nothing on disk, nothing left behind), only when a config has linux.seccomp. Chosen over a
//   seccomp compiler without koffi: the filter stays libseccomp's, the same as with Node.
// The verb is picked from argv as launch.cjs does; each verb's module is initialized only when it
// is the one called (esbuild keeps required ESM modules lazy).
import { getAsset } from 'node:sea';
import Module from 'node:module';
import { EMBEDDED_EXECUTOR, executableCopy } from '../../native/nsenter/src/index.ts';

(globalThis as Record<symbol, unknown>)[EMBEDDED_EXECUTOR] = () => new Uint8Array(getAsset('runts-init'));

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

const verbs: Record<string, () => unknown> = {
  create: () => require('../../packages/runts/src/verbs/create.ts'),
  start: () => require('../../packages/runts/src/verbs/start.ts'),
  state: () => require('../../packages/runts/src/verbs/state.ts'),
  kill: () => require('../../packages/runts/src/verbs/kill.ts'),
  delete: () => require('../../packages/runts/src/verbs/delete.ts'),
  list: () => require('../../packages/runts/src/verbs/list.ts'),
  run: () => require('../../packages/runts/src/verbs/run.ts'),
  exec: () => require('../../packages/runts/src/verbs/exec.ts'),
  pause: () => require('../../packages/runts/src/verbs/pause.ts'),
  resume: () => require('../../packages/runts/src/verbs/resume.ts'),
  ps: () => require('../../packages/runts/src/verbs/ps.ts'),
  spec: () => require('../../packages/runts/src/verbs/spec.ts'),
  features: () => require('../../packages/runts/src/verbs/features.ts'),
  update: () => require('../../packages/runts/src/verbs/update.ts'),
  events: () => require('../../packages/runts/src/verbs/events.ts'),
};

/** As launch.cjs's pick: the first word after runc's global options. */
function pick(args: string[]): string | undefined {
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

// process.argv of a single executable: [exe, exe, ...args] (as `node script ...args`)
const verb = pick(process.argv.slice(2));
if (verb) verbs[verb]!();
else require('../../packages/runts/src/cli.ts');
