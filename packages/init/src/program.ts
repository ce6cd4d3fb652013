// The init-program contract (ops, flags, SourcedStep) is defined by @runts/nsenter
// (native/nsenter/src/program.ts); this module is the single place @runts/init imports it from.
export { Op, ExecFlags, MountFlags, WriteFlags, Signatures } from '@runts/nsenter';
export type { Step, SourcedStep, OpCode } from '@runts/nsenter';
