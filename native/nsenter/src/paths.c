/* Paths and mounts: everything "in rootfs" is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) against the root fd, created component by component relative to the
 * parent fd, and mounted through /proc/self/fd/N. */
#include "runts-init.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int openat2_(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN); /* a concurrent rename: retry like runc */
	return fd;
}

int root_fd(void)
{
	if (g.root_fd < 0) {
		g.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (g.root_fd < 0)
			die(errno, "open /");
	}
	return g.root_fd;
}

const char *fdpath(int fd, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
	return buf;
}

/* Opens path inside the root. With create, missing components are made (directories, and the
 * last one as a directory or an empty file), each relative to its parent's fd; a component that
 * turns out to be a symlink is followed only through RESOLVE_IN_ROOT, never out of the root. */
int open_in_root(const char *path, int oflags, int create, mode_t mode)
{
	const uint64_t res = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	int root = root_fd();
	int fd = openat2_(root, path, oflags, res);
	if (fd >= 0 || errno != ENOENT || create == MK_NONE)
		return fd;

	/* Work on a copy: a dangling symlink on the way is replaced by its target (still resolved in
	 * the root) and the walk starts over, like securejoin's MkdirAll. */
	char work[2 * PATH_MAX + 2];
	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(work, path);
	int parent = -1;
	for (int links = 0;; links++) {
		if (links > 40) {
			errno = ELOOP;
			return -1;
		}
		char prefix[2 * PATH_MAX + 2] = "";
		size_t plen = 0;
		int restart = 0;
		parent = openat2_(root, ".", O_PATH | O_DIRECTORY, res);
		if (parent < 0)
			return -1;
		const char *p = work;
		while (*p && !restart) {
			while (*p == '/')
				p++;
			if (!*p)
				break;
			const char *end = strchrnul(p, '/');
			size_t clen = (size_t)(end - p);
			char comp[NAME_MAX + 1];
			if (clen > NAME_MAX) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			memcpy(comp, p, clen);
			comp[clen] = 0;
			const char *rest = end;
			while (*rest == '/')
				rest++;
			int last = *rest == 0;
			size_t parent_len = plen;
			prefix[plen++] = '/';
			memcpy(prefix + plen, comp, clen + 1);
			plen += clen;

			int next = openat2_(root, prefix, O_PATH, res);
			if (next < 0 && errno == ENOENT) {
				char lnk[PATH_MAX];
				ssize_t n = readlinkat(parent, comp, lnk, sizeof lnk - 1);
				if (n >= 0) { /* dangling symlink: go on with its target, inside the root */
					char nw[2 * PATH_MAX + 2];
					lnk[n] = 0;
					int w = lnk[0] == '/' ? snprintf(nw, sizeof nw, "%s/%s", lnk, rest)
							      : snprintf(nw, sizeof nw, "%.*s/%s/%s", (int)parent_len, prefix, lnk, rest);
					if (w < 0 || (size_t)w >= sizeof nw) {
						errno = ENAMETOOLONG;
						goto fail;
					}
					strcpy(work, nw);
					close(parent);
					restart = 1;
					break;
				}
				if (last && create == MK_FILE) {
					int f = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
					if (f < 0 && errno != EEXIST)
						goto fail;
					if (f >= 0)
						close(f);
				} else if (mkdirat(parent, comp, last ? mode : 0755) < 0 && errno != EEXIST) {
					goto fail;
				}
				next = openat2_(root, prefix, O_PATH, res);
			}
			if (next < 0)
				goto fail;
			close(parent);
			parent = next;
			p = end;
		}
		if (!restart)
			break;
	}
	close(parent);
	return openat2_(root, work, oflags, res);
fail: {
	int e = errno;
	close(parent);
	errno = e;
	return -1;
}
}

static int open_target(const char *path, int create, mode_t mode)
{
	int fd = open_in_root(path, O_PATH, create, mode);
	if (fd < 0)
		die(errno, "openat2 %s", path);
	return fd;
}

