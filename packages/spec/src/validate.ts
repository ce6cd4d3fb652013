// validateConfig: the schema (a validator generated at build time, src/generated/validate.js)
// plus what the schema cannot say (config.md, config-linux.md, runtime.md of runtime-spec 1.3.0).
import { validateConfigSchema } from './generated/validate.js';

/** One thing wrong with a config: its JSON path (`process.args`, `linux.namespaces[2].path`) and what is wrong. */
export interface Problem {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** The config is for a container that will be started: `process` (with args) and `root` are required. */
  forStart?: boolean;
}

/** Every problem in a parsed config.json (schema first, then semantics); an empty list means valid. */
export function validateConfig(config: unknown, opts: ValidateOptions = {}): Problem[] {
  const problems = validateConfigSchema(config);
  if (isObject(config)) semantics(config, opts, problems);
  return problems;
}

// SemVer 2.0.0 (semver.org's regular expression).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
const isAbs = (p: unknown): boolean => typeof p === 'string' && p.startsWith('/');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function semantics(c: Record<string, unknown>, opts: ValidateOptions, out: Problem[]): void {
  const add = (path: string, message: string) => out.push({ path, message });

  if (typeof c.ociVersion === 'string' && !SEMVER.test(c.ociVersion)) add('ociVersion', `must be a SemVer 2.0.0 version, not ${JSON.stringify(c.ociVersion)}`);

  // root
  if (c.root === undefined) {
    if (opts.forStart && c.windows === undefined) add('root', 'is required');
  } else if (isObject(c.root) && c.root.path === '') add('root.path', 'must not be empty');

  // process
  const proc = c.process;
  if (proc === undefined) {
    if (opts.forStart) add('process', 'is required');
  } else if (isObject(proc)) {
    if (c.windows === undefined) {
      // "at least one entry is REQUIRED (non-Windows)"
      if (proc.args === undefined) add('process.args', 'is required');
      else if (Array.isArray(proc.args) && proc.args.length === 0) add('process.args', 'must not be empty');
      if (typeof proc.cwd === 'string' && !isAbs(proc.cwd)) add('process.cwd', `must be an absolute path, not ${JSON.stringify(proc.cwd)}`);
    }
    const seen = new Map<string, number>();
    list(proc.rlimits).forEach((r, i) => {
      if (!isObject(r)) return;
      const p = `process.rlimits[${i}]`;
      if (typeof r.type === 'string') {
        const first = seen.get(r.type);
        if (first !== undefined) add(`${p}.type`, `duplicate ${r.type} (also in process.rlimits[${first}])`);
        else seen.set(r.type, i);
      }
      if (isInt(r.soft) && isInt(r.hard) && r.soft > r.hard) add(`${p}.soft`, `must not be greater than hard (${r.hard})`);
    });
  }

  // mounts: destinations may be relative on Linux (deprecated, taken relative to "/"), never empty.
  list(c.mounts).forEach((m, i) => {
    if (isObject(m) && m.destination === '') add(`mounts[${i}].destination`, 'must not be empty');
  });

  // hooks: paths are absolute ("This specification extends the IEEE standard in that path MUST be absolute").
  if (isObject(c.hooks)) {
    for (const kind of HOOK_KINDS) {
      list(c.hooks[kind]).forEach((h, i) => {
        if (isObject(h) && typeof h.path === 'string' && !isAbs(h.path)) add(`hooks.${kind}[${i}].path`, `must be an absolute path, not ${JSON.stringify(h.path)}`);
      });
    }
  }

  if (isObject(c.linux)) linux(c, c.linux, add);
}

function isInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

function linux(c: Record<string, unknown>, l: Record<string, unknown>, add: (path: string, message: string) => void): void {
  // namespaces: one of each type, paths absolute.
  const ns = new Map<string, { index: number; path: unknown }>();
  list(l.namespaces).forEach((n, i) => {
    if (!isObject(n) || typeof n.type !== 'string') return;
    const p = `linux.namespaces[${i}]`;
    const first = ns.get(n.type);
    if (first !== undefined) add(`${p}.type`, `duplicate namespace type ${JSON.stringify(n.type)} (also in linux.namespaces[${first.index}])`);
    else ns.set(n.type, { index: i, path: n.path });
    if (n.path !== undefined && typeof n.path === 'string' && !isAbs(n.path)) add(`${p}.path`, `must be an absolute path, not ${JSON.stringify(n.path)}`);
  });

  // user namespace and id mappings go together.
  const userns = ns.get('user');
  const hasUid = Array.isArray(l.uidMappings) && l.uidMappings.length > 0;
  const hasGid = Array.isArray(l.gidMappings) && l.gidMappings.length > 0;
  if (userns && userns.path === undefined) {
    if (!hasUid) add('linux.uidMappings', 'is required with a new user namespace');
    if (!hasGid) add('linux.gidMappings', 'is required with a new user namespace');
  }
  if (!userns) {
    if (hasUid) add('linux.uidMappings', 'requires a user namespace in linux.namespaces');
    if (hasGid) add('linux.gidMappings', 'requires a user namespace in linux.namespaces');
  }
  // hostname and domainname need their own UTS namespace (runc refuses them otherwise).
  for (const field of ['hostname', 'domainname']) {
    if (typeof c[field] === 'string' && c[field] !== '' && Array.isArray(l.namespaces) && !ns.has('uts')) add(field, 'requires a uts namespace in linux.namespaces');
  }

  // devices: absolute paths; major/minor unless a fifo.
  list(l.devices).forEach((d, i) => {
    if (!isObject(d)) return;
    const p = `linux.devices[${i}]`;
    if (typeof d.path === 'string' && !isAbs(d.path)) add(`${p}.path`, `must be an absolute path, not ${JSON.stringify(d.path)}`);
    if (typeof d.type === 'string' && d.type !== 'p') {
      if (d.major === undefined) add(`${p}.major`, `is required for a device of type ${JSON.stringify(d.type)}`);
      if (d.minor === undefined) add(`${p}.minor`, `is required for a device of type ${JSON.stringify(d.type)}`);
    }
  });

  for (const field of ['maskedPaths', 'readonlyPaths']) {
    list(l[field]).forEach((p, i) => {
      if (typeof p === 'string' && !isAbs(p)) add(`linux.${field}[${i}]`, `must be an absolute path, not ${JSON.stringify(p)}`);
    });
  }

  // seccomp: syscalls have six arguments.
  if (isObject(l.seccomp)) {
    list(l.seccomp.syscalls).forEach((s, i) => {
      if (!isObject(s)) return;
      list(s.args).forEach((a, j) => {
        if (isObject(a) && isInt(a.index) && a.index > 5) add(`linux.seccomp.syscalls[${i}].args[${j}].index`, 'must be less than 6');
      });
    });
  }

  if (isObject(l.timeOffsets) && Array.isArray(l.namespaces) && !ns.has('time')) add('linux.timeOffsets', 'requires a time namespace in linux.namespaces');
}
