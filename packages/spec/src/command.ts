// `spec` (write runc's default config.json) and `spec validate` (print every problem of a bundle).
import type { CAC } from 'cac';
import { RuntimeError, writeOut } from '@runts/core';

interface Options {
  bundle?: string;
  rootless?: boolean;
}

const bundleOf = (o: Options): string => (typeof o.bundle === 'string' && o.bundle !== '' ? o.bundle : '.');

/** Registers the commands on a cac instance: as oci-spec's default command and `validate`
 *  (name ''), or as `runts spec` (name 'spec'; runts has no `spec validate`). */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name, 'create a new specification file named "config.json" for the bundle (like runc spec)')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: current directory)')
    .option('--rootless', 'generate a configuration for a rootless container')
    .action(async (o: Options) => {
      if (cli.args.length > 0) throw new RuntimeError('EINVAL', `unknown command ${JSON.stringify(cli.args[0])}`);
      const { writeDefaultSpec } = await import('./defaults.ts');
      writeDefaultSpec(bundleOf(o), { rootless: o.rootless === true });
    });
  if (name !== '') return;
  cli
    .command('validate', 'print every problem of a bundle (config.json and its rootfs), one per line; exit 1 if there is one')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: current directory)')
    .action(async (o: Options): Promise<number> => {
      const { checkBundle, formatProblem } = await import('./bundle.ts');
      const r = checkBundle(bundleOf(o), { forStart: true });
      if (r.problems.length === 0) return 0;
      writeOut(r.problems.map((p) => formatProblem(p) + '\n').join(''));
      return 1;
    });
}
