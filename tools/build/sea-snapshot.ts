// The single executable's main script when built with a V8 startup snapshot (sea.mjs
// --snapshot): every command module is loaded and initialized at build time, inside the
// snapshot; at run time the deserialized main only installs the run-time hooks (sea-main's) and
// runs the verb. Module top levels therefore must not capture anything of the run time (env,
// pid, cwd, argv): they ran on the build machine.
import v8 from 'node:v8';
import { register as create } from '../../packages/create/src/command.ts';
import { register as start } from '../../packages/start/src/command.ts';
import { register as state } from '../../packages/state/src/command.ts';
import { register as kill } from '../../packages/kill/src/command.ts';
import { register as del } from '../../packages/delete/src/command.ts';
import { register as list } from '../../packages/list/src/command.ts';
import { register as run } from '../../packages/run/src/command.ts';
import { register as exec } from '../../packages/exec/src/command.ts';
import { register as pause } from '../../packages/pause/src/command.ts';
import { register as ps } from '../../packages/ps/src/command.ts';
import { register as spec } from '../../packages/spec/src/command.ts';
import { register as features } from '../../packages/features/src/command.ts';
import { register as update } from '../../packages/update/src/command.ts';
import { register as events } from '../../packages/events/src/command.ts';
import { runOne } from '../../packages/runts/src/one.ts';
import { installHooks, pick } from './sea-hooks.ts';

type Register = Parameters<typeof runOne>[0];
const verbs: Record<string, [Register, string]> = {
  create: [create, 'create'], start: [start, 'start'], state: [state, 'state'], kill: [kill, 'kill'],
  delete: [del, 'delete'], list: [list, 'list'], run: [run, 'run'], exec: [exec, 'exec'],
  pause: [pause, 'pause'], resume: [pause, 'pause'], ps: [ps, 'ps'], spec: [spec, 'spec'],
  features: [features, 'features'], update: [update, 'update'], events: [events, 'events'],
};

v8.startupSnapshot.setDeserializeMainFunction(() => {
  installHooks();
  const verb = pick(process.argv.slice(2), verbs);
  if (verb) runOne(...verbs[verb]!);
  else require('../../packages/runts/src/cli.ts');
});
