// @runts/init: the init compiler (config.json -> the steps runts-init performs) and host-side hooks.
export { compileCreate, compileMount, type CompileCreateOptions, type CgroupLayout } from './create.ts';
export { compileExec, type CompileExecOptions } from './exec.ts';
export { runHooks, killRunningHooks, type RunHooksOptions } from './hooks.ts';
export { compileProcess, type CompiledSeccomp, type ProcessContext } from './process.ts';
export { parseMountOptions, mountOptionNames, PROPAGATION, type ParsedMountOptions } from './mountopts.ts';
export { CAPABILITIES, RLIMITS, MS, MOUNT_ATTR, CLONE, NAMESPACES, PERSONALITY_DOMAINS } from './constants.ts';
export { hostFs, type CompileFs, type FileInfo } from './fs.ts';
export { formatStepError } from './format.ts';
export type * from './types.ts';
export { fakeFs, type FakeEntry, type FakeFsOptions } from './testing.ts';
