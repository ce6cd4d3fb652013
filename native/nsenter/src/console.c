/* Console: a pty from the container's devpts, the master sent over the console socket. */
#include "runts-init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static void send_master(int sock, int master, const char *name)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
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
	if (s->a[0].u || s->a[1].u) {
		struct winsize ws = { .ws_row = (unsigned short)s->a[0].u, .ws_col = (unsigned short)s->a[1].u };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die(errno, "set console size");
	}
	/* The slave through the master (no path lookup), else by name inside the root. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		slave = open_in_root(name, O_RDWR | O_NOCTTY, MK_NONE, 0);
	if (slave < 0)
		die(errno, "open %s", name);
	send_master(g.console_fd, master, name);
	close(master);
	close(g.console_fd);
	g.console_fd = -1;

	if (s->a[2].u & 1) {
		int t = open_in_root("/dev/console", O_PATH, MK_FILE, 0600);
		if (t < 0)
			die(errno, "openat2 /dev/console");
		char sbuf[32], tbuf[32];
		if (mount(fdpath(slave, sbuf, sizeof sbuf), fdpath(t, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
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
