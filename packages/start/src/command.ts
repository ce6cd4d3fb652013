import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';
import { start } from './index.ts';

/** Registers the `start` command on a cac instance: as the default command of oci-start (name ''),
 *  or as `runts start`.  */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'start a created container: run the user process defined in its config')
    .usage('<container-id>\n\nExecutes the process of a container made by oci-create. Exit codes: 0 started, 1 error.')
    .action(async (id: string, opts: Record<string, unknown>) => {
      await start({ root: globalOptions(opts).root, id });
    });
}
