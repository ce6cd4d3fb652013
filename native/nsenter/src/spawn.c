/* runts-spawn.node: starts the executor without node:child_process (a Node-API addon, N-API 8).
 *
 * node:child_process costs a verb ~2 ms to load (it brings net and the streams), and libuv's
 * uv_spawn fork()s the whole Node process (~45 MB, ~11,000 page table entries), which the child
 * then tears down again in execve while the parent waits: ~2.3 ms more, and every page the parent
 * writes afterwards takes a copy-on-write fault. glibc's posix_spawn clones with CLONE_VM |
 * CLONE_VFORK instead: nothing is copied. What the executor gets is what uv_spawn gives it:
 * - fds 0..n-1 from the given fds (-1: /dev/null), then one end of a socketpair (AF_UNIX,
 *   SOCK_STREAM, as libuv's 'pipe') as fd n; nothing else (everything else Node opens is
 *   close-on-exec; every source is first duplicated above n, so that no dup2 overwrites another
 *   source and every target loses close-on-exec, as libuv clears it);
 * - every signal at its default disposition, none blocked (Node ignores SIGPIPE; libuv resets);
 * - an empty environment; optionally a new session (setsid: `detached`).
 * exports:
 *   spawn(path, argv1, fds[], setsid) -> [pid, fd]   fd: our end (close-on-exec, blocking);
 *                                                     throws an Error with .errno on failure
 *   wait(pid, cb)         cb(status) with the raw wait status (or -errno) once pid has exited:
 *                            a pidfd polled on Node's own loop, or (no pidfd_open: Linux < 5.3)
 *                            waitpid on a libuv thread
 *   poll(fd, cb) -> id    cb(status) whenever fd is readable (or has hung up), on Node's own loop
 *                            (a libuv poll handle: no thread); status < 0 is libuv's error
 *   unpoll(id)            stops that poll and forgets it (an id already stopped: nothing)
 *   recv(fd, buf) -> n    recv(MSG_DONTWAIT) into buf: bytes read, 0 at end of file, -errno
 *   sealed(source)        -> fd: a memfd (close-on-exec) holding the file at path `source`, or the
 *                            bytes of `source` (a Uint8Array), sealed as main.c's ensure_sealed
 *                            asks; run as /proc/<pid>/fd/<fd>, the executor starts sealed and does
 *                            not copy itself and execute again (one execve and one dynamic load
 *                            of it fewer per create, run and exec)
 *   checksum(bytes, start) -> 16 hex digits: launch.cjs's checksum of a code cache (the same
 *                            function as its JS and WebAssembly ones, and codecache.cjs's), ~0.05 ms
 *                            for 500 KB where the WebAssembly module costs ~1-1.5 ms in a new
 *                            process; launch.cjs loads the addon for it, and spawn.ts takes that
 *   map(path, text) -> a Buffer, or (text) a string or null: the whole of a regular file mapped
 *                            read-only (unmapped once V8 collects it), for launch.cjs's bundle and
 *                            code cache; text: an external one-byte string over the mapping (null
 *                            if a byte is not ASCII, or this Node has no external strings). Read
 *                            into a Buffer, a 320 KB bundle and its 500 KB cache were ~200 fresh
 *                            pages, each zeroed and charged, then the text copied into V8's heap
 *                            twice (decoded, and joined with the CommonJS wrapper); mapped, they are
 *                            the page cache's own pages, and V8 reads the text in place (a create
 *                            ~350 page faults and ~0.9 ms fewer). Throws an Error with .errno.
 *                            The file must not shrink while mapped (a page past its end is SIGBUS):
 *                            the builds and npm's postinstall replace these files, by rename
 *   exit(code)             _exit(2): the process ends at once, without Node's own teardown after its
 *                            'exit' event (launch.cjs calls it from the last 'exit' listener)
 * The rest (reading the socket, the messages) is TypeScript: spawn.ts, with poll and recv on the
 * socket and wait: no libuv thread is started for either (fs.read and an async waitpid started
 * libuv's four, and handed each message between threads: ~1 ms of every create). */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "sealed.h"
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FDS 1024

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* libuv as Node exports it to addons (its ABI is stable across 1.x; Node 20 to 26 ship 1.4x-1.5x):
 * only what a poll handle needs, declared here so that no libuv header is vendored. The handle is
 * allocated at its run-time size (uv_handle_size), and its first field is libuv's `data`. */
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;
typedef void (*uv_poll_cb)(uv_poll_t *handle, int status, int events);
typedef void (*uv_close_cb)(uv_handle_t *handle);
extern size_t uv_handle_size(int type);
extern int uv_poll_init(struct uv_loop_s *loop, uv_poll_t *handle, int fd);
extern int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);
extern int uv_poll_stop(uv_poll_t *handle);
extern void uv_close(uv_handle_t *handle, uv_close_cb cb);
enum { RUNTS_UV_POLL = 8 /* UV_POLL in uv_handle_type */, RUNTS_UV_READABLE = 1, RUNTS_UV_DISCONNECT = 4 };

