import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';
import { pause, resume } from './index.ts';

/** Registers `pause` and `resume` (oci-pause takes `oci-pause ID` and `oci-pause --resume ID`). */
export function register(cli: CAC, name = ''): void {
  if (name === '') {
    cli
      .command('<id>', 'pause (freeze) every process of a container')
      .usage('<container-id> [--resume]\n\nExit codes: 0, or 1 (`container not running`, `container not paused`).')
      .option('--resume', 'resume (thaw) a paused container instead')
      .action(async (id: string, opts: Record<string, unknown>) => {
        (opts.resume ? resume : pause)({ root: globalOptions(opts).root, id });
      });
    return;
  }
  cli.command('pause <id>', 'pause (freeze) every process of a container').action(async (id: string, opts: Record<string, unknown>) => {
    pause({ root: globalOptions(opts).root, id });
  });
  cli.command('resume <id>', 'resume (thaw) a paused container').action(async (id: string, opts: Record<string, unknown>) => {
    resume({ root: globalOptions(opts).root, id });
  });
}
