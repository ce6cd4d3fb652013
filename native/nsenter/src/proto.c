/* Framing, strict program parsing and error reporting. See ../PROTOCOL.md. */
#include "runts-init.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <signal.h>

struct ctx g = { .sync_fd = -1, .root_fd = -1, .fifo_fd = -1, .fifo_wfd = -1, .console_fd = -1, .relay_fd = -1, .proc_fd = -1 };

/* Argument kinds per op, in wire order (program.ts Signatures):
 * u = u64, s = str, L = strlist, U = u64list, b = bytes. NULL = unknown op. */
static const char *const signatures[OP_MAX + 1] = {
	[OP_CONFIG] = "u",
	[OP_NS_JOIN] = "us",
	[OP_NS_NEW] = "u",
	[OP_UID_MAP] = "s",
	[OP_GID_MAP] = "s",
	[OP_SETGROUPS] = "s",
	[OP_UID_MAP_TOOL] = "s",
	[OP_GID_MAP_TOOL] = "s",
	[OP_TIME_OFFSETS] = "s",
	[OP_FIFO] = "s",
	[OP_CONSOLE_SOCKET] = "s",
	[OP_MOUNT] = "sssusuuuuu",
	[OP_MKNOD] = "suuuuus",
	[OP_SYMLINK] = "ss",
	[OP_MKDIR] = "su",
	[OP_HOOK] = "sLLu",
	[OP_PIVOT_ROOT] = "u",
	[OP_ROOTFS] = "s",
	[OP_MASK_PATH] = "s",
	[OP_READONLY_PATH] = "s",
	[OP_HOSTNAME] = "s",
	[OP_DOMAINNAME] = "s",
	[OP_WRITE_PROC] = "ssu",
	[OP_RLIMIT] = "uuu",
	[OP_PERSONALITY] = "u",
	[OP_NO_NEW_PRIVS] = "",
	[OP_SECCOMP] = "bu",
	[OP_CAPS_BOUNDING] = "u",
	[OP_USER] = "uuUu",
	[OP_CAPS] = "uuuu",
	[OP_UMASK] = "u",
	[OP_CHDIR] = "s",
	[OP_RESOLVE] = "ss",
	[OP_WAIT_START] = "",
	[OP_EXEC] = "LLu",
	[OP_CONSOLE] = "uuu",
	[OP_SESSION_KEYRING] = "s",
	[OP_SETSID] = "",
	[OP_BECOME_ROOT] = "u",
	[OP_UNSHARE] = "u",
	[OP_LOOPBACK_UP] = "",
	[OP_CHOWN_STDIO] = "u",
	[OP_LAUNCH] = "",
	[OP_MASK_AT] = "us",
	[OP_READONLY_AT] = "us",
	[OP_WRITE_PROC_AT] = "ussu",
	[OP_OPEN_TREE] = "su",
	[OP_DETACH_MOUNT] = "s",
	[OP_DEVICE_FILTER] = "sbsu",
	[OP_CGROUP_CLONE] = "ss",
	[OP_CGROUP_JOIN] = "ss",
};

const char *op_signature(unsigned op)
{
	return op <= OP_MAX ? signatures[op] : NULL;
}

int read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = done ? EPIPE : 0;
			return done ? -1 : 0; /* 0: clean EOF before anything */
		}
		done += (size_t)r;
	}
	return 1;
}

