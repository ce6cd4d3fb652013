// Starting the executor without node:child_process: runts-spawn.node (spawn.c, a Node-API addon)
// posix_spawns it (CLONE_VM | CLONE_VFORK: nothing of the Node process is copied) with the same
// fds, signals, environment and session a child_process.spawn would give it, and this module
// reads its end of the socket and waits for its exit with the addon's polls on Node's own loop
// (the socket, and a pidfd of the executor: no libuv thread). Loading child_process (~2 ms: net,
// the streams) and uv_spawn's fork of the whole Node process (~2.3 ms, then a copy-on-write fault
// for every page written) were 4-5 ms of every create, run and exec; fs.read and an async waitpid
// started libuv's four threads (~0.2-0.4 ms more).
// Used where the executor's stdio slots are inherited fds or /dev/null; a 'pipe' slot (tests, a
// caller that reads the container's output) and anything going wrong loading the addon take
// child_process, as before: the same executor either way.
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { debug, ERRNO_NAMES, signalNumbers } from '@runts/core';
import { executableCopy, shippedFile } from './executable.ts';

interface Addon {
  spawn(path: string, argv1: string, fds: number[], setsid: boolean): [number, number];
  wait(pid: number, cb: (status: number) => void): void;
  /** cb(status) whenever fd is readable or hung up (status < 0: libuv's error); an id for unpoll. */
  poll(fd: number, cb: (status: number) => void): number;
  unpoll(id: number): void;
  /** A read that never blocks: bytes read, 0 at end of file, -errno. */
  recv(fd: number, buf: Uint8Array): number;
  /** A sealed memfd (close-on-exec) of the file at a path, or of bytes: its fd. Throws an Error
   *  with .errno. (Absent from an addon built before it.) */
  sealed?(source: string | Uint8Array): number;
  /** launch.cjs's code cache checksum of bytes[start..], 16 hex digits (absent before it). */
  checksum?(bytes: Uint8Array, start: number): string;
  /** A regular file mapped read-only: a Buffer, or (text) an external string, null if a byte is not
   *  ASCII. Only launch.cjs uses it (for the bundle and its code cache); absent before it. */
  map?(path: string, text: boolean): Buffer | string | null;
  /** _exit(2) with code & 0xff: launch.cjs's end of the process (absent before it). */
  exit?(code: number): never;
}

/** Set by the single executable (tools/build/sea-hooks.ts): the addon's bytes, carried inside it. */
export const EMBEDDED_SPAWNER = Symbol.for('runts.spawner');

/** The addon's exports once loaded in this process, by launch.cjs (which checks the code cache with
 *  it: the file of the size the build shipped, or the single executable's copy) or by spawner():
 *  every bundle has its own copy of this module, and the addon is loaded once. */
export const LOADED_SPAWNER = Symbol.for('runts.spawner.loaded');

let addon: Addon | null | undefined;

const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

/** Why `head` (the file's first bytes, at least its ELF and program headers) of a file of `size`
 *  bytes is not a whole shared object for this machine, or undefined. dlopen refuses garbage and
 *  another machine's ELF by itself, but a truncated file it maps, and the first touch of a page
 *  past the end kills the process (SIGBUS): every segment and the section headers must lie
 *  within the file. */
export function elfDefect(head: Buffer, size: number): string | undefined {
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
  if (head[4] !== 2 || head[5] !== 1) return 'not a 64-bit little-endian ELF file';
  if (head.readUInt16LE(16) !== 3) return 'not a shared object';
  if (head.readUInt16LE(18) !== ELF_MACHINE[process.arch]) return `built for another machine (e_machine ${head.readUInt16LE(18)})`;
  const phoff = Number(head.readBigUInt64LE(32));
  const shoff = Number(head.readBigUInt64LE(40));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  if (shoff + head.readUInt16LE(58) * head.readUInt16LE(60) > size) return `truncated (${size} bytes; the section headers end past it)`;
  if (phentsize < 56 || phoff + phentsize * phnum > head.length) return 'program headers out of reach';
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (head.readUInt32LE(p) !== 1) continue; // PT_LOAD
    if (Number(head.readBigUInt64LE(p + 8)) + Number(head.readBigUInt64LE(p + 32)) > size) return `truncated (${size} bytes; a segment ends past it)`;
  }
  return undefined;
}