static napi_value throw_errno(napi_env env, const char *what, int err)
{
	napi_value msg, error, code;
	char text[256];
	snprintf(text, sizeof text, "%s: %s", what, strerror(err));
	napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
	napi_create_error(env, NULL, msg, &error);
	napi_create_int32(env, err, &code);
	napi_set_named_property(env, error, "errno", code);
	napi_throw(env, error);
	return NULL;
}

static char *get_string(napi_env env, napi_value v)
{
	size_t n = 0;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
		return NULL;
	char *s = malloc(n + 1);
	if (s && napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
		free(s);
		return NULL;
	}
	return s;
}

static napi_value spawn(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
		napi_throw_type_error(env, NULL, "spawn(path, argv1, fds, setsid)");
		return NULL;
	}
	uint32_t n = 0;
	bool setsid = false;
	if (napi_get_array_length(env, argv[2], &n) != napi_ok || n > MAX_FDS || napi_get_value_bool(env, argv[3], &setsid) != napi_ok) {
		napi_throw_type_error(env, NULL, "spawn: fds must be an array, setsid a boolean");
		return NULL;
	}
	char *path = get_string(env, argv[0]);
	char *arg1 = get_string(env, argv[1]);
	int *src = calloc(n + 1, sizeof(int));
	int sv[2] = { -1, -1 };
	int err = 0;
	const char *what = "spawn";
	uint32_t made = 0; /* src[0..made) are our duplicates, closed below */
	if (!path || !arg1 || !src) {
		err = ENOMEM;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		err = errno;
		what = "socketpair";
		goto out;
	}
	/* every source, the socket's end included, duplicated above the targets 0..n */
	for (uint32_t i = 0; i <= n; i++) {
		int fd = sv[1];
		if (i < n) {
			napi_value e;
			int32_t v = -1;
			if (napi_get_element(env, argv[2], i, &e) != napi_ok || napi_get_value_int32(env, e, &v) != napi_ok) {
				err = EINVAL;
				goto out;
			}
			fd = v;
		}
		int dup = fd < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : fcntl(fd, F_DUPFD_CLOEXEC, (int)n + 1);
		if (dup < 0) {
			err = errno;
			what = fd < 0 ? "/dev/null" : "fd";
			goto out;
		}
		src[i] = dup;
		made = i + 1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	for (uint32_t i = 0; i <= n; i++)
		posix_spawn_file_actions_adddup2(&fa, src[i], (int)i);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (setsid ? POSIX_SPAWN_SETSID : 0));
	/* a sealed memfd (/proc/<pid>/fd/<n>, gone with this process) shows in ps as what it is */
	char *args[] = { strncmp(path, "/proc/", 6) == 0 ? "runts-init" : path, arg1, NULL };
	char *envp[] = { NULL };
	pid_t pid = -1;
	err = posix_spawn(&pid, path, &fa, &at, args, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (err == 0) {
		for (uint32_t i = 0; i < made; i++)
			close(src[i]);
		close(sv[1]);
		free(path);
		free(arg1);
		free(src);
		napi_value result, v;
		napi_create_array_with_length(env, 2, &result);
		napi_create_int32(env, pid, &v);
		napi_set_element(env, result, 0, v);
		napi_create_int32(env, sv[0], &v);
		napi_set_element(env, result, 1, v);
		return result;
	}
out:
	for (uint32_t i = 0; i < made; i++)
		close(src[i]);
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	free(path);
	free(arg1);
	free(src);
	return throw_errno(env, what, err);
}

struct waiter {
	napi_async_work work;
	napi_ref cb;
	pid_t pid;
	int status;
	int err;
};

static void wait_execute(napi_env env, void *data)
{
	(void)env;
	struct waiter *w = data;
	pid_t r;
	do
		r = waitpid(w->pid, &w->status, 0);
	while (r < 0 && errno == EINTR);
	w->err = r < 0 ? errno : 0;
}

