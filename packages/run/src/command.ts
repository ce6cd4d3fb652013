import type { CAC } from 'cac';
import { globalOptions, parseCount } from '@runts/core';

/** Registers the `run` command on a cac instance: as the default command of oci-run (name ''),
 *  or as `runts run`. The action loads the library lazily. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'create and start a container, wait for it, and delete it')
    .usage('<container-id> [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket PATH] [--preserve-fds N] [--no-pivot] [--no-new-keyring]\n\nExit codes: the container process\'s exit code, 128+N when killed by signal N, 1 when runts itself fails, 0 with --detach once it runs.')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: the current directory)')
    .option('-d, --detach', 'detach from the container\'s process')
    .option('--keep', 'do not delete the container after it exits')
    .option('--pid-file <file>', 'write the container init pid to this file (decimal, no newline)')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--preserve-fds <n>', 'pass N extra file descriptors (3 .. 3+N-1) to the container')
    .option('--no-pivot', 'do not use pivot_root: MS_MOVE and chroot instead')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--no-subreaper', 'accepted for runc compatibility')
    .action(async (id: string, opts: Record<string, unknown>) => {
      const { run } = await import('./index.ts');
      return run({
        root: globalOptions(opts).root,
        id,
        bundle: opts.bundle as string | undefined,
        pidFile: opts.pidFile as string | undefined,
        consoleSocket: opts.consoleSocket as string | undefined,
        preserveFds: parseCount('--preserve-fds', opts.preserveFds),
        noPivot: opts.pivot === false,
        noNewKeyring: opts.newKeyring === false,
        detach: opts.detach === true,
        keep: opts.keep === true,
      });
    });
}
