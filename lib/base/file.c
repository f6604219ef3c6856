/* SPDX-License-Identifier: MIT */
#include "base/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "4 MiB" for a whole number of MiB, else the bytes. */
static void size_text(size_t max, char *out, size_t size)
{
	if (max >= (1u << 20) && max % (1u << 20) == 0)
		snprintf(out, size, "%zu MiB", max >> 20);
	else
		snprintf(out, size, "%zu bytes", max);
}

enum gf_err gf_file_read(const char *path, size_t max, char **buf, size_t *len, char *err,
                         size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL, limit[32];
	size_t n;
	enum gf_err rc = GF_EIO;

	if (!f)
		return gf_err_set(err, errlen, GF_EIO, "%s: %s", path, strerror(errno));
	/* One byte past max tells a file of exactly max bytes from a larger one;
	 * the same byte holds the NUL. */
	b = malloc(max + 1);
	if (!b) {
		rc = GF_ENOMEM;
		goto out;
	}
	n = fread(b, 1, max + 1, f);
	if (ferror(f)) {
		gf_err_set(err, errlen, GF_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (n > max) {
		size_text(max, limit, sizeof(limit));
		gf_err_set(err, errlen, GF_EIO, "%s: larger than %s", path, limit);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = GF_OK;
out:
	free(b);
	fclose(f);
	return rc;
}
