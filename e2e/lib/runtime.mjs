// The runtime abstraction: the same verbs against runc, runts (runc's CLI) or the oci-* commands.
//
//   const rt = runtime('runc');            // runc --root <run>/root-runc <verb> ...
//   const rt = runtime('runts');           // node packages/runts/bin/runts.js --root <run>/root-runts <verb> ...
//   const rt = runtime('oci');             // node packages/<verb>/bin/oci-<verb>.js --root <run>/root-oci ...
//   runtime('runts', { command: [exe] })   // another runts command (an installed one); 'oci' takes { bin: dir }
//   E2E_RUNTIME=sea                        // 'runts' is dist/runts, the single executable (no Node needed)
//   E2E_NODE=/path/to/node                 // the Node that runs runts and the oci-* commands (default: this one)
//   const r = await rt.create(id, { bundle, pidFile });   // -> { code, signal, stdout, stderr }
//
// All output goes through files, never pipes: `create` and `run --detach` leave the container
// holding the runtime's stdio, and a pipe would keep the caller waiting until the container exits.
// A container's own output therefore lands in the `stdout`/`stderr` files given to create/run.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR, REPO, cleanEnv, defaultRuntimeName } from './env.mjs';

let ioSeq = 0;

/** The Node that runs runts and the oci-* commands: E2E_NODE (another version), else this one. */
export const NODE = process.env.E2E_NODE || process.execPath;
/** The single executable (tools/build/sea.mjs). */
export const SEA = join(REPO, 'dist/runts');
/** How runts is started: the single executable with E2E_RUNTIME=sea, else NODE and bin/runts.js. */
export const RUNTS_COMMAND = process.env.E2E_RUNTIME === 'sea' ? [SEA] : [NODE, join(REPO, 'packages/runts/bin/runts.js')];

/**
 * Spawns argv with stdio on files and waits for it to exit.
 * opts: stdin (file path, default /dev/null), stdout/stderr (file paths to keep; default temp files
 * that are read and removed), timeout (ms, default 60 s: then SIGKILL and code null), env, cwd.
 */
export function spawnCapture(argv, opts = {}) {
  const ioDir = join(RUN_DIR, 'io');
  mkdirSync(ioDir, { recursive: true });
  const n = ++ioSeq;
  const outPath = opts.stdout ?? join(ioDir, `${process.pid}-${n}.out`);
  const errPath = opts.stderr ?? join(ioDir, `${process.pid}-${n}.err`);
  const inFd = openSync(opts.stdin ?? '/dev/null', 'r');
  const outFd = openSync(outPath, 'a');
  const errFd = errPath === outPath ? outFd : openSync(errPath, 'a');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), {
        stdio: [inFd, outFd, errFd],
        env: cleanEnv(opts.env),
        cwd: opts.cwd ?? RUN_DIR,
      });
    } catch (e) {
      reject(e);
      return;
    } finally {
      closeSync(inFd);
      closeSync(outFd);
      if (errFd !== outFd) closeSync(errFd);
    }
    const timeout = opts.timeout ?? 60_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    if (opts.onSpawn) opts.onSpawn(child);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const read = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
      const stdout = read(outPath);
      const stderr = errPath === outPath ? '' : read(errPath);
      if (!opts.stdout) rmSync(outPath, { force: true });
      if (!opts.stderr) rmSync(errPath, { force: true });
      resolve({ argv, code, signal, stdout, stderr, error: errorText(stderr), timedOut, ms: Date.now() - started });
    });
  });
}

/**
 * The error messages in a runtime's stderr, unquoted: runc logs with logrus
 * (`time="..." level=error msg="exec: \"x\": ..."`), or JSON lines with --log-format json;
 * anything else is kept as it is. Tests match error strings against this.
 */
export function errorText(stderr) {
  return stderr
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /(?:^|\s)msg="((?:[^"\\]|\\.)*)"/.exec(l);
      if (m) {
        try {
          return JSON.parse(`"${m[1]}"`);
        } catch {
          return m[1];
        }
      }
      if (l.startsWith('{')) {
        try {
          return JSON.parse(l).msg ?? l;
        } catch {
          /* not JSON */
        }
      }
      return l;
    })
    .join('\n');
}

