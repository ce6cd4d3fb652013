// The init-program contract (ops, flags, SourcedStep) lives in @runts/nsenter (native/nsenter/src/program.ts).
// This module is the single place @runts/init imports it from.
export { Op, ExecFlags, MountFlags, WriteFlags, Signatures } from '../../../native/nsenter/src/program.ts';
export type { Step, SourcedStep, OpCode } from '../../../native/nsenter/src/program.ts';