static void wait_complete(napi_env env, napi_status status, void *data)
{
	(void)status;
	struct waiter *w = data;
	napi_value cb, global, arg, ignored;
	napi_get_reference_value(env, w->cb, &cb);
	napi_get_global(env, &global);
	/* the raw status, or -errno when waitpid failed (ECHILD: reaped by someone else) */
	napi_create_int32(env, w->err ? -w->err : w->status, &arg);
	napi_delete_reference(env, w->cb);
	napi_delete_async_work(env, w->work);
	free(w);
	napi_call_function(env, global, cb, 1, &arg, &ignored);
}

/* waitpid(pid) on a libuv thread, cb(status) when it returns; 0 or an errno */
static int wait_on_thread(napi_env env, napi_value cb, pid_t pid)
{
	napi_value name;
	struct waiter *w = calloc(1, sizeof *w);
	if (!w)
		return ENOMEM;
	w->pid = pid;
	napi_create_string_utf8(env, "runts-spawn:wait", NAPI_AUTO_LENGTH, &name);
	if (napi_create_reference(env, cb, 1, &w->cb) != napi_ok || napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work) != napi_ok || napi_queue_async_work(env, w->work) != napi_ok) {
		free(w);
		return EINVAL;
	}
	return 0;
}

/* A poll of an fd (poll) or of a pidfd (wait) on Node's loop. Its id is what JS holds: a watch is
 * freed when its handle has closed, and unpoll of an id no longer listed does nothing. */
struct watch {
	struct watch *next;
	uint32_t id;
	napi_env env;
	napi_ref cb;
	napi_async_context ctx;
	uv_poll_t *handle;
	pid_t pid; /* > 0: fd is a pidfd of this child, closed with the handle */
	int fd;
	int stopped;
};
static struct watch *watches;
static uint32_t last_id;

static void watch_closed(uv_handle_t *h)
{
	struct watch *w = *(struct watch **)h;
	for (struct watch **p = &watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	if (w->pid > 0)
		close(w->fd);
	napi_delete_reference(w->env, w->cb);
	napi_async_destroy(w->env, w->ctx);
	free(w->handle);
	free(w);
}

static void watch_stop(struct watch *w)
{
	if (w->stopped)
		return;
	w->stopped = 1;
	uv_poll_stop(w->handle);
	uv_close((uv_handle_t *)w->handle, watch_closed);
}

/* cb(arg) from the loop, as Node calls into JS from its own callbacks (the microtasks run after
 * it); a throw is an uncaught exception, as it would be from an fs callback */
static void watch_call(struct watch *w, int32_t arg)
{
	napi_env env = w->env;
	napi_handle_scope scope;
	napi_value cb, global, v, ignored;
	napi_open_handle_scope(env, &scope);
	napi_get_reference_value(env, w->cb, &cb);
	napi_get_global(env, &global);
	napi_create_int32(env, arg, &v);
	if (napi_make_callback(env, w->ctx, global, cb, 1, &v, &ignored) == napi_pending_exception) {
		napi_value e;
		napi_get_and_clear_last_exception(env, &e);
		napi_fatal_exception(env, e);
	}
	napi_close_handle_scope(env, scope);
}

static void watch_ready(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct watch *w = *(struct watch **)h;
	if (w->stopped)
		return;
	if (w->pid <= 0) {
		watch_call(w, status < 0 ? status : 0);
		return;
	}
	if (status < 0) {
		/* libuv stopped the poll on an error (POLLERR; not seen from a pidfd): the wait goes on on
		 * a libuv thread, so that the exit is never lost */
		napi_handle_scope scope;
		napi_value cb;
		napi_open_handle_scope(w->env, &scope);
		napi_get_reference_value(w->env, w->cb, &cb);
		int err = wait_on_thread(w->env, cb, w->pid);
		napi_close_handle_scope(w->env, scope);
		watch_stop(w);
		if (err)
			watch_call(w, -err);
		return;
	}
	int st = 0;
	pid_t r;
	do
		r = waitpid(w->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return; /* not exited yet (a pidfd is readable only once it has) */
	int err = r < 0 ? errno : 0;
	watch_stop(w);
	watch_call(w, err ? -err : st);
}

/* a watch of fd, polled for reading; NULL with errno set */
static struct watch *watch_start(napi_env env, napi_value fn, int fd, pid_t pid)
{
	struct uv_loop_s *loop = NULL;
	napi_value name;
	struct watch *w = calloc(1, sizeof *w);
	uv_poll_t *h = malloc(uv_handle_size(RUNTS_UV_POLL));
	if (!w || !h) {
		free(w);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	*(struct watch **)h = w;
	w->env = env;
	w->handle = h;
	w->fd = fd;
	w->pid = pid;
	napi_create_string_utf8(env, pid > 0 ? "runts-spawn:wait" : "runts-spawn:poll", NAPI_AUTO_LENGTH, &name);
	int e = napi_get_uv_event_loop(env, &loop) != napi_ok ? -EINVAL : uv_poll_init(loop, h, fd);
	if (e != 0) {
		free(w);
		free(h);
		errno = -e;
		return NULL;
	}
	/* uv_poll_init made fd non-blocking; the socket's writes are blocking (spawn.ts writes a
	 * message whole, and a program can be larger than the socket's buffer), reads use MSG_DONTWAIT */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	napi_create_reference(env, fn, 1, &w->cb);
	napi_async_init(env, NULL, name, &w->ctx);
	w->id = ++last_id;
	w->next = watches;
	watches = w;
	e = uv_poll_start(h, RUNTS_UV_READABLE | (pid > 0 ? 0 : RUNTS_UV_DISCONNECT), watch_ready);
	if (e != 0) {
		w->pid = 0; /* the caller keeps (and closes) fd */
		watch_stop(w);
		errno = -e;
		return NULL;
	}
	return w;
}

static napi_value poll_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	napi_valuetype t;
	int32_t fd = -1;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
	    napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
		napi_throw_type_error(env, NULL, "poll(fd, cb)");
		return NULL;
	}
	struct watch *w = watch_start(env, argv[1], fd, 0);
	if (!w)
		return throw_errno(env, "poll", errno);
	napi_value id;
	napi_create_uint32(env, w->id, &id);
	return id;
}

static napi_value unpoll(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	uint32_t id = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_uint32(env, argv[0], &id) != napi_ok) {
		napi_throw_type_error(env, NULL, "unpoll(id)");
		return NULL;
	}
	for (struct watch *w = watches; w; w = w->next)
		if (w->id == id && w->pid <= 0) {
			watch_stop(w);
			break;
		}
	return NULL;
}

