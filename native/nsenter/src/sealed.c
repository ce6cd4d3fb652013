#define _GNU_SOURCE
#include "sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int sealed_memfd(int src, const uint8_t *bytes, size_t len)
{
	int mfd = memfd_create("runts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* before Linux 6.3: no MFD_EXEC, every memfd is executable */
		mfd = memfd_create("runts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -1;
	if (src >= 0) {
		struct stat st;
		if (fstat(src, &st) < 0)
			goto fail;
		for (off_t left = st.st_size; left > 0;) {
			ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO; /* shorter than it was */
				goto fail;
			}
			left -= n;
		}
	} else {
		for (size_t off = 0; off < len;) {
			ssize_t n = write(mfd, bytes + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				goto fail;
			}
			off += (size_t)n;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) == 0)
		return mfd;
fail:;
	int e = errno;
	close(mfd);
	errno = e;
	return -1;
}
