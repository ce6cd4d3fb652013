// Signals and waiting for processes that are not our children (the container's init is
// reparented to the caller's subreaper, so it can only be watched through /proc).
import { fstatSync } from 'node:fs';
import { RuntimeError, strerror } from './errors.ts';
import { sleepMs } from './lock.ts';
import { procStat, realSys, type Sys } from './sys.ts';

let signals: Record<string, number> | undefined;
/** os.constants.signals, with node:os loaded when first asked (most verbs never signal by name). */
export function signalNumbers(): Record<string, number> {
  return (signals ??= process.getBuiltinModule('node:os').constants.signals as Record<string, number>);
}

/** Parses a signal as runc does: a number, or a name with or without the SIG prefix. */
export function parseSignal(s: string | number | undefined, fallback = 'SIGTERM'): number {
  const v = s === undefined || s === '' ? fallback : String(s);
  // runc: strconv.Atoi first, and any number goes to kill(2) (0 probes; the kernel refuses 65)
  if (/^[+-]?\d+$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    throw new RuntimeError('EINVAL', `invalid signal: ${v}`);
  }
  const name = v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
  const n = signalNumbers()[name];
  if (n === undefined) throw new RuntimeError('EINVAL', `unknown signal "${v}"`);
  return n;
}

/** True while pid runs with the given start time (a zombie counts as gone). */
export function isAlive(pid: number, startTime: string | undefined, sys: Sys = realSys): boolean {
  const st = procStat(pid, sys);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return !startTime || st.startTime === startTime;
}

/** Waits until the process is gone (or a zombie); false on timeout. Polls /proc (it is not our
 *  child) at most 1 ms apart: a SIGKILLed init is gone within a few ms, and a longer step only
 *  adds its overshoot to delete --force. */
export function waitGone(pid: number, startTime: string | undefined, timeoutMs = 10_000): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 0.1; ; delay = Math.min(delay * 2, 1)) {
    if (!isAlive(pid, startTime)) return true;
    if (Date.now() > deadline) return false;
    sleepMs(delay);
  }
}

/** Sends a signal; a process that is already gone is not an error. */
export function signalPid(pid: number, signal: number | NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** --preserve-fds N: fds 3 .. 3+N-1 must all be open here, as runc checks them (its message), before
 *  anything is made: a closed one would otherwise fail the executor's start. */
export function checkPreservedFds(n: number): void {
  for (let i = 0; i < n; i++) {
    try {
      fstatSync(3 + i);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EBADF';
      throw new RuntimeError('EINVAL', `unable to stat preserved-fd ${i} (of ${n}): stat /proc/self/fd/${3 + i}: ${code === 'EBADF' ? 'no such file or directory' : strerror(code)}`, { errno: code });
    }
  }
}
