// @runts/nsenter: the binary encoding of the init program and the parent side of a session with
// the native executor (runts-init). See ../PROTOCOL.md; program.ts defines the ops.
import type { Readable, Writable } from 'node:stream';

/** node:child_process, loaded when a process is spawned: it brings net and the streams (~2.5 ms), which
 *  the verbs that only import this package for its types and helpers (start, delete) do not need. */
const childProcess = (): typeof import('node:child_process') => process.getBuiltinModule('node:child_process');
import { RuntimeError, strerror, ERRNO_NAMES, debug, debugEnabled, type ErrorCode } from '@runts/core';
import { executableCopy, runnable, shippedFile } from './executable.ts';
import { Op, Msg, Signatures, type ArgKind, type Step, type SourcedStep } from './program.ts';
import { sealedExecutor, spawnExecutor, type Stage0, type Channel } from './spawn.ts';

export * from './program.ts';
export { executableCopy, isExecutable, runnable } from './executable.ts';
export { EMBEDDED_SPAWNER, spawner as loadSpawner } from './spawn.ts';

/** The executor rejects a message (the program included) over this size (PROTOCOL.md): runc has no
 *  cap on its config, so a 10 MB config.json (annotations, env, mounts) must fit with room to spare. */
export const MAX_PROGRAM_SIZE = 256 * 1024 * 1024;
/** What the parent accepts from the executor (a pid, an error of at most 4 KiB, ready). */
export const MAX_REPLY_SIZE = 4 * 1024 * 1024;
const U64_MAX = (1n << 64n) - 1n;

/** The program's bytes, written into one buffer that grows by doubling: a create's program is
 *  a few hundred fields, and a Buffer per field (with a label string per field for the errors)
 *  cost ~1.5 ms of a create's first (interpreted) run. Labels are made only for an error. */
/** Buffer's own utf8Write (what write() calls once it has validated offset and length twice,
 *  each through a JS wrapper that a run calls often enough for Maglev), or write() where a Node
 *  does not have it. */
const utf8Write: (this: Buffer, s: string, at: number, n: number) => number =
  (Buffer.prototype as unknown as { utf8Write?: (s: string, at: number, n: number) => number }).utf8Write ??
  function (this: Buffer, s: string, at: number, n: number): number {
    return this.write(s, at, n, 'utf8');
  };

