import type { CAC } from 'cac';
import { globalOptions, RuntimeError, writeOut } from '@runts/core';
import { ps, psTable } from './index.ts';

/** Registers `ps`: as the default command of oci-ps (name ''), or `runts ps`. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id> [...psArgs]' : `${name} <id> [...psArgs]`, 'display the processes running inside a container')
    .usage('<container-id> [ps options]\n\nExit codes: 0, or 1 when the container does not exist.')
    .option('-f, --format <format>', 'table or json', { default: 'table' })
    .action(async (id: string, psArgs: string[], opts: Record<string, unknown>) => {
      const pids = ps({ root: globalOptions(opts).root, id });
      if (opts.format === 'json') writeOut(JSON.stringify(pids) + '\n');
      else if (opts.format === 'table') writeOut(psTable(pids ?? [], psArgs.length > 0 ? psArgs : ['-ef']));
      else throw new RuntimeError('EINVAL', `invalid format option: ${String(opts.format)}`);
    });
}
