/* Console: a pty from the container's devpts, the master sent over the console socket. */
#include "runts-init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static void send_master(int sock, int master, const char *name)
{
	if (send_fd(sock, master, name, strlen(name)) < 0)
		die(errno, "send console master");
}

/* Console: u64 rows, u64 cols, u64 flags (bit 0: bind the slave onto /dev/console). */
void op_console(const struct step *s)
{
	if (g.console_fd < 0)
		die(EINVAL, "console without a console socket");
	int master = open_in_root("/dev/pts/ptmx", O_RDWR | O_NOCTTY, MK_NONE, 0);
	if (master < 0)
		die(errno, "openat2 /dev/pts/ptmx");
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) /* unlockpt; grantpt is a no-op on devpts */
		die(errno, "unlockpt");
	if (ioctl(master, TIOCGPTN, &n) < 0)
		die(errno, "ptsname");
	char name[32];
	snprintf(name, sizeof name, "/dev/pts/%d", n);
	/* With the relay, the size of the terminal runts runs in wins over process.consoleSize (as
	 * runc's resize after it receives the master), set before the process can look at it. */
	unsigned short rows = (unsigned short)s->a[0].u, cols = (unsigned short)s->a[1].u;
	if (g.relay_rows && g.relay_cols) {
		rows = g.relay_rows;
		cols = g.relay_cols;
	}
	if (rows || cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die(errno, "set console size");
	}
	/* The slave through the master (no path lookup), else by name inside the root. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		slave = open_in_root(name, O_RDWR | O_NOCTTY, MK_NONE, 0);
	if (slave < 0)
		die(errno, "open %s", name);
	/* runc's payload is the master's own name (console.NewPty opens /dev/ptmx); clients need it
	 * non-empty and do not parse it */
	send_master(g.console_fd, master, "/dev/ptmx");
	close(master);
	close(g.console_fd);
	g.console_fd = -1;

	if (s->a[2].u & 1) {
		int t = open_in_root("/dev/console", O_PATH, MK_FILE, 0600);
		if (t < 0)
			die(errno, "openat2 /dev/console");
		char sbuf[32], tbuf[32];
		if (xmount(fdpath(slave, sbuf, sizeof sbuf), fdpath(t, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
			die(errno, "bind %s onto /dev/console", name);
		close(t);
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die(errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			die(errno, "dup2 console");
	close(slave);
}

/* ---- ExecFlags.ConsoleRelay: stage 0 holds the master and relays its own stdin/stdout ---- */

/* The size of the terminal on stdin (else stdout), when there is one with a size. */
static int host_size(struct winsize *ws)
{
	for (int fd = 0; fd < 2; fd++)
		if (ioctl(fd, TIOCGWINSZ, ws) == 0 && ws->ws_row && ws->ws_col)
			return 0;
	return -1;
}

/* Stage 0, before the clone: the socketpair that stands in for the console socket (the init's
 * end is g.console_fd, stage 0 keeps g.relay_fd) and the size the init gives the pty. */
void relay_prepare(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die(errno, "console relay socketpair");
	g.relay_fd = sv[0];
	g.console_fd = sv[1];
	struct winsize ws;
	if (host_size(&ws) == 0) {
		g.relay_rows = ws.ws_row;
		g.relay_cols = ws.ws_col;
	}
}

/* One fd (a pty master: TIOCGPTN works on it) from the init, or -1 (it died or exec'd first). */
static int recv_master(int sock)
{
	char name[64];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	int fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	int n;
	if (fd >= 0 && ioctl(fd, TIOCGPTN, &n) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

/* A signal that would end stage 0 without our say: put the terminal back first. */
static void fatal_signal(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP };
static const int relayed_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };

/* stdin is a terminal: raw mode (cfmakeraw, as runc's console.SetRaw), restored on the way out. */
static void make_raw(void)
{
	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	struct sigaction sa = { .sa_handler = fatal_signal };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	tio_saved = 1;
	struct termios raw = saved_tio;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) < 0)
		tio_saved = 0;
}

/* Writes everything to fd (a blocking or non-blocking stdout); -1 when it cannot take more. */
static int put_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct relay {
	int master;      /* the master for reading: -1 until received, or once it reads EIO */
	int master_w;    /* the same fd for writing (-1: nothing more goes in) */
	int stdin_open;
	int stdout_ok;
	int exited;
	int status;
	char in[4096];
	size_t in_off, in_len;
	char last;       /* the last byte written to the master */
};

/* Reads what the master has (non-blocking) and writes it to stdout. */
static void pump_out(struct relay *r)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(r->master, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* EIO: every slave fd is closed, nobody reads input either */
			r->master = r->master_w = -1;
			r->stdin_open = 0;
			r->in_off = r->in_len = 0;
			return;
		}
		if (r->stdout_ok && put_all(1, buf, (size_t)n) < 0)
			r->stdout_ok = 0; /* keep draining the master so the container never blocks on it */
	}
}

/* Writes pending input to the master (non-blocking). */
static void pump_in(struct relay *r)
{
	while (r->in_off < r->in_len && r->master_w >= 0) {
		ssize_t w = write(r->master_w, r->in + r->in_off, r->in_len - r->in_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			r->master_w = -1;
			r->stdin_open = 0;
			break;
		}
		r->in_off += (size_t)w;
		r->last = r->in[r->in_off - 1];
	}
	if (r->in_off == r->in_len)
		r->in_off = r->in_len = 0;
}

/* stdin is at its end: the container reads end-of-file too. A pty cannot be half-closed, so the
 * terminal's EOF character is typed for it (twice after a partial line, which the first one only
 * pushes through in canonical mode). */
static void stdin_eof(struct relay *r)
{
	r->stdin_open = 0;
	if (r->master_w < 0)
		return;
	struct termios t;
	char eof = 4, canon = 1;
	if (tcgetattr(r->master_w, &t) == 0) {
		if (t.c_cc[VEOF] != _POSIX_VDISABLE)
			eof = (char)t.c_cc[VEOF];
		canon = (t.c_lflag & ICANON) != 0;
	}
	r->in[r->in_len++] = eof;
	if (canon && r->last != 0 && r->last != '\n' && r->last != eof)
		r->in[r->in_len++] = eof;
}

static void reap(struct relay *r)
{
	int st;
	pid_t p;
	do
		p = waitpid(g.child, &st, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p == g.child && (WIFEXITED(st) || WIFSIGNALED(st))) {
		r->exited = 1;
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	} else if (p < 0) {
		r->exited = 1;
		r->status = 1;
	}
}

/* Stage 0 with ExecFlags.Wait|ConsoleRelay, after Pid: receives the master from the init's Console
 * step, relays stdin -> master and master -> stdout (stdin in raw mode when it is a terminal), copies
 * the terminal's size on SIGWINCH, forwards the other signals to the init, and exits with the init's
 * status once it has exited and its output is drained. */
void relay_console(void)
{
	struct relay r = { .master = -1, .master_w = -1, .stdin_open = 1, .stdout_ok = 1, .status = 1 };
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof relayed_signals / sizeof relayed_signals[0]; i++)
		sigaddset(&set, relayed_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		kill(g.child, SIGKILL);
		die(errno, "signalfd");
	}
	reap(&r); /* a SIGCHLD before the block was discarded */
	int relay = g.relay_fd;
	while (!r.exited) {
		struct pollfd p[4];
		int np = 0, ir = -1, im = -1, ii = -1;
		p[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (relay >= 0) {
			ir = np;
			p[np++] = (struct pollfd){ .fd = relay, .events = POLLIN };
		}
		if (r.master >= 0 || r.master_w >= 0) {
			im = np;
			short ev = (short)((r.master >= 0 ? POLLIN : 0) | (r.in_len > r.in_off && r.master_w >= 0 ? POLLOUT : 0));
			p[np++] = (struct pollfd){ .fd = r.master >= 0 ? r.master : r.master_w, .events = ev };
		}
		if (r.stdin_open && r.master_w >= 0 && r.in_len == 0) {
			ii = np;
			p[np++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				int sig = (int)si.ssi_signo;
				struct winsize ws;
				if (sig == SIGCHLD)
					reap(&r);
				else if (sig == SIGWINCH) {
					if (r.master_w >= 0 && host_size(&ws) == 0)
						ioctl(r.master_w, TIOCSWINSZ, &ws); /* the kernel tells the container */
				} else
					kill(g.child, sig);
			}
		}
		if (ir >= 0 && p[ir].revents) {
			int m = recv_master(relay);
			close(relay);
			relay = -1;
			if (m >= 0) {
				fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
				r.master = r.master_w = m;
				make_raw();
			}
		}
		if (im >= 0 && p[im].revents) {
			if (r.master >= 0 && (p[im].revents & (POLLIN | POLLHUP | POLLERR)))
				pump_out(&r);
			pump_in(&r);
		}
		if (ii >= 0 && p[ii].revents) {
			ssize_t n;
			do
				n = read(0, r.in, sizeof r.in);
			while (n < 0 && errno == EINTR);
			if (n > 0) {
				r.in_off = 0;
				r.in_len = (size_t)n;
			} else if (n == 0 || errno != EAGAIN) {
				stdin_eof(&r);
			}
			pump_in(&r);
		}
	}
	/* The init has exited: what it wrote before is in the master's buffer (a read that finds
	 * nothing flushes the pty's pending work first, so EAGAIN/EIO means it is all out). */
	if (r.master >= 0)
		pump_out(&r);
	restore_tty();
	_exit(r.status);
}
