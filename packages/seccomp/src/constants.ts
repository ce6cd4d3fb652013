// libseccomp's values (seccomp.h, libseccomp 2.5) and the kernel's SECCOMP_FILTER_FLAG_* (linux/seccomp.h).

/** SCMP_ACT_* without an errno; ERRNO and TRACE carry one in their low 16 bits. */
export const ACTION = {
  SCMP_ACT_KILL: 0x00000000, // = KILL_THREAD, as in libseccomp (and runc)
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
} as const;
export type SupportedAction = keyof typeof ACTION;

/** The actions that take an errno (errnoRet / defaultErrnoRet), EPERM when none is given. */
export const ERRNO_ACTIONS: ReadonlySet<string> = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

/** enum scmp_compare */
export const OPERATOR = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} as const;

/** SCMP_ARCH_* that libseccomp 2.5 knows, with the name seccomp_arch_resolve_name takes. */
export const ARCH = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
} as const;

/** SECCOMP_FILTER_FLAG_* the Seccomp step passes to seccomp(2). */
export const FLAG = {
  SECCOMP_FILTER_FLAG_TSYNC: 1n,
  SECCOMP_FILTER_FLAG_LOG: 2n,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4n,
} as const;

/** seccomp(2)'s flag for a notify listener: added by the compiler when a rule uses SCMP_ACT_NOTIFY. */
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8n;

/** enum scmp_filter_attr */
export const ATTR = { CTL_NNP: 3, CTL_OPTIMIZE: 8 } as const;

/** __NR_SCMP_ERROR: seccomp_syscall_resolve_name's "no such syscall" */
export const NR_SCMP_ERROR = -1;

export const EPERM = 1;
