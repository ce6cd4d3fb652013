// The process part of the init program, shared by create (the container's init) and exec (a process
// joining it): runc's standard_init_linux.go / setns_init_linux.go from no_new_privs to execve.
import { CAPABILITIES, PERSONALITY_DOMAINS, RLIMITS } from './constants.ts';
import { invalid } from './errors.ts';
import { Op, type SourcedStep } from './program.ts';
import type { Hook, InitCapabilities, InitIDMapping, InitLinux, InitProcess } from './types.ts';
import { checkString, envPath, processEnv, u32, u64 } from './util.ts';
import { checkHook } from './hooks.ts';

export { checkHook };

/** A seccomp filter compiled in the parent (libseccomp seccomp_export_bpf): struct sock_filter[]. */
export interface CompiledSeccomp {
  bpf: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* */
  flags?: bigint;
  /** SCMP_ACT_NOTIFY: the listener goes to this agent (the runtime sends it, see create/exec) */
  listener?: { path: string; metadata: string };
}

export interface ProcessContext {
  proc: InitProcess;
  /** the container's linux section (personality is container-wide) */
  linux: InitLinux | undefined;
  /** rootless runtime (euid != 0): no setgroups, no additional gids */
  rootless: boolean;
  /** "deny" was written to the user namespace's setgroups */
  setgroupsDenied: boolean;
  /** the maps of a user namespace this program creates (for runc's "unmapped user" checks) */
  newUserns?: { uidMappings: InitIDMapping[]; gidMappings: InitIDMapping[] };
  seccomp: CompiledSeccomp | undefined;
  /** /proc/sys/kernel/cap_last_cap of the host, if known */
  capLastCap: number | undefined;
  preserveFds: number;
  /** HOME when the env has none (the user's passwd entry) */
  home: (uid: bigint) => string;
  /** where the Rlimit steps go: 'afterNoNewPrivs' (create: runc sets them at procReady) or 'none' */
  rlimits: 'afterNoNewPrivs' | 'none';
  /** startContainer hooks (create only): after WaitStart, before Exec */
  startContainer?: Hook[];
  warn: (message: string) => void;
}

/** process.args, process.cwd: what both create and exec require. */
export function validateProcess(proc: InitProcess | undefined): asserts proc is InitProcess {
  if (proc === undefined || proc === null || typeof proc !== 'object') throw invalid('process', 'required');
  if (!Array.isArray(proc.args) || proc.args.length === 0) throw invalid('process.args', 'must not be empty');
  proc.args.forEach((a, i) => checkString(a, `process.args[${i}]`));
  if (proc.args[0] === '') throw invalid('process.args[0]', 'must not be empty');
  if (typeof proc.cwd !== 'string' || proc.cwd === '') throw invalid('process.cwd', 'must not be empty');
  checkString(proc.cwd, 'process.cwd');
  if (!proc.cwd.startsWith('/')) throw invalid('process.cwd', `cwd must be an absolute path: ${JSON.stringify(proc.cwd)}`);
  if (proc.scheduler !== undefined) throw invalid('process.scheduler', 'not supported');
  if (proc.ioPriority !== undefined) throw invalid('process.ioPriority', 'not supported');
  if (proc.selinuxLabel) throw invalid('process.selinuxLabel', 'selinux label is specified in config, but selinux is not supported');
}

/** RLIMIT_* steps; unknown names and duplicates are errors (runtime spec). */
export function rlimitSteps(proc: InitProcess): SourcedStep[] {
  const seen = new Set<string>();
  return (proc.rlimits ?? []).map((r, i) => {
    const field = `process.rlimits[${i}]`;
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw invalid(`${field}.type`, `wrong rlimit value: ${r.type}`);
    if (seen.has(r.type)) throw invalid(`${field}.type`, `duplicate rlimit ${r.type}`);
    seen.add(r.type);
    const soft = u64(r.soft, `${field}.soft`);
    const hard = u64(r.hard, `${field}.hard`);
    return { step: { op: Op.Rlimit, resource: BigInt(resource), soft, hard }, field, label: r.type };
  });
}

export function oomScoreAdjSteps(proc: InitProcess): SourcedStep[] {
  const v = proc.oomScoreAdj;
  if (v === undefined || v === null) return [];
  if (!Number.isInteger(v) || v < -1000 || v > 1000) throw invalid('process.oomScoreAdj', `${v} is out of range [-1000, 1000]`);
  return [{ step: { op: Op.WriteProc, path: '/proc/self/oom_score_adj', content: String(v), wflags: 0n }, field: 'process.oomScoreAdj' }];
}

