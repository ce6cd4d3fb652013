/* runts-init: the native executor of the init program. See ../PROTOCOL.md and program.ts. */
#ifndef RUNTS_INIT_H
#define RUNTS_INIT_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* Messages (program.ts Msg). */
enum { MSG_PROGRAM = 1, MSG_GO = 2, MSG_PID = 16, MSG_READY = 17, MSG_ERROR = 18,
	/* execsec block: the seccomp notify listener */
	MSG_SECCOMP_FD = 60, MSG_SECCOMP_DONE = 61 };

/* Operation codes (program.ts Op). Never renumber. */
enum {
	OP_CONFIG = 1, OP_NS_JOIN = 2, OP_NS_NEW = 3, OP_UID_MAP = 4, OP_GID_MAP = 5,
	OP_SETGROUPS = 6, OP_TIME_OFFSETS = 7, OP_FIFO = 8, OP_CONSOLE_SOCKET = 9,
	OP_MOUNT = 20, OP_MKNOD = 21, OP_SYMLINK = 22, OP_MKDIR = 23, OP_HOOK = 24,
	OP_PIVOT_ROOT = 25, OP_ROOTFS = 26, OP_MASK_PATH = 27, OP_READONLY_PATH = 28,
	OP_HOSTNAME = 29, OP_DOMAINNAME = 30, OP_WRITE_PROC = 31, OP_RLIMIT = 32,
	OP_PERSONALITY = 34, OP_NO_NEW_PRIVS = 35, OP_SECCOMP = 36, OP_CAPS_BOUNDING = 37,
	OP_USER = 38, OP_CAPS = 39, OP_UMASK = 40, OP_CHDIR = 41, OP_RESOLVE = 42,
	OP_WAIT_START = 43, OP_EXEC = 44, OP_CONSOLE = 45, OP_SESSION_KEYRING = 46,
	OP_SETSID = 47, OP_BECOME_ROOT = 48, OP_UNSHARE = 49, OP_LOOPBACK_UP = 50,
	/* execsec block (60-69) */
	OP_CHOWN_STDIO = 60, OP_LAUNCH = 61,
	/* mountsec block (70-79) */
	OP_MASK_AT = 70, OP_READONLY_AT = 71, OP_WRITE_PROC_AT = 72, OP_OPEN_TREE = 73,
	OP_DETACH_MOUNT = 74,
	/* ebpf block (80-89): stage-0 ops numbered above OP_FIRST_INIT */
	OP_DEVICE_FILTER = 80,
	/* cgroup block (90-99): stage-0 ops */
	OP_CGROUP_CLONE = 90, OP_CGROUP_JOIN = 91,
	/* systemd block (100-109): stage-0 ops numbered above the init's */
	OP_UID_MAP_TOOL = 100, OP_GID_MAP_TOOL = 101,
	OP_MAX = 101,
	OP_FIRST_INIT = 20, /* ops below this are done by stage 0, and those is_stage0_op() names */
};

/* ExecFlags, MountFlags, WriteFlags (program.ts). */
#define EXEC_WAIT 1u
#define EXEC_JOIN 2u
#define EXEC_CONSOLE_RELAY 4u
/* ebpf block: stage 0 performs its ops and exits, no init (e.g. update's DeviceFilter) */
#define EXEC_NO_INIT 65536u
#define MF_TARGET_HOST 1u
#define MF_MKDIR_TARGET 2u
#define MF_MKFILE_TARGET 4u
#define MF_SOURCE_IN_ROOTFS 8u
#define MF_ATTR_RECURSIVE 16u
#define MF_KEEP_LOCKED 32u
#define MF_NO_MOUNT 64u
#define MF_SOURCE_FD 128u
#define MF_KEEP_MODE 256u
/* mountsec block (1 << 12 ..) */
#define MF_ORDINARY 4096u
#define MF_NOT_PROC 8192u
#define MF_ANCHOR 16384u
#define MF_COPY_UP 32768u
#define WF_IGNORE_MISSING 1u

#define MAX_MSG (256u << 20) /* the cap on any message, the program included (index.ts MAX_PROGRAM_SIZE) */
#define MAX_ARGS 10
#define NO_STEP 0xffffffffu

/* One decoded argument. Strings point into the message buffer (NUL-terminated, checked). */
struct arg {
	uint64_t u;         /* u64 */
	const char *s;      /* str */
	uint32_t n;         /* str: length; strlist/u64list: count; bytes: length */
	char **list;        /* strlist: count + 1 entries, NULL-terminated */
	uint64_t *u64s;     /* u64list */
	const unsigned char *bytes;
};

