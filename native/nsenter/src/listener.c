/* runts-init seccomp-listener <pid> <fd> <listenerPath>: the runtime's side of seccomp notify, run
 * on the host by the parent (never in the container). Takes fd <fd> of process <pid> (the init's
 * listener, SECCOMP_FILTER_FLAG_NEW_LISTENER) with pidfd_getfd, connects to listenerPath (AF_UNIX,
 * SOCK_STREAM) and sends the container process state read from stdin with the fd as SCM_RIGHTS,
 * in one message, as runc's sendContainerProcessState. Exit 0, or 1 with the error on stderr. */
#include "runts-init.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int send_listener_main(int argc, char **argv)
{
	(void)argc;
	int pid = atoi(argv[2]), fd = atoi(argv[3]);
	const char *path = argv[4];
	static char state[1 << 20];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(0, state + n, sizeof state - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof state)
			break;
	}
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0) {
		dprintf(2, "pidfd_open %d: %s\n", pid, strerror(errno));
		return 1;
	}
	int lfd = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
	if (lfd < 0) {
		dprintf(2, "pidfd_getfd: %s\n", strerror(errno));
		return 1;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path) {
		dprintf(2, "connect %s: %s\n", path, strerror(ENAMETOOLONG));
		return 1;
	}
	strcpy(sun.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sun, sizeof sun) < 0) {
		dprintf(2, "connect %s: %s\n", path, strerror(errno));
		return 1;
	}
	ssize_t r = send_fd(s, lfd, state, n);
	if (r < 0) {
		dprintf(2, "send to %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((size_t)r < n) {
		/* the rest of a long state, without the fd */
		size_t off = (size_t)r;
		while (off < n) {
			ssize_t w = send(s, state + off, n - off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				dprintf(2, "send to %s: %s\n", path, strerror(errno));
				return 1;
			}
			off += (size_t)w;
		}
	}
	close(s);
	return 0;
}
