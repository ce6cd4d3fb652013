/* runts-init <sync-fd>: stage 0. Re-executes from a sealed memfd, reads the program, performs
 * the stage-0 ops, clones (or forks) the init, writes its id maps and reports its pid. */
#include "runts-init.h"
#include "sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define RUNTS_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args up to .cgroup (CLONE_ARGS_SIZE_VER2, Linux 5.7) */
struct runts_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* Writes "0" (this process, or with a tasks file this thread) to the open cgroup file. */
static int write_zero(int fd)
{
	ssize_t n = write(fd, "0", 1);
	return n == 1 ? 0 : -1;
}

/* Writes "0" (this process) to cgroup.procs in the dir fd (opened in pass 1, before any setns:
 * after an NsJoin of a mount namespace, a host path would resolve in the container's): joins it. */
static int join_cgroup_fd(int dirfd)
{
	int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = write_zero(fd);
	int e = errno;
	close(fd);
	return r < 0 ? (errno = e, -1) : 0;
}

/* The file that moves this process into a cgroup v1 dir (CgroupJoin), opened for writing: its
 * tasks file, where "0" moves the calling thread only. Stage 0 has no other thread, so that is the
 * whole process, and the kernel can skip cgroup_threadgroup_rwsem, whose writer side (cgroup.procs,
 * or any pid but 0) waits for an RCU grace period when it was idle (5-25 ms here; measured on
 * Linux 6.18: a kernel without that shortcut takes the lock as for cgroup.procs). cgroup.procs
 * where tasks cannot be opened (a delegated dir that chowned only cgroup.procs). Opened in pass 1,
 * before any setns, like every host path. */
static int open_cgroup_v1(const char *dir)
{
	int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	int fd = openat(d, "tasks", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = openat(d, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	int e = errno;
	close(d);
	return fd >= 0 ? fd : (errno = e, -1);
}

/* The init cloned into the new namespaces, or (join mode) the exec'd process forked. */
static pid_t clone_init(uint64_t nsflags, int join)
{
	return join ? fork() : (pid_t)syscall(SYS_clone, (unsigned long)nsflags | SIGCHLD, 0, 0, 0, 0);
}

static pid_t clone_into_cgroup(int cgfd, int homefd, const struct step *s, uint64_t nsflags, int join)
{
	struct runts_clone_args args = { .flags = nsflags | RUNTS_CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd };
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
		return pid;
	if (join_cgroup_fd(cgfd) < 0)
		die(errno, "join cgroup %s", s->a[0].s);
	pid = clone_init(nsflags, join);
	if (pid > 0 && homefd >= 0 && join_cgroup_fd(homefd) < 0)
		die(errno, "return to cgroup %s", s->a[1].s);
	return pid;
}

extern char **environ;

/* CVE-2019-5736: never run from a file the container could reach through /proc/<pid>/exe and
 * write. Unless /proc/self/exe already is a sealed memfd, copy it into one and re-exec. */
static void ensure_sealed(char **argv)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0) {
		dprintf(2, "runts-init: open /proc/self/exe: %s\n", strerror(errno));
		_exit(1);
	}
	int seals = fcntl(exe, F_GET_SEALS);
	if (seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS) {
		close(exe);
		return;
	}
	int mfd = sealed_memfd(exe, NULL, 0);
	if (mfd >= 0)
		fexecve(mfd, argv, environ);
	dprintf(2, "runts-init: sealed copy of the executor: %s\n", strerror(errno));
	_exit(1);
}

static int write_file(const char *path, const char *content, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int r = write_full(fd, content, len);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void forward(int sig)
{
	if (g.child > 0)
		kill(g.child, sig);
}

/* Stays with the init: relays signals, exits with its status. */
static __attribute__((noreturn)) void wait_init(void)
{
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		int status;
		pid_t r = waitpid(g.child, &status, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			_exit(1);
		if (WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		if (WIFSIGNALED(status))
			_exit(128 + WTERMSIG(status));
	}
}

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == 0 || *end != 0 || v < 0 || v > 1 << 20)
		return -1;
	return (int)v;
}

/* newuidmap/newgidmap <pid> <inside> <outside> <count>...: the map's lines as arguments
 * (systemd block: rootless multi-range maps, as runc's try_mapping_tool). */