/** The file's first 4 KiB (its headers) and size. */
function headOf(file: string): { head: Buffer; size: number } {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    return { head: head.subarray(0, readSync(fd, head, 0, head.length, 0)), size: fstatSync(fd).size };
  } finally {
    closeSync(fd);
  }
}

/** The addon: embedded in the single executable (loaded from an unnamed copy), else
 *  ./runts-spawn.node beside this module (bundled verbs have it copied into dist/), else
 *  native/nsenter/build/ of the repository. null (and --debug says why) when none loads, or the
 *  file is not whole. */
export function spawner(): Addon | null {
  if (addon !== undefined) return addon;
  const loaded = (globalThis as Record<symbol, unknown>)[LOADED_SPAWNER] as Addon | undefined;
  if (loaded) return (addon = loaded);
  try {
    const embedded = (globalThis as Record<symbol, unknown>)[EMBEDDED_SPAWNER] as (() => Uint8Array) | undefined;
    let file: string;
    if (embedded) {
      const bytes = embedded();
      const defect = elfDefect(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), bytes.length);
      if (defect) throw new Error(`the embedded runts-spawn.node: ${defect}`);
      file = executableCopy(bytes);
    } else {
      file = shippedFile('runts-spawn.node');
      const { head, size } = headOf(file);
      const defect = elfDefect(head, size);
      if (defect) throw new Error(`${file}: ${defect}`);
    }
    const m = { exports: {} as Addon };
    process.dlopen(m, file);
    addon = m.exports;
    (globalThis as Record<symbol, unknown>)[LOADED_SPAWNER] = addon;
  } catch (e) {
    debug(`runts-spawn: not loaded (${(e as Error).message}): the executor is started with child_process`);
    addon = null;
  }
  return addon;
}

/** The executor (a path, or its bytes) in a sealed memfd made by the addon, as the path
 *  /proc/<pid>/fd/<n> (open until this process exits): run from there it is sealed from its first
 *  instruction (main.c's ensure_sealed then neither copies it nor executes it again) and, being
 *  read rather than executed from `source`, needs no exec bit there (npm drops it). undefined when
 *  the addon is not loaded or cannot make one (--debug says why): the caller runs the file then. */
export function sealedExecutor(source: string | Uint8Array): string | undefined {
  const lib = spawner();
  if (!lib?.sealed) return undefined;
  try {
    return `/proc/${process.pid}/fd/${lib.sealed(source)}`;
  } catch (e) {
    debug(`runts-spawn: no sealed copy of the executor (${(e as Error).message}): it runs from ${typeof source === 'string' ? source : 'a copy'} and seals itself`);
    return undefined;
  }
}

/** stage 0 as InitProcess sees it: what it uses of a ChildProcess. */
export interface Stage0 {
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  readonly stdin: import('node:stream').Writable | null;
  readonly stdout: import('node:stream').Readable | null;
  readonly stderr: import('node:stream').Readable | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  on(event: 'exit', fn: (code: number | null, signal: string | null) => void): this;
  on(event: 'error', fn: (e: Error) => void): this;
}

/** Its socket as InitProcess sees it: what it uses of a net.Socket. */
export interface Channel {
  write(b: Uint8Array): unknown;
  destroy(): void;
  on(event: 'data', fn: (d: Buffer) => void): this;
  on(event: 'error', fn: (e: Error) => void): this;
  on(event: 'close', fn: () => void): this;
}

