// Where the executor is run from when its file cannot be executed as it is: npm and pnpm normalize
// the modes of a package's files (only `bin` entries get an exec bit back), so an installed verb's
// dist/runts-init is 0644; a single executable carries the executor inside itself. Either way the
// bytes go into an unnamed file (O_TMPFILE, mode 0700) on a tmpfs that allows exec, reopened
// read-only (a file open for writing cannot be executed: ETXTBSY) and run as /proc/<pid>/fd/<n>.
// The executor then copies itself into a sealed memfd and re-executes from there (main.c), as it
// does from any file, so this copy is only its first step. Nothing is left on disk: the file has
// no name and goes when this process exits.
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';

/** O_TMPFILE (Linux, x86-64 and arm64 value; includes O_DIRECTORY). */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/** Tried in order: tmpfs first (no disk write), then the usual temporary dirs. (A function: a
 *  module top level may run at build time, in the single executable's snapshot.) */
export function execDirs(): string[] {
  return ['/dev/shm', '/run', tmpdir(), '/tmp', '/var/tmp'];
}

/** os.tmpdir() on Linux, without loading node:os (~0.2 ms and its pages: the single executable
 *  writes its executor here in every create, run and exec). */
function tmpdir(): string {
  const env = process.env;
  const dir = env['TMPDIR'] || env['TMP'] || env['TEMP'] || '/tmp';
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

/** Can this path be executed by this process (exec bit for it, mount not noexec)? */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An executable path (/proc/<pid>/fd/<n>) holding `bytes`, valid while this process lives; the
 *  fd stays open (close-on-exec) until exit. Throws naming every dir tried when none allows it. */
export function executableCopy(bytes: Uint8Array, dirs: readonly string[] = execDirs()): string {
  const why: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    let w = -1;
    let r = -1;
    try {
      w = openSync(dir, O_TMPFILE | constants.O_RDWR, 0o700);
      for (let off = 0; off < bytes.length; ) off += writeSync(w, bytes, off);
      r = openSync(`/proc/self/fd/${w}`, 'r');
      closeSync(w);
      w = -1;
      const path = `/proc/${process.pid}/fd/${r}`;
      if (isExecutable(path)) return path;
      why.push(`${dir}: mounted noexec`);
    } catch (e) {
      why.push(`${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (w >= 0) closeSync(w);
    if (r >= 0) closeSync(r);
  }
  throw new Error(`no directory allows an executable copy of runts-init (${why.join(', ')})`);
}

/** `file` itself when it can be executed, else an executable copy of its bytes. */
export function runnable(file: string): string {
  return isExecutable(file) ? file : executableCopy(readFileSync(file));
}

/** A native file of this package (runts-init, runts-spawn.node): beside this module, where the
 *  bundled verbs have it copied into dist/, else in native/nsenter/build/ of the repository.
 *  (import.meta.dirname, not a URL: pathToFileURL, new URL and fileURLToPath, twice, cost every create, run and exec 0.6-0.7 ms on Node 20.) */
export function shippedFile(name: string): string {
  const here = import.meta.dirname;
  const beside = `${here}/${name}`;
  return existsSync(beside) ? beside : `${here.slice(0, here.lastIndexOf('/'))}/build/${name}`;
}
