import type { CAC } from 'cac';
import { withCreateOptions, createOptions } from '@runts/create/command';
import { run } from './index.ts';

/** Registers the `run` command on a cac instance: as the default command of oci-run (name ''),
 *  or as `runts run`.  */
export function register(cli: CAC, name = ''): void {
  withCreateOptions(
    cli
      .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'create and start a container, wait for it, and delete it')
      .usage("<container-id> [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket PATH] [--preserve-fds N] [--no-pivot] [--no-new-keyring]\n\nExit codes: the container process's exit code, 128+N when killed by signal N, 1 when runts itself fails, 0 with --detach once it runs."),
  )
    .option('-d, --detach', "detach from the container's process")
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-subreaper', 'accepted for runc compatibility')
    .action(async (id: string, opts: Record<string, unknown>) => {
      return run({ ...createOptions(id, opts), detach: opts.detach === true, keep: opts.keep === true });
    });
}
