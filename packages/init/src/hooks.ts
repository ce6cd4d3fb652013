// Host-side hooks (prestart, createRuntime, poststart, poststop): run in the runtime's namespaces
// with the container state on stdin, like runc's configs.Command.Run.
import type { spawn as nodeSpawn } from 'node:child_process';
import { RuntimeError, strerror, debug } from '@runts/core';
import { invalid } from './errors.ts';
import { checkString } from './util.ts';
import type { Hook } from './types.ts';

/** A hook entry as the spec has it (config.md, POSIX-platform hooks): an absolute path, string
 *  args and env, a positive timeout. (Here, not with the init compiler: start and delete load only
 *  this module to run hooks.) */
export function checkHook(h: Hook, field: string): void {
  if (h === null || typeof h !== 'object') throw invalid(field, 'must be an object');
  checkString(h.path, `${field}.path`);
  if (!h.path.startsWith('/')) throw invalid(`${field}.path`, `must be an absolute path: ${JSON.stringify(h.path)}`);
  (h.args ?? []).forEach((a, i) => checkString(a, `${field}.args[${i}]`));
  (h.env ?? []).forEach((a, i) => checkString(a, `${field}.env[${i}]`));
  if (h.timeout !== undefined && (!Number.isInteger(h.timeout) || h.timeout <= 0)) throw invalid(`${field}.timeout`, 'must be greater than zero');
}

export interface RunHooksOptions {
  /** working directory of the hooks (runc runs them from the bundle directory) */
  cwd?: string;
  /** poststop semantics (runtime.md): a failing hook is reported through warn() and the next hooks
   *  still run; otherwise the first failure rejects */
  continueOnError?: boolean;
  warn?: (message: string) => void;
  /** for tests */
  spawn?: typeof nodeSpawn;
}

/** How Go's os.ProcessState prints a death by signal ("signal: killed"). */
const SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGILL: 'illegal instruction',
  SIGTRAP: 'trace/breakpoint trap',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGKILL: 'killed',
  SIGUSR1: 'user defined signal 1',
  SIGSEGV: 'segmentation fault',
  SIGUSR2: 'user defined signal 2',
  SIGPIPE: 'broken pipe',
  SIGALRM: 'alarm clock',
  SIGTERM: 'terminated',
};

const MAX_OUTPUT = 4096;

/** Runs `hooks` in order; `field` names them in errors: `hooks.prestart[0] (/usr/bin/x): exit status 1`. */
export async function runHooks(hooks: Hook[] | undefined, field: string, state: object, opts: RunHooksOptions = {}): Promise<void> {
  if (!hooks || hooks.length === 0) return;
  const input = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) {
    const h = hooks[i]!;
    const f = `${field}[${i}]`;
    try {
      checkHook(h, f);
      debug(`hook ${f}: run ${JSON.stringify(h.args && h.args.length > 0 ? h.args : [h.path])} (path ${h.path}, cwd ${opts.cwd ?? process.cwd()})`);
      await runHook(h, input, opts);
      debug(`hook ${f}: done`);
    } catch (err) {
      const e =
        err instanceof RuntimeError && err.code === 'EINVAL'
          ? err
          : new RuntimeError('EHOOK', `${f} (${h?.path}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      debug(`hook ${f}: failed: ${e.message}`);
      if (opts.continueOnError) {
        opts.warn?.(e.message);
        continue;
      }
      throw e;
    }
  }
}

function envObject(env: readonly string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) o[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return o;
}

const running = new Set<ReturnType<typeof nodeSpawn>>();

/** SIGKILLs every hook still running (with the processes of its group): for a create that is
 *  rolled back while a hook runs. */
export function killRunningHooks(): void {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  running.clear();
}

function runHook(h: Hook, input: string, opts: RunHooksOptions): Promise<void> {
  // child_process (and with it net and streams: ~2.5 ms) only when there is a hook to run
  const spawn = opts.spawn ?? process.getBuiltinModule('node:child_process').spawn;
  const args = h.args && h.args.length > 0 ? h.args : [h.path];
  return new Promise<void>((resolve, reject) => {
    let child: ReturnType<typeof nodeSpawn>;
    try {
      child = spawn(h.path, args.slice(1), {
        argv0: args[0]!,
        env: envObject(h.env),
        cwd: opts.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        // its own process group, so that an interrupted create can stop the hook and what it started
        detached: true,
      });
      running.add(child);
    } catch (err) {
      reject(new Error(`fork/exec ${h.path}: ${describe(err)}`));
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let grace: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      running.delete(child);
      if (timer) clearTimeout(timer);
      if (grace) clearTimeout(grace);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (err) reject(err);
      else resolve();
    };
    const done = () => {
      if (!exit) return;
      if (timedOut) return finish(new Error(`hook ran past specified timeout of ${h.timeout}s`));
      let msg: string | undefined;
      if (exit.signal) msg = `signal: ${SIGNAL_TEXT[exit.signal] ?? exit.signal}`;
      else if (exit.code !== 0) msg = `exit status ${exit.code}`;
      if (msg === undefined) return finish();
      const out = stdout.trim();
      const errText = stderr.trim();
      if (out !== '') msg += `, stdout: ${out}`;
      if (errText !== '') msg += `, stderr: ${errText}`;
      finish(new Error(msg));
    };
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.slice(0, MAX_OUTPUT - stdout.length);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.slice(0, MAX_OUTPUT - stderr.length);
    });
    child.on('error', (err) => finish(new Error(`fork/exec ${h.path}: ${describe(err)}`)));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // a hook that leaves a daemon holding its stdout must not hang the runtime
      grace = setTimeout(done, 200);
    });
    child.on('close', () => done());
    // a hook that does not read its stdin is fine
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
    if (h.timeout !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, h.timeout * 1000);
    }
  });
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? strerror(code) : err instanceof Error ? err.message : String(err);
}
