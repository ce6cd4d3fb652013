// RuntimeError: an error code plus a chain of context, printed once by the CLI wrapper.
// Messages follow runc/youki: lowercase, no trailing period, naming the container, path or field.

export type ErrorCode =
  | 'ENOTEXIST' // container does not exist
  | 'EEXIST' // container with given ID already exists
  | 'ENOTRUNNING' // container not running
  | 'EBADSTATE' // wrong status for the operation
  | 'EINVAL' // bad input: config, id, flag
  | 'ESYS' // a system call failed
  | 'EHOOK' // a hook failed
  | 'EEXEC'; // the user's executable could not be found or run

/** Marks a RuntimeError of any copy of this module: a command's lazily loaded chunk (build.mjs)
 *  has its own, and what it throws must still be one for the command's `instanceof`. */
const BRAND = Symbol.for('runts.RuntimeError');

export class RuntimeError extends Error {
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
  }
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly errno: string | undefined;
  /** The process exit code the CLI uses for this error (1 unless a verb says otherwise, e.g. exec's 255). */
  exitCode = 1;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; errno?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.errno = options?.errno;
  }

  /** The same error with another exit code. */
  withExitCode(exitCode: number): RuntimeError {
    const e = new RuntimeError(this.code, this.message, { cause: this.cause, errno: this.errno });
    e.exitCode = exitCode;
    return e;
  }

  /** Adds context in front: `container web: <message>`. */
  context(prefix: string): RuntimeError {
    const e = new RuntimeError(this.code, `${prefix}: ${this.message}`, { cause: this.cause, errno: this.errno });
    e.exitCode = this.exitCode;
    return e;
  }
}

/** Turns a Node system error into runc-style text: `open /x/config.json: no such file or directory`. */
export function describeSysError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const what = e.path ? `${e.syscall} ${e.path}` : e.syscall;
    return `${what}: ${strerror(e.code)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Wraps anything thrown into a RuntimeError, keeping RuntimeErrors as they are. */
export function toRuntimeError(err: unknown, prefix?: string): RuntimeError {
  let e: RuntimeError;
  if (err instanceof RuntimeError) e = err;
  else {
    const errno = (err as NodeJS.ErrnoException)?.code;
    e = new RuntimeError('ESYS', describeSysError(err), { cause: err, errno: typeof errno === 'string' ? errno : undefined });
  }
  return prefix ? e.context(prefix) : e;
}

const STRERROR: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'bad file descriptor',
  ECHILD: 'no child processes',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  EMFILE: 'too many open files',
  ENOTTY: 'inappropriate ioctl for device',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  ESPIPE: 'illegal seek',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EPIPE: 'broken pipe',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EUSERS: 'too many users',
  EOVERFLOW: 'value too large for defined data type',
  ENOTSOCK: 'socket operation on non-socket',
  EADDRINUSE: 'address already in use',
  ECONNRESET: 'connection reset by peer',
  ENOTCONN: 'transport endpoint is not connected',
  ESTALE: 'stale file handle',
  EDQUOT: 'disk quota exceeded',
  ENOKEY: 'required key not available',
  ENOMEDIUM: 'no medium found',
  ECANCELED: 'operation canceled',
  EOWNERDEAD: 'owner died',
  EKEYREJECTED: 'key was rejected by service',
  ENOTBLK: 'block device required',
  EDEADLK: 'resource deadlock avoided',
  ENOLCK: 'no locks available',
  ENODATA: 'no data available',
  EDOM: 'numerical argument out of domain',
};

/** strerror() for an errno name (`ENOENT`) or number, in glibc's words, lowercase as Go prints them. */
export function strerror(code: string | number): string {
  if (typeof code === 'number') {
    const name = ERRNO_NAMES[code];
    return name ? (STRERROR[name] ?? name.toLowerCase()) : `errno ${code}`;
  }
  return STRERROR[code] ?? code.toLowerCase();
}

/** Linux x86_64/arm64 errno numbers (asm-generic) to names, for errors reported by the executor. */
export const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC',
  9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY',
  17: 'EEXIST', 18: 'EXDEV', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE',
  24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS',
  31: 'EMLINK', 32: 'EPIPE', 34: 'ERANGE', 36: 'ENAMETOOLONG', 38: 'ENOSYS', 39: 'ENOTEMPTY',
  15: 'ENOTBLK', 33: 'EDOM', 35: 'EDEADLK', 37: 'ENOLCK', 40: 'ELOOP', 61: 'ENODATA', 75: 'EOVERFLOW',
  87: 'EUSERS', 88: 'ENOTSOCK', 95: 'EOPNOTSUPP', 98: 'EADDRINUSE', 104: 'ECONNRESET', 107: 'ENOTCONN',
  110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 116: 'ESTALE', 122: 'EDQUOT', 123: 'ENOMEDIUM', 125: 'ECANCELED',
  126: 'ENOKEY', 129: 'EKEYREJECTED', 130: 'EOWNERDEAD',
};
