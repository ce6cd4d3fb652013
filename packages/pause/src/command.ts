import type { CAC } from 'cac';
import { globalOptions } from '@runts/core';

/** Registers `pause` and `resume` (oci-pause takes `oci-pause ID` and `oci-pause --resume ID`). */
export function register(cli: CAC, name = ''): void {
  if (name === '') {
    cli
      .command('<id>', 'pause (freeze) every process of a container')
      .usage('<container-id> [--resume]\n\nExit codes: 0, or 1 (`container not running`, `container not paused`).')
      .option('--resume', 'resume (thaw) a paused container instead')
      .action(async (id: string, opts: Record<string, unknown>) => {
        const { pause, resume } = await import('./index.ts');
        (opts.resume ? resume : pause)({ root: globalOptions(opts).root, id });
      });
    return;
  }
  cli.command('pause <id>', 'pause (freeze) every process of a container').action(async (id: string, opts: Record<string, unknown>) => {
    const { pause } = await import('./index.ts');
    pause({ root: globalOptions(opts).root, id });
  });
  cli.command('resume <id>', 'resume (thaw) a paused container').action(async (id: string, opts: Record<string, unknown>) => {
    const { resume } = await import('./index.ts');
    resume({ root: globalOptions(opts).root, id });
  });
}
