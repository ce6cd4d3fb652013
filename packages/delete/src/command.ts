import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';
import { deleteContainer } from './index.ts';

/** Registers the `delete` command on a cac instance: as the default command of oci-delete (name ''),
 *  or as `runts delete`.  */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'delete a container and the resources it holds')
    .usage('<container-id>\n\nExit codes: 0 deleted (or, with --force, did not exist), 1 error.')
    .option('-f, --force', 'forcibly delete a running container (SIGKILL)')
    .action(async (id: string, opts: Record<string, unknown>) => {
      await deleteContainer({ root: globalOptions(opts).root, id, force: opts.force === true });
    });
}
