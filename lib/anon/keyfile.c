/* SPDX-License-Identifier: MIT */
#include "anon/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

enum gf_err gf__keyfile_read(const char *path, size_t max, bool secret, unsigned char **buf,
                             size_t *len, char *err, size_t errlen)
{
	unsigned char *b = NULL;
	size_t n = 0;
	struct stat st;
	enum gf_err rc;
	int fd;

	/* No O_NOFOLLOW: key files are often links (a secret mounted by an
	 * orchestrator); the mode that counts is the file's, read through fstat
	 * on the descriptor that is then read. O_NONBLOCK: a FIFO in place of
	 * a key must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		return gf_err_set(err, errlen, e == ENOENT ? GF_ENOENT : GF_EIO, "%s: %s", path,
		                  strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		rc = gf_err_set(err, errlen, GF_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = gf_err_set(err, errlen, GF_EIO, "%s: not a regular file", path);
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		rc = gf_err_set(err, errlen, GF_EDENIED,
		                "%s: mode %04o lets its group or others in; a key file is for "
		                "its owner only (chmod go= %s)",
		                path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = gf_err_set(err, errlen, GF_ERANGE, "%s: %lld bytes, more than %zu", path,
		                (long long)st.st_size, max);
		goto out;
	}
	/* One byte more than allowed: a file that grew since fstat is caught. */
	b = malloc(max + 1);
	if (!b) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = gf_err_set(err, errlen, GF_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = gf_err_set(err, errlen, GF_ERANGE, "%s: more than %zu bytes", path,
			                max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = GF_OK;
out:
	if (b) {
		OPENSSL_cleanse(b, max + 1);
		free(b);
	}
	close(fd);
	return rc;
}

void gf__keyfile_free(unsigned char *buf, size_t len)
{
	if (!buf)
		return;
	OPENSSL_cleanse(buf, len + 1);
	free(buf);
}