class SpawnedStage0 extends EventEmitter implements Stage0 {
  exitCode: number | null = null;
  signalCode: string | null = null;
  readonly stdin = null;
  readonly stdout = null;
  readonly stderr = null;
  constructor(readonly pid: number | undefined) {
    super();
  }
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.pid === undefined || this.exitCode !== null || this.signalCode !== null) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Our end of the socket, read when the addon's poll says it is readable (on Node's loop, no
 *  thread), until end-of-file; written in place (the socket is blocking; the executor reads a
 *  message whole before it answers). */
class PolledChannel extends EventEmitter implements Channel {
  private closed = false;
  private readonly id: number;
  constructor(
    private readonly fd: number,
    private readonly lib: Addon,
  ) {
    super();
    let id = 0;
    try {
      id = lib.poll(fd, (status) => this.readable(status));
    } catch (e) {
      // (a fresh socket that libuv cannot poll: not seen) our end is closed, so the executor reads
      // end-of-file and exits, and the caller sees the channel close before the pid
      debug(`runts-spawn: ${(e as Error).message}`);
      process.nextTick(() => this.destroy());
    }
    this.id = id;
  }
  private readable(status: number): void {
    if (this.closed) return;
    const buf = Buffer.allocUnsafe(65536);
    const n = status < 0 ? status : this.lib.recv(this.fd, buf);
    if (n < 0 && ERRNO_NAMES[-n] === 'EAGAIN') return; // (a wake-up with nothing to read)
    if (n > 0) {
      this.emit('data', buf.subarray(0, n));
      return;
    }
    // 0: end of file; < 0: the socket failed (ECONNRESET once the executor is gone): both end it
    this.destroy();
  }
  /** Writes a message whole (the socket is blocking); an error (EPIPE once the executor has gone)
   *  is an 'error' event, and its end-of-file (and 'close') follows. */
  write(b: Uint8Array): boolean {
    if (this.closed) return false;
    try {
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off);
      return true;
    } catch (e) {
      this.emit('error', e as Error);
      return false;
    }
  }
  /** Stops the poll and closes our end; 'close' follows on the loop's next turn (after the 'data'
   *  already emitted), for a destroy() from a 'data' listener as for end-of-file. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.unpoll(this.id);
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    setImmediate(() => this.emit('close'));
  }
}

/** posix_spawns the executor with `stdio` (fds; -1: /dev/null) as its fds 0..n-1 and the socket
 *  as fd n; undefined when the addon is not available (child_process then). A failure to start it
 *  is reported as child_process reports it: an 'error' event, `spawn <path> <CODE>`. */
export function spawnExecutor(path: string, stdio: number[], setsid: boolean): { child: Stage0; sock: Channel } | undefined {
  // spawn.c takes at most 1,024 fds (MAX_FDS); more (a large --preserve-fds): child_process
  if (stdio.length > 1024) return undefined;
  const lib = spawner();
  if (typeof lib?.poll !== 'function') return undefined;
  let pid: number;
  let fd: number;
  try {
    [pid, fd] = lib.spawn(path, String(stdio.length), stdio, setsid);
  } catch (e) {
    const errno = (e as { errno?: number }).errno ?? 0;
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    const child = new SpawnedStage0(undefined);
    const err = Object.assign(new Error(`spawn ${path} ${code}`), { code, errno: -errno, syscall: `spawn ${path}`, path });
    process.nextTick(() => child.emit('error', err));
    const sock = new (class extends EventEmitter implements Channel {
      write(): boolean {
        return false;
      }
      destroy(): void {}
    })();
    process.nextTick(() => sock.emit('close'));
    return { child, sock };
  }
  const child = new SpawnedStage0(pid);
  lib.wait(pid, (status) => {
    if (status < 0) {
      child.exitCode = 0; // reaped by someone else (ECHILD): gone, status unknown
    } else if ((status & 0x7f) === 0) {
      child.exitCode = (status >> 8) & 0xff;
    } else {
      const n = status & 0x7f;
      child.signalCode = Object.entries(signalNumbers()).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
    }
    child.emit('exit', child.exitCode, child.signalCode);
  });
  return { child, sock: new PolledChannel(fd, lib) };
}