struct step {
	uint16_t op;
	uint32_t index;
	struct arg a[MAX_ARGS];
};

struct program {
	struct step *steps;
	uint32_t count;
};

/* Process-wide state. The executor is single-threaded. */
struct ctx {
	int sync_fd;
	int root_fd;        /* "in rootfs" paths resolve against this; -1 until needed */
	int fifo_fd;        /* O_PATH fd of exec.fifo, or -1 */
	int fifo_wfd;       /* the init's write end of exec.fifo after WaitStart (close-on-exec), or -1:
	                     * a failure after Ready is reported on it to start (PROTOCOL.md) */
	int console_fd;     /* connected console socket, or -1 */
	int relay_fd;       /* stage 0, ExecFlags.ConsoleRelay: its end of the console socketpair, or -1 */
	unsigned short relay_rows, relay_cols; /* ConsoleRelay: the size of stage 0's terminal (0: none) */
	pid_t child;        /* stage 0: the init, once cloned */
	int stage0;
	int ready_sent;
	uint32_t step;      /* index of the step being performed (for errors) */
	uint64_t exec_flags;
	char *state;        /* state JSON from Go, for hooks */
	uint32_t state_len;
	char *state_after;  /* after a NUL in Go's payload: the state for hooks after WaitStart */
	uint32_t state_after_len;
	char *exe;          /* path found by Resolve */
	int proc_fd;        /* the runtime's procfs, opened before any container mount: every
	                       /proc/self/fd/N goes through it, never through the container's /proc */
	int anchors[64];    /* MountFlags.Anchor: fds of the mounts made so (the procfs/sysfs roots) */
	uint32_t nanchors;
	int trees[256];     /* OpenTree (stage 0): detached clones of host bind sources */
	uint32_t ntrees;
};
extern struct ctx g;

/* proto.c */
const char *op_signature(unsigned op);
int read_full(int fd, void *buf, size_t n);
int write_full(int fd, const void *buf, size_t n);
int recv_msg(int fd, uint32_t *type, unsigned char **payload, uint32_t *len);
int send_msg(int fd, uint32_t type, const void *payload, uint32_t len);
ssize_t send_fd(int sock, int fd, const void *data, size_t len);
int parse_program(unsigned char *buf, uint32_t len, struct program *p, uint32_t *bad);
void send_error(uint32_t step, int err, const char *msg);
__attribute__((noreturn, format(printf, 2, 3))) void die(int err, const char *fmt, ...);

/* paths.c */
enum { MK_NONE = 0, MK_DIR = 1, MK_FILE = 2 };
int root_fd(void);
int open_in_root(const char *path, int oflags, int create, mode_t mode);
const char *fdpath(int fd, char *buf, size_t n);
int xmount(const char *src, const char *tgt, const char *type, unsigned long flags, const void *data);
int reopen_fd(int fd, int flags);
void open_tree_source(const struct step *s);
void op_mask_at(const struct step *s);
void op_readonly_at(const struct step *s);
void op_write_proc_at(const struct step *s);
void op_detach_mount(const struct step *s);
void op_mount(const struct step *s);
void op_mknod(const struct step *s);
void op_symlink(const struct step *s);
void op_mkdir(const struct step *s);
void op_rootfs(const struct step *s);
void op_pivot_root(const struct step *s);
void op_mask_path(const struct step *s);
void op_readonly_path(const struct step *s);

/* console.c */
void op_console(const struct step *s);
void relay_prepare(void);
__attribute__((noreturn)) void relay_console(void);

/* listener.c */
int send_listener_main(int argc, char **argv);
/* devfilter.c */
void op_device_filter(const struct step *s);
/* stage-0 ops: below OP_FIRST_INIT, mountsec's OpenTree, the ebpf block's DeviceFilter, the
 * systemd block's map tools and the cgroup block's CgroupClone and CgroupJoin */
static inline int is_stage0_op(unsigned op)
{
	return op < OP_FIRST_INIT || op == OP_OPEN_TREE || op == OP_DEVICE_FILTER || op == OP_UID_MAP_TOOL ||
	       op == OP_GID_MAP_TOOL || op == OP_CGROUP_CLONE || op == OP_CGROUP_JOIN;
}

/* steps.c */
__attribute__((noreturn)) void run_init(const struct program *p);

#endif
