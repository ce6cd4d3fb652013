// Kernel constants (x86_64 / arm64, asm-generic) and the name tables of config.json.

/** mount(2) flags. */
export const MS = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  SYNCHRONOUS: 0x10n,
  REMOUNT: 0x20n,
  MANDLOCK: 0x40n,
  DIRSYNC: 0x80n,
  NOSYMFOLLOW: 0x100n,
  NOATIME: 0x400n,
  NODIRATIME: 0x800n,
  BIND: 0x1000n,
  MOVE: 0x2000n,
  REC: 0x4000n,
  SILENT: 0x8000n,
  POSIXACL: 0x10000n,
  UNBINDABLE: 0x20000n,
  PRIVATE: 0x40000n,
  SLAVE: 0x80000n,
  SHARED: 0x100000n,
  RELATIME: 0x200000n,
  I_VERSION: 0x800000n,
  STRICTATIME: 0x1000000n,
  LAZYTIME: 0x2000000n,
} as const;

/** mount_setattr(2) MOUNT_ATTR_* bits. */
export const MOUNT_ATTR = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  _ATIME: 0x70n,
  RELATIME: 0x0n,
  NOATIME: 0x10n,
  STRICTATIME: 0x20n,
  NODIRATIME: 0x80n,
  IDMAP: 0x100000n,
  NOSYMFOLLOW: 0x200000n,
} as const;

/** clone(2) namespace flags. */
export const CLONE = {
  NEWTIME: 0x80n,
  NEWNS: 0x20000n,
  NEWCGROUP: 0x2000000n,
  NEWUTS: 0x4000000n,
  NEWIPC: 0x8000000n,
  NEWUSER: 0x10000000n,
  NEWPID: 0x20000000n,
  NEWNET: 0x40000000n,
} as const;

/** The namespace types of config.json: clone flag and /proc/<pid>/ns/<name>. */
export const NAMESPACES: Readonly<Record<string, { flag: bigint; proc: string }>> = {
  user: { flag: CLONE.NEWUSER, proc: 'user' },
  ipc: { flag: CLONE.NEWIPC, proc: 'ipc' },
  uts: { flag: CLONE.NEWUTS, proc: 'uts' },
  network: { flag: CLONE.NEWNET, proc: 'net' },
  pid: { flag: CLONE.NEWPID, proc: 'pid' },
  mount: { flag: CLONE.NEWNS, proc: 'mnt' },
  cgroup: { flag: CLONE.NEWCGROUP, proc: 'cgroup' },
  time: { flag: CLONE.NEWTIME, proc: 'time' },
};
/** runc's configs.NamespaceTypes() order: the order namespaces are joined in (user always first). */
export const NAMESPACE_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'mount', 'cgroup', 'time'] as const;

/** Capability numbers (linux/capability.h), CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** setrlimit(2) resources. */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** personality(2) execution domains accepted by config.json (runc: PER_LINUX, PER_LINUX32). */
export const PERSONALITY_DOMAINS: Readonly<Record<string, bigint>> = { LINUX: 0x0n, LINUX32: 0x8n };

export const S_IFIFO = 0o010000n;
export const S_IFCHR = 0o020000n;
export const S_IFBLK = 0o060000n;

export const U64_MAX = (1n << 64n) - 1n;