class Writer {
  private buf = Buffer.allocUnsafe(8192);
  // DataView's setters are V8 builtins: Buffer's writeUInt32LE & co. are JS (checkInt,
  // checkBounds) that a create calls ~600 times, enough for Node >= 22 to compile them with
  // Maglev on a second thread (its CPU, and pages of its code) in a ~50 ms process. For the same
  // reason each writer reserves its bytes inline and calls grow() only to grow: a room() called
  // for every field was compiled too.
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  size = 0;
  private grow(end: number): void {
    let cap = this.buf.length * 2;
    while (cap < end) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }
  /** The u16 and u32 are the program's own (ops, lengths, counts), never a value from the config. */
  u16(v: number): void {
    const at = this.size;
    if (at + 2 > this.buf.length) this.grow(at + 2);
    this.size = at + 2;
    this.view.setUint16(at, v, true);
  }
  u32(v: number): void {
    const at = this.size;
    if (at + 4 > this.buf.length) this.grow(at + 4);
    this.size = at + 4;
    this.view.setUint32(at, v, true);
  }
  /** Overwrites the u32 at `at` (a record's length, once its args are written). */
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }
  u64(v: bigint, what: () => string): void {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new TypeError(`${what()}: not a u64: ${String(v)}`);
    const at = this.size;
    if (at + 8 > this.buf.length) this.grow(at + 8);
    this.size = at + 8;
    this.view.setBigUint64(at, v, true);
  }
  str(v: string, what: () => string): void {
    if (typeof v !== 'string') throw new TypeError(`${what()}: not a string`);
    if (v.includes('\0')) throw new TypeError(`${what()}: string contains a NUL byte`);
    const n = Buffer.byteLength(v, 'utf8');
    const at = this.size;
    if (at + 5 + n > this.buf.length) this.grow(at + 5 + n);
    this.size = at + 5 + n;
    this.view.setUint32(at, n, true);
    utf8Write.call(this.buf, v, at + 4, n);
    this.buf[at + 4 + n] = 0;
  }
  bytes(v: Uint8Array, what: () => string): void {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${what()}: not bytes`);
    const at = this.size;
    if (at + 4 + v.length > this.buf.length) this.grow(at + 4 + v.length);
    this.size = at + 4 + v.length;
    this.view.setUint32(at, v.length, true);
    this.buf.set(v, at + 4);
  }
  /** What was written (a view: the message framing copies it anyway). */
  take(): Buffer {
    return this.buf.subarray(0, this.size);
  }
}

function encodeArg(w: Writer, kind: ArgKind, value: unknown, what: () => string): void {
  switch (kind) {
    case 'u64':
      w.u64(value as bigint, what);
      break;
    case 'str':
      w.str(value as string, what);
      break;
    case 'bytes':
      w.bytes(value as Uint8Array, what);
      break;
    case 'strlist': {
      if (!Array.isArray(value)) throw new TypeError(`${what()}: not a string list`);
      w.u32(value.length);
      for (let i = 0; i < value.length; i++) w.str(value[i] as string, () => `${what()}[${i}]`);
      break;
    }
    case 'u64list': {
      if (!Array.isArray(value)) throw new TypeError(`${what()}: not a u64 list`);
      w.u32(value.length);
      for (let i = 0; i < value.length; i++) w.u64(value[i] as bigint, () => `${what()}[${i}]`);
      break;
    }
  }
}

/** One record: u16 op, u16 reserved, u32 length, args (PROTOCOL.md). */
function writeStep(w: Writer, step: Step): void {
  const sig = (Signatures as Record<number, ReadonlyArray<readonly [string, ArgKind]>>)[step.op];
  if (!sig) throw new TypeError(`unknown op ${String((step as { op: unknown }).op)}`);
  const rec = step as unknown as Record<string, unknown>;
  w.u16(step.op);
  w.u16(0);
  const len = w.size;
  w.u32(0);
  for (const [name, kind] of sig) encodeArg(w, kind, rec[name], () => `op ${step.op} ${name}`);
  w.patch32(len, w.size - len - 4);
}

/** One record, alone (encodeProgram writes them all into one buffer). */
export function encodeStep(step: Step): Buffer {
  const w = new Writer();
  writeStep(w, step);
  return w.take();
}

/** The Program payload: the records of every step, in order. */
export function encodeProgram(steps: Step[], limit = MAX_PROGRAM_SIZE): Buffer {
  const w = new Writer();
  for (const step of steps) writeStep(w, step);
  if (w.size > limit) throw new RangeError(`init program too large (${w.size} bytes)`);
  return w.take();
}

/** A framed message: u32 type, u32 length, payload. */
export function encodeMessage(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** A decoded Msg.Error. */
export interface ExecutorError {
  step: number;
  errno: number;
  message: string;
}

export function decodeError(payload: Buffer): ExecutorError {
  if (payload.length < 13) throw new RangeError('short error message');
  const step = payload.readUInt32LE(0);
  const errno = payload.readInt32LE(4);
  const n = payload.readUInt32LE(8);
  if (12 + n + 1 > payload.length) throw new RangeError('bad error message');
  return { step, errno, message: payload.subarray(12, 12 + n).toString('utf8') };
}

/** The runc-style text of an executor error, prefixed with the config field of the failing step:
 *  `mounts[2] (/data): mount: no such file or directory`. */
export function describeError(err: ExecutorError, steps: ReadonlyArray<SourcedStep | Step>): RuntimeError {
  const entry = err.step === 0xffffffff ? undefined : steps[err.step];
  const sourced = entry && 'step' in entry ? entry : undefined;
  const op = sourced ? sourced.step.op : (entry as Step | undefined)?.op;
  // The message is already complete runc text for the exec lookup and for hooks' status.
  const full = err.errno === 0 || err.message.startsWith('exec: "');
  let text = full ? err.message : `${err.message}: ${strerror(err.errno)}`;
  if (sourced) text = `${sourced.field}${sourced.label ? ` (${sourced.label})` : ''}: ${text}`;
  let code: ErrorCode = 'ESYS';
  if (op === Op.Hook) code = 'EHOOK';
  else if (op === Op.Resolve || op === Op.Exec) code = 'EEXEC';
  else if (err.errno === 22 && err.step !== 0xffffffff && !sourced) code = 'EINVAL';
  return new RuntimeError(code, text, { errno: err.errno ? ERRNO_NAMES[err.errno] : undefined });
}

/** Set by the single executable (tools/build/sea-main.cjs): the executor's bytes, carried inside it. */
export const EMBEDDED_EXECUTOR = Symbol.for('runts.executor');
let runnablePath: string | undefined;

/** The executor binary: $RUNTS_INIT, else the one embedded in the single executable, else
 *  ./runts-init next to this module (bundled verbs have it copied into dist/), else
 *  native/nsenter/build/runts-init of the repository. Run from a sealed memfd of it that
 *  runts-spawn.node makes (spawn.ts, sealedExecutor); without the addon from the file itself, or,
 *  when that cannot be executed as it is (an npm install drops its exec bit), from an executable
 *  copy of it (executable.ts), the executor then sealing itself. */
export function executorPath(): string {
  const env = process.env.RUNTS_INIT;
  if (env) return env;
  if (runnablePath) return runnablePath;
  try {
    const embedded = (globalThis as Record<symbol, unknown>)[EMBEDDED_EXECUTOR] as (() => Uint8Array) | undefined;
    if (embedded) {
      const bytes = embedded();
      return (runnablePath = sealedExecutor(bytes) ?? executableCopy(bytes));
    }
    const file = shippedFile('runts-init');
    return (runnablePath = sealedExecutor(file) ?? runnable(file));
  } catch (e) {
    throw new RuntimeError('ESYS', `runts-init: ${(e as Error).message}`, { cause: e });
  }
}

export type StdioSlot = 'inherit' | 'pipe' | 'ignore' | number;

export interface SpawnOptions {
  /** The program; each step with the config field it came from (for error messages). Without it
   *  (and without `program`) the executor is started idle: it waits for sendProgram. */
  steps?: SourcedStep[];
  /** The container's fds 0, 1, 2 (default: inherit). */
  stdio?: StdioSlot[];
  /** Pass this process's fds 3 .. 3+N-1 on as the container's fds 3 .. 3+N-1 (--preserve-fds). */
  preserveFds?: number;
  /** Extra fds given as the container's fds 3.. (instead of this process's 3..); overrides preserveFds. */
  extraFds?: number[];
  /** Working directory of the executor (host side). */
  cwd?: string;
  /** The executor binary (default executorPath()). */
  executor?: string;
  /** Run the executor in a session of its own (setsid), so that a signal sent by the terminal to
   *  the caller's process group is not delivered to it too (it forwards signals in Wait mode). Not
   *  with a relayed terminal: the executor must stay in the terminal's foreground group to read it. */
  detached?: boolean;
  /** An already encoded program (encodeProgram); steps then only name the fields in errors. */
  program?: Buffer;
  /** Called with the init's fd number of its seccomp notify listener (Msg.SeccompFd): hand it to
   *  the agent (sendSeccompListener); the init goes on once this returns, and is killed (the
   *  error failing pid/ready) when it throws. */
  onSeccompListener?: (fd: number, initPid: number) => void;
}

/** The runtime's side of seccomp notify, as runc's sendContainerProcessState: takes the init's
 *  listener fd (pidfd_getfd) and sends `state` (the container process state JSON) with it as
 *  SCM_RIGHTS to the agent on listenerPath. Runs the executor's `seccomp-listener` mode on the host. */
export function sendSeccompListener(o: { pid: number; fd: number; listenerPath: string; state: string; executor?: string }): void {
  const r = childProcess().spawnSync(o.executor ?? executorPath(), ['seccomp-listener', String(o.pid), String(o.fd), o.listenerPath], { input: o.state, env: {}, encoding: 'utf8' });
  if (r.error) throw new RuntimeError('ESYS', `linux.seccomp.listenerPath (${o.listenerPath}): ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new RuntimeError('ESYS', `linux.seccomp.listenerPath (${o.listenerPath}): ${(r.stderr || `exit status ${r.status}`).trim()}`);
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // callers may never ask
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve: (v) => {
      if (!d.settled) {
        d.settled = true;
        resolve(v);
      }
    },
    reject: (e) => {
      if (!d.settled) {
        d.settled = true;
        reject(e);
      }
    },
  };
  return d;
}

