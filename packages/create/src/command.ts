import type { CAC, Command } from 'cac';
import { globalOptions, parseCount } from '@runts/core';
import type { CreateOptions } from './index.ts';
import { create } from './index.ts';

/** The options create and run share (runc's create flags), on a cac command. */
export function withCreateOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: the current directory)')
    .option('--pid-file <file>', 'write the container init pid to this file (decimal, no newline)')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--preserve-fds <n>', 'pass N extra file descriptors (3 .. 3+N-1) to the container')
    .option('--no-pivot', 'do not use pivot_root (for a ramdisk root): MS_MOVE and chroot instead')
    .option('--no-new-keyring', 'do not create a new session keyring for the container');
}

/** CreateOptions from what cac parsed (cac turns `--no-pivot` into `pivot: false`). */
export function createOptions(id: string, opts: Record<string, unknown>): CreateOptions {
  return {
    root: globalOptions(opts).root,
    id,
    bundle: opts.bundle as string | undefined,
    pidFile: opts.pidFile as string | undefined,
    consoleSocket: opts.consoleSocket as string | undefined,
    preserveFds: parseCount('--preserve-fds', opts.preserveFds),
    noPivot: opts.noPivot === true,
    noNewKeyring: opts.noNewKeyring === true,
    systemdCgroup: globalOptions(opts).systemdCgroup,
  };
}

/** Registers the `create` command on a cac instance: as the default command of oci-create (name ''),
 *  or as `runts create`.  */
export function register(cli: CAC, name = ''): void {
  withCreateOptions(
    cli
      .command(name === '' ? '<id>' : `${name} <id>`.trim(), 'create a container from a bundle; it waits for oci-start')
      .usage('<container-id> [--bundle DIR] [--pid-file FILE] [--console-socket PATH] [--preserve-fds N] [--no-pivot] [--no-new-keyring]\n\nExit codes: 0 created, 1 error (nothing is left behind).'),
  ).action(async (id: string, opts: Record<string, unknown>) => {
    await create(createOptions(id, opts));
  });
}
