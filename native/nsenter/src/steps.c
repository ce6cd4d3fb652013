/* The init: waits for Go, then performs the init steps in order. */
#include "runts-init.h"

#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <grp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* ---- hooks ---- */

/* Hook: str path, strlist args, strlist env, u64 timeout seconds. State JSON on stdin. */
static void op_hook(const struct step *s)
{
	const char *path = s->a[0].s;
	char *defargs[] = { (char *)path, NULL };
	char **args = s->a[1].n ? s->a[1].list : defargs;
	int in[2], errp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		die(errno, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		die(errno, "fork");
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0)
			_exit(127);
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* the hook gets stdio only */
		execve(path, args, s->a[2].list);
		int e = errno;
		write_full(errp[1], &e, sizeof e);
		_exit(127);
	}
	close(in[0]);
	close(errp[1]);
	int ee = 0;
	if (read_full(errp[0], &ee, sizeof ee) == 1) {
		close(in[1]);
		waitpid(pid, NULL, 0);
		die(ee, "fork/exec %s", path);
	}
	close(errp[0]);

	/* The state on stdin; a hook that does not read it must not block us (SIGPIPE ignored). */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	int fl = fcntl(in[1], F_GETFL);
	fcntl(in[1], F_SETFL, fl | O_NONBLOCK);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		die(errno, "pidfd_open");
	long long timeout_ms = s->a[3].u ? (long long)(s->a[3].u > 86400 * 365 ? 86400 * 365 : s->a[3].u) * 1000 : -1;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint32_t off = 0;
	int done = 0;
	while (!done) {
		struct pollfd fds[2] = { { .fd = pfd, .events = POLLIN }, { .fd = in[1], .events = POLLOUT } };
		int nfds = in[1] >= 0 ? 2 : 1;
		int wait = -1;
		if (timeout_ms >= 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long el = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
			if (el >= timeout_ms) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				die(0, "hook %s: timed out", path);
			}
			wait = (int)(timeout_ms - el);
		}
		int r = poll(fds, (nfds_t)nfds, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(errno, "poll");
		if (nfds == 2 && fds[1].revents) {
			ssize_t w = off < g.state_len ? write(in[1], g.state + off, g.state_len - off) : 0;
			if (w > 0)
				off += (uint32_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off >= g.state_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (fds[0].revents)
			done = 1;
	}
	if (in[1] >= 0)
		close(in[1]);
	close(pfd);
	sigaction(SIGPIPE, &old, NULL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(errno, "wait hook");
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		die(0, "hook %s: exit status %d", path, WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		die(0, "hook %s: signal: %s", path, strsignal(WTERMSIG(status)));
}

/* ---- credentials ---- */

static int last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[16] = { 0 };
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			int v = atoi(buf);
			if (v > 0 && v < 64)
				return v;
		}
	}
	int c = 0; /* no procfs: probe the bounding set */
	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

static void op_caps_bounding(const struct step *s)
{
	int last = last_cap();
	for (int c = 0; c <= last; c++)
		if (!(s->a[0].u & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			die(errno, "drop capability %d from the bounding set", c);
}

static void op_caps(const struct step *s)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(s->a[0].u >> (32 * i));
		d[i].permitted = (uint32_t)(s->a[1].u >> (32 * i));
		d[i].inheritable = (uint32_t)(s->a[2].u >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, d) < 0)
		die(errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(errno, "clear ambient capabilities");
	for (int c = 0; c < 64; c++)
		if ((s->a[3].u & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			die(errno, "raise ambient capability %d", c);
}

static void op_user(const struct step *s)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die(errno, "keepcaps");
	if (s->a[3].u) {
		gid_t *gids = calloc(s->a[2].n + 1, sizeof(gid_t));
		if (!gids)
			die(ENOMEM, "setgroups");
		for (uint32_t i = 0; i < s->a[2].n; i++)
			gids[i] = (gid_t)s->a[2].u64s[i];
		if (setgroups(s->a[2].n, gids) < 0)
			die(errno, "setgroups");
		free(gids);
	}
	gid_t gid = (gid_t)s->a[1].u;
	uid_t uid = (uid_t)s->a[0].u;
	if (setresgid(gid, gid, gid) < 0)
		die(errno, "setresgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		die(errno, "setresuid %u", uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		die(errno, "keepcaps");
}

static void op_become_root(const struct step *s)
{
	gid_t gid = (gid_t)s->a[0].u;
	/* ~0: only the uid (runc's nsexec does setresuid(0) alone before unsharing the rest) */
	if (s->a[0].u != UINT64_MAX && setresgid(gid, gid, gid) < 0)
		die(errno, "setresgid %u", gid);
	if (setresuid(0, 0, 0) < 0)
		die(errno, "setresuid 0");
}

/* ---- executable lookup (Go's exec.LookPath) ---- */

/* 0 if path is an executable regular file, else an errno; *statfail says stat itself failed. */
static int find_executable(const char *path, int *statfail)
{
	struct stat st;
	*statfail = 0;
	if (stat(path, &st) < 0) {
		*statfail = 1;
		return errno;
	}
	if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
		return EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0 && errno != ENOSYS && errno != EPERM)
		return errno;
	return 0;
}

/* strerror as Go prints it: lowercase ("no such file or directory"). */
static const char *errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static void op_resolve(const struct step *s)
{
	const char *name = s->a[0].s;
	int statfail, e;
	free(g.exe);
	g.exe = NULL;
	if (strchr(name, '/')) {
		e = find_executable(name, &statfail);
		if (e == 0) {
			g.exe = strdup(name);
			return;
		}
		if (statfail)
			die(e, "exec: \"%s\": stat %s: %s", name, name, errstr(e));
		die(e, "exec: \"%s\": %s", name, errstr(e));
	}
	const char *path = s->a[1].n ? s->a[1].s : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const char *p = path;
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		char full[PATH_MAX];
		int n = dl ? snprintf(full, sizeof full, "%.*s/%s", (int)dl, p, name) : snprintf(full, sizeof full, "./%s", name);
		if (n > 0 && (size_t)n < sizeof full && name[0] && find_executable(full, &statfail) == 0) {
			if (full[0] != '/')
				die(EPERM, "exec: \"%s\": cannot run executable found relative to current directory", name);
			g.exe = strdup(full);
			return;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	die(ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* Exec: nothing but the execve. Every fd >= 3 + preserveFds is already close-on-exec (marked at
 * start-up; every fd the executor opens later is O_CLOEXEC), the signal mask was emptied when the
 * init started, and a seccomp filter (the step before) allows nothing else for sure. */
static void op_exec(const struct step *s)
{
	if (!g.exe)
		die(EINVAL, "exec without resolve");
	if (s->a[0].n == 0)
		die(EINVAL, "exec: empty argv");
	execve(g.exe, s->a[0].list, s->a[1].list);
	die(errno, "exec %s", g.exe);
}

/* ChownStdio: u64 uid. runc's fixStdioPermissions: fds 0-2 (a pty, pipes, files) go to the
 * process's user, the group is kept; /dev/null and what already has the uid are skipped; EINVAL,
 * EPERM and EROFS are ignored (an unmapped owner, a read-only /dev). */
static void op_chown_stdio(const struct step *s)
{
	uid_t uid = (uid_t)s->a[0].u;
	struct stat null;
	if (stat("/dev/null", &null) < 0)
		die(errno, "stat /dev/null");
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			die(errno, "fstat fd %d", fd);
		}
		if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev))
			continue;
		if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
			die(errno, "chown fd %d", fd);
	}
}

/* ---- everything else ---- */

static void op_write_proc(const struct step *s)
{
	/* Resolved from the current root: the host's before pivot_root, the container's after. */
	int fd = open(s->a[0].s, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && (s->a[2].u & WF_IGNORE_MISSING))
		return;
	if (fd < 0)
		die(errno, "open %s", s->a[0].s);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		die(errno, "statfs %s", s->a[0].s);
	if (sf.f_type != PROC_SUPER_MAGIC)
		die(EINVAL, "%s is not on procfs", s->a[0].s);
	if (write_full(fd, s->a[1].s, s->a[1].n) < 0)
		die(errno, "write %s", s->a[0].s);
	close(fd);
}

static void op_wait_start(void)
{
	if (send_msg(g.sync_fd, MSG_READY, NULL, 0) < 0)
		_exit(1); /* the parent is gone before ready: create failed, do nothing */
	g.ready_sent = 1;
	if (g.fifo_fd < 0)
		return;
	int fd;
	do
		fd = reopen_fd(g.fifo_fd, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die(errno, "open exec fifo");
	if (write_full(fd, "0", 1) < 0)
		die(errno, "write exec fifo");
	/* fd stays open (close-on-exec): start reads EOF once the user's process is exec'd (or the
	 * init died), so poststart hooks run after the process started, as runtime.md asks; a failure
	 * before the execve is written on it (send_error) */
	g.fifo_wfd = fd;
	close(g.fifo_fd);
	g.fifo_fd = -1;
}

/* ip link set lo up, in the init's (new) network namespace, as runc's loopback strategy does */
static void op_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(errno, "socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die(errno, "get flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die(errno, "bring lo up");
	close(fd);
}

static void run_step(const struct step *s)
{
	switch (s->op) {
	case OP_MOUNT: op_mount(s); break;
	case OP_MKNOD: op_mknod(s); break;
	case OP_SYMLINK: op_symlink(s); break;
	case OP_MKDIR: op_mkdir(s); break;
	case OP_HOOK: op_hook(s); break;
	case OP_PIVOT_ROOT: op_pivot_root(s); break;
	case OP_ROOTFS: op_rootfs(s); break;
	case OP_MASK_PATH: op_mask_path(s); break;
	case OP_READONLY_PATH: op_readonly_path(s); break;
	case OP_HOSTNAME:
		if (sethostname(s->a[0].s, s->a[0].n) < 0)
			die(errno, "sethostname");
		break;
	case OP_DOMAINNAME:
		if (setdomainname(s->a[0].s, s->a[0].n) < 0)
			die(errno, "setdomainname");
		break;
	case OP_WRITE_PROC: op_write_proc(s); break;
	case OP_RLIMIT: {
		struct rlimit rl = { .rlim_cur = s->a[1].u, .rlim_max = s->a[2].u };
		if (prlimit(0, (__rlimit_resource_t)s->a[0].u, &rl, NULL) < 0)
			die(errno, "setrlimit %llu", (unsigned long long)s->a[0].u);
		break;
	}
	case OP_PERSONALITY:
		if (personality((unsigned long)s->a[0].u) < 0)
			die(errno, "personality");
		break;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			die(errno, "no_new_privs");
		break;
	case OP_SECCOMP: {
		if (s->a[0].n == 0 || s->a[0].n % sizeof(struct sock_filter) || s->a[0].n / sizeof(struct sock_filter) > 0xffff)
			die(EINVAL, "seccomp: bad filter length %u", s->a[0].n);
		struct sock_filter *f = malloc(s->a[0].n); /* aligned copy */
		if (!f)
			die(ENOMEM, "seccomp");
		memcpy(f, s->a[0].bytes, s->a[0].n);
		struct sock_fprog prog = { .len = (unsigned short)(s->a[0].n / sizeof *f), .filter = f };
		/* nothing after this but the Exec step: the copy is not freed (free may call brk) */
		long lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)s->a[1].u, &prog);
		if (lfd < 0)
			die(errno, "seccomp");
		if (s->a[1].u & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
			/* the parent takes the listener (pidfd_getfd) and gives it to the agent, then says done */
			unsigned char m[4] = { lfd & 0xff, (lfd >> 8) & 0xff, (lfd >> 16) & 0xff, (lfd >> 24) & 0xff };
			if (send_msg(g.sync_fd, MSG_SECCOMP_FD, m, 4) < 0)
				die(errno, "send seccomp listener");
			uint32_t type, len;
			unsigned char *buf;
			int r = recv_msg(g.sync_fd, &type, &buf, &len);
			if (r <= 0)
				_exit(1); /* the parent failed (it reports) or went away */
			if (type != MSG_SECCOMP_DONE)
				die(EINVAL, "expected seccomp-done message, got %u", type);
			close((int)lfd);
		}
		break;
	}
	case OP_CAPS_BOUNDING: op_caps_bounding(s); break;
	case OP_USER: op_user(s); break;
	case OP_CAPS: op_caps(s); break;
	case OP_UMASK: umask((mode_t)(s->a[0].u & 07777)); break;
	case OP_CHDIR: {
		if (chdir(s->a[0].s) < 0)
			die(errno, "chdir %s", s->a[0].s);
		/* CVE-2024-21626: a leaked fd as cwd shows as "(unreachable)/..." or fails. */
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			die(errno, "getcwd");
		if (cwd[0] != '/')
			die(EPERM, "chdir %s: current working directory is outside of the container root", s->a[0].s);
		break;
	}
	case OP_RESOLVE: op_resolve(s); break;
	case OP_WAIT_START:
		op_wait_start();
		if (g.state_after) { /* hooks after start see the state as it is then */
			g.state = g.state_after;
			g.state_len = g.state_after_len;
		}
		break;
	case OP_EXEC: op_exec(s); break;
	case OP_CONSOLE: op_console(s); break;
	case OP_SESSION_KEYRING: {
		const char *name = s->a[0].n ? s->a[0].s : NULL;
		/* runc tolerates both: no keyrings (ENOSYS) or not allowed (EPERM, e.g. under a seccomp profile) */
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS && errno != EPERM)
			die(errno, "join session keyring");
		break;
	}
	case OP_SETSID:
		if (setsid() < 0)
			die(errno, "setsid");
		break;
	case OP_BECOME_ROOT: op_become_root(s); break;
	case OP_LOOPBACK_UP: op_loopback_up(); break;
	case OP_CHOWN_STDIO: op_chown_stdio(s); break;
	case OP_LAUNCH:
		/* start: from here on only the filter and the execve; an EOF before this 'X' is an init
		 * that died before starting the process */
		if (g.fifo_wfd >= 0 && write_full(g.fifo_wfd, "X", 1) < 0)
			die(errno, "write exec fifo");
		break;
	case OP_MASK_AT: op_mask_at(s); break;
	case OP_READONLY_AT: op_readonly_at(s); break;
	case OP_WRITE_PROC_AT: op_write_proc_at(s); break;
	case OP_DETACH_MOUNT: op_detach_mount(s); break;
	case OP_UNSHARE:
		if (unshare((int)s->a[0].u) < 0)
			die(errno, "unshare");
		break;
	default:
		die(EINVAL, "unknown op %u", s->op);
	}
}

void run_init(const struct program *p)
{
	uint32_t type, len;
	unsigned char *buf;
	g.step = NO_STEP;
	int r = recv_msg(g.sync_fd, &type, &buf, &len);
	if (r == 0 || (r < 0 && (errno == EPIPE || errno == ECONNRESET)))
		_exit(1); /* the parent went away before Go: leave quietly, having done nothing */
	if (r < 0)
		die(errno, "read go");
	if (type != MSG_GO)
		die(EINVAL, "expected go message, got %u", type);
	/* the user's process starts with no signal blocked (Exec itself makes no call but execve) */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	g.state = (char *)buf;
	g.state_len = len;
	unsigned char *nul = memchr(buf, 0, len);
	if (nul) {
		g.state_len = (uint32_t)(nul - buf);
		g.state_after = (char *)nul + 1;
		g.state_after_len = len - g.state_len - 1;
	}
	for (uint32_t i = 0; i < p->count; i++) {
		const struct step *s = &p->steps[i];
		if (IS_STAGE0_OP(s->op))
			continue;
		g.step = s->index;
		run_step(s);
	}
	_exit(0);
}