/** One run of the executor: program out, Pid / Ready / Error in, Go out. */
export class InitProcess {
  readonly child: Stage0;
  steps: SourcedStep[];
  private readonly sock: Channel;
  private buf: Buffer = Buffer.alloc(0);
  private containerPid: number | undefined;
  private failure: RuntimeError | undefined;
  private readonly pidD = deferred<number>();
  private readonly readyD = deferred<void>();
  private readonly exitD = deferred<{ code: number | null; signal: string | null }>();
  private readonly errorD = deferred<RuntimeError | undefined>();
  private onSeccompListener: ((fd: number, initPid: number) => void) | undefined;

  private programSent = false;

  private constructor(child: Stage0, sock: Channel, steps: SourcedStep[], program: Buffer | undefined, onSeccompListener?: (fd: number, initPid: number) => void) {
    this.onSeccompListener = onSeccompListener;
    this.child = child;
    this.sock = sock;
    this.steps = steps;
    child.on('error', (e) => this.fail(new RuntimeError('ESYS', `runts-init: ${e.message}`, { cause: e })));
    child.on('exit', (code, signal) => {
      this.exitD.resolve({ code, signal });
      // Without a word on the socket, the pid or readiness never comes. What stage 0 wrote before
      // it exited may still be on its way: the socket and the exit are two sources (runts-spawn's
      // two polls, or child_process), and the socket stays open while the init holds its end, so
      // no EOF tells that all has been read. Stage 0 exits 0 only after it has written the pid,
      // so then it is waited for (5 s; a guest under TCG emulation took more than 50 ms, and
      // create failed with a live init); after a failure, its error message (1 s; else the exit
      // status is the error).
      if (!this.pidD.settled) {
        const late = setTimeout(() => this.pidD.settled || this.fail(this.exitError(code, signal, 'before reporting the init pid')), code === 0 ? 5000 : 1000);
        const stop = () => clearTimeout(late);
        this.pidD.promise.then(stop, stop);
      }
    });
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {}); // EPIPE/ECONNRESET once the other side has gone: 'close' follows
    sock.on('close', () => {
      this.errorD.resolve(this.failure);
      if (this.readyD.settled) return;
      // The init's exec closes the socket (close-on-exec): a program without WaitStart is ready
      // once that happens without an error. Before the pid, it means stage 0 failed.
      if (this.failure) this.readyD.reject(this.failure);
      else if (this.containerPid !== undefined) this.readyD.resolve();
      else this.readyD.reject(new RuntimeError('ESYS', 'runts-init: exited before reporting the init pid'));
    });
    if (program) this.writeProgram(program);
  }

  private writeProgram(program: Buffer): void {
    if (this.programSent) throw new RuntimeError('ESYS', 'runts-init: the program was sent already');
    this.programSent = true;
    if (debugEnabled()) debugSteps(this.steps, program.length);
    this.sock.write(encodeMessage(Msg.Program, program));
  }

  /** Where the init's seccomp listener fd goes (SpawnOptions.onSeccompListener), for a verb that
   *  compiles the program, and so learns of a listener, after it started the executor. */
  setSeccompListener(fn: (fd: number, initPid: number) => void): void {
    this.onSeccompListener = fn;
  }

  /** Sends the program to an executor started without one (spawn without steps): a verb can start
   *  the executor first and compile while it starts, or have it join the cgroups first. */
  sendProgram(steps: SourcedStep[], program?: Buffer): void {
    this.steps = steps;
    this.writeProgram(program ?? encodeProgram(steps.map((s) => s.step)));
  }

  static spawn(opts: SpawnOptions): InitProcess {
    const steps = opts.steps ?? [];
    const program = opts.program ?? (opts.steps ? encodeProgram(steps.map((s) => s.step)) : undefined);
    const std = (opts.stdio ?? ['inherit', 'inherit', 'inherit']).slice(0, 3);
    while (std.length < 3) std.push('inherit');
    const extra = opts.extraFds ?? Array.from({ length: opts.preserveFds ?? 0 }, (_, i) => 3 + i);
    const stdio: Array<StdioSlot> = [...std, ...extra, 'pipe'];
    const syncFd = 3 + extra.length;
    const executor = opts.executor ?? executorPath();
    // runts-spawn (spawn.ts) where every slot is an fd or /dev/null; child_process for pipes
    const fds = [...std, ...extra].map((s, i) => (s === 'inherit' ? i : s === 'ignore' ? -1 : s));
    const fast = opts.cwd === undefined && fds.every((f) => typeof f === 'number') ? spawnExecutor(executor, fds as number[], opts.detached === true) : undefined;
    if (fast) return new InitProcess(fast.child, fast.sock, steps, program, opts.onSeccompListener);
    const child = childProcess().spawn(executor, [String(syncFd)], {
      stdio,
      env: {},
      cwd: opts.cwd,
      // a new session: signals from the caller's terminal reach the caller only (it forwards them)
      detached: opts.detached === true,
    });
    const sock = child.stdio[syncFd] as Channel | null;
    if (!sock) throw new RuntimeError('ESYS', 'runts-init: no sync socket');
    return new InitProcess(child as Stage0, sock, steps, program, opts.onSeccompListener);
  }

  /** The container's stdio streams, when their slot was 'pipe'. */
  get stdin(): Writable | null {
    return this.child.stdin;
  }
  get stdout(): Readable | null {
    return this.child.stdout;
  }
  get stderr(): Readable | null {
    return this.child.stderr;
  }
  /** The init's pid once reported (see pid()). */
  get initPid(): number | undefined {
    return this.containerPid;
  }
  /** Stage 0's pid (the executor process itself). */
  get executorPid(): number | undefined {
    return this.child.pid;
  }

  /** The init's pid in the host pid namespace (Msg.Pid). Rejects when stage 0 fails. */
  pid(): Promise<number> {
    return this.pidD.promise;
  }

  /** Lets the init run its steps; stateJson is given to the hooks on stdin. */
  go(stateJson: string): void {
    this.sock.write(encodeMessage(Msg.Go, Buffer.from(stateJson, 'utf8')));
  }

  /** Resolves on Msg.Ready (WaitStart), or, for a program without WaitStart, when the init has
   *  exec'd (the socket closes without an error). Rejects with the failing step's error. */
  ready(): Promise<void> {
    return this.readyD.promise;
  }

  /** Resolves when the socket has closed: with the error the executor reported after Ready (e.g.
   *  the exec of a process run with ExecFlags.Wait), or undefined. */
  error(): Promise<RuntimeError | undefined> {
    return this.errorD.promise;
  }

  /** Stage 0's exit: 0 once it reported the pid (without ExecFlags.Wait), or the init's status. */
  exit(): Promise<{ code: number | null; signal: string | null }> {
    return this.exitD.promise;
  }

  /** SIGKILLs the init if its pid is known (stage 0, when it waits, then reaps it and exits;
   *  it gets SIGKILL too if it is still there a second later), else stage 0. */
  kill(): void {
    const stage0Alive = (): boolean => this.child.exitCode === null && this.child.signalCode === null;
    const sigkill = (pid: number | undefined): void => {
      if (pid === undefined) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    if (this.containerPid === undefined) {
      if (stage0Alive()) sigkill(this.child.pid);
      return;
    }
    sigkill(this.containerPid);
    if (stage0Alive()) setTimeout(() => stage0Alive() && sigkill(this.child.pid), 1000).unref();
  }

  /** Closes our end of the socket (an init still waiting for Go then exits). */
  close(): void {
    this.sock.destroy();
  }

  private exitError(code: number | null, signal: string | null, when: string): RuntimeError {
    return (
      this.failure ??
      new RuntimeError('ESYS', `runts-init exited ${signal ? `on ${signal}` : `with status ${code}`} ${when}`)
    );
  }

  private fail(err: RuntimeError): void {
    if (!this.failure) this.failure = err;
    this.pidD.reject(this.failure);
    this.readyD.reject(this.failure);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 8) {
      const type = this.buf.readUInt32LE(0);
      const len = this.buf.readUInt32LE(4);
      if (len > MAX_REPLY_SIZE) {
        this.fail(new RuntimeError('ESYS', `runts-init: oversized message (${len} bytes)`));
        this.sock.destroy();
        return;
      }
      if (this.buf.length < 8 + len) return;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onMessage(type, payload);
    }
  }

  private onMessage(type: number, payload: Buffer): void {
    switch (type) {
      case Msg.Pid:
        if (payload.length !== 4) return this.fail(new RuntimeError('ESYS', 'runts-init: bad pid message'));
        this.containerPid = payload.readUInt32LE(0);
        this.pidD.resolve(this.containerPid);
        return;
      case Msg.Ready:
        this.readyD.resolve();
        return;
      case Msg.SeccompFd: {
        if (payload.length !== 4 || this.containerPid === undefined) return this.fail(new RuntimeError('ESYS', 'runts-init: bad seccomp listener message'));
        try {
          if (!this.onSeccompListener) throw new RuntimeError('EINVAL', 'linux.seccomp.listenerPath: a seccomp listener but nowhere to send it');
          this.onSeccompListener(payload.readUInt32LE(0), this.containerPid);
        } catch (err) {
          this.fail(err instanceof RuntimeError ? err : new RuntimeError('ESYS', (err as Error).message, { cause: err }));
          this.kill();
          return;
        }
        this.sock.write(encodeMessage(Msg.SeccompDone));
        return;
      }
      case Msg.Error: {
        let e: RuntimeError;
        try {
          e = describeError(decodeError(payload), this.steps);
        } catch (err) {
          e = new RuntimeError('ESYS', `runts-init: ${(err as Error).message}`);
        }
        this.fail(e);
        return;
      }
      default:
        this.fail(new RuntimeError('ESYS', `runts-init: unexpected message ${type}`));
    }
  }
}

const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k])) as Record<number, string>;

/** --debug: the init program, one line per step (op, the field it came from, its arguments). */
function debugSteps(steps: readonly SourcedStep[], size: number): void {
  debug(`runts-init: program of ${steps.length} steps (${size} bytes)`);
  steps.forEach((s, i) => {
    const args = (Signatures[s.step.op] as ReadonlyArray<readonly [string, ArgKind]>)
      .map(([name, kind]) => {
        const v = (s.step as unknown as Record<string, unknown>)[name];
        if (kind === 'bytes') return `${name}=<${(v as Uint8Array | undefined)?.length ?? 0} bytes>`;
        if (kind === 'u64') return `${name}=${typeof v === 'bigint' ? '0x' + v.toString(16) : String(v)}`;
        return `${name}=${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}`;
      })
      .join(' ');
    debug(`runts-init: step ${i}: ${OP_NAMES[s.step.op] ?? s.step.op} ${s.field}${s.label ? ` (${s.label})` : ''}${args ? ' ' + args : ''}`);
  });
}
