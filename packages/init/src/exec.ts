// compileExec: a new process in a running container (runc exec): join every namespace the container
// has through /proc/<pid>/ns, fork, then the same process set-up as the container's init.
import { ExecFlags, Op, type SourcedStep } from './program.ts';
import { NAMESPACES, NAMESPACE_ORDER } from './constants.ts';
import { invalid } from './errors.ts';
import { hostFs, type CompileFs } from './fs.ts';
import { checkConsole, compileProcess, consoleStep, oomScoreAdjSteps, rlimitSteps, validateProcess, type CompiledSeccomp } from './process.ts';
import type { InitProcess, InitSpec } from './types.ts';
import { lookupHome } from './util.ts';
import { parseNamespaces } from './create.ts';

export interface CompileExecOptions {
  /** the container's init, host pid */
  pid: number;
  /** the process to run (process.json of runc exec --process, or built from the command line) */
  process: InitProcess;
  /** the container's config.json */
  containerSpec: InitSpec;
  consoleSocket?: string;
  preserveFds?: number;
  /** stage 0 waits for the process and exits with its status; with process.terminal and no
   *  consoleSocket it also relays the terminal (ExecFlags.ConsoleRelay) */
  wait: boolean;
  /** container id, for the session keyring name "_ses.<id>" (runc joins a fresh one unless noNewKeyring) */
  id?: string;
  noNewKeyring?: boolean;
  /** a rootless runtime: no setgroups */
  rootless?: boolean;
  /** the seccomp filter compiled from the container's linux.seccomp (required when it is set) */
  seccomp?: CompiledSeccomp;
  /** where the container's root is seen from the host, for the HOME lookup (default /proc/<pid>/root) */
  rootfs?: string;
  fs?: CompileFs;
  warn?: (message: string) => void;
}

export function compileExec(o: CompileExecOptions): SourcedStep[] {
  const fs = o.fs ?? hostFs;
  const warn = o.warn ?? (() => {});
  if (!Number.isInteger(o.pid) || o.pid <= 0) throw invalid('pid', `invalid pid ${o.pid}`);
  const proc = o.process;
  validateProcess(proc);
  const spec = o.containerSpec;
  const linux = spec?.linux ?? {};
  const rootless = o.rootless ?? (typeof process.geteuid === 'function' && process.geteuid() !== 0);
  if (linux.seccomp !== undefined && linux.seccomp !== null && o.seccomp === undefined)
    throw invalid('linux.seccomp', 'no compiled seccomp filter was given to the init compiler');
  if (proc.apparmorProfile) warn(`apparmor profile ${JSON.stringify(proc.apparmorProfile)} ignored: apparmor is not supported`);
  const relay = checkConsole(proc, o.consoleSocket, o.wait);

  const out: SourcedStep[] = [];
  out.push({ step: { op: Op.Config, flags: ExecFlags.Join | (o.wait ? ExecFlags.Wait : 0n) | (relay ? ExecFlags.ConsoleRelay : 0n) }, field: 'process' });
  // runc joins the namespaces the container's config lists (its own ones), user first
  const ns = parseNamespaces(linux);
  for (const t of NAMESPACE_ORDER) {
    const e = ns.get(t);
    if (e === undefined) continue;
    const path = `/proc/${o.pid}/ns/${NAMESPACES[t]!.proc}`;
    out.push({ step: { op: Op.NsJoin, nstype: NAMESPACES[t]!.flag, path }, field: `linux.namespaces[${e.index}]`, label: path });
  }
  if (proc.terminal && o.consoleSocket) out.push({ step: { op: Op.ConsoleSocket, path: o.consoleSocket }, field: '--console-socket', label: o.consoleSocket });

  // runc sets an exec's rlimits from the parent right after setns, before anything else
  out.push(...rlimitSteps(proc));
  out.push(...oomScoreAdjSteps(proc.oomScoreAdj !== undefined ? proc : (spec?.process ?? {})));
  const userNs = ns.get('user');
  if (userNs !== undefined) out.push({ step: { op: Op.BecomeRoot, gid: 0n }, field: `linux.namespaces[${userNs.index}]`, label: 'user' });
  out.push({ step: { op: Op.Setsid }, field: 'process' });
  if (!o.noNewKeyring && o.id !== undefined) out.push({ step: { op: Op.SessionKeyring, name: `_ses.${o.id}` }, field: 'process', label: 'session keyring' });
  if (proc.terminal) out.push(consoleStep(proc, false));
  const root = o.rootfs ?? `/proc/${o.pid}/root`;
  const capLast = Number.parseInt(fs.readHostFile('/proc/sys/kernel/cap_last_cap') ?? '', 10);
  out.push(
    ...compileProcess({
      proc,
      linux,
      rootless,
      setgroupsDenied: false,
      seccomp: linux.seccomp ? o.seccomp : undefined,
      capLastCap: Number.isInteger(capLast) ? capLast : undefined,
      preserveFds: o.preserveFds ?? 0,
      home: (uid) => lookupHome(root, uid, fs),
      rlimits: 'none',
      warn,
    }),
  );
  return out;
}
