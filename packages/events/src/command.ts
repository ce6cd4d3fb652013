import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';
import { events, parseDuration } from './index.ts';

/** Registers `events`: the default command of oci-events (name ''), or `runts events`. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id>' : `${name} <id>`, 'display container events such as OOM notifications, cpu, memory, and IO usage statistics')
    .usage('<container-id> [--stats] [--interval 5s]\n\nExit codes: 0 (also when the container stops while watched), or 1 (`container with id ID is not running`, `container does not exist`).')
    .option('--interval <duration>', 'set the stats collection interval', { default: '5s' })
    .option('--stats', "display the container's stats then exit")
    .action(async (id: string, opts: Record<string, unknown>) => {
      // a reader that goes away (`| head`) ends the stream, as SIGPIPE ends runc
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0);
      });
      await events({ root: globalOptions(opts).root, id, stats: opts.stats === true, interval: parseDuration(String(opts.interval ?? '5s')) });
    });
}
