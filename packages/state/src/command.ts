import type { CAC } from 'cac';
import { globalOptions, writeOut } from '@runts/core';
import { state, formatState } from './index.ts';

/** Registers the `state` command on a cac instance: as the default command of oci-state (name ''),
 *  or as `runts state`.  */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'output the state of a container')
    .usage('<container-id>\n\nPrints the OCI state JSON on stdout. Exit codes: 0, or 1 when the container does not exist.')
    .action(async (id: string, opts: Record<string, unknown>) => {
      writeOut(formatState(state({ root: globalOptions(opts).root, id })));
    });
}