/* Flags of an existing mount a MS_REMOUNT|MS_BIND must keep (locked in a user namespace). */
static unsigned long locked_flags(const char *target)
{
	struct statvfs sv;
	if (statvfs(target, &sv) < 0)
		die(errno, "statvfs");
	unsigned long f = 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Mount: str source, str target, str fstype, u64 flags, str data, u64 mflags, u64 propagation,
 * u64 attrSet, u64 attrClr, u64 remountFlags. */
void op_mount(const struct step *s)
{
	const char *src = s->a[0].s, *tgt = s->a[1].s, *fstype = s->a[2].s, *data = s->a[4].s;
	uint64_t flags = s->a[3].u, mf = s->a[5].u, prop = s->a[6].u, aset = s->a[7].u, aclr = s->a[8].u,
		 remount = s->a[9].u;
	char tbuf[32], sbuf[48];
	const char *target = tgt, *source = src[0] ? src : NULL;
	int tfd = -1, sfd = -1;
	int create = (mf & MF_MKFILE_TARGET) ? MK_FILE : (mf & MF_MKDIR_TARGET) ? MK_DIR : MK_NONE;

	if (mf & MF_SOURCE_FD) {
		char *end;
		long n = strtol(src, &end, 10);
		if (!src[0] || *end || n < 0 || n > INT_MAX)
			die(EINVAL, "source fd %s", src);
		source = fdpath((int)n, sbuf, sizeof sbuf);
	} else if (mf & MF_SOURCE_IN_ROOTFS) {
		sfd = open_in_root(src, O_PATH, MK_NONE, 0);
		if (sfd < 0)
			die(errno, "openat2 %s", src);
		source = fdpath(sfd, sbuf, sizeof sbuf);
	}
	int old_mode = -1;
	if ((mf & MF_KEEP_MODE) && !(mf & MF_TARGET_HOST)) {
		int ofd = open_in_root(tgt, O_PATH, MK_NONE, 0);
		struct stat st;
		if (ofd >= 0 && fstat(ofd, &st) == 0)
			old_mode = (int)(st.st_mode & 07777);
		if (ofd >= 0)
			close(ofd);
	}
	if (!(mf & MF_TARGET_HOST)) {
		tfd = open_target(tgt, create, create == MK_FILE ? 0644 : 0755);
		target = fdpath(tfd, tbuf, sizeof tbuf);
	}
	if (!(mf & MF_NO_MOUNT)) {
		if (mount(source, target, fstype[0] ? fstype : NULL, flags, data[0] ? data : NULL) < 0)
			die(errno, "mount");
		if (tfd >= 0) { /* the old fd is the covered directory: reopen to reach the new mount */
			close(tfd);
			tfd = open_target(tgt, MK_NONE, 0);
			target = fdpath(tfd, tbuf, sizeof tbuf);
		}
		/* runc gives a tmpfs on an existing directory that directory's mode */
		if (old_mode >= 0 && chmod(target, (mode_t)old_mode) < 0)
			die(errno, "chmod");
	}
	if (sfd >= 0)
		close(sfd);
	if (prop && mount(NULL, target, NULL, prop, NULL) < 0)
		die(errno, "mount propagation");
	if (aset || aclr) {
		int afd = tfd >= 0 ? tfd : open(target, O_PATH | O_CLOEXEC);
		if (afd < 0)
			die(errno, "open %s", target);
		struct mount_attr attr = { .attr_set = aset, .attr_clr = aclr };
		if (syscall(SYS_mount_setattr, afd, "", AT_EMPTY_PATH | ((mf & MF_ATTR_RECURSIVE) ? AT_RECURSIVE : 0),
			    &attr, sizeof attr) < 0)
			die(errno, "mount_setattr");
		if (afd != tfd)
			close(afd);
	}
	if (remount) {
		unsigned long fl = MS_REMOUNT | MS_BIND | (unsigned long)remount;
		/* As runc: the flags asked for first; only where the kernel refuses (EPERM: flags locked
		 * in a user namespace) again with the mount's own flags kept. Adding them up front kept
		 * nosuid/nodev that runc drops (a rootfs on a nosuid,nodev tmpfs). */
		int r = mount(NULL, target, NULL, fl, NULL);
		if (r < 0 && errno == EPERM && (mf & MF_KEEP_LOCKED))
			r = mount(NULL, target, NULL, fl | locked_flags(target), NULL);
		if (r < 0)
			die(errno, "remount");
	}
	if (tfd >= 0)
		close(tfd);
}

/* Splits "a/b/c" into an fd of the parent (created) and the last name. */
static int open_parent(const char *path, char *name, size_t n)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) >= n)
		die(EINVAL, "bad path %s", path);
	strcpy(name, base);
	char dir[PATH_MAX];
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (dlen >= sizeof dir)
		die(ENAMETOOLONG, "%s", path);
	memcpy(dir, path, dlen);
	dir[dlen] = 0;
	int fd = open_in_root(dlen ? dir : "/", O_PATH | O_DIRECTORY, MK_DIR, 0755);
	if (fd < 0)
		die(errno, "openat2 %s", dlen ? dir : "/");
	return fd;
}

