// The thin-CLI plumbing every command shares: runc's global options, runc's argv parsing (argv.ts), and
// one place where errors become a log line and exit code 1.
import type { CAC, Command } from 'cac';
import { checkArgCount, flagSpec, parseCommand, parseFlags, UsageError, type CommandShape, type FlagSpec, type Parsed } from './argv.ts';
import { configureLog, debug, logFatal, type LogFormat } from './log.ts';
import { RuntimeError, toRuntimeError } from './errors.ts';
import { DEFAULT_ROOT, defaultRoot } from './paths.ts';
import { outputPending, writeOut } from './output.ts';

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

export interface GlobalOptions {
  root: string;
  log?: string | undefined;
  logFormat: LogFormat;
  debug: boolean;
  systemdCgroup: boolean;
}

/** Adds runc's global options to a cac instance. */
export function addGlobalOptions(cli: CAC): CAC {
  cli
    .option('--root <dir>', `root directory for storage of container state (default: ${DEFAULT_ROOT}, or $XDG_RUNTIME_DIR/runts when not root)`)
    .option('--log <file>', 'set the log file to write runts logs to (default is stderr)')
    .option('--log-format <format>', 'set the log format (text or json)', { default: 'text' })
    .option('--debug', 'enable debug logging')
    .option('--systemd-cgroup', 'use the systemd cgroup driver (a transient scope unit over D-Bus; cgroupsPath is slice:prefix:name)')
    .option('--criu <path>', 'path to the criu binary (accepted for runc compatibility)', { default: 'criu' })
    .option('--rootless <value>', "ignore cgroup permission errors ('true', 'false', or 'auto')", { default: 'auto' });
  return cli;
}

export function globalOptions(o: Record<string, unknown>): GlobalOptions {
  const root = typeof o.root === 'string' && o.root !== '' ? o.root : (process.env.RUNTS_ROOT ?? defaultRoot());
  return {
    root,
    log: typeof o.log === 'string' && o.log !== '' ? o.log : undefined,
    logFormat: o.logFormat === 'json' ? 'json' : 'text',
    debug: o.debug === true,
    systemdCgroup: o.systemdCgroup === true || o.systemdCgroup === 'true',
  };
}

/** Parses a count flag such as --preserve-fds: a decimal integer >= 0. */
export function parseCount(flag: string, v: unknown): number {
  if (v === undefined || v === false) return 0;
  const s = String(v);
  if (!/^\d+$/.test(s)) throw new RuntimeError('EINVAL', `${flag}: invalid value ${JSON.stringify(s)}`);
  return Number(s);
}

/** The parser's view of a cac command's declared options. */
function specs(c: Command): FlagSpec[] {
  // cac gives a `--no-x` option the default true (its negation scheme); in runc `no-pivot` is just a
  // boolean's name, false unless given
  return c.options.map((o) => flagSpec(o.rawName, o.negated ? { ...o.config, default: undefined } : o.config));
}

function shapeOf(c: Command, extra: FlagSpec[]): CommandShape {
  return { flags: [...specs(c), ...extra], reorder: !c.args.some((a) => a.variadic), allowUnknown: c.config.allowUnknownOptions === true };
}

function usage(msg: string, help: () => void, dot = false): never {
  // urfave/cli prints this and the help on stdout; the error itself goes to the log (stderr)
  writeOut(dot ? 'Incorrect Usage.\n\n' : `Incorrect Usage: ${msg}\n\n`);
  help();
  throw new RuntimeError('EINVAL', msg);
}

/** Runs a cac CLI, parsing argv as runc does (./argv.ts; cac holds the declarations and prints the
 *  help). Every error (ours, a usage error, a system error) is logged once and exits 1 (an unknown
 *  command: 3, as runc's "No help topic"). The command's action may return a number to use as the
 *  exit code. The process exits when the command is done (`exit: false` only sets process.exitCode). */
