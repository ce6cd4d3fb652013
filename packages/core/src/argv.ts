// runc's command line, parsed as runc 1.1.5 parses it: urfave/cli v1.22.1 over Go's flag package.
// cac only holds the declarations (names, which flags take a value, help texts); the parsing is
// here, so that every flag of every command behaves as in runc:
// - the global flags come before the command word and stop at the first word that is not a flag
//   (`runts --systemd-cgroup create ID`: a boolean never takes the next word);
// - a command's flags may come before or after its arguments (urfave/cli moves every word that
//   starts with `-` to the front, with the word after it), except for commands with a variadic
//   argument (runc's exec and ps: SkipArgReorder), where the flags stop at the first argument and
//   everything after it belongs to the process (`exec ID sh -c x`, `ps ID -e -x`);
// - Go's flag syntax: `-flag`, `--flag`, `-flag=value`, `--flag value`; a boolean takes only
//   `--flag` or `--flag=<bool>` (strconv.ParseBool's words); a value flag takes the next word even
//   when it starts with `-` (`update --memory -1`); `--` ends the flags; `-` alone is a word.
// Values reach the code as the exact strings typed (no number conversion).

export type FlagKind = 'bool' | 'value' | 'list';

export interface FlagSpec {
  /** every name without dashes: ['force', 'f'] */
  names: string[];
  kind: FlagKind;
  /** the key in the parsed options: the camel-cased long name (`noNewPrivs`, `pidFile`) */
  key: string;
  default?: unknown;
}

export class UsageError extends Error {}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** A flag declaration as written for cac (`-f, --force`, `--pid-file <file>`, `--memory [value]`);
 *  `list` for a repeatable flag (runc's StringSliceFlag: cac's `type: [String]`). */
export function flagSpec(rawName: string, config: { default?: unknown; type?: unknown[] } = {}): FlagSpec {
  const head = rawName.split(/[<[]/)[0]!;
  const names = [...head.matchAll(/-{1,2}([A-Za-z0-9][A-Za-z0-9-]*)/g)].map((m) => m[1]!);
  if (names.length === 0) throw new Error(`bad flag declaration ${JSON.stringify(rawName)}`);
  const long = [...names].sort((a, b) => b.length - a.length)[0]!;
  const kind: FlagKind = head.length === rawName.length ? 'bool' : Array.isArray(config.type) ? 'list' : 'value';
  const spec: FlagSpec = { names, kind, key: camel(long) };
  if (config.default !== undefined) spec.default = config.default;
  return spec;
}

/** urfave/cli v1.22.1's reorderArgs: every word that starts with `-` (but `-` itself) moves to the
 *  front, and with it the word right after it when that does not start with `-` and the flag has
 *  no `=` (it may be the flag's value); the rest keep their order; `--` and what follows stay last. */
export function reorderArgs(args: string[]): string[] {
  const flags: string[] = [];
  const words: string[] = [];
  let readValue = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      words.push(...args.slice(i));
      break;
    }
    if (readValue && !a.startsWith('-')) {
      readValue = false;
      flags.push(a);
      continue;
    }
    readValue = false;
    if (a !== '-' && a.startsWith('-')) {
      flags.push(a);
      readValue = !a.includes('=');
    } else words.push(a);
  }
  return [...flags, ...words];
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export interface Parsed {
  options: Record<string, unknown>;
  /** the words after the flags (what Go's FlagSet.Args() returns) */
  args: string[];
  /** the flags given, by key (`IsSet`) */
  set: Set<string>;
}

/** Go's flag.FlagSet.Parse over these flags: stops at the first word that is not a flag (and
 *  drops a `--` there). `allowUnknown` takes an unknown flag as a boolean. `-h`/`--help` given but
 *  not declared sets `help` (Go's ErrHelp, which urfave/cli turns into the command's help). */
export function parseFlags(argv: string[], flags: FlagSpec[], o: { allowUnknown?: boolean } = {}): Parsed {
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) for (const n of f.names) if (!byName.has(n)) byName.set(n, f);
  const options: Record<string, unknown> = {};
  const set = new Set<string>();
  for (const f of flags) if (f.default !== undefined && !(f.key in options)) for (const n of [f.key, ...f.names.map(camel)]) options[n] = f.default;
  const assign = (f: FlagSpec, v: unknown) => {
    let value = v;
    if (f.kind === 'list') value = set.has(f.key) && Array.isArray(options[f.key]) ? [...(options[f.key] as string[]), v] : [v];
    set.add(f.key);
    for (const n of [f.key, ...f.names.map(camel)]) options[n] = value;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const s = argv[i]!;
    if (s.length < 2 || s[0] !== '-') break;
    let dashes = 1;
    if (s[1] === '-') {
      dashes = 2;
      if (s.length === 2) {
        i++;
        break;
      }
    }
    let name = s.slice(dashes);
    if (name === '' || name[0] === '-' || name[0] === '=') throw new UsageError(`bad flag syntax: ${s}`);
    let value: string | undefined;
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let f = byName.get(name);
    if (!f) {
      if (name === 'help' || name === 'h') {
        options.help = true;
        set.add('help');
        continue;
      }
      if (!o.allowUnknown) throw new UsageError(`flag provided but not defined: -${name}`);
      f = { names: [name], kind: 'bool', key: camel(name) };
    }
    if (f.kind === 'bool') {
      if (value === undefined) assign(f, true);
      else if (TRUE.has(value)) assign(f, true);
      else if (FALSE.has(value)) assign(f, false);
      else throw new UsageError(`invalid boolean value ${JSON.stringify(value)} for -${name}: parse error`);
    } else {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
        value = argv[++i]!;
      }
      assign(f, value);
    }
  }
  return { options, args: argv.slice(i), set };
}

export interface CommandShape {
  /** the flags of the command (and, for a tool with one command, the global ones) */
  flags: FlagSpec[];
  /** runc's exec and ps (a variadic argument): no reordering */
  reorder: boolean;
  allowUnknown?: boolean;
}

/** One command's words (after the command word): reordered as urfave/cli does, then parsed. */
export function parseCommand(args: string[], c: CommandShape): Parsed {
  return parseFlags(c.reorder ? reorderArgs(args) : args, c.flags, { allowUnknown: c.allowUnknown === true });
}

/** runc's checkArgs: `exactly`, `a minimum of`, `a maximum of` N argument(s). */
export function checkArgCount(prog: string, cmd: string, n: number, shape: { required: number; optional: number; variadic: boolean }): void {
  const { required, optional, variadic } = shape;
  let err: string | undefined;
  if (variadic || optional > 0) {
    if (n < required) err = `a minimum of ${required}`;
    else if (!variadic && n > required + optional) err = `a maximum of ${required + optional}`;
  } else if (n !== required) err = `exactly ${required}`;
  if (err) throw new UsageError(`${prog}: ${JSON.stringify(cmd)} requires ${err} argument(s)`);
}
