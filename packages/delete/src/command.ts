import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';

/** Registers the `delete` command on a cac instance: as the default command of oci-delete (name ''),
 *  or as `runts delete`. The action loads the library lazily. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'delete a container and the resources it holds')
    .usage('<container-id>\n\nExit codes: 0 deleted (or, with --force, did not exist), 1 error.')
    .option('-f, --force', 'forcibly delete a running container (SIGKILL)')
    .action(async (id: string, opts: Record<string, unknown>) => {
      const { deleteContainer } = await import('./index.ts');
      await deleteContainer({ root: globalOptions(opts).root, id, force: opts.force === true });
    });
}