/* a Uint8Array's bytes (a Buffer's too); false for anything else */
static bool u8_bytes(napi_env env, napi_value v, void **data, size_t *len)
{
	napi_typedarray_type t;
	return napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == napi_uint8_array;
}

static napi_value recv_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	void *data = NULL;
	size_t len = 0;
	int32_t fd = -1;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
	    !u8_bytes(env, argv[1], &data, &len)) {
		napi_throw_type_error(env, NULL, "recv(fd, buf)");
		return NULL;
	}
	ssize_t n;
	do
		n = recv(fd, data, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	napi_value r;
	napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &r);
	return r;
}

static napi_value wait_pid(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t pid = 0;
	napi_valuetype t;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0 ||
	    napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
		napi_throw_type_error(env, NULL, "wait(pid, cb)");
		return NULL;
	}
	/* a pidfd on Node's loop; without one (ENOSYS before Linux 5.3), waitpid on a libuv thread */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) { /* close-on-exec, as every pidfd */
		if (watch_start(env, argv[1], pidfd, pid))
			return NULL;
		close(pidfd);
	}
	int err = wait_on_thread(env, argv[1], pid);
	return err ? throw_errno(env, "wait", err) : NULL;
}

static napi_value sealed(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	napi_valuetype type = napi_undefined;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok) {
		napi_throw_type_error(env, NULL, "sealed(path | bytes)");
		return NULL;
	}
	char *path = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	if (type == napi_string) {
		if (!(path = get_string(env, argv[0])))
			return throw_errno(env, "sealed", ENOMEM);
	} else {
		void *data = NULL;
		if (!u8_bytes(env, argv[0], &data, &len)) {
			napi_throw_type_error(env, NULL, "sealed: a path or a Uint8Array");
			return NULL;
		}
		bytes = data;
	}
	int src = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	int mfd = path && src < 0 ? -1 : sealed_memfd(src, bytes, len);
	int err = errno;
	if (src >= 0)
		close(src);
	if (mfd < 0) {
		napi_value e = throw_errno(env, path ? path : "sealed", err);
		free(path);
		return e;
	}
	free(path);
	napi_value result;
	napi_create_int32(env, mfd, &result);
	return result;
}

/* checksum(bytes, start): a, b, c, d over the 16-byte blocks of bytes[start..] as 32-bit little-endian
 * words, then the bytes left over into a and b (launch.cjs's checksum(), word for word) */
