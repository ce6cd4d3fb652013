// linux.seccomp -> BPF, with runc's semantics (libcontainer/seccomp/seccomp_linux.go and
// specconv.SetupSeccomp): one rule per syscall name; names this libseccomp does not know are
// skipped; a rule whose action is the default action is skipped (libseccomp refuses it); several
// conditions on the same argument are split into one rule each; no_new_privs is left to the init.
import { RuntimeError } from '@runts/core';
import type { LinuxSeccomp } from '@runts/spec';
import { ACTION, ARCH, ATTR, EPERM, ERRNO_ACTIONS, FLAG, NR_SCMP_ERROR, OPERATOR, SECCOMP_FILTER_FLAG_NEW_LISTENER } from './constants.ts';
import { libseccomp, type ArgCmp, type Libseccomp } from './libseccomp.ts';
import { encode, enosysStub, lastSyscalls } from './enosys.ts';

/** What the init compiler takes (@runts/init's CompiledSeccomp). */
export interface CompiledSeccomp {
  /** struct sock_filter[] */
  bpf: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* (NEW_LISTENER when a rule uses SCMP_ACT_NOTIFY) */
  flags: bigint;
  /** SCMP_ACT_NOTIFY: where the runtime sends the listener fd, and the metadata it sends */
  listener?: { path: string; metadata: string };
}

/** runc's threshold for libseccomp's binary tree of syscalls (SCMP_FLTATR_CTL_OPTIMIZE 2). */
const OPTIMIZE_OVER = 400;
const SYSCALL_MAX_ARGS = 6;
const U64_MAX = (1n << 64n) - 1n;
const ENOSYS = 38;

