// The init program: the contract between the TypeScript compiler (@runts/init) and the C
// executor (runts-init). TypeScript decides every path, flag and order; C only performs the
// steps. See ../PROTOCOL.md for the wire format; this file is its single TypeScript definition.

/** Operation codes. Values are part of the wire format: never renumber. */
export const Op = {
  // ---- stage 0: done by the executor before it clones the container's init ----
  /** u64 flags (ExecFlags). At most once, first. */
  Config: 1,
  /** u64 nstype (CLONE_NEW*), str path: setns() into an existing namespace, in program order. */
  NsJoin: 2,
  /** u64 clone flags: the namespaces the init is cloned into (CLONE_NEWUSER|CLONE_NEWNS|...). */
  NsNew: 3,
  /** str content: written to /proc/<init>/uid_map by stage 0 before the init goes on. */
  UidMap: 4,
  /** str content: written to /proc/<init>/gid_map (after setgroups, below). */
  GidMap: 5,
  /** str "deny" | "allow": written to /proc/<init>/setgroups before gid_map. */
  Setgroups: 6,
  /** str path of newuidmap: stage 0 runs `<path> <pid> <UidMap's numbers...>` instead of writing
   *  uid_map itself (rootless, more than the user's own id). systemd block 100-109. */
  UidMapTool: 100,
  /** str path of newgidmap, as UidMapTool for the GidMap step. */
  GidMapTool: 101,
  /** str content: written to /proc/self/timens_offsets after unshare(CLONE_NEWTIME), before clone. */
  TimeOffsets: 7,
  /** str host path of exec.fifo: made (mkfifo 0622, an existing one is used) and opened
   *  O_PATH|O_CLOEXEC by stage 0, inherited by the init. */
  Fifo: 8,
  /** str host path of the console socket: connected by stage 0 (AF_UNIX, SOCK_STREAM). */
  ConsoleSocket: 9,

  // ---- init steps: done by the init, in order, after it receives Go ----
  /** str source, str target, str fstype, u64 flags, str data, u64 mflags (MountFlags),
   *  u64 propagation, u64 attrSet, u64 attrClr, u64 remountFlags. See PROTOCOL.md. */
  Mount: 20,
  /** str path (in rootfs), u64 mode (S_IF* | perm), u64 major, u64 minor, u64 uid, u64 gid,
   *  str hostPath ("" = none): mknodat; with hostPath, bind-mount it instead when mknod gives EPERM. */
  Mknod: 21,
  /** str target (the link's content), str path (in rootfs): symlinkat; EEXIST is not an error. */
  Symlink: 22,
  /** str path (in rootfs), u64 mode: mkdir -p inside the rootfs. */
  Mkdir: 23,
  /** str path, strlist args, strlist env, u64 timeoutSeconds (0 = none): fork+exec a hook in the
   *  init's current namespaces with the state JSON (from Go) on stdin; non-zero exit is an error. */
  Hook: 24,
  /** u64 mode (0 = pivot_root, 1 = MS_MOVE + chroot, 2 = chroot only: no mount namespace of its
   *  own): make the opened rootfs the root; chdir("/"). */
  PivotRoot: 25,
  /** str host path of the rootfs (already a mount point): opened O_PATH|O_DIRECTORY as the root fd
   *  that every "in rootfs" path is resolved against (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS). */
  Rootfs: 26,
  /** str path (container view, after pivot): a directory gets a read-only tmpfs, anything else a
   *  bind of /dev/null (checked to be char device 1:3); ENOENT is skipped. */
  MaskPath: 27,
  /** str path (container view, after pivot): recursive bind onto itself, then read-only; ENOENT skipped. */
  ReadonlyPath: 28,
  /** str hostname: sethostname. */
  Hostname: 29,
  /** str domainname: setdomainname. */
  Domainname: 30,
  /** str path, str content, u64 wflags (WriteFlags): write a file that must be on procfs. */
  WriteProc: 31,
  /** u64 resource (RLIMIT_*), u64 soft, u64 hard: setrlimit (values are uint64, ~0 = infinity). */
  Rlimit: 32,
  /** u64 persona: personality(). */
  Personality: 34,
  /** prctl(PR_SET_NO_NEW_PRIVS, 1). */
  NoNewPrivs: 35,
  /** bytes BPF program (struct sock_filter[]), u64 flags (SECCOMP_FILTER_FLAG_*): seccomp(SET_MODE_FILTER). */
  Seccomp: 36,
  /** u64 bounding: PR_CAPBSET_DROP every capability (0..CAP_LAST_CAP) not in the mask. */
  CapsBounding: 37,
  /** u64 uid, u64 gid, u64list additionalGids, u64 setgroups (1 = call setgroups(additionalGids)):
   *  PR_SET_KEEPCAPS 1, setgroups, setresgid, setresuid, PR_SET_KEEPCAPS 0. */
  User: 38,
  /** u64 effective, u64 permitted, u64 inheritable, u64 ambient: capset, then raise ambient. */
  Caps: 39,
  /** u64 umask. */
  Umask: 40,
  /** str cwd: chdir, then verify getcwd() is inside the container's root (CVE-2024-21626). */
  Chdir: 41,
  /** str name, str path ($PATH value, "" = default): resolve the executable now, like Go's
   *  exec.LookPath; failure is reported with message `exec: "<name>": executable file not found in $PATH`. */
  Resolve: 42,
  /** Report Ready to the parent, then (when a Fifo was given) open it for writing through
   *  /proc/self/fd/N, blocking until `start` opens it, and write "0". */
  WaitStart: 43,
  /** strlist argv, strlist env, u64 preserveFds: execve the path found by Resolve, and nothing
   *  else (every fd >= 3 + preserveFds is close-on-exec since start-up; the signal mask is empty
   *  since the init started). Must be last; only a Seccomp step may come between it and the rest. */
  Exec: 44,
  /** u64 rows, u64 cols: open a pty in the container's /dev/pts, send the master over the console
   *  socket (SCM_RIGHTS, payload "/dev/ptmx" as runc's), make the slave stdio and the controlling terminal,
   *  bind the slave onto /dev/console when mflags bit 0 is set (u64 flags). */
  Console: 45,
  /** str name ("" = anonymous): keyctl(KEYCTL_JOIN_SESSION_KEYRING). */
  SessionKeyring: 46,
  /** setsid(): new session (always before Console). */
  Setsid: 47,
  /** u64 gid: setresgid(gid) and setresuid(0) inside a user namespace so that mounts/mknod run as
   *  its root (after the maps are written); gid ~0 (2^64-1) changes only the uid, as runc's nsexec. */
  BecomeRoot: 48,
  /** u64 flags: unshare() in the init. Namespaces made after the user namespace's maps are
   *  written and the init became its root are owned by that root (ipc's mqueue, as with runc), and
   *  a cgroup namespace made after the parent put the init in its cgroup is rooted there. */
  Unshare: 49,
  /** Bring the loopback interface up (SIOCSIFFLAGS IFF_UP on "lo"), in a new network namespace,
   *  as runc's loopback strategy does. */
  LoopbackUp: 50,

  // ---- execsec block (60-69) ----
  /** u64 uid: runc's fixStdioPermissions, before the User step: fds 0-2 (a pty, pipes, files)
   *  fchown'd to uid, group kept; /dev/null and fds already owned by uid are skipped; EINVAL,
   *  EPERM and EROFS ignored. */
  ChownStdio: 60,
  /** Written 'X' on exec.fifo after WaitStart (no-op without one): every step but the filter and the
   *  execve is done. start takes an EOF after the "0" without it for an init that died (killed, a
   *  startContainer hook failed) before starting the process. After the startContainer hooks. */
  Launch: 61,
  // ---- mountsec block (70-79) ----
  /** u64 anchor, str path: MaskPath for a path beneath a mount made with MountFlags.Anchor (the
   *  container's procfs or sysfs), opened through that mount's fd (RESOLVE_BENEATH), so a rename of
   *  the rootfs's /proc cannot leave the procfs that was mounted unmasked. */
  MaskAt: 70,
  /** u64 anchor, str path: ReadonlyPath beneath an anchored mount. */
  ReadonlyAt: 71,
  /** u64 anchor, str path, str content, u64 wflags: WriteProc beneath an anchored procfs (no
   *  symlink, no other mount on the way, checked to be procfs). */
  WriteProcAt: 72,
  /** str host path, u64 recursive: done by stage 0 in the runtime's context (after NsJoin):
   *  open_tree(OPEN_TREE_CLONE [| AT_RECURSIVE]) of a bind source; the n-th OpenTree is the tree
   *  that a Mount with MountFlags.SourceFd and source "n" moves onto its target. */
  OpenTree: 73,
  /** str host path: make it rslave and detach it (MNT_DETACH), or cover it with a tmpfs when it
   *  cannot be unmounted (EINVAL/EPERM); ENOENT is skipped. runc's msMoveRoot for --no-pivot. */
  DetachMount: 74,
  // ---- ebpf block (80-89) ----
  /** Stage 0 (host context, before the clone), although numbered after the init steps:
   *  str cgroup v2 dir, bytes program (struct bpf_insn[]), str license, u64 flags
   *  (DeviceFilterFlags). Loads the program as BPF_PROG_TYPE_CGROUP_DEVICE, attaches it to the dir
   *  (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), then detaches the device programs that were attached
   *  before (the cgroup is never without one). */
  DeviceFilter: 80,
  // ---- cgroup block (90-99) ----
  /** Stage 0: str cgroup v2 dir, str home dir ("" = none). The init is cloned (join mode: forked)
   *  straight into the dir with clone3(CLONE_INTO_CGROUP): no migration, no wait on the cgroup
   *  lock. Without clone3 or its cgroup field (ENOSYS, E2BIG, EINVAL), stage 0 joins the dir itself,
   *  clones as before and then goes back to home when one is given. */
  CgroupClone: 90,
  /** Stage 0, pass 1 (before any setns): str cgroup v1 dir, str home dir ("" = none). Stage 0
   *  joins the dir by writing "0" to its tasks file (cgroup.procs where tasks cannot be opened):
   *  it has one thread, so that moves all of it, and the kernel skips the migration lock whose
   *  writer side waits for an RCU grace period. With a home, it goes back there the same way right
   *  after the clone (Wait mode). One step per hierarchy. */
  CgroupJoin: 91,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Op.Config flags. */
export const ExecFlags = {
  /** Stage 0 stays, waits for the init and exits with its status (code, or 128+signal), forwarding
   *  SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2/SIGWINCH to it. Without it stage 0 exits once it
   *  has reported the pid, so the init is reparented to the caller's subreaper. */
  Wait: 1n,
  /** Fork a child without clone flags for the init (exec mode: everything joined by NsJoin; with a
   *  joined pid namespace the fork is what enters it). */
  Join: 2n,
  /** With Wait, and process.terminal without a console socket (run/exec in the foreground): stage 0
   *  makes a socketpair that stands in for the console socket (so a ConsoleSocket step is an error),
   *  receives the master from the init's Console step and relays its own stdin -> master -> stdout
   *  (stdin raw while it is a terminal, restored at the end; the terminal's size given to the pty
   *  and copied again on SIGWINCH, which is then not forwarded; the terminal's EOF character typed
   *  when stdin ends) until the init exits and its output is drained. */
  ConsoleRelay: 4n,
  /** Stage 0 performs its ops, reports pid 0 and exits 0: no init is cloned (update's DeviceFilter). */
  NoInit: 1n << 16n,
} as const;

/** Op.Mount mflags: how the executor treats source and target. */
export const MountFlags = {
  /** target is a host path used as is (before pivot_root); otherwise it is resolved in the rootfs. */
  TargetHost: 1n,
  /** create the target as a directory (mkdir -p inside the rootfs) when missing. */
  MkdirTarget: 2n,
  /** create the target as an empty file (parents as directories) when missing. */
  MkfileTarget: 4n,
  /** source is resolved inside the rootfs too (bind of one rootfs path onto another). */
  SourceInRootfs: 8n,
  /** attrSet/attrClr apply to the whole tree (mount_setattr AT_RECURSIVE). */
  AttrRecursive: 16n,
  /** on remount: when the kernel refuses the flags (EPERM), retry keeping the locked flags the mount has (nosuid, nodev, noexec, ro, atime). */
  KeepLocked: 32n,
  /** skip the mount call itself (only propagation / setattr / remount on an existing mount). */
  NoMount: 64n,
  /** the source is the index (decimal string) of a tree cloned by an OpenTree step: it is moved
   *  onto the target (move_mount) instead of mounted by path. */
  SourceFd: 128n,
  /** when the target existed before the mount, give the new mount's root its former mode
   *  (runc does this for tmpfs: a tmpfs on /sys/fs/cgroup gets sysfs's 0555). */
  KeepMode: 256n,
  // ---- mountsec block (1n << 12n ..) ----
  /** runc's rule for procfs and sysfs: the target must be a directory, not a symlink (the last
   *  component is not followed): `filesystem "proc" must be mounted on ordinary directory`. */
  Ordinary: 1n << 12n,
  /** the opened target must not be on procfs (runc's checkProcMount, checked at mount time on what
   *  the destination resolved to). */
  NotProc: 1n << 13n,
  /** mount a new file system as a detached mount (fsopen/fsmount), move it onto the target and keep
   *  its fd: the n-th anchored mount is anchor n of MaskAt/ReadonlyAt/WriteProcAt. */
  Anchor: 1n << 14n,
  /** runc's tmpcopyup: the new file system (made detached) gets a copy of the target directory's
   *  contents (modes, owners, symlinks, nodes) before it is moved onto it. */
  CopyUp: 1n << 15n,
} as const;

/** Op.DeviceFilter flags. */
export const DeviceFilterFlags = {
  /** a failure to open the dir, load or attach is not an error: nothing is attached (a hybrid
   *  host, where the v1 devices cgroup enforces the same rules). */
  BestEffort: 1n,
} as const;

/** Op.WriteProc flags. */
export const WriteFlags = {
  /** a missing file is not an error. */
  IgnoreMissing: 1n,
} as const;

/** Messages on the socket between the parent (Node) and the executor. */
export const Msg = {
  /** parent -> executor: the program (records). */
  Program: 1,
  /** parent -> executor: go on; payload = state JSON given to the hooks the init runs. */
  Go: 2,
  /** executor -> parent: u32 pid of the init (host pid namespace). */
  Pid: 16,
  /** executor -> parent: every step up to WaitStart is done. */
  Ready: 17,
  /** executor -> parent: u32 step index (0xffffffff: none), i32 errno, str message. */
  Error: 18,
  /** executor -> parent (execsec block): u32 fd: the Seccomp step's listener (flag
   *  SECCOMP_FILTER_FLAG_NEW_LISTENER); the init waits for SeccompDone, then closes it. */
  SeccompFd: 60,
  /** parent -> executor: the listener has been taken (pidfd_getfd) and sent to the agent. */
  SeccompDone: 61,
} as const;

export type Step =
  | { op: typeof Op.Config; flags: bigint }
  | { op: typeof Op.NsJoin; nstype: bigint; path: string }
  | { op: typeof Op.NsNew; flags: bigint }
  | { op: typeof Op.UidMap; content: string }
  | { op: typeof Op.GidMap; content: string }
  | { op: typeof Op.Setgroups; value: 'allow' | 'deny' }
  | { op: typeof Op.UidMapTool; path: string }
  | { op: typeof Op.GidMapTool; path: string }
  | { op: typeof Op.TimeOffsets; content: string }
  | { op: typeof Op.Fifo; path: string }
  | { op: typeof Op.ConsoleSocket; path: string }
  | {
      op: typeof Op.Mount;
      source: string;
      target: string;
      fstype: string;
      flags: bigint;
      data: string;
      mflags: bigint;
      propagation: bigint;
      attrSet: bigint;
      attrClr: bigint;
      remountFlags: bigint;
    }
  | { op: typeof Op.Mknod; path: string; mode: bigint; major: bigint; minor: bigint; uid: bigint; gid: bigint; hostPath: string }
  | { op: typeof Op.Symlink; target: string; path: string }
  | { op: typeof Op.Mkdir; path: string; mode: bigint }
  | { op: typeof Op.Hook; path: string; args: string[]; env: string[]; timeout: bigint }
  | { op: typeof Op.PivotRoot; mode: bigint }
  | { op: typeof Op.Rootfs; path: string }
  | { op: typeof Op.MaskPath; path: string }
  | { op: typeof Op.ReadonlyPath; path: string }
  | { op: typeof Op.Hostname; name: string }
  | { op: typeof Op.Domainname; name: string }
  | { op: typeof Op.WriteProc; path: string; content: string; wflags: bigint }
  | { op: typeof Op.Rlimit; resource: bigint; soft: bigint; hard: bigint }
  | { op: typeof Op.Personality; persona: bigint }
  | { op: typeof Op.NoNewPrivs }
  | { op: typeof Op.Seccomp; bpf: Uint8Array; flags: bigint }
  | { op: typeof Op.CapsBounding; bounding: bigint }
  | { op: typeof Op.User; uid: bigint; gid: bigint; additionalGids: bigint[]; setgroups: bigint }
  | { op: typeof Op.Caps; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
  | { op: typeof Op.Umask; mask: bigint }
  | { op: typeof Op.Chdir; cwd: string }
  | { op: typeof Op.Resolve; name: string; path: string }
  | { op: typeof Op.WaitStart }
  | { op: typeof Op.Exec; argv: string[]; env: string[]; preserveFds: bigint }
  | { op: typeof Op.Console; rows: bigint; cols: bigint; flags: bigint }
  | { op: typeof Op.SessionKeyring; name: string }
  | { op: typeof Op.Setsid }
  | { op: typeof Op.BecomeRoot; gid: bigint }
  | { op: typeof Op.Unshare; flags: bigint }
  | { op: typeof Op.LoopbackUp }
  | { op: typeof Op.ChownStdio; uid: bigint }
  | { op: typeof Op.Launch }
  | { op: typeof Op.MaskAt; anchor: bigint; path: string }
  | { op: typeof Op.ReadonlyAt; anchor: bigint; path: string }
  | { op: typeof Op.WriteProcAt; anchor: bigint; path: string; content: string; wflags: bigint }
  | { op: typeof Op.OpenTree; path: string; recursive: bigint }
  | { op: typeof Op.DetachMount; path: string }
  | { op: typeof Op.DeviceFilter; dir: string; program: Uint8Array; license: string; flags: bigint }
  | { op: typeof Op.CgroupClone; dir: string; home: string }
  | { op: typeof Op.CgroupJoin; dir: string; home: string };

/** A step with the config.json field it came from, so an error can name it:
 *  `mounts[2] (/data): mount: no such file or directory`. */
export interface SourcedStep {
  step: Step;
  /** JSON path of the field, e.g. "mounts[2]", "linux.maskedPaths[0]", "process.args". */
  field: string;
  /** A short human label shown in parentheses, e.g. the mount destination. */
  label?: string;
}

/** Argument kinds per op, in wire order. 'u64' is 8 bytes LE; 'str' is u32 length + bytes + NUL;
 *  'strlist' is u32 count + strs; 'u64list' is u32 count + u64s; 'bytes' is u32 length + bytes. */
export type ArgKind = 'u64' | 'str' | 'strlist' | 'u64list' | 'bytes';

export const Signatures: { [K in Step['op']]: ReadonlyArray<readonly [string, ArgKind]> } = {
  [Op.Config]: [['flags', 'u64']],
  [Op.NsJoin]: [['nstype', 'u64'], ['path', 'str']],
  [Op.NsNew]: [['flags', 'u64']],
  [Op.UidMap]: [['content', 'str']],
  [Op.GidMap]: [['content', 'str']],
  [Op.Setgroups]: [['value', 'str']],
  [Op.UidMapTool]: [['path', 'str']],
  [Op.GidMapTool]: [['path', 'str']],
  [Op.TimeOffsets]: [['content', 'str']],
  [Op.Fifo]: [['path', 'str']],
  [Op.ConsoleSocket]: [['path', 'str']],
  [Op.Mount]: [
    ['source', 'str'],
    ['target', 'str'],
    ['fstype', 'str'],
    ['flags', 'u64'],
    ['data', 'str'],
    ['mflags', 'u64'],
    ['propagation', 'u64'],
    ['attrSet', 'u64'],
    ['attrClr', 'u64'],
    ['remountFlags', 'u64'],
  ],
  [Op.Mknod]: [
    ['path', 'str'],
    ['mode', 'u64'],
    ['major', 'u64'],
    ['minor', 'u64'],
    ['uid', 'u64'],
    ['gid', 'u64'],
    ['hostPath', 'str'],
  ],
  [Op.Symlink]: [['target', 'str'], ['path', 'str']],
  [Op.Mkdir]: [['path', 'str'], ['mode', 'u64']],
  [Op.Hook]: [['path', 'str'], ['args', 'strlist'], ['env', 'strlist'], ['timeout', 'u64']],
  [Op.PivotRoot]: [['mode', 'u64']],
  [Op.Rootfs]: [['path', 'str']],
  [Op.MaskPath]: [['path', 'str']],
  [Op.ReadonlyPath]: [['path', 'str']],
  [Op.Hostname]: [['name', 'str']],
  [Op.Domainname]: [['name', 'str']],
  [Op.WriteProc]: [['path', 'str'], ['content', 'str'], ['wflags', 'u64']],
  [Op.Rlimit]: [['resource', 'u64'], ['soft', 'u64'], ['hard', 'u64']],
  [Op.Personality]: [['persona', 'u64']],
  [Op.NoNewPrivs]: [],
  [Op.Seccomp]: [['bpf', 'bytes'], ['flags', 'u64']],
  [Op.CapsBounding]: [['bounding', 'u64']],
  [Op.User]: [['uid', 'u64'], ['gid', 'u64'], ['additionalGids', 'u64list'], ['setgroups', 'u64']],
  [Op.Caps]: [['effective', 'u64'], ['permitted', 'u64'], ['inheritable', 'u64'], ['ambient', 'u64']],
  [Op.Umask]: [['mask', 'u64']],
  [Op.Chdir]: [['cwd', 'str']],
  [Op.Resolve]: [['name', 'str'], ['path', 'str']],
  [Op.WaitStart]: [],
  [Op.Exec]: [['argv', 'strlist'], ['env', 'strlist'], ['preserveFds', 'u64']],
  [Op.Console]: [['rows', 'u64'], ['cols', 'u64'], ['flags', 'u64']],
  [Op.SessionKeyring]: [['name', 'str']],
  [Op.Setsid]: [],
  [Op.BecomeRoot]: [['gid', 'u64']],
  [Op.Unshare]: [['flags', 'u64']],
  [Op.LoopbackUp]: [],
  [Op.ChownStdio]: [['uid', 'u64']],
  [Op.Launch]: [],
  [Op.MaskAt]: [['anchor', 'u64'], ['path', 'str']],
  [Op.ReadonlyAt]: [['anchor', 'u64'], ['path', 'str']],
  [Op.WriteProcAt]: [['anchor', 'u64'], ['path', 'str'], ['content', 'str'], ['wflags', 'u64']],
  [Op.OpenTree]: [['path', 'str'], ['recursive', 'u64']],
  [Op.DetachMount]: [['path', 'str']],
  [Op.DeviceFilter]: [['dir', 'str'], ['program', 'bytes'], ['license', 'str'], ['flags', 'u64']],
  [Op.CgroupClone]: [['dir', 'str'], ['home', 'str']],
  [Op.CgroupJoin]: [['dir', 'str'], ['home', 'str']],
};