export function consoleStep(proc: InitProcess, bindDevConsole: boolean): SourcedStep {
  const size = proc.consoleSize;
  const rows = size ? u64(size.height, 'process.consoleSize.height') : 0n;
  const cols = size ? u64(size.width, 'process.consoleSize.width') : 0n;
  return { step: { op: Op.Console, rows, cols, flags: bindDevConsole ? 1n : 0n }, field: 'process.terminal' };
}

/** runc: a console socket needs `terminal`, and `terminal` needs a console socket unless runts stays
 *  in the foreground (run/exec without --detach: `wait`), where it holds the master itself.
 *  Returns true for that case: stage 0 relays the terminal (ExecFlags.ConsoleRelay). */
export function checkConsole(proc: InitProcess, consoleSocket: string | undefined, wait: boolean): boolean {
  if (proc.terminal && !consoleSocket && !wait) throw invalid('process.terminal', 'cannot allocate tty if runts will detach without setting console socket');
  if (!proc.terminal && consoleSocket) throw invalid('process.terminal', 'cannot use console socket if the process does not allocate a tty');
  return proc.terminal === true && !consoleSocket;
}

export function hookStep(h: Hook, field: string, defaultEnv?: string[]): SourcedStep {
  checkHook(h, field);
  const args = h.args && h.args.length > 0 ? [...h.args] : [h.path];
  const env = h.env ? [...h.env] : defaultEnv ? [...defaultEnv] : [];
  return { step: { op: Op.Hook, path: h.path, args, env, timeout: BigInt(h.timeout ?? 0) }, field, label: h.path };
}

/** A capability set as a mask. Unknown names, and names above the kernel's cap_last_cap, are ignored
 *  with a warning (runc's "ignoring unknown or unavailable capabilities"; the spec says warn, not fail). */
function capMask(names: readonly string[] | undefined, field: string, lastCap: number | undefined, unknown: Set<string>): bigint {
  let mask = 0n;
  (names ?? []).forEach((n, i) => {
    checkString(n, `${field}[${i}]`);
    const c = CAPABILITIES[n];
    if (c === undefined || (lastCap !== undefined && c > lastCap)) unknown.add(n);
    else mask |= 1n << BigInt(c);
  });
  return mask;
}

export function capabilityMasks(caps: InitCapabilities | undefined, lastCap: number | undefined, warn: (m: string) => void) {
  const unknown = new Set<string>();
  const f = 'process.capabilities';
  const r = {
    bounding: capMask(caps?.bounding, `${f}.bounding`, lastCap, unknown),
    effective: capMask(caps?.effective, `${f}.effective`, lastCap, unknown),
    permitted: capMask(caps?.permitted, `${f}.permitted`, lastCap, unknown),
    inheritable: capMask(caps?.inheritable, `${f}.inheritable`, lastCap, unknown),
    ambient: capMask(caps?.ambient, `${f}.ambient`, lastCap, unknown),
  };
  if (unknown.size > 0) warn(`ignoring unknown or unavailable capabilities: [${[...unknown].join(' ')}]`);
  return r;
}

function mapped(id: bigint, maps: readonly InitIDMapping[]): boolean {
  return maps.some((m) => {
    const c = BigInt(m.containerID);
    return id >= c && id < c + BigInt(m.size);
  });
}

export function personalityStep(linux: InitLinux | undefined, warn: (m: string) => void): SourcedStep[] {
  const p = linux?.personality;
  if (p === undefined || p === null) return [];
  const domain = PERSONALITY_DOMAINS[p.domain ?? ''];
  if (domain === undefined) throw invalid('linux.personality.domain', `invalid personality domain ${JSON.stringify(p.domain)}`);
  if (p.flags && p.flags.length > 0) warn(`ignoring unsupported personality flags: ${JSON.stringify(p.flags)}`);
  return [{ step: { op: Op.Personality, persona: domain }, field: 'linux.personality' }];
}

/** CAP_SYS_ADMIN */
const CAP_SYS_ADMIN = 21n;

/** From no_new_privs to execve, in runc's order, except that the seccomp filter is always the last
 *  step before Exec (after it nothing runs but execve, so a profile need not allow the runtime's own
 *  calls: close_range, getcwd, the exec.fifo, the startContainer hooks):
 *  NoNewPrivs, [Rlimit...], Chdir, CapsBounding, [ChownStdio], User, Caps, [Personality], Umask,
 *  Resolve, WaitStart, [startContainer hooks], Launch, [Seccomp], Exec.
 *  Without no_new_privs, loading a filter needs CAP_SYS_ADMIN (runc loads it before the credentials
 *  change, and runs all of them under the filter): the Caps step keeps CAP_SYS_ADMIN in the
 *  effective and permitted sets, not in the inheritable, ambient or bounding ones, and the execve
 *  drops it (exec computes the new sets from the bounding, inheritable and ambient sets and the
 *  file's capabilities only), so the process gets the same sets as with runc. */
