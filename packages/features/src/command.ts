import type { CAC } from 'cac';
import { writeOut } from '@runts/core';
import { features } from './index.ts';

/** Registers `features`: the default command of oci-features (name ''), or `runts features`. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name, 'show the enabled features (OCI features.md JSON)')
    .usage('\n\nPrints the features JSON on stdout. Exit code 0.')
    .action(async () => {
      writeOut(JSON.stringify(features(), null, 4) + '\n');
    });
}