static void map_with_tool(const char *tool, pid_t pid, const char *map)
{
	char *copy = strdup(map);
	char pidstr[16];
	char *argv[3 + 3 * 340];
	int n = 0;
	if (!copy)
		die(ENOMEM, "alloc");
	snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
	argv[n++] = (char *)tool;
	argv[n++] = pidstr;
	for (char *save = NULL, *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		if (n >= (int)(sizeof argv / sizeof argv[0]) - 1)
			die(E2BIG, "%s: too many mappings", tool);
		argv[n++] = t;
	}
	argv[n] = NULL;
	pid_t c = fork();
	if (c < 0)
		die(errno, "fork %s", tool);
	if (c == 0) {
		execv(tool, argv);
		dprintf(2, "runts-init: exec %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	int st = 0;
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			die(errno, "wait %s", tool);
	free(copy);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(EPERM, "%s %d: exit status %d", tool, (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Every signal at its default disposition, as uv_spawn leaves a child: dispositions that are
 * SIG_IGN survive exec, and would reach the container's process. glibc's posix_spawn (runts-spawn)
 * sets its own internal signals (32, 33) to SIG_IGN in the child, and its sigaction() refuses to
 * touch them: hence the raw system call (handler SIG_DFL first, everything else zero, the same
 * layout on x86-64 and arm64). */
static void default_signals(void)
{
	struct {
		void *handler;
		unsigned long flags, restorer, mask;
	} dfl = { 0 };
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "seccomp-listener") == 0)
		return send_listener_main(argc, argv);
	if (argc != 2 || (g.sync_fd = parse_fd(argv[1])) < 3) {
		dprintf(2, "usage: runts-init <sync-fd>  (the executor of runts; see PROTOCOL.md)\n");
		return 2;
	}
	default_signals();
	pid_t parent = getppid();
	ensure_sealed(argv);
	/* one name on every kernel: run as /proc/<pid>/fd/<n> (the sealed memfd runts-spawn.node
	 * makes) the kernel names the process <n>; after fexecve, "memfd:runts-ini" (Linux 6.18 here)
	 * or the fd's number (older kernels). The init keeps the name until its execve. */
	prctl(PR_SET_NAME, "runts-init", 0, 0, 0);
	g.stage0 = 1;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The caller dying takes stage 0 with it; the init notices the socket closing. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1);
	int fl = fcntl(g.sync_fd, F_GETFL);
	if (fl < 0) {
		dprintf(2, "runts-init: sync fd %d: %s\n", g.sync_fd, strerror(errno));
		return 1;
	}
	fcntl(g.sync_fd, F_SETFL, fl & ~O_NONBLOCK);

	uint32_t type, len;
	unsigned char *buf;
	int r = recv_msg(g.sync_fd, &type, &buf, &len);
	if (r == 0)
		return 0; /* the parent went away: nothing to do */
	g.step = NO_STEP;
	if (r < 0)
		die(errno, "read program");
	if (type != MSG_PROGRAM)
		die(EINVAL, "expected program message, got %u", type);
	struct program prog;
	uint32_t bad;
	if (parse_program(buf, len, &prog, &bad) < 0) {
		g.step = bad;
		die(EINVAL, "invalid program record");
	}

	/* Every fd but stdio and the preserved ones is close-on-exec from here on (sync fd too). */
	uint64_t preserve = 0;
	for (uint32_t i = 0; i < prog.count; i++)
		if (prog.steps[i].op == OP_EXEC)
			preserve = prog.steps[i].a[2].u;
	if (preserve > (uint64_t)g.sync_fd - 3)
		preserve = (uint64_t)g.sync_fd - 3;
	if (close_range(3 + (unsigned)preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die(errno, "close_range");

	/* Pass 1: open every host path (namespace files, exec.fifo, console socket) before any setns,
	 * so that joining a mount namespace cannot change what they resolve to. */
	uint64_t nsflags = 0;
	const struct step *uid_map = NULL, *gid_map = NULL, *setgroups = NULL, *nsnew = NULL;
	const struct step *uid_tool = NULL, *gid_tool = NULL, *cgstep = NULL;
	int cgfd = -1, cghome = -1;
	int *nsfd = calloc(prog.count + 1, sizeof(int));
	/* CgroupJoin's home files, by step: where a waiting stage 0 goes back to after the clone */
	int *v1home = malloc((prog.count + 1) * sizeof(int));
	if (!nsfd || !v1home)
		die(ENOMEM, "alloc");
	for (uint32_t i = 0; i <= prog.count; i++)
		v1home[i] = -1;
	for (uint32_t i = 0; i < prog.count; i++) {
		const struct step *s = &prog.steps[i];
		if (!is_stage0_op(s->op))
			continue;
		g.step = s->index;
		switch (s->op) {
		case OP_OPEN_TREE: /* pass 2, after the joins */
			break;
		case OP_UID_MAP_TOOL:
			uid_tool = s;
			break;
		case OP_GID_MAP_TOOL:
			gid_tool = s;
			break;
		case OP_CONFIG:
			if (i != 0)
				die(EINVAL, "config must be the first step");
			g.exec_flags = s->a[0].u;
			break;
		case OP_NS_JOIN:
			nsfd[i] = open(s->a[1].s, O_RDONLY | O_CLOEXEC);
			if (nsfd[i] < 0)
				die(errno, "open %s", s->a[1].s);
			break;
		case OP_NS_NEW:
			nsflags |= s->a[0].u;
			nsnew = s;
			break;
		case OP_UID_MAP:
			uid_map = s;
			break;
		case OP_GID_MAP:
			gid_map = s;
			break;
		case OP_SETGROUPS:
			setgroups = s;
			break;
		case OP_TIME_OFFSETS:
			break;
		case OP_DEVICE_FILTER:
			op_device_filter(s);
			break;
		case OP_CGROUP_CLONE:
			if (cgfd >= 0)
				close(cgfd);
			cgfd = open(s->a[0].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (cgfd < 0)
				die(errno, "open %s", s->a[0].s);
			if (cghome >= 0)
				close(cghome);
			cghome = s->a[1].n > 0 ? open(s->a[1].s, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
			if (s->a[1].n > 0 && cghome < 0)
				die(errno, "open %s", s->a[1].s);
			cgstep = s;
			break;
		case OP_CGROUP_JOIN: {
			int fd = open_cgroup_v1(s->a[0].s);
			if (fd < 0)
				die(errno, "open %s", s->a[0].s);
			if (write_zero(fd) < 0)
				die(errno, "join cgroup %s", s->a[0].s);
			close(fd);
			if (s->a[1].n > 0) {
				v1home[i] = open_cgroup_v1(s->a[1].s);
				if (v1home[i] < 0)
					die(errno, "open %s", s->a[1].s);
			}
			break;
		}
		case OP_FIFO:
			if (g.fifo_fd >= 0)
				close(g.fifo_fd);
			/* The parent has no mkfifo (Node): stage 0 makes it, 0622 like runc. */
			mode_t um = umask(0);
			int fr = mkfifo(s->a[0].s, 0622);
			umask(um);
			if (fr < 0 && errno != EEXIST)
				die(errno, "mkfifo %s", s->a[0].s);
			g.fifo_fd = open(s->a[0].s, O_PATH | O_CLOEXEC);
			if (g.fifo_fd < 0)
				die(errno, "open %s", s->a[0].s);
			break;
		case OP_CONSOLE_SOCKET: {
			struct sockaddr_un sun = { .sun_family = AF_UNIX };
			if (s->a[0].n >= sizeof sun.sun_path)
				die(ENAMETOOLONG, "console socket %s", s->a[0].s);
			memcpy(sun.sun_path, s->a[0].s, s->a[0].n);
			if (g.console_fd >= 0)
				close(g.console_fd);
			g.console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (g.console_fd < 0 || connect(g.console_fd, (struct sockaddr *)&sun, sizeof sun) < 0)
				die(errno, "connect %s", s->a[0].s);
			break;
		}
		default:
			die(EINVAL, "unknown op %u", s->op);
		}
	}
	if (g.exec_flags & EXEC_NO_INIT) {
		/* nothing to clone: report pid 0 once the stage-0 ops are done */
		g.step = NO_STEP;
		unsigned char zero[4] = { 0 };
		if (send_msg(g.sync_fd, MSG_PID, zero, 4) < 0)
			_exit(1);
		_exit(0);
	}
	if (g.exec_flags & EXEC_CONSOLE_RELAY) {
		g.step = prog.steps[0].index;
		if (!(g.exec_flags & EXEC_WAIT))
			die(EINVAL, "console relay without wait mode");
		if (g.console_fd >= 0)
			die(EINVAL, "console relay with a console socket");
		relay_prepare();
	}
	/* Pass 2: join (user first is the compiler's job) and set the time offsets, in program order. */
	int time_done = 0;
	for (uint32_t i = 0; i < prog.count; i++) {
		const struct step *s = &prog.steps[i];
		g.step = s->index;
		if (s->op == OP_NS_JOIN) {
			if (setns(nsfd[i], (int)s->a[0].u) < 0)
				die(errno, "setns %s", s->a[1].s);
			close(nsfd[i]);
		} else if (s->op == OP_TIME_OFFSETS) {
			if (unshare(CLONE_NEWTIME) < 0)
				die(errno, "unshare time namespace");
			if (write_file("/proc/self/timens_offsets", s->a[0].s, s->a[0].n) < 0)
				die(errno, "write /proc/self/timens_offsets");
			time_done = 1;
		} else if (s->op == OP_OPEN_TREE) {
			open_tree_source(s);
		}
	}
	free(nsfd);

	g.step = nsnew ? nsnew->index : NO_STEP;
	if ((nsflags & CLONE_NEWTIME) && !time_done && unshare(CLONE_NEWTIME) < 0)
		die(errno, "unshare time namespace");
	nsflags &= ~(uint64_t)CLONE_NEWTIME; /* clone() cannot take it: done by unshare above */
	if ((g.exec_flags & EXEC_JOIN) && nsflags)
		die(EINVAL, "join mode takes no new namespaces");

	int mapsync[2];
	if (pipe2(mapsync, O_CLOEXEC) < 0)
		die(errno, "pipe");
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* A new user namespace: the init's /proc/<pid>/{setgroups,uid_map,gid_map} must be writable by
	 * this process, which a non-dumpable init forbids when we are not root (the files are then
	 * root's). The init starts dumpable and turns non-dumpable again once its maps are written, as
	 * runc's nsexec does. (systemd block: rootless) */
	int userns_dumpable = (nsflags & CLONE_NEWUSER) && !(g.exec_flags & EXEC_JOIN);
	if (userns_dumpable)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (cgstep)
		g.step = cgstep->index;
	int join = (g.exec_flags & EXEC_JOIN) != 0;
	pid_t pid = cgstep ? clone_into_cgroup(cgfd, cghome, cgstep, nsflags, join) : clone_init(nsflags, join);
	if (pid < 0 && cgstep)
		die(errno, "clone3 into cgroup %s", cgstep->a[0].s);
	if (pid < 0)
		die(errno, join ? "fork" : "clone");
	if (cgfd >= 0)
		close(cgfd); /* neither the init nor stage 0 keeps the host cgroup dirs */
	if (cghome >= 0)
		close(cghome);
	/* a waiting stage 0 leaves the v1 cgroups the clone needed it in; the init keeps no host file */
	for (uint32_t i = 0; i < prog.count; i++) {
		if (v1home[i] < 0)
			continue;
		g.step = prog.steps[i].index;
		if (pid > 0 && write_zero(v1home[i]) < 0)
			die(errno, "return to cgroup %s", prog.steps[i].a[1].s); /* the init sees mapsync close */
		close(v1home[i]);
	}
	free(v1home);
	g.step = nsnew ? nsnew->index : NO_STEP;
	if (pid == 0) {
		g.stage0 = 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (g.relay_fd >= 0)
			close(g.relay_fd);
		g.relay_fd = -1;
		close(mapsync[1]);
		char c;
		ssize_t n;
		do
			n = read(mapsync[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(1); /* stage 0 failed or died: it reports */
		close(mapsync[0]);
		if (userns_dumpable)
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		run_init(&prog);
	}
	if (userns_dumpable)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	g.child = pid;
	close(mapsync[0]);
	/* Only the init uses these: the console socket must see EOF when the init closes it. */
	if (g.console_fd >= 0)
		close(g.console_fd);
	if (g.fifo_fd >= 0)
		close(g.fifo_fd);
	g.console_fd = g.fifo_fd = -1;

	char path[64];
	if (setgroups) {
		g.step = setgroups->index;
		snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
		if (write_file(path, setgroups->a[0].s, setgroups->a[0].n) < 0)
			die(errno, "write %s", path);
	}
	if (uid_map) {
		g.step = uid_map->index;
		if (uid_tool)
			map_with_tool(uid_tool->a[0].s, pid, uid_map->a[0].s);
		else {
			snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
			if (write_file(path, uid_map->a[0].s, uid_map->a[0].n) < 0)
				die(errno, "write %s", path);
		}
	}
	if (gid_map) {
		g.step = gid_map->index;
		if (gid_tool)
			map_with_tool(gid_tool->a[0].s, pid, gid_map->a[0].s);
		else {
			snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
			if (write_file(path, gid_map->a[0].s, gid_map->a[0].n) < 0)
				die(errno, "write %s", path);
		}
	}
	g.step = NO_STEP;
	if (write_full(mapsync[1], "1", 1) < 0)
		die(errno, "signal init");
	close(mapsync[1]);

	unsigned char msg[4] = { pid & 0xff, (pid >> 8) & 0xff, (pid >> 16) & 0xff, (pid >> 24) & 0xff };
	if (send_msg(g.sync_fd, MSG_PID, msg, 4) < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	if (!(g.exec_flags & EXEC_WAIT))
		_exit(0);
	close(g.sync_fd);
	g.sync_fd = -1;
	if (g.relay_fd >= 0)
		relay_console();
	wait_init();
}
