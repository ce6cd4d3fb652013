// oci-spec: `runc spec` (write a default config.json) and `oci-spec validate` (print every
// problem of a bundle). A thin cac wrapper over the library; errors are printed once by runCli.
import { cac } from 'cac';
import { RuntimeError, runCli, SPEC_VERSION, VERSION } from '@runts/core';
import { checkBundle, formatProblem } from './bundle.ts';
import { writeDefaultSpec } from './defaults.ts';

interface Options {
  bundle?: string;
  rootless?: boolean;
}

const bundleOf = (o: Options): string => (typeof o.bundle === 'string' && o.bundle !== '' ? o.bundle : '.');

const cli = cac('oci-spec');
cli
  .option('--root <dir>', 'root directory for storage of container state (accepted for runc compatibility, unused)')
  .option('--log <file>', 'set the log file to write logs to (default is stderr)')
  .option('--log-format <format>', 'set the log format (text or json)', { default: 'text' })
  .option('--debug', 'enable debug logging');

cli
  .command('', 'create a new specification file named "config.json" for the bundle (like runc spec)')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: current directory)')
  .option('--rootless', 'generate a configuration for a rootless container')
  .action((o: Options) => {
    if (cli.args.length > 0) throw new RuntimeError('EINVAL', `unknown command ${JSON.stringify(cli.args[0])}`);
    writeDefaultSpec(bundleOf(o), { rootless: o.rootless === true });
  });

cli
  .command('validate', 'print every problem of a bundle (config.json and its rootfs), one per line; exit 1 if there is one')
  // runCli marks every bare argv word (so that cac keeps `0123` a string), command names too:
  // let the marked name match as well.
  .alias('\u0001validate')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory (default: current directory)')
  .action((o: Options): number => {
    const r = checkBundle(bundleOf(o), { forStart: true });
    if (r.problems.length === 0) return 0;
    process.stdout.write(r.problems.map((p) => formatProblem(p) + '\n').join(''));
    return 1;
  });

await runCli(cli, process.argv, { versionText: `oci-spec version ${VERSION}\nspec: ${SPEC_VERSION}\n` });
