// Logging in runc's formats. Without --log, messages go to stderr as logrus text
// (`time="..." level=error msg="..."`) or, with --log-format json, as JSON lines. With --log FILE
// they go to the file, and a fatal error is also printed bare on stderr (as runc does).
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { writeErr } from './output.ts';
import { rfc3339Utc } from './time.ts';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  log?: string | undefined;
  logFormat?: LogFormat | undefined;
  debug?: boolean | undefined;
}

type Settings = Required<Pick<LogOptions, 'logFormat'>> & LogOptions;
/** The settings of the whole process, on globalThis: a command's lazily loaded chunk (build.mjs:
 *  start's destroy after a failed poststart hook) has its own copy of this module and must log
 *  as the command was told to. */
const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('runts.log')] ??= { current: { logFormat: 'text' } }) as { current: Settings };

export function configureLog(o: LogOptions): void {
  const logFormat = o.logFormat ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new Error(`invalid log format: ${String(logFormat)}`);
  shared.current = { ...o, logFormat };
  if (o.log) closeSync(openSync(o.log, 'a', 0o644)); // create it now, like runc (an unwritable path fails early)
}

/** RFC 3339 time without fractions, UTC, as logrus prints it. */
function rfc3339(): string {
  return rfc3339Utc(Date.now());
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: LogLevel, msg: string, format: LogFormat, time = rfc3339()): string {
  // logrus's JSON: Go's encoder, which escapes <, >, & and U+2028/U+2029
  if (format === 'json') return JSON.stringify({ level, msg, time }).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
  return `time="${time}" level=${level} msg=${quote(msg)}\n`;
}

export function log(level: LogLevel, msg: string): void {
  if (level === 'debug' && !shared.current.debug) return;
  const line = formatLine(level, msg, shared.current.logFormat);
  if (shared.current.log) {
    try {
      appendFileSync(shared.current.log, line);
      return;
    } catch {
      // fall through to stderr
    }
  }
  writeErr(line);
}

/** Reports a fatal error the way runc does. */
export function logFatal(msg: string): void {
  log('error', msg);
  if (shared.current.log) writeErr(msg + '\n');
}

export const debug = (msg: string): void => log('debug', msg);
/** True with --debug: for debug lines that cost something to build. */
export const debugEnabled = (): boolean => shared.current.debug === true;
export const warn = (msg: string): void => log('warning', msg);
