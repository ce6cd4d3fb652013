// Renders steps as one readable line each, for snapshot-style assertions.
import { MOUNT_ATTR, MS } from './constants.ts';
import { MountFlags, Op, type SourcedStep, type Step } from './program.ts';

const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k])) as Record<number, string>;

function bits(v: bigint, table: Record<string, bigint>): string {
  const names: string[] = [];
  let rest = v;
  for (const [k, b] of Object.entries(table)) {
    if (b !== 0n && (v & b) === b) {
      names.push(k);
      rest &= ~b;
    }
  }
  if (rest !== 0n) names.push('0x' + rest.toString(16));
  return names.join('|') || '0';
}

const MS_NAMES: Record<string, bigint> = Object.fromEntries(Object.entries(MS)) as Record<string, bigint>;
const MF_NAMES: Record<string, bigint> = Object.fromEntries(Object.entries(MountFlags)) as Record<string, bigint>;
const ATTR_NAMES: Record<string, bigint> = Object.fromEntries(Object.entries(MOUNT_ATTR).filter(([k]) => k !== '_ATIME')) as Record<string, bigint>;

export function show(s: Step): string {
  const name = OP_NAMES[s.op]!;
  switch (s.op) {
    case Op.Mount: {
      const parts = [name, s.source === '' ? '-' : s.source, s.target, s.fstype === '' ? '-' : s.fstype, bits(s.flags, MS_NAMES)];
      if (s.data) parts.push(`data=${s.data}`);
      parts.push(`[${bits(s.mflags, MF_NAMES)}]`);
      if (s.propagation) parts.push(`prop=${bits(s.propagation, MS_NAMES)}`);
      if (s.remountFlags) parts.push(`remount=${bits(s.remountFlags, MS_NAMES)}`);
      if (s.attrSet || s.attrClr) parts.push(`attr+${bits(s.attrSet, ATTR_NAMES)} attr-0x${s.attrClr.toString(16)}`);
      return parts.join(' ');
    }
    case Op.Mknod:
      return `${name} ${s.path} 0${s.mode.toString(8)} ${s.major}:${s.minor} ${s.uid}:${s.gid} ${s.hostPath}`;
    case Op.Symlink:
      return `${name} ${s.path} -> ${s.target}`;
    case Op.Mkdir:
      return `${name} ${s.path} 0${s.mode.toString(8)}`;
    case Op.Config:
    case Op.NsNew:
      return `${name} 0x${s.flags.toString(16)}`;
    case Op.NsJoin:
      return `${name} 0x${s.nstype.toString(16)} ${s.path}`;
    case Op.UidMap:
    case Op.GidMap:
    case Op.TimeOffsets:
      return `${name} ${JSON.stringify(s.content)}`;
    case Op.Setgroups:
      return `${name} ${s.value}`;
    case Op.Fifo:
    case Op.ConsoleSocket:
    case Op.Rootfs:
    case Op.MaskPath:
    case Op.ReadonlyPath:
      return `${name} ${s.path}`;
    case Op.Hook:
      return `${name} ${s.path} ${JSON.stringify(s.args)} ${JSON.stringify(s.env)} ${s.timeout}`;
    case Op.PivotRoot:
      return `${name} ${s.mode}`;
    case Op.Hostname:
    case Op.Domainname:
    case Op.SessionKeyring:
      return `${name} ${s.name}`;
    case Op.WriteProc:
      return `${name} ${s.path} ${JSON.stringify(s.content)}`;
    case Op.MaskAt:
    case Op.ReadonlyAt:
      return `${name} #${s.anchor} ${s.path}`;
    case Op.WriteProcAt:
      return `${name} #${s.anchor} ${s.path} ${JSON.stringify(s.content)}`;
    case Op.OpenTree:
      return `${name} ${s.path} ${s.recursive}`;
    case Op.DetachMount:
      return `${name} ${s.path}`;
    case Op.Rlimit:
      return `${name} ${s.resource} ${s.soft} ${s.hard}`;
    case Op.Personality:
      return `${name} ${s.persona}`;
    case Op.Seccomp:
      return `${name} ${s.bpf.length} ${s.flags}`;
    case Op.CapsBounding:
      return `${name} 0x${s.bounding.toString(16)}`;
    case Op.User:
      return `${name} ${s.uid}:${s.gid} [${s.additionalGids.join(',')}] setgroups=${s.setgroups}`;
    case Op.Caps:
      return `${name} e=0x${s.effective.toString(16)} p=0x${s.permitted.toString(16)} i=0x${s.inheritable.toString(16)} a=0x${s.ambient.toString(16)}`;
    case Op.Umask:
      return `${name} 0${s.mask.toString(8)}`;
    case Op.Chdir:
      return `${name} ${s.cwd}`;
    case Op.Resolve:
      return `${name} ${s.name} ${s.path}`;
    case Op.Exec:
      return `${name} ${JSON.stringify(s.argv)} ${JSON.stringify(s.env)} ${s.preserveFds}`;
    case Op.Console:
      return `${name} ${s.rows}x${s.cols} ${s.flags}`;
    case Op.BecomeRoot:
      return `${name} ${s.gid}`;
    default:
      return name;
  }
}

export function showAll(steps: readonly SourcedStep[]): string[] {
  return steps.map((s) => show(s.step));
}

export function withFields(steps: readonly SourcedStep[]): string[] {
  return steps.map((s) => `${s.field}${s.label === undefined ? '' : ` (${s.label})`}: ${show(s.step)}`);
}
