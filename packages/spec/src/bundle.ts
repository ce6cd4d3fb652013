// Bundles: a directory with config.json and the root filesystem it names.
import { readFileSync, realpathSync, statSync, openSync, fstatSync, closeSync, constants as fsConstants } from 'node:fs';
import { RuntimeError, describeSysError, joinPath, resolvePath } from '@runts/core';
import type { Spec } from './generated/types.ts';
import { parseJsonLossless } from './json.ts';
import { validateConfig, type Problem, type ValidateOptions } from './validate.ts';

export interface Bundle {
  /** The bundle directory: absolute, symlinks resolved. */
  bundle: string;
  /** `<bundle>/config.json`. */
  configPath: string;
  spec: Spec;
  /** The root filesystem: absolute, symlinks resolved. */
  rootfs: string;
}

export interface BundleCheck {
  bundle: string;
  configPath: string;
  /** Everything wrong; a problem with an empty path is about the file itself (missing, not JSON). */
  problems: Problem[];
  /** the problem is the file itself (missing, not a regular file, not JSON), not its content */
  fileProblem?: boolean;
  spec?: Spec;
  rootfs?: string;
}

/** Parses config.json text losslessly (integers beyond 2^53 become bigints); invalid JSON throws RuntimeError('EINVAL') naming the file, line and column. */
export function parseConfig(text: string, file = 'config.json'): unknown {
  return parseJsonLossless(text, file);
}

/** Reads config.json without ever blocking: a symlink is followed (runc reads it too), but what
 *  is not a regular file (a FIFO with no writer, where runc hangs; a device; a dir) is refused
 *  after a non-blocking open and fstat, before any read. */
export function readConfigFile(configPath: string): string {
  const fd = openSync(configPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RuntimeError('EINVAL', `${configPath}: not a regular file (${fileKind(st)})`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** What a non-regular file is, for error messages. */
export function fileKind(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a fifo';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'a regular file';
}

/** Reads, parses and validates a bundle; collects every problem instead of throwing. */
export function checkBundle(bundleDir: string, opts: ValidateOptions = {}): BundleCheck {
  let bundle = resolvePath(bundleDir);
  const fail = (message: string): BundleCheck => ({ bundle, configPath: joinPath(bundle, 'config.json'), problems: [{ path: '', message }], fileProblem: true });
  try {
    bundle = realpathSync.native(bundle);
  } catch (err) {
    return fail(describeSysError(Object.assign(err as object, { syscall: 'stat' })));
  }
  const configPath = joinPath(bundle, 'config.json');
  let text: string;
  try {
    text = readConfigFile(configPath);
  } catch (err) {
    return fail(err instanceof RuntimeError ? err.message : describeSysError(err));
  }
  let config: unknown;
  try {
    config = parseJsonLossless(text, configPath);
  } catch (err) {
    return fail((err as Error).message.slice(configPath.length + 2));
  }
  const problems = validateConfig(config, opts);
  const result: BundleCheck = { bundle, configPath, problems };
  const root = (config as Spec | null)?.root;
  if (root === undefined && !opts.forStart && problems.every((p) => p.path !== '')) problems.push({ path: 'root', message: 'is required' });
  if (root && typeof root === 'object' && typeof root.path === 'string' && root.path !== '') {
    const abs = resolvePath(bundle, root.path);
    try {
      if (!statSync(abs).isDirectory()) problems.push({ path: 'root.path', message: `${abs}: not a directory` });
      else result.rootfs = realpathSync.native(abs);
    } catch (err) {
      problems.push({ path: 'root.path', message: describeSysError(err) });
    }
  }
  if (problems.length === 0) result.spec = config as Spec;
  return result;
}

const SHOWN = 5;

/** Formats problems one per line as `config.json: <path>: <message>`. */
export function formatProblem(p: Problem, file = 'config.json'): string {
  return p.path === '' ? `${file}: ${p.message}` : `${file}: ${p.path}: ${p.message}`;
}

/** Loads a bundle for create/run: throws RuntimeError('EINVAL') listing the first problems
 *  (a missing or unreadable config.json is named: `open /b/config.json: no such file or directory`). */
export function loadBundle(bundleDir: string, opts: ValidateOptions = {}): Bundle {
  const r = checkBundle(bundleDir, opts);
  if (r.problems.length > 0 || !r.spec) {
    const first = r.problems[0];
    if (r.fileProblem && first) {
      // The file itself: report the system error as is.
      throw new RuntimeError('EINVAL', first.message.startsWith('invalid JSON') ? `${r.configPath}: ${first.message}` : first.message);
    }
    const shown = r.problems.slice(0, SHOWN).map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`));
    const more = r.problems.length > SHOWN ? ` (and ${r.problems.length - SHOWN} more)` : '';
    throw new RuntimeError('EINVAL', `invalid ${r.configPath}: ${shown.join('; ')}${more}`);
  }
  return { bundle: r.bundle, configPath: r.configPath, spec: r.spec, rootfs: r.rootfs! };
}
