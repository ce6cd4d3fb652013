// runts: the runc-compatible multiplexer. `runts [global options] <command> ...` with runc's
// commands and flags, calling the same library functions as the oci-* commands, in one process.
import { cac } from 'cac';
import { addGlobalOptions, runCli } from '@runts/core';
import { register as create } from '@runts/create/command';
import { register as start } from '@runts/start/command';
import { register as state } from '@runts/state/command';
import { register as kill } from '@runts/kill/command';
import { register as del } from '@runts/delete/command';
import { register as list } from '@runts/list/command';
import { register as run } from '@runts/run/command';
import { register as exec } from '@runts/exec/command';
import { register as pause } from '@runts/pause/command';
import { register as ps } from '@runts/ps/command';
import { register as spec } from '@runts/spec/command';
import { register as features } from '@runts/features/command';
import { register as update } from '@runts/update/command';
import { register as events } from '@runts/events/command';
import { RuntimeError } from '@runts/core';
import { versionText } from './one.ts';

const cli = addGlobalOptions(cac('runts'));
create(cli, 'create');
start(cli, 'start');
state(cli, 'state');
kill(cli, 'kill');
del(cli, 'delete');
list(cli, 'list');
run(cli, 'run');
exec(cli, 'exec');
pause(cli, 'pause');
ps(cli, 'ps');
spec(cli, 'spec');
features(cli, 'features');
update(cli, 'update');
events(cli, 'events');
// Podman offers checkpointing when `checkpoint --help` exits 0; runts has no CRIU support yet, so
// the commands exist (with runc's flags) and fail with a clear message.
for (const verb of ['checkpoint', 'restore']) {
  cli
    .command(`${verb} <id>`, `${verb} a container with CRIU (not supported by runts yet)`)
    .allowUnknownOptions()
    .action(() => {
      throw new RuntimeError('EINVAL', `${verb}: not supported: runts has no CRIU integration yet`);
    });
}
void runCli(cli, process.argv, { versionText: versionText() });