export function compileProcess(c: ProcessContext): SourcedStep[] {
  const { proc } = c;
  validateProcess(proc);
  const out: SourcedStep[] = [];
  const nnp = proc.noNewPrivileges === true;

  // environment first: it is validated like runc's populateProcessEnvironment, before anything runs
  const uid = u32(proc.user?.uid, 'process.user.uid', 0n);
  const gid = u32(proc.user?.gid, 'process.user.gid', 0n);
  const env = processEnv(proc.env, 'process.env', () => c.home(uid));

  if (nnp) out.push({ step: { op: Op.NoNewPrivs }, field: 'process.noNewPrivileges' });
  if (c.rlimits === 'afterNoNewPrivs') out.push(...rlimitSteps(proc));
  const seccomp = c.seccomp ? ({ step: { op: Op.Seccomp, bpf: c.seccomp.bpf, flags: c.seccomp.flags ?? 0n }, field: 'linux.seccomp' } as SourcedStep) : undefined;
  // without no_new_privs loading the filter needs CAP_SYS_ADMIN in the effective set
  const keepSysAdmin = seccomp !== undefined && !nnp ? 1n << CAP_SYS_ADMIN : 0n;

  // runc tries the chdir before changing user (so a cwd only root can enter works)
  out.push({ step: { op: Op.Chdir, cwd: proc.cwd! }, field: 'process.cwd', label: proc.cwd });

  const caps = capabilityMasks(proc.capabilities, c.capLastCap, c.warn);
  out.push({ step: { op: Op.CapsBounding, bounding: caps.bounding }, field: 'process.capabilities.bounding' });

  const additionalGids = (proc.user?.additionalGids ?? []).map((g, i) => u32(g, `process.user.additionalGids[${i}]`));
  if (c.newUserns) {
    if (!mapped(uid, c.newUserns.uidMappings)) throw invalid('process.user.uid', 'cannot set uid to unmapped user in user namespace');
    if (!mapped(gid, c.newUserns.gidMappings)) throw invalid('process.user.gid', 'cannot set gid to unmapped user in user namespace');
  }
  if (c.rootless && additionalGids.length > 0) throw invalid('process.user.additionalGids', 'cannot set any additional groups in a rootless container');
  const setgroups = !c.rootless && !c.setgroupsDenied;
  // runc's fixStdioPermissions: the process's user owns its terminal (and the other stdio)
  if (uid !== 0n) out.push({ step: { op: Op.ChownStdio, uid }, field: 'process.user.uid', label: 'stdio' });
  out.push({ step: { op: Op.User, uid, gid, additionalGids, setgroups: setgroups ? 1n : 0n }, field: 'process.user', label: `${uid}:${gid}` });
  out.push({
    // The kernel raises an ambient capability only when it is permitted and inheritable; runc
    // skips the others (runc spec's default lists ambient caps without inheritable ones).
    step: { op: Op.Caps, effective: caps.effective | keepSysAdmin, permitted: caps.permitted | keepSysAdmin, inheritable: caps.inheritable, ambient: caps.ambient & caps.permitted & caps.inheritable },
    field: 'process.capabilities',
  });
  out.push(...personalityStep(c.linux, c.warn));
  const umask = u32(proc.user?.umask, 'process.user.umask', 0o022n);
  if (umask > 0o777n) throw invalid('process.user.umask', `${umask} is not a valid umask`);
  out.push({ step: { op: Op.Umask, mask: umask }, field: 'process.user.umask' });

  const args = proc.args!;
  out.push({ step: { op: Op.Resolve, name: args[0]!, path: envPath(env) }, field: 'process.args', label: args[0] });
  // with a notify listener, the filter is loaded before Ready, while create (or exec) is there to
  // take the listener and send it to the agent (runc's order with no_new_privs): the init's last
  // steps then run under it, which is why a notified write is refused
  const notify = c.seccomp?.listener !== undefined;
  if (seccomp && notify) out.push(seccomp);
  out.push({ step: { op: Op.WaitStart }, field: 'process' });
  (c.startContainer ?? []).forEach((h, i) => out.push(hookStep(h, `hooks.startContainer[${i}]`, env)));
  out.push({ step: { op: Op.Launch }, field: 'process' });
  if (seccomp && !notify) out.push(seccomp);
  out.push({
    step: { op: Op.Exec, argv: [...args], env, preserveFds: BigInt(c.preserveFds) },
    field: 'process.args',
    label: args[0],
  });
  return out;
}