static napi_value checksum(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	void *data = NULL;
	size_t len = 0;
	uint32_t start = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !u8_bytes(env, argv[0], &data, &len) ||
	    napi_get_value_uint32(env, argv[1], &start) != napi_ok || start > len) {
		napi_throw_type_error(env, NULL, "checksum(bytes, start)");
		return NULL;
	}
	const uint8_t *p = (const uint8_t *)data + start;
	size_t n = (len - start) >> 4;
	uint32_t a = 1, b = (uint32_t)n, c = 0, d = 0;
	for (size_t i = 0; i < n; i++, p += 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		a += w[0];
		b += a;
		c = (c ^ w[1]) + (w[2] ^ d);
		d = d + w[3] + c;
	}
	for (const uint8_t *end = (const uint8_t *)data + len; p < end; p++) {
		a += *p;
		b += a;
	}
	char hex[17];
	snprintf(hex, sizeof hex, "%08x%08x", a ^ c, b ^ d);
	napi_value result;
	napi_create_string_latin1(env, hex, 16, &result);
	return result;
}

/* Node-API 10's external latin1 string (Node >= 20.4 exports it; declared here, weak, as the
 * vendored headers give it only from NAPI_VERSION 10): NULL where this Node lacks it */
extern napi_status node_api_create_external_string_latin1(napi_env env, char *str, size_t length, napi_finalize finalize_callback,
							    void *finalize_hint, napi_value *result, bool *copied) __attribute__((weak));

static void unmap(napi_env env, void *data, void *hint)
{
	(void)env;
	munmap(data, (size_t)hint);
}

/* p[0..len) as an external string read by V8 in place, when it is all ASCII (then latin1 is its
 * UTF-8); false, and *result null, when it is not or this Node cannot (the caller still owns p) */
static bool external_ascii(napi_env env, void *p, size_t len, napi_finalize finalize, void *hint, napi_value *result)
{
	const unsigned char *c = p;
	size_t i = 0;
	while (i < len && c[i] < 0x80)
		i++;
	bool copied = false;
	if (i < len || !node_api_create_external_string_latin1 ||
	    node_api_create_external_string_latin1(env, p, len, finalize, hint, result, &copied) != napi_ok) {
		napi_get_null(env, result);
		return false;
	}
	return true;
}

/* text(buffer): the bytes of a Buffer that lives as long as this process (the single executable's
 * raw assets: its own mapped image, never freed) as an external string, or null (not ASCII, or no
 * external strings here): a bundle's text without the copy and UTF-8 decoding that toString makes */
static napi_value static_text(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *data = NULL;
	size_t len = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
		napi_throw_type_error(env, NULL, "text(buffer)");
		return NULL;
	}
	napi_value result;
	if (len == 0)
		napi_get_null(env, &result);
	else
		external_ascii(env, data, len, NULL, NULL, &result); /* nothing to free: no finalizer */
	return result;
}

static napi_value map_file(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	bool text = false;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, argv[1], &text) != napi_ok) {
		napi_throw_type_error(env, NULL, "map(path, text)");
		return NULL;
	}
	char *path = get_string(env, argv[0]);
	if (!path) {
		napi_throw_type_error(env, NULL, "map(path, text)");
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	free(path);
	if (fd < 0)
		return throw_errno(env, "open", errno);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return throw_errno(env, "fstat", e);
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return throw_errno(env, "map", S_ISREG(st.st_mode) ? ENODATA : EINVAL);
	}
	size_t len = (size_t)st.st_size;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED)
		return throw_errno(env, "mmap", e);
	napi_value result;
	if (text) {
		if (!external_ascii(env, p, len, unmap, (void *)len, &result))
			munmap(p, len);
		/* copied: Node made a string of its own (a V8 sandbox) and has unmapped the file already */
		return result;
	}
	if (napi_create_external_buffer(env, len, p, unmap, (void *)len, &result) != napi_ok) {
		munmap(p, len);
		return throw_errno(env, "map", ENOMEM);
	}
	return result;
}

static napi_value exit_now(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t code = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &code) != napi_ok) {
		napi_throw_type_error(env, NULL, "exit(code)");
		return NULL;
	}
	_exit(code & 0xff);
}

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = { { "spawn", spawn }, { "wait", wait_pid }, { "poll", poll_fd }, { "unpoll", unpoll }, { "recv", recv_fd }, { "sealed", sealed }, { "checksum", checksum }, { "map", map_file }, { "text", static_text }, { "exit", exit_now } };
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		napi_value f;
		napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
		napi_set_named_property(env, exports, fns[i].name, f);
	}
	return exports;
}
