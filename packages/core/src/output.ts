// A command's stdout and stderr, written with write(2) on fds 1 and 2. process.stdout on a pipe (how
// every container manager and script calls a runtime) builds a net.Socket around it: loading net
// and streams costs ~2.5 ms, a tenth of a verb's whole run. A write that cannot go through at
// once (EAGAIN: a non-blocking pipe that is full) hands the rest, and everything after it on that
// fd, to process.stdout/stderr, so the order holds and nothing is cut.
import { writeSync } from 'node:fs';

/** Which fds went over to process.stdout/stderr, and the test sink: one state for the process, on
 *  globalThis, shared with the copy of this module in a command's lazily loaded chunk (build.mjs). */
const state = ((globalThis as Record<symbol, unknown>)[Symbol.for('runts.output')] ??= { handedOver: [false, false, false], sink: undefined }) as {
  handedOver: [boolean, boolean, boolean];
  sink: ((fd: 1 | 2, text: string) => void) | undefined;
};
const handedOver = state.handedOver;

/** For tests: output goes to `fn` instead of the fds until the returned function is called. */
export function captureOutput(fn: (fd: 1 | 2, text: string) => void): () => void {
  state.sink = fn;
  return () => {
    state.sink = undefined;
  };
}

/** The fds whose output went to process.stdout/stderr after an EAGAIN (for tests). */
export function handedOverFds(): number[] {
  return [1, 2].filter((fd) => handedOver[fd]);
}

function stream(fd: 1 | 2): NodeJS.WriteStream {
  return fd === 1 ? process.stdout : process.stderr;
}

/** Writes all of `text` to fd 1 or 2. A closed reader (EPIPE) drops the output, as a write to a
 *  closed pipe does in runc (its stdout is gone; the exit code still says how the verb went). */
export function writeFd(fd: 1 | 2, text: string | Uint8Array): void {
  const sink = state.sink;
  if (sink) {
    sink(fd, typeof text === 'string' ? text : Buffer.from(text).toString());
    return;
  }
  if (handedOver[fd]) {
    stream(fd).write(text);
    return;
  }
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code === 'EAGAIN') {
        handedOver[fd] = true;
        const s = stream(fd);
        s.on('error', () => {});
        s.write(buf.subarray(off));
        return;
      }
      if (code === 'EPIPE' || code === 'EBADF') return;
      throw err;
    }
  }
}

export const writeOut = (text: string | Uint8Array): void => writeFd(1, text);
export const writeErr = (text: string | Uint8Array): void => writeFd(2, text);

/** True while output handed to process.stdout/stderr is still queued (a slow reader): exiting now
 *  would cut it short. Never builds the streams itself. */
export function outputPending(): boolean {
  return (handedOver[1] && process.stdout.writableLength > 0) || (handedOver[2] && process.stderr.writableLength > 0);
}
