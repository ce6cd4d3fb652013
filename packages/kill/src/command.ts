import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';
import { kill } from './index.ts';

/** Registers the `kill` command on a cac instance: as the default command of oci-kill (name ''),
 *  or as `runts kill`. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id> [signal]' : `${name} <id> [signal]`.trim(), 'send a signal (name or number, default SIGTERM) to the container init')
    .usage('<container-id> [signal]\n\nExit codes: 0 sent, 1 error (`container not running` when it has stopped).')
    .option('-a, --all', 'send the signal to every process in the container (its cgroup)')
    .action(async (id: string, signal: string | undefined, opts: Record<string, unknown>) => {
      kill({ root: globalOptions(opts).root, id, signal, all: opts.all === true });
    });
}
