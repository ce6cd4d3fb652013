import type { CAC } from 'cac';
import { globalOptions, RuntimeError, writeOut } from '@runts/core';
import { list, formatTable } from './index.ts';

/** Registers the `list` command on a cac instance: as the default command of oci-list (name ''),
 *  or as `runts list`.  */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '' : `${name} `.trim(), 'list the containers under --root')
    .usage('[--format table|json] [-q]')
    .option('-f, --format <format>', 'table or json', { default: 'table' })
    .option('-q, --quiet', 'display only container IDs')
    .action(async (opts: Record<string, unknown>) => {
      const states = list({ root: globalOptions(opts).root });
      if (opts.quiet) writeOut(states.map((s) => s.id + '\n').join(''));
      else if (opts.format === 'json') writeOut(JSON.stringify(states.length === 0 ? null : states) + '\n'); // Go marshals an empty list as null
      else if (opts.format === 'table') writeOut(formatTable(states));
      else throw new RuntimeError('EINVAL', `invalid format option: ${String(opts.format)}`);
    });
}
