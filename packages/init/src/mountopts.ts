// runc's mount option table (libcontainer/specconv parseMountOptions), plus the recursive
// mount_setattr options (rro, rnosuid, ...).
import { MOUNT_ATTR, MS } from './constants.ts';
import { invalid } from './errors.ts';

export interface ParsedMountOptions {
  /** MS_* flags to set */
  flags: bigint;
  /** MS_* flags explicitly cleared (rw, suid, dev, exec, ...) */
  clearedFlags: bigint;
  /** propagation changes, in order (MS_PRIVATE|MS_REC, ...) */
  propagation: bigint[];
  /** mount_setattr(AT_RECURSIVE) */
  attrSet: bigint;
  attrClr: bigint;
  /** filesystem-specific options, in order, for mount(2)'s data */
  data: string[];
  /** tmpcopyup (runc's EXT_COPYUP): a tmpfs gets a copy of the directory it covers */
  copyUp: boolean;
}

const FLAGS: Readonly<Record<string, { clear: boolean; flag: bigint }>> = {
  acl: { clear: false, flag: MS.POSIXACL },
  async: { clear: true, flag: MS.SYNCHRONOUS },
  atime: { clear: true, flag: MS.NOATIME },
  bind: { clear: false, flag: MS.BIND },
  defaults: { clear: false, flag: 0n },
  dev: { clear: true, flag: MS.NODEV },
  diratime: { clear: true, flag: MS.NODIRATIME },
  dirsync: { clear: false, flag: MS.DIRSYNC },
  exec: { clear: true, flag: MS.NOEXEC },
  iversion: { clear: false, flag: MS.I_VERSION },
  lazytime: { clear: false, flag: MS.LAZYTIME },
  loud: { clear: true, flag: MS.SILENT },
  mand: { clear: false, flag: MS.MANDLOCK },
  noacl: { clear: true, flag: MS.POSIXACL },
  noatime: { clear: false, flag: MS.NOATIME },
  nodev: { clear: false, flag: MS.NODEV },
  nodiratime: { clear: false, flag: MS.NODIRATIME },
  noexec: { clear: false, flag: MS.NOEXEC },
  noiversion: { clear: true, flag: MS.I_VERSION },
  nolazytime: { clear: true, flag: MS.LAZYTIME },
  nomand: { clear: true, flag: MS.MANDLOCK },
  norelatime: { clear: true, flag: MS.RELATIME },
  nostrictatime: { clear: true, flag: MS.STRICTATIME },
  nosuid: { clear: false, flag: MS.NOSUID },
  nosymfollow: { clear: false, flag: MS.NOSYMFOLLOW },
  rbind: { clear: false, flag: MS.BIND | MS.REC },
  relatime: { clear: false, flag: MS.RELATIME },
  remount: { clear: false, flag: MS.REMOUNT },
  ro: { clear: false, flag: MS.RDONLY },
  rw: { clear: true, flag: MS.RDONLY },
  silent: { clear: false, flag: MS.SILENT },
  strictatime: { clear: false, flag: MS.STRICTATIME },
  suid: { clear: true, flag: MS.NOSUID },
  symfollow: { clear: true, flag: MS.NOSYMFOLLOW },
  sync: { clear: false, flag: MS.SYNCHRONOUS },
};

export const PROPAGATION: Readonly<Record<string, bigint>> = {
  private: MS.PRIVATE,
  shared: MS.SHARED,
  slave: MS.SLAVE,
  unbindable: MS.UNBINDABLE,
  rprivate: MS.PRIVATE | MS.REC,
  rshared: MS.SHARED | MS.REC,
  rslave: MS.SLAVE | MS.REC,
  runbindable: MS.UNBINDABLE | MS.REC,
};

const REC_ATTRS: Readonly<Record<string, { clear: boolean; flag: bigint }>> = {
  rro: { clear: false, flag: MOUNT_ATTR.RDONLY },
  rrw: { clear: true, flag: MOUNT_ATTR.RDONLY },
  rnosuid: { clear: false, flag: MOUNT_ATTR.NOSUID },
  rsuid: { clear: true, flag: MOUNT_ATTR.NOSUID },
  rnodev: { clear: false, flag: MOUNT_ATTR.NODEV },
  rdev: { clear: true, flag: MOUNT_ATTR.NODEV },
  rnoexec: { clear: false, flag: MOUNT_ATTR.NOEXEC },
  rexec: { clear: true, flag: MOUNT_ATTR.NOEXEC },
  rnodiratime: { clear: false, flag: MOUNT_ATTR.NODIRATIME },
  rdiratime: { clear: true, flag: MOUNT_ATTR.NODIRATIME },
  rrelatime: { clear: false, flag: MOUNT_ATTR.RELATIME },
  rnorelatime: { clear: true, flag: MOUNT_ATTR.RELATIME },
  rnoatime: { clear: false, flag: MOUNT_ATTR.NOATIME },
  ratime: { clear: true, flag: MOUNT_ATTR.NOATIME },
  rstrictatime: { clear: false, flag: MOUNT_ATTR.STRICTATIME },
  rnostrictatime: { clear: true, flag: MOUNT_ATTR.STRICTATIME },
  rnosymfollow: { clear: false, flag: MOUNT_ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: true, flag: MOUNT_ATTR.NOSYMFOLLOW },
};

/** Every mount option runts understands, sorted (features.md `mountOptions`). */
export function mountOptionNames(): string[] {
  return [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(REC_ATTRS)].sort();
}

/** Options that need work the init program cannot express. */
const REJECTED: Readonly<Record<string, string>> = {
  idmap: 'idmapped mounts are not supported',
  ridmap: 'idmapped mounts are not supported',
};

/** Parses `options` of mounts[i] the way runc does; `field` is e.g. "mounts[2]". */
export function parseMountOptions(options: readonly string[] | undefined, field: string): ParsedMountOptions {
  const r: ParsedMountOptions = { flags: 0n, clearedFlags: 0n, propagation: [], attrSet: 0n, attrClr: 0n, data: [], copyUp: false };
  (options ?? []).forEach((o, i) => {
    const f = `${field}.options[${i}]`;
    if (typeof o !== 'string') throw invalid(f, 'must be a string');
    if (o === '') throw invalid(f, 'empty mount option');
    if (o.includes('\0')) throw invalid(f, 'mount option contains a NUL byte');
    const rej = REJECTED[o];
    if (rej !== undefined) throw invalid(f, `${JSON.stringify(o)}: ${rej}`);
    if (o === 'tmpcopyup') {
      r.copyUp = true;
      return;
    }
    const fl = FLAGS[o];
    if (fl !== undefined) {
      if (fl.clear) {
        r.flags &= ~fl.flag;
        r.clearedFlags |= fl.flag;
      } else {
        r.flags |= fl.flag;
        r.clearedFlags &= ~fl.flag;
      }
      return;
    }
    const pg = PROPAGATION[o];
    if (pg !== undefined) {
      r.propagation.push(pg);
      return;
    }
    const ra = REC_ATTRS[o];
    if (ra !== undefined) {
      if (ra.clear) {
        r.attrSet &= ~ra.flag;
        r.attrClr |= ra.flag;
      } else {
        r.attrSet |= ra.flag;
        r.attrClr &= ~ra.flag;
        // mount_setattr(2): an access-time mode in attr_set needs MOUNT_ATTR__ATIME in attr_clr.
        if ((ra.flag & MOUNT_ATTR._ATIME) === ra.flag) r.attrClr |= MOUNT_ATTR._ATIME;
      }
      return;
    }
    r.data.push(o);
  });
  return r;
}