function invalid(field: string, message: string): RuntimeError {
  return new RuntimeError('EINVAL', `${field}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The numeric libseccomp action for `action` (+ errnoRet), as runc's getAction. */
export function actionValue(action: unknown, errnoRet: unknown, field: string, errnoField: string): number {
  if (typeof action !== 'string' || !Object.hasOwn(ACTION, action)) throw invalid(field, `unknown action ${JSON.stringify(action)}`);
  const base = ACTION[action as keyof typeof ACTION];
  if (errnoRet === undefined || errnoRet === null) return ERRNO_ACTIONS.has(action) ? (base | EPERM) >>> 0 : base;
  if (!ERRNO_ACTIONS.has(action)) throw invalid(errnoField, `${action} does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)`);
  const n = typeof errnoRet === 'bigint' ? errnoRet : typeof errnoRet === 'number' && Number.isInteger(errnoRet) ? BigInt(errnoRet) : -1n;
  if (n < 0n || n > 0xffffn) throw invalid(errnoField, `must be an errno between 0 and 65535, got ${String(errnoRet)}`);
  return (base | Number(n)) >>> 0;
}

function u64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw invalid(field, `must be an integer between 0 and ${U64_MAX}, got ${String(v)}`);
}

/** One scmp_arg_cmp from a syscalls[].args entry (runc's getCondition). */
function condition(a: unknown, field: string): ArgCmp {
  if (!isObject(a)) throw invalid(field, 'must be an object');
  const index = a['index'];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= SYSCALL_MAX_ARGS)
    throw invalid(`${field}.index`, `must be a syscall argument index between 0 and ${SYSCALL_MAX_ARGS - 1}, got ${String(index)}`);
  const op = a['op'];
  if (typeof op !== 'string' || !Object.hasOwn(OPERATOR, op)) throw invalid(`${field}.op`, `unknown operator ${JSON.stringify(op)}`);
  const datumA = u64(a['value'], `${field}.value`);
  const datumB = a['valueTwo'] === undefined || a['valueTwo'] === null ? 0n : u64(a['valueTwo'], `${field}.valueTwo`);
  return { arg: index, op: OPERATOR[op as keyof typeof OPERATOR], datumA, datumB };
}

/**
 * Compiles linux.seccomp to a BPF program and the seccomp(2) flags. Throws RuntimeError('EINVAL')
 * naming the field for bad input; loads libseccomp (through koffi) on first use.
 */
export function compileSeccomp(seccomp: LinuxSeccomp, field = 'linux.seccomp', lib: Libseccomp = libseccomp()): CompiledSeccomp {
  if (!isObject(seccomp)) throw invalid(field, 'must be an object');
  const sc = seccomp as unknown as Record<string, unknown>;
  if (sc['defaultAction'] === undefined) throw invalid(`${field}.defaultAction`, 'required');
  // runc's words: a notified write or a notify default could deadlock the init, which writes to
  // its parent after loading the filter
  if (sc['defaultAction'] === 'SCMP_ACT_NOTIFY') throw invalid(`${field}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be used as default action');
  const defaultAction = actionValue(sc['defaultAction'], sc['defaultErrnoRet'], `${field}.defaultAction`, `${field}.defaultErrnoRet`);

  let flags = 0n;
  const flagList = sc['flags'] ?? [];
  if (!Array.isArray(flagList)) throw invalid(`${field}.flags`, 'must be an array');
  flagList.forEach((fl: unknown, i) => {
    if (fl === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')
      throw invalid(`${field}.flags[${i}]`, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported (it applies to a seccomp notify listener, which runts does not implement yet)');
    if (typeof fl !== 'string' || !Object.hasOwn(FLAG, fl)) throw invalid(`${field}.flags[${i}]`, `unknown flag ${JSON.stringify(fl)}`);
    flags |= FLAG[fl as keyof typeof FLAG];
  });

  const archs = sc['architectures'] ?? [];
  if (!Array.isArray(archs)) throw invalid(`${field}.architectures`, 'must be an array');
  const archTokens = archs.map((a: unknown, i) => {
    const name = typeof a === 'string' && Object.hasOwn(ARCH, a) ? ARCH[a as keyof typeof ARCH] : undefined;
    const token = name === undefined ? 0 : lib.archResolve(name);
    if (token === 0) throw invalid(`${field}.architectures[${i}]`, `unknown or unsupported architecture ${JSON.stringify(a)}`);
    return token;
  });

  const calls = sc['syscalls'] ?? [];
  if (!Array.isArray(calls)) throw invalid(`${field}.syscalls`, 'must be an array');
  // Check everything before building anything: errors name the field, not a libseccomp call.
  type Rule = { name: string; action: number; conds: ArgCmp[]; field: string };
  const rules: Rule[] = [];
  calls.forEach((c: unknown, i) => {
    const cf = `${field}.syscalls[${i}]`;
    if (!isObject(c)) throw invalid(cf, 'must be an object');
    const action = actionValue(c['action'], c['errnoRet'], `${cf}.action`, `${cf}.errnoRet`);
    const names = c['names'];
    if (!Array.isArray(names) || names.length === 0) throw invalid(`${cf}.names`, 'must not be empty');
    const args = c['args'] ?? [];
    if (!Array.isArray(args)) throw invalid(`${cf}.args`, 'must be an array');
    const conds = args.map((a: unknown, j) => condition(a, `${cf}.args[${j}]`));
    names.forEach((name: unknown, j) => {
      if (typeof name !== 'string' || name === '') throw invalid(`${cf}.names[${j}]`, 'must be a syscall name');
      if (c['action'] === 'SCMP_ACT_NOTIFY' && name === 'write') throw invalid(`${cf}.names[${j}]`, 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
      rules.push({ name, action, conds, field: `${cf}.names[${j}] (${name})` });
    });
  });

  let listener: CompiledSeccomp['listener'];
  if (rules.some((r) => r.action === ACTION.SCMP_ACT_NOTIFY)) {
    const path = sc['listenerPath'];
    if (typeof path !== 'string' || path === '') throw invalid(`${field}.listenerPath`, 'required when a rule uses SCMP_ACT_NOTIFY');
    if (!path.startsWith('/')) throw invalid(`${field}.listenerPath`, `must be an absolute path: ${JSON.stringify(path)}`);
    const md = sc['listenerMetadata'] ?? '';
    if (typeof md !== 'string') throw invalid(`${field}.listenerMetadata`, 'must be a string');
    listener = { path, metadata: md };
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  }
  const done = (bpf: Uint8Array): CompiledSeccomp => (listener ? { bpf, flags, listener } : { bpf, flags });

  const filter = lib.init(defaultAction);
  try {
    for (const t of archTokens) filter.archAdd(t);
    if (rules.length > OPTIMIZE_OVER) filter.attrSet(ATTR.CTL_OPTIMIZE, 2);
    filter.attrSet(ATTR.CTL_NNP, 0);
    for (const r of rules) {
      if (r.action === defaultAction) continue; // redundant; libseccomp would refuse it
      const nr = lib.syscallResolve(r.name);
      if (nr === NR_SCMP_ERROR) continue; // unknown to this libseccomp: runc skips it too
      try {
        const perArg = new Map<number, number>();
        for (const c of r.conds) perArg.set(c.arg, (perArg.get(c.arg) ?? 0) + 1);
        if ([...perArg.values()].some((n) => n > 1)) for (const c of r.conds) filter.ruleAdd(r.action, nr, [c]);
        else filter.ruleAdd(r.action, nr, r.conds);
      } catch (err) {
        throw err instanceof RuntimeError ? err.context(r.field) : err;
      }
    }
    const bpf = filter.exportBpf();
    // runc's -ENOSYS stub, unless the default action lets everything through (allow, log, trace:
    // a tracer handles new syscalls itself) or already is ENOSYS
    const defaultName = sc['defaultAction'] as string;
    const permissive = defaultName === 'SCMP_ACT_ALLOW' || defaultName === 'SCMP_ACT_LOG' || defaultName === 'SCMP_ACT_TRACE';
    const errnoEnosys = defaultName === 'SCMP_ACT_ERRNO' && (defaultAction & 0xffff) === ENOSYS;
    if (permissive || errnoEnosys) return done(bpf);
    const last = lastSyscalls([...archTokens, lib.archNative()], rules.map((r) => r.name), (a, n) => lib.syscallResolveArch(a, n));
    const stub = encode(enosysStub(last));
    const out = new Uint8Array(stub.length + bpf.length);
    out.set(stub, 0);
    out.set(bpf, stub.length);
    return done(out);
  } catch (err) {
    throw err instanceof RuntimeError ? err.context(field) : err;
  } finally {
    filter.release();
  }
}
