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
#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

/* The path of one of our fds, for mount(2). Once the runtime's procfs is held (g.proc_fd, from the
 * Rootfs step on), the path is relative ("self/fd/N") and xmount resolves it from that procfs, so
 * that neither the rootfs nor, after pivot_root, the container's own /proc can redirect it. */
const char *fdpath(int fd, char *buf, size_t n)
{
	snprintf(buf, n, g.proc_fd >= 0 ? "self/fd/%d" : "/proc/self/fd/%d", fd);
	return buf;
}

/* mount(2) with fdpath() arguments: run from the held procfs (cwd), then back. */
int xmount(const char *src, const char *tgt, const char *type, unsigned long flags, const void *data)
{
	if (g.proc_fd < 0)
		return mount(src, tgt, type, flags, data);
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(g.proc_fd) < 0)
		die(errno, "enter the runtime's procfs");
	int r = mount(src, tgt, type, flags, data);
	int e = errno;
	if (fchdir(cwd) < 0)
		die(errno, "leave the runtime's procfs");
	close(cwd);
	errno = e;
	return r;
}

/* Reopens one of our fds with new flags through the held procfs. */
int reopen_fd(int fd, int flags)
{
	char buf[32];
	if (g.proc_fd < 0) {
		snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
		return open(buf, flags | O_CLOEXEC);
	}
	snprintf(buf, sizeof buf, "self/fd/%d", fd);
	return openat(g.proc_fd, buf, flags | O_CLOEXEC);
}

/* The runtime's procfs (the root of a real procfs), held from before the first container mount. */
static void hold_procfs(void)
{
	if (g.proc_fd >= 0)
		return;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statfs sf;
	struct stat st;
	if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC || fstat(fd, &st) < 0 || st.st_ino != 1)
		die(fd < 0 ? errno : EINVAL, "the runtime's /proc is not a procfs root");
	g.proc_fd = fd;
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
					/* no trailing "/" when the link was the last component: a file may be made there */
					const char *sep = *rest ? "/" : "";
					int w = lnk[0] == '/' ? snprintf(nw, sizeof nw, "%s%s%s", lnk, sep, rest)
							      : snprintf(nw, sizeof nw, "%.*s/%s%s%s", (int)parent_len, prefix, lnk, sep, rest);
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
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
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

/* A new file system as a detached mount (fsopen/fsconfig/fsmount): the fd stays the mount itself
 * wherever it is later attached or moved, so nothing has to look it up again by path. */