export async function runCli(cli: CAC, argv: string[] = process.argv, opts: { versionText?: string; exit?: boolean } = {}): Promise<void> {
  let code = 0;
  try {
    cli.option('-v, --version', 'print the version');
    cli.help();
    // (and its help would print "(default: true)" for them)
    for (const c of [cli.globalCommand, ...cli.commands]) for (const o of c.options) if (o.negated) o.config.default = undefined;
    const words = argv.slice(2);
    const version = () => writeOut(opts.versionText ?? `${cli.name} version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
    const globals = specs(cli.globalCommand);
    const dflt = cli.commands.find((c) => c.name === '');
    let g: Parsed | undefined;
    let gErr: unknown;
    try {
      g = parseFlags(words, globals);
    } catch (err) {
      gErr = err;
    }
    const word = g?.args[0];
    const named = word === undefined ? undefined : cli.commands.find((c) => c.name !== '' && (c.name === word || c.aliasNames.includes(word)));
    let cmd: Command;
    let parsed: Parsed;
    const parse = (c: Command, args: string[], extra: FlagSpec[]): Parsed => {
      try {
        return parseCommand(args, shapeOf(c, extra));
      } catch (err) {
        if (err instanceof UsageError) usage(err.message, () => c.outputHelp());
        throw err;
      }
    };
    if (g && named) {
      if (g.options.help === true) return cli.globalCommand.outputHelp();
      if (g.options.version === true) return void version();
      const p = parse(named, g.args.slice(1), []);
      parsed = { options: { ...g.options, ...p.options }, args: p.args, set: new Set([...g.set, ...p.set]) };
      cmd = named;
    } else if (dflt) {
      // a tool with one command (oci-delete): its flags and the global ones, in any order
      parsed = parse(dflt, words, globals.filter((f) => !f.names.some((n) => dflt.options.some((o) => flagSpec(o.rawName).names.includes(n)))));
      if (parsed.options.version === true) return void version();
      cmd = dflt;
    } else {
      if (gErr instanceof UsageError) usage(gErr.message, () => cli.globalCommand.outputHelp());
      if (gErr) throw gErr;
      if (g!.options.help === true) return cli.globalCommand.outputHelp();
      if (g!.options.version === true) return void version();
      if (word === undefined) return cli.globalCommand.outputHelp();
      throw new RuntimeError('EINVAL', `No help topic for '${word}'`).withExitCode(3);
    }
    if (parsed.options.help === true) return cmd.outputHelp();
    cli.args = parsed.args;
    cli.options = parsed.options;
    const g2 = globalOptions(parsed.options);
    configureLog({ log: g2.log, logFormat: g2.logFormat, debug: g2.debug });
    debug(`${cli.name}${cmd.name ? ' ' + cmd.name : ''}: arguments ${JSON.stringify(parsed.args)}, root ${g2.root}`);
    const shape = { required: cmd.args.filter((a) => a.required && !a.variadic).length, optional: cmd.args.filter((a) => !a.required && !a.variadic).length, variadic: cmd.args.some((a) => a.variadic) };
    try {
      checkArgCount(cli.name, cmd.name || cli.name, parsed.args.length, shape);
    } catch (err) {
      if (err instanceof UsageError) usage(err.message, () => cmd.outputHelp(), true);
      throw err;
    }
    const actionArgs: unknown[] = cmd.args.map((arg, i) => (arg.variadic ? parsed.args.slice(i) : parsed.args[i]));
    actionArgs.push(parsed.options);
    const r = await (cmd.commandAction as (...a: unknown[]) => unknown)(...actionArgs);
    if (typeof r === 'number') code = r;
  } catch (err) {
    const e = toRuntimeError(err);
    logFatal(e.message);
    code = e.exitCode;
  }
  process.exitCode = code;
  // The command is done: exit now instead of when the event loop drains (Node's teardown), unless
  // output is still queued for a slow reader (a pipe), which exiting would cut short.
  if (opts.exit !== false && !outputPending()) process.exit(code);
}
