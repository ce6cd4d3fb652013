// oci-spec: `runc spec` (write a default config.json) and `oci-spec validate` (print every
// problem of a bundle). A thin cac wrapper; errors are printed once by runCli.
import { cac } from 'cac';
import { addGlobalOptions, runCli, SPEC_VERSION, VERSION } from '@runts/core';
import { register } from './command.ts';

const cli = addGlobalOptions(cac('oci-spec'));
register(cli);
void runCli(cli, process.argv, { versionText: `oci-spec version ${VERSION}\nspec: ${SPEC_VERSION}\n` });
