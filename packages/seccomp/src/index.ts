// @runts/seccomp: linux.seccomp compiled to a BPF program in the parent, with libseccomp through
// koffi, for the init's Seccomp step to load.
export { compileSeccomp, actionValue, type CompiledSeccomp } from './compile.ts';
export { compileSeccompCached, seccompCache, canonical, type SeccompCache } from './cache.ts';
export { enosysStub, lastSyscalls, runStub, encode as encodeBpf, decode as decodeBpf, type Insn, type LastSyscalls } from './enosys.ts';
export { libseccomp, type Libseccomp, type Filter, type ArgCmp } from './libseccomp.ts';
import { ARCH } from './constants.ts';
export { ACTION, OPERATOR, ARCH, FLAG } from './constants.ts';

/** What features.md's linux.seccomp lists for runts. */
export const SUPPORTED = {
  actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
  operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
  knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
  archs: Object.keys(ARCH).sort(),
  supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
};
