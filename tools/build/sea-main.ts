// The main script of the single executable runts (dist/runts, made by sea.mjs): a Node single
// executable application carrying this bundle, the native executor and koffi's native part as
// assets, so that it runs on a host without Node and with no file beside it.
// (sea-hooks.ts says how the executor and koffi get out of the executable.)
// The verb is picked from argv as launch.cjs does; each verb's module is initialized only when it
// is the one called (esbuild keeps required ESM modules lazy).
import { installHooks, pick } from './sea-hooks.ts';

installHooks();

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

// process.argv of a single executable: [exe, exe, ...args] (as `node script ...args`)
const verb = pick(process.argv.slice(2), verbs);
if (verb) verbs[verb]!();
else require('../../packages/runts/src/cli.ts');
