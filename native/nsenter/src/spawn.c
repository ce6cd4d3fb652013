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
 *   wait(pid, cb)         waitpid on a libuv thread; cb(status) with the raw wait status
 *   shutdown(fd)          shutdown(SHUT_RDWR): wakes a read pending on another thread
 *   sealed(source)        -> fd: a memfd (close-on-exec) holding the file at path `source`, or the
 *                            bytes of `source` (a Uint8Array), sealed as main.c's ensure_sealed
 *                            asks; run as /proc/<pid>/fd/<fd>, the executor starts sealed and does
 *                            not copy itself and execute again (one execve and one dynamic load
 *                            of it fewer per create, run and exec)
 *   checksum(bytes, start) -> 16 hex digits: launch.cjs's checksum of a code cache (the same
 *                            function as its JS and WebAssembly ones, and codecache.cjs's), ~0.05 ms
 *                            for 500 KB where the WebAssembly module costs ~1-1.5 ms in a new
 *                            process; launch.cjs loads the addon for it, and spawn.ts takes that
 * The rest (reading the socket, the messages) is TypeScript: spawn.ts. */
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FDS 1024

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

static napi_value wait_pid(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], name;
	int32_t pid = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
		napi_throw_type_error(env, NULL, "wait(pid, cb)");
		return NULL;
	}
	struct waiter *w = calloc(1, sizeof *w);
	if (!w)
		return throw_errno(env, "wait", ENOMEM);
	w->pid = pid;
	napi_create_string_utf8(env, "runts-spawn:wait", NAPI_AUTO_LENGTH, &name);
	if (napi_create_reference(env, argv[1], 1, &w->cb) != napi_ok || napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work) != napi_ok || napi_queue_async_work(env, w->work) != napi_ok) {
		free(w);
		return throw_errno(env, "wait", EINVAL);
	}
	return NULL;
}

static napi_value shutdown_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t fd = -1;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
		napi_throw_type_error(env, NULL, "shutdown(fd)");
		return NULL;
	}
	shutdown(fd, SHUT_RDWR); /* ENOTCONN once the peer is gone: nothing to wake then */
	return NULL;
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
		napi_typedarray_type t;
		void *data = NULL;
		if (napi_get_typedarray_info(env, argv[0], &t, &len, &data, NULL, NULL) != napi_ok || t != napi_uint8_array) {
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
	napi_typedarray_type t;
	void *data = NULL;
	size_t len = 0;
	uint32_t start = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
	    napi_get_typedarray_info(env, argv[0], &t, &len, &data, NULL, NULL) != napi_ok || t != napi_uint8_array ||
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

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = { { "spawn", spawn }, { "wait", wait_pid }, { "shutdown", shutdown_fd }, { "sealed", sealed }, { "checksum", checksum } };
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		napi_value f;
		napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
		napi_set_named_property(env, exports, fns[i].name, f);
	}
	return exports;
}
