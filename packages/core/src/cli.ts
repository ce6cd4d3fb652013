// The thin-CLI plumbing every command shares: runc's global options, argv hygiene for cac, and
// one place where errors become a log line and exit code 1.
import type { CAC } from 'cac';
import { configureLog, logFatal, type LogFormat } from './log.ts';
import { RuntimeError, toRuntimeError } from './errors.ts';
import { DEFAULT_ROOT, defaultRoot } from './paths.ts';

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
    .option('--systemd-cgroup', 'use the systemd cgroup driver (a transient scope unit over D-Bus; cgroupsPath is slice:prefix:name)');
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

// A marker put in front of every bare argv word so that mri (under cac) never turns `0123` or
// `9` into a number: ids, paths and signals reach the code as the exact strings typed.
const MARK = '\u0001';

/** Prepares argv for cac: protects values from number conversion, turns runc's single-dash long
 *  flags (`-no-subreaper`) into double-dash ones, and splits nothing else. */
export function protectArgv(args: string[], longNames: Set<string>): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest) out.push(MARK + a);
    // a bare boolean global flag: mri would take the next word (the verb) as its value
    else if (a === '--systemd-cgroup' || a === '-systemd-cgroup') out.push('--systemd-cgroup=true');
    else if (a === '--') {
      rest = true;
      out.push(a);
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      out.push(eq > 0 ? a.slice(0, eq + 1) + MARK + a.slice(eq + 1) : a);
    } else if (/^-[A-Za-z][A-Za-z0-9-]+(=.*)?$/.test(a) && longNames.has(a.slice(1).split('=')[0]!)) {
      const eq = a.indexOf('=');
      out.push('-' + (eq > 0 ? a.slice(0, eq + 1) + MARK + a.slice(eq + 1) : a));
    } else if (a.startsWith('-') && a.length > 1) out.push(a);
    else out.push(MARK + a);
  }
  return out;
}

/** Removes the markers from whatever cac parsed (strings, arrays, nested objects). */
export function unprotect<T>(v: T): T {
  if (typeof v === 'string') return (v.startsWith(MARK) ? v.slice(MARK.length) : v) as T;
  if (Array.isArray(v)) return v.map(unprotect) as T;
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = unprotect(x);
    return o as T;
  }
  return v;
}

function longOptionNames(cli: CAC): Set<string> {
  const names = new Set<string>();
  for (const c of [cli.globalCommand, ...cli.commands]) for (const o of c.options) for (const n of o.names) if (n.length > 1) names.add(n.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase()));
  return names;
}

/** Finds the command word (unmarking it so cac can match it; the first bare word when it names a
 *  command) and, as runc (urfave/cli) stops reading flags at a command's variadic words
 *  (`runts exec ID sh -c x` gives `-c` to sh), puts `--` before the first variadic word. */
function commandWords(cli: CAC, args: string[]): string[] {
  const out = [...args];
  const takesValue = new Set<string>();
  for (const c of [cli.globalCommand, ...cli.commands]) for (const o of c.options) if (o.required !== undefined) for (const n of o.names) takesValue.add(n);
  let cmd = cli.commands.find((c) => c.name === '');
  let seen = 0;
  let named = false;
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    if (a === '--') return out;
    if (a.startsWith('-')) {
      const name = a.replace(/^--?/, '').split('=')[0]!.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (!a.includes('=') && takesValue.has(name)) i++;
      continue;
    }
    const word = a.startsWith(MARK) ? a.slice(MARK.length) : a;
    if (!named && seen === 0) {
      const c = cli.commands.find((x) => x.name !== '' && (x.name === word || x.aliasNames.includes(word)));
      if (c) {
        out[i] = word;
        cmd = c;
        named = true;
        continue;
      }
    }
    if (!cmd) continue;
    const v = cmd.args.findIndex((x) => x.variadic);
    if (v >= 0 && seen === v) return [...out.slice(0, i), '--', ...out.slice(i)];
    seen++;
  }
  return out;
}

/** Runs a cac CLI: every error (ours, cac's, a system error) is logged once and exits 1. The
 *  command's action may return a number to use as the exit code. The process exits when the
 *  command is done (`exit: false` only sets process.exitCode). */
export async function runCli(cli: CAC, argv: string[] = process.argv, opts: { versionText?: string; exit?: boolean } = {}): Promise<void> {
  let code = 0;
  try {
    if (opts.versionText === undefined) cli.version(VERSION, '-v, --version');
    else cli.option('-v, --version', 'print the version');
    cli.help();
    const args = commandWords(cli, protectArgv(argv.slice(2), longOptionNames(cli)));
    const parsed = cli.parse([argv[0] ?? 'node', argv[1] ?? 'runts', ...args], { run: false });
    cli.args = unprotect(parsed.args) as typeof cli.args;
    cli.options = unprotect(parsed.options);
    if (parsed.options.version && opts.versionText !== undefined) {
      process.stdout.write(opts.versionText);
      return;
    }
    if (parsed.options.help || parsed.options.version) return;
    const g = globalOptions(cli.options);
    configureLog({ log: g.log, logFormat: g.logFormat, debug: g.debug });
    if (!cli.matchedCommand) {
      if (cli.args.length > 0) throw new RuntimeError('EINVAL', `unknown command ${JSON.stringify(cli.args[0])}`);
      cli.outputHelp();
      return;
    }
    // cac hands the action the parsed args; give it the unprotected ones.
    const cmd = cli.matchedCommand;
    const rest = cli.options['--'];
    if (Array.isArray(rest) && rest.length > 0) cli.args = [...cli.args, ...rest.map(String)];
    const actionArgs: unknown[] = [];
    cmd.args.forEach((arg, i) => {
      actionArgs.push(arg.variadic ? cli.args.slice(i) : cli.args[i]);
    });
    const missing = cmd.args.findIndex((a, i) => a.required && (a.variadic ? cli.args.length <= i : cli.args[i] === undefined));
    if (missing >= 0) throw new RuntimeError('EINVAL', `${cmd.name || cli.name}: missing required argument <${cmd.args[missing]!.value}>`);
    cmd.checkUnknownOptions();
    cmd.checkOptionValue();
    actionArgs.push(cli.options);
    const r = await (cmd.commandAction as (...a: unknown[]) => unknown)(...actionArgs);
    if (typeof r === 'number') code = r;
  } catch (err) {
    const e = toRuntimeError(err);
    logFatal(e.message.replace(/^CACError: /, ''));
    code = e.exitCode;
  }
  process.exitCode = code;
  // The command is done: exit now instead of when the event loop drains (Node's teardown), unless
  // output is still queued for a slow reader (a pipe), which exiting would cut short.
  if (opts.exit !== false && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}