/** Formats a result for assertion messages. */
export function show(r) {
  return `$ ${r.argv.join(' ')}\n-> code ${r.code}${r.signal ? ` signal ${r.signal}` : ''}${r.timedOut ? ' (TIMED OUT)' : ''}\n` +
    `stdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
}

const VERBS = ['create', 'start', 'state', 'kill', 'delete', 'list', 'run', 'exec', 'spec', 'ps', 'pause', 'resume'];

export class Runtime {
  /** @param {'runc'|'runts'|'oci'} name */
  constructor(name = defaultRuntimeName(), { root, command, bin } = {}) {
    if (!['runc', 'runts', 'oci'].includes(name)) throw new Error(`unknown runtime ${name}`);
    this.name = name;
    /** runts's command (default RUNTS_COMMAND), or the dir of installed oci-* commands (oci) */
    this.command = command;
    this.bin = bin;
    this.root = root ?? join(RUN_DIR, `root-${name}`);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /** The argv prefix that runs `verb` with this runtime and its --root. */
  argv(verb) {
    if (!VERBS.includes(verb)) throw new Error(`unknown verb ${verb}`);
    switch (this.name) {
      case 'runc':
        return ['runc', '--root', this.root, verb];
      case 'runts':
        return [...(this.command ?? RUNTS_COMMAND), '--root', this.root, verb];
      case 'oci':
        return this.bin
          ? [NODE, join(this.bin, `oci-${verb}`), '--root', this.root]
          : [NODE, join(REPO, `packages/${verb}/bin/oci-${verb}.js`), '--root', this.root];
    }
  }

  /** Runs `verb args...`; opts as spawnCapture. */
  cmd(verb, args = [], opts = {}) {
    return spawnCapture([...this.argv(verb), ...args], opts);
  }

  /** create [--bundle B] [--pid-file P] [...extra] ID; opts.stdout/stderr: where the container's output goes. */
  create(id, { bundle, pidFile, extra = [] } = {}, opts = {}) {
    const a = [];
    if (bundle) a.push('--bundle', bundle);
    if (pidFile) a.push('--pid-file', pidFile);
    return this.cmd('create', [...a, ...extra, id], opts);
  }
  start(id, opts) {
    return this.cmd('start', [id], opts);
  }
  state(id, opts) {
    return this.cmd('state', [id], opts);
  }
  /** The parsed state JSON, or null when `state` fails. */
  async stateJson(id) {
    const r = await this.state(id);
    if (r.code !== 0) return null;
    return JSON.parse(r.stdout);
  }
  kill(id, signal, { all = false } = {}, opts) {
    const a = all ? ['--all'] : [];
    return this.cmd('kill', [...a, id, ...(signal === undefined ? [] : [String(signal)])], opts);
  }
  delete(id, { force = false } = {}, opts) {
    return this.cmd('delete', [...(force ? ['--force'] : []), id], opts);
  }
  list({ format, quiet = false } = {}, opts) {
    const a = [];
    if (format) a.push('--format', format);
    if (quiet) a.push('-q');
    return this.cmd('list', a, opts);
  }
  /** run [--bundle B] [--detach] [--pid-file P] [...extra] ID */
  run(id, { bundle, detach = false, pidFile, extra = [] } = {}, opts = {}) {
    const a = [];
    if (bundle) a.push('--bundle', bundle);
    if (detach) a.push('--detach');
    if (pidFile) a.push('--pid-file', pidFile);
    return this.cmd('run', [...a, ...extra, id], opts);
  }
  /**
   * exec [flags] ID [args...]; flags: process (file), cwd, env (array), user, detach, pidFile,
   * additionalGids (array), extra (raw argv before the id).
   */
  exec(id, args = [], { process: proc, cwd, env = [], user, detach = false, pidFile, additionalGids = [], extra = [] } = {}, opts = {}) {
    const a = [];
    if (proc) a.push('--process', proc);
    if (cwd) a.push('--cwd', cwd);
    for (const e of env) a.push('--env', e);
    if (user) a.push('--user', user);
    for (const g of additionalGids) a.push('--additional-gids', String(g));
    if (detach) a.push('--detach');
    if (pidFile) a.push('--pid-file', pidFile);
    return this.cmd('exec', [...a, ...extra, id, ...args], opts);
  }

  /** Best-effort removal, for t.after: delete --force, ignoring every error. */
  async forceDelete(id) {
    try {
      await this.delete(id, { force: true }, { timeout: 30_000 });
    } catch {
      /* cleanup: nothing to report */
    }
  }

  /** Container ids in this runtime's root (from the state dirs, not from `list`). */
  ids() {
    try {
      return readdirSync(this.root);
    } catch {
      return [];
    }
  }
}

/** runtime('runc' | 'runts' | 'oci'), default E2E_RUNTIME (else runts when built, else runc). */
export function runtime(name, opts) {
  return new Runtime(name ?? defaultRuntimeName(), opts);
}

/** True when the runtime's commands exist (runc installed, runts/oci built). */
export function available(name) {
  switch (name) {
    case 'runc':
      return true;
    case 'runts':
      return existsSync(RUNTS_COMMAND.at(-1));
    case 'oci':
      return existsSync(join(REPO, 'packages/create/dist/cli.js'));
  }
  return false;
}
