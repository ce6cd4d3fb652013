// One runts command alone: `runts create ...` starts dist/verb-create.cjs, which registers only
// `create` (dist/launch.cjs picks the bundle from argv), so a call loads and compiles one verb's
// code, not all of them. `runts --help`, `--version` and anything else start dist/cli.cjs, with
// every command.
import { cac } from 'cac';
import { addGlobalOptions, runCli } from '@runts/core';

type Register = (cli: ReturnType<typeof cac>, name: string) => void;

export function versionText(): string {
  // go-runc reads the first line as `runc version <v>`
  return `runc version 0.1.0 (runts)\ncommit: runts-0.1.0\nspec: 1.3.0\nnode: ${process.version}\n`;
}

export function runOne(register: Register, name: string): void {
  const cli = addGlobalOptions(cac('runts'));
  register(cli, name);
  void runCli(cli, process.argv, { versionText: versionText() });
}