int write_full(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Returns 1 with a message (payload malloc'ed and NUL-terminated), 0 on EOF, -1 on error. */
int recv_msg(int fd, uint32_t *type, unsigned char **payload, uint32_t *len)
{
	unsigned char hdr[8];
	int r = read_full(fd, hdr, sizeof hdr);
	if (r <= 0)
		return r;
	*type = le32(hdr);
	*len = le32(hdr + 4);
	if (*len > MAX_MSG) {
		errno = E2BIG;
		return -1;
	}
	*payload = malloc((size_t)*len + 1);
	if (!*payload)
		return -1;
	if (*len && read_full(fd, *payload, *len) != 1) {
		if (errno == 0)
			errno = EPIPE;
		free(*payload);
		return -1;
	}
	(*payload)[*len] = 0;
	return 1;
}

int send_msg(int fd, uint32_t type, const void *payload, uint32_t len)
{
	unsigned char hdr[8];
	put32(hdr, type);
	put32(hdr + 4, len);
	if (write_full(fd, hdr, sizeof hdr) < 0)
		return -1;
	return len ? write_full(fd, payload, len) : 0;
}

void send_error(uint32_t step, int err, const char *msg)
{
	size_t mlen = strnlen(msg, 4096);
	unsigned char buf[4 + 4 + 4 + 4096 + 1];
	put32(buf, step);
	put32(buf + 4, (uint32_t)err);
	put32(buf + 8, (uint32_t)mlen);
	memcpy(buf + 12, msg, mlen);
	buf[12 + mlen] = 0;
	int sent = g.sync_fd >= 0 && send_msg(g.sync_fd, MSG_ERROR, buf, (uint32_t)(13 + mlen)) == 0;
	/* Nobody listens any more (after Ready the parent may be gone): say it on stderr. */
	if (!sent || g.ready_sent)
		dprintf(2, "runts-init: %s%s%s\n", msg, err ? ": " : "", err ? strerror(err) : "");
	/* After Ready, start waits on exec.fifo: it gets the error there ('E', u32 length, the Error
	 * payload, after the "0"), so that a failure before the execve never looks like a start. With
	 * plain write(2): a seccomp filter may deny send(2) where it allows write. */
	if (g.fifo_wfd >= 0) {
		unsigned char rep[1 + 4 + sizeof buf];
		rep[0] = 'E';
		put32(rep + 1, (uint32_t)(13 + mlen));
		memcpy(rep + 5, buf, 13 + mlen);
		size_t n = 5 + 13 + mlen, off = 0;
		while (off < n) {
			ssize_t r = write(g.fifo_wfd, rep + off, n - off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			off += (size_t)r;
		}
	}
}

void die(int err, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	send_error(g.step, err, msg);
	if (g.stage0 && g.child > 0)
		kill(g.child, SIGKILL);
	_exit(1);
}

/* ---- program parsing ---- */

struct cursor {
	const unsigned char *p;
	uint32_t left;
};

static int take(struct cursor *c, uint32_t n, const unsigned char **out)
{
	if (c->left < n)
		return -1;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int take_u32(struct cursor *c, uint32_t *v)
{
	const unsigned char *p;
	if (take(c, 4, &p) < 0)
		return -1;
	*v = le32(p);
	return 0;
}

/* str: u32 n, n bytes without NUL, then one NUL. */
static int take_str(struct cursor *c, const char **s, uint32_t *n)
{
	const unsigned char *p;
	if (take_u32(c, n) < 0 || *n == UINT32_MAX || take(c, *n + 1, &p) < 0)
		return -1;
	if (p[*n] != 0 || memchr(p, 0, *n) != NULL)
		return -1;
	*s = (const char *)p;
	return 0;
}

static int parse_args(const char *sig, struct cursor *c, struct step *st)
{
	for (int i = 0; sig[i]; i++) {
		struct arg *a = &st->a[i];
		const unsigned char *p;
		uint32_t n;
		switch (sig[i]) {
		case 'u':
			if (take(c, 8, &p) < 0)
				return -1;
			a->u = le64(p);
			break;
		case 's':
			if (take_str(c, &a->s, &a->n) < 0)
				return -1;
			break;
		case 'b':
			if (take_u32(c, &n) < 0 || take(c, n, &p) < 0)
				return -1;
			a->n = n;
			a->bytes = p;
			break;
		case 'L':
			if (take_u32(c, &n) < 0 || n > c->left / 5) /* each str takes at least 5 bytes */
				return -1;
			a->n = n;
			a->list = calloc((size_t)n + 1, sizeof(char *));
			if (!a->list)
				return -1;
			for (uint32_t k = 0; k < n; k++) {
				uint32_t sl;
				const char *s;
				if (take_str(c, &s, &sl) < 0)
					return -1;
				a->list[k] = (char *)s;
			}
			break;
		case 'U':
			if (take_u32(c, &n) < 0 || n > c->left / 8)
				return -1;
			a->n = n;
			a->u64s = calloc((size_t)n + 1, sizeof(uint64_t));
			if (!a->u64s)
				return -1;
			for (uint32_t k = 0; k < n; k++) {
				if (take(c, 8, &p) < 0)
					return -1;
				a->u64s[k] = le64(p);
			}
			break;
		default:
			return -1;
		}
	}
	return c->left == 0 ? 0 : -1; /* the arguments must exactly fill the record */
}

/* Parses the Program payload. On a bad record returns -1 with *bad = its index (NO_STEP when the
 * framing itself is broken before any record can be numbered). */
int parse_program(unsigned char *buf, uint32_t len, struct program *p, uint32_t *bad)
{
	struct cursor c = { buf, len };
	uint32_t cap = 16;
	p->count = 0;
	p->steps = calloc(cap, sizeof(struct step));
	*bad = NO_STEP;
	if (!p->steps)
		return -1;
	while (c.left > 0) {
		const unsigned char *h, *body;
		*bad = p->count;
		if (take(&c, 8, &h) < 0)
			return -1;
		uint16_t op = (uint16_t)(h[0] | h[1] << 8);
		uint16_t reserved = (uint16_t)(h[2] | h[3] << 8);
		uint32_t rlen = le32(h + 4);
		const char *sig = op_signature(op);
		if (reserved != 0 || !sig || take(&c, rlen, &body) < 0)
			return -1;
		if (p->count == cap) {
			struct step *n = realloc(p->steps, (size_t)cap * 2 * sizeof(struct step));
			if (!n)
				return -1;
			memset(n + cap, 0, (size_t)cap * sizeof(struct step));
			p->steps = n;
			cap *= 2;
		}
		struct step *st = &p->steps[p->count];
		st->op = op;
		st->index = p->count;
		struct cursor rc = { body, rlen };
		if (parse_args(sig, &rc, st) < 0)
			return -1;
		p->count++;
	}
	*bad = NO_STEP;
	return 0;
}

/* Sends `len` bytes of `data` with `fd` attached (SCM_RIGHTS) on a stream socket: one sendmsg,
 * retried on EINTR; returns what sendmsg returns (the caller sends any rest without the fd). */
ssize_t send_fd(int sock, int fd, const void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}