static int fs_mount(const char *fstype, const char *source, uint64_t flags, const char *data)
{
	int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		die(errno, "fsopen %s", fstype);
	if (source && source[0] && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		die(errno, "fsconfig source");
	char opts[PATH_MAX];
	if (strlen(data) >= sizeof opts)
		die(E2BIG, "mount data");
	strcpy(opts, data);
	for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		int r;
		if (eq) {
			*eq = 0;
			r = fsconfig(fs, FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (r < 0)
			die(errno, "fsconfig %s", o);
	}
	/* mount(2) with MS_RDONLY makes the superblock read-only too */
	if ((flags & MS_RDONLY) && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		die(errno, "fsconfig ro");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die(errno, "mount");
	unsigned attr = 0;
	if (flags & MS_RDONLY)
		attr |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		attr |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		attr |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		attr |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NOATIME)
		attr |= MOUNT_ATTR_NOATIME;
	else if (flags & MS_STRICTATIME)
		attr |= MOUNT_ATTR_STRICTATIME;
	if (flags & MS_NODIRATIME)
		attr |= MOUNT_ATTR_NODIRATIME;
#ifdef MS_NOSYMFOLLOW
	if (flags & MS_NOSYMFOLLOW)
		attr |= MOUNT_ATTR_NOSYMFOLLOW;
#endif
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attr);
	if (m < 0)
		die(errno, "mount");
	close(fs);
	return m;
}

/* runc's tmpcopyup (fileutils.CopyDirectory): the directory's entries, with their modes and owners,
 * into the new file system. src is a readable directory fd, dst a directory fd (may be O_PATH). */
static void copy_tree(int src, int dst, int depth)
{
	if (depth > 256)
		die(ELOOP, "tmpcopyup: too deep");
	int dfd = dup(src);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d)
		die(errno, "tmpcopyup: opendir");
	struct dirent *e;
	while ((errno = 0, e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		struct stat st;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die(errno, "tmpcopyup: stat %s", n);
		mode_t perm = st.st_mode & 07777;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, n, 0700) < 0)
				die(errno, "tmpcopyup: mkdir %s", n);
			int s2 = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0)
				die(errno, "tmpcopyup: open %s", n);
			copy_tree(s2, d2, depth + 1);
			close(s2);
			close(d2);
		} else if (S_ISREG(st.st_mode)) {
			int s2 = openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (s2 < 0 || d2 < 0)
				die(errno, "tmpcopyup: open %s", n);
			char buf[65536];
			for (;;) {
				ssize_t r = read(s2, buf, sizeof buf);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					die(errno, "tmpcopyup: read %s", n);
				if (r == 0)
					break;
				if (write_full(d2, buf, (size_t)r) < 0)
					die(errno, "tmpcopyup: write %s", n);
			}
			close(s2);
			close(d2);
		} else if (S_ISLNK(st.st_mode)) {
			char l[PATH_MAX];
			ssize_t r = readlinkat(src, n, l, sizeof l - 1);
			if (r < 0)
				die(errno, "tmpcopyup: readlink %s", n);
			l[r] = 0;
			if (symlinkat(l, dst, n) < 0)
				die(errno, "tmpcopyup: symlink %s", n);
		} else if (mknodat(dst, n, st.st_mode, st.st_rdev) < 0) {
			die(errno, "tmpcopyup: mknod %s", n);
		}
		if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			die(errno, "tmpcopyup: chown %s", n);
		if (!S_ISLNK(st.st_mode) && fchmodat(dst, n, perm, 0) < 0)
			die(errno, "tmpcopyup: chmod %s", n);
	}
	if (errno)
		die(errno, "tmpcopyup: readdir");
	closedir(d);
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
	int tfd = -1, sfd = -1, tree = -1;
	int create = (mf & MF_MKFILE_TARGET) ? MK_FILE : (mf & MF_MKDIR_TARGET) ? MK_DIR : MK_NONE;

	if (mf & MF_SOURCE_FD) {
		/* the index of a tree stage 0 cloned on the host (OpenTree) */
		char *end;
		long n = strtol(src, &end, 10);
		if (!src[0] || *end || n < 0 || (uint32_t)n >= g.ntrees || g.trees[n] < 0)
			die(EINVAL, "source tree %s", src);
		tree = g.trees[n];
		g.trees[n] = -1;
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
		if (mf & MF_ORDINARY) {
			/* runc: procfs and sysfs only on an ordinary directory, never through a symlink */
			tfd = open_in_root(tgt, O_PATH | O_NOFOLLOW, create, 0755);
			if (tfd < 0)
				die(errno, "openat2 %s", tgt);
			struct stat st;
			if (fstat(tfd, &st) < 0)
				die(errno, "stat %s", tgt);
			if (!S_ISDIR(st.st_mode))
				die(0, "filesystem \"%s\" must be mounted on ordinary directory", fstype);
		} else {
			tfd = open_target(tgt, create, create == MK_FILE ? 0644 : 0755);
		}
		if (mf & MF_NOT_PROC) {
			/* runc's checkProcMount, at mount time: whatever the path resolved to, not procfs */
			struct statfs sf;
			if (fstatfs(tfd, &sf) < 0)
				die(errno, "statfs %s", tgt);
			if (sf.f_type == PROC_SUPER_MAGIC)
				die(0, "%s cannot be mounted because it is inside /proc", tgt);
		}
		target = fdpath(tfd, tbuf, sizeof tbuf);
	}
	int cur = tfd; /* the mount to act on from here */
	if (!(mf & MF_NO_MOUNT)) {
		int mfd = -1;
		if (tree >= 0) {
			mfd = tree;
		} else if (mf & (MF_ANCHOR | MF_COPY_UP)) {
			mfd = fs_mount(fstype, source, flags, data);
			if ((mf & MF_COPY_UP) && tfd >= 0) {
				int dir = reopen_fd(tfd, O_RDONLY | O_DIRECTORY);
				if (dir < 0)
					die(errno, "tmpcopyup: open %s", tgt);
				copy_tree(dir, mfd, 0);
				close(dir);
			}
		}
		if (mfd >= 0) {
			if (tfd < 0)
				die(EINVAL, "detached mount onto a host path");
			if (move_mount(mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
				die(errno, "move_mount");
			close(tfd);
			tfd = cur = mfd;
		} else {
			if (xmount(source, target, fstype[0] ? fstype : NULL, flags, data[0] ? data : NULL) < 0)
				die(errno, "mount");
			if (tfd >= 0) { /* the old fd is the covered directory: reopen to reach the new mount */
				close(tfd);
				tfd = cur = open_target(tgt, MK_NONE, 0);
			}
		}
		if (tfd >= 0)
			target = fdpath(tfd, tbuf, sizeof tbuf);
		/* runc gives a tmpfs on an existing directory that directory's mode */
		if (old_mode >= 0) {
			int d = reopen_fd(cur, O_RDONLY | O_DIRECTORY);
			if (d < 0 || fchmod(d, (mode_t)old_mode) < 0)
				die(errno, "chmod");
			close(d);
		}
	}
	if (sfd >= 0)
		close(sfd);
	if (prop && xmount(NULL, target, NULL, prop, NULL) < 0)
		die(errno, "mount propagation");
	if (aset || aclr) {
		int afd = cur >= 0 ? cur : open(target, O_PATH | O_CLOEXEC);
		if (afd < 0)
			die(errno, "open %s", target);
		struct mount_attr attr = { .attr_set = aset, .attr_clr = aclr };
		if (syscall(SYS_mount_setattr, afd, "", AT_EMPTY_PATH | ((mf & MF_ATTR_RECURSIVE) ? AT_RECURSIVE : 0),
			    &attr, sizeof attr) < 0)
			die(errno, "mount_setattr");
		if (afd != cur)
			close(afd);
	}
	if (remount) {
		unsigned long fl = MS_REMOUNT | MS_BIND | (unsigned long)remount;
		/* As runc: the flags asked for first; only where the kernel refuses (EPERM: flags locked
		 * in a user namespace) again with the mount's own flags kept. Adding them up front kept
		 * nosuid/nodev that runc drops (a rootfs on a nosuid,nodev tmpfs). */
		int r = xmount(NULL, target, NULL, fl, NULL);
		if (r < 0 && errno == EPERM && (mf & MF_KEEP_LOCKED)) {
			int lfd = cur >= 0 ? cur : open(target, O_PATH | O_CLOEXEC);
			if (lfd < 0)
				die(errno, "open %s", target);
			r = xmount(NULL, target, NULL, fl | locked_flags(lfd), NULL);
			if (lfd != cur)
				close(lfd);
		}
		if (r < 0)
			die(errno, "remount");
	}
	if ((mf & MF_ANCHOR) && !(mf & MF_NO_MOUNT)) {
		if (g.nanchors >= sizeof g.anchors / sizeof g.anchors[0])
			die(E2BIG, "too many anchored mounts");
		g.anchors[g.nanchors++] = tfd; /* kept: masks and sysctls go through it */
		tfd = -1;
	}
	if (tfd >= 0)
		close(tfd);
}

/* OpenTree (stage 0, in the runtime's context): a detached clone of a host bind source. */
void open_tree_source(const struct step *s)
{
	if (g.ntrees >= sizeof g.trees / sizeof g.trees[0])
		die(E2BIG, "too many bind sources");
	int fd = open_tree(AT_FDCWD, s->a[0].s, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (s->a[1].u ? AT_RECURSIVE : 0));
	if (fd < 0)
		die(errno, "open_tree %s", s->a[0].s);
	g.trees[g.ntrees++] = fd;
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
		if (xmount(host, fdpath(tfd, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
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
	hold_procfs();
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
	} else if (s->a[0].u == 2) { /* no mount namespace of its own: runc's chroot() */
		if (fchdir(g.root_fd) < 0)
			die(errno, "fchdir rootfs");
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

/* Masks what fd is: a directory gets a read-only tmpfs, anything else a bind of /dev/null (the
 * container's, checked to be the null device through the fd that is mounted). */
static void mask_fd(int fd, const char *label)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		die(errno, "stat %s", label);
	char tbuf[32], sbuf[32];
	if (S_ISDIR(st.st_mode)) {
		if (xmount("tmpfs", fdpath(fd, tbuf, sizeof tbuf), "tmpfs", MS_RDONLY, NULL) < 0)
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
		if (xmount(fdpath(null, sbuf, sizeof sbuf), fdpath(fd, tbuf, sizeof tbuf), NULL, MS_BIND, NULL) < 0)
			die(errno, "mount");
		close(null);
	}
}

/* MaskPath: str path (container view). */
void op_mask_path(const struct step *s)
{
	int fd = open_in_root(s->a[0].s, O_PATH, MK_NONE, 0);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[0].s);
	mask_fd(fd, s->a[0].s);
	close(fd);
}

/* Read-only bind of what the opener returns onto itself (reopened after the bind). */
static void readonly_fd(int fd, int (*reopen)(const struct step *), const struct step *s, const char *label)
{
	char tbuf[32];
	const char *t = fdpath(fd, tbuf, sizeof tbuf);
	if (xmount(t, t, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(errno, "mount");
	close(fd);
	fd = reopen(s);
	if (fd < 0)
		die(errno, "openat2 %s", label);
	t = fdpath(fd, tbuf, sizeof tbuf);
	if (xmount(NULL, t, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(fd), NULL) < 0)
		die(errno, "remount");
	close(fd);
}

static int reopen_in_root(const struct step *s)
{
	return open_in_root(s->a[0].s, O_PATH, MK_NONE, 0);
}

/* ReadonlyPath: str path (container view). */
void op_readonly_path(const struct step *s)
{
	int fd = reopen_in_root(s);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[0].s);
	readonly_fd(fd, reopen_in_root, s, s->a[0].s);
}

/* ---- paths in a mount made with MountFlags.Anchor (the container's procfs and sysfs) ---- */

static int anchor(uint64_t i)
{
	if (i >= g.nanchors)
		die(EINVAL, "no anchored mount %llu", (unsigned long long)i);
	return g.anchors[i];
}

/* Opens a path beneath the anchored mount (the procfs that was mounted, wherever it now is). */
static int open_at_anchor(const struct step *s)
{
	int a = anchor(s->a[0].u);
	return openat2_(a, s->a[1].s, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

/* MaskAt: u64 anchor, str path (relative to the anchored mount). */
void op_mask_at(const struct step *s)
{
	int fd = open_at_anchor(s);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[1].s);
	mask_fd(fd, s->a[1].s);
	close(fd);
}

/* ReadonlyAt: u64 anchor, str path. */
void op_readonly_at(const struct step *s)
{
	int fd = open_at_anchor(s);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(errno, "openat2 %s", s->a[1].s);
	readonly_fd(fd, open_at_anchor, s, s->a[1].s);
}

/* WriteProcAt: u64 anchor, str path, str content, u64 wflags: a sysctl written through the procfs
 * that was mounted, never through a path the container could redirect (no symlink, no other mount). */
void op_write_proc_at(const struct step *s)
{
	int a = anchor(s->a[0].u);
	int fd = openat2_(a, s->a[1].s, O_WRONLY | O_NOCTTY | O_NOFOLLOW,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd < 0 && errno == ENOENT && (s->a[3].u & WF_IGNORE_MISSING))
		return;
	if (fd < 0)
		die(errno, "open %s", s->a[1].s);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		die(errno, "statfs %s", s->a[1].s);
	if (sf.f_type != PROC_SUPER_MAGIC)
		die(EINVAL, "%s is not on procfs", s->a[1].s);
	if (write_full(fd, s->a[2].s, s->a[2].n) < 0)
		die(errno, "write %s", s->a[1].s);
	close(fd);
}

/* DetachMount: str host path. runc's msMoveRoot for --no-pivot: a full procfs or sysfs of the
 * runtime is made rslave and detached, or covered with a tmpfs when it cannot be unmounted. */
void op_detach_mount(const struct step *s)
{
	const char *p = s->a[0].s;
	if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return; /* under one already detached */
		die(errno, "make %s rslave", p);
	}
	if (umount2(p, MNT_DETACH) < 0) {
		if (errno != EINVAL && errno != EPERM)
			die(errno, "unmount %s", p);
		if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
			die(errno, "cover %s", p);
	}
}