/* Mknod: str path, u64 mode, u64 major, u64 minor, u64 uid, u64 gid, str hostPath. */
void op_mknod(const struct step *s)
{
	const char *path = s->a[0].s, *host = s->a[6].s;
	char name[NAME_MAX + 1];
	int dir = open_parent(path, name, sizeof name);
	mode_t old = umask(0);
	int r = mknodat(dir, name, (mode_t)s->a[1].u, makedev((unsigned)s->a[2].u, (unsigned)s->a[3].u));
	if (r < 0 && errno == EEXIST) {
		struct stat st;
		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) && unlinkat(dir, name, 0) == 0)
			r = mknodat(dir, name, (mode_t)s->a[1].u, makedev((unsigned)s->a[2].u, (unsigned)s->a[3].u));
		else
			errno = EEXIST;
	}
	umask(old);
	if (r < 0 && errno == EPERM && host[0]) {
		/* No mknod here (user namespace): bind the host's device node instead. */
		int f = openat(dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0)
			die(errno, "create %s", path);
		close(f);
		close(dir);
		char tbuf[32];
		int tfd = open_target(path, MK_NONE, 0);
		if (mount(host, fdpath(tfd, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
			die(errno, "bind %s", host);
		close(tfd);
		return;
	}
	if (r < 0)
		die(errno, "mknod %s", path);
	if (fchownat(dir, name, (uid_t)s->a[4].u, (gid_t)s->a[5].u, AT_SYMLINK_NOFOLLOW) < 0)
		die(errno, "chown %s", path);
	close(dir);
}

/* Symlink: str target (content), str path. */
void op_symlink(const struct step *s)
{
	char name[NAME_MAX + 1];
	int dir = open_parent(s->a[1].s, name, sizeof name);
	if (symlinkat(s->a[0].s, dir, name) < 0 && errno != EEXIST)
		die(errno, "symlink %s", s->a[1].s);
	close(dir);
}

/* Mkdir: str path, u64 mode. */
void op_mkdir(const struct step *s)
{
	int fd = open_in_root(s->a[0].s, O_PATH | O_DIRECTORY, MK_DIR, (mode_t)s->a[1].u);
	if (fd < 0)
		die(errno, "mkdir %s", s->a[0].s);
	close(fd);
}

/* Rootfs: str host path of the rootfs. */
void op_rootfs(const struct step *s)
{
	int fd = open(s->a[0].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open %s", s->a[0].s);
	if (g.root_fd >= 0)
		close(g.root_fd);
	g.root_fd = fd;
}

/* PivotRoot: u64 mode (0 = pivot_root, 1 = MS_MOVE + chroot). */
void op_pivot_root(const struct step *s)
{
	if (g.root_fd < 0)
		die(EINVAL, "pivot_root without rootfs");
	if (s->a[0].u == 0) {
		int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			die(errno, "open /");
		if (fchdir(g.root_fd) < 0)
			die(errno, "fchdir rootfs");
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			die(errno, "pivot_root");
		/* The old root is now stacked on "."; detach it without propagating to the host. */
		if (fchdir(oldroot) < 0)
			die(errno, "fchdir old root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			die(errno, "make old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			die(errno, "unmount old root");
		close(oldroot);
	} else if (s->a[0].u == 1) {
		if (fchdir(g.root_fd) < 0)
			die(errno, "fchdir rootfs");
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			die(errno, "move rootfs");
		if (chroot(".") < 0)
			die(errno, "chroot");
	} else {
		die(EINVAL, "pivot_root mode %llu", (unsigned long long)s->a[0].u);
	}
	if (chdir("/") < 0)
		die(errno, "chdir /");
	close(g.root_fd);
	g.root_fd = -1;
	root_fd();
}

/* MaskPath: str path (container view). */
void op_mask_path(const struct step *s)
{
	int fd = open_in_root(s->a[0].s, O_PATH, MK_NONE, 0);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[0].s);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die(errno, "stat %s", s->a[0].s);
	char tbuf[32], sbuf[32];
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", fdpath(fd, tbuf, sizeof tbuf), "tmpfs", MS_RDONLY, NULL) < 0)
			die(errno, "mount");
	} else {
		int null = open_in_root("/dev/null", O_PATH, MK_NONE, 0);
		if (null < 0)
			die(errno, "openat2 /dev/null");
		struct stat ns;
		if (fstat(null, &ns) < 0)
			die(errno, "stat /dev/null");
		if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3)
			die(EINVAL, "/dev/null is not the null device");
		if (mount(fdpath(null, sbuf, sizeof sbuf), fdpath(fd, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
			die(errno, "mount");
		close(null);
	}
	close(fd);
}

/* ReadonlyPath: str path (container view). */
void op_readonly_path(const struct step *s)
{
	int fd = open_in_root(s->a[0].s, O_PATH, MK_NONE, 0);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[0].s);
	char tbuf[32];
	const char *t = fdpath(fd, tbuf, sizeof tbuf);
	if (mount(t, t, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(errno, "mount");
	close(fd);
	fd = open_target(s->a[0].s, MK_NONE, 0);
	t = fdpath(fd, tbuf, sizeof tbuf);
	if (mount(NULL, t, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(t), NULL) < 0)
		die(errno, "remount");
	close(fd);
}
