/* SPDX-License-Identifier: MIT */
#include "agent/credentials.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bus/certid.h"

enum gf_err gf_cred_cert_identity(const char *path, const char *what, char *ident,
                                  size_t ident_size, char *site, char *err, size_t errlen)
{
	struct gf_cert_identity id;
	char o[GF_SITE_MAX + 2] = "";
	enum gf_reason why;
	enum gf_err rc = GF_EIO;
	X509 *x = NULL;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x) {
		snprintf(err, errlen, "%s %s is not a PEM certificate", what, path);
		goto out;
	}
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o,
	                              (int)sizeof(o)) < 0)
		o[0] = '\0';
	why = gf_certid_read(x, o, &id);
	if (why != GF_REASON_ALLOW) {
		snprintf(
		    err, errlen,
		    "%s %s does not carry a goflex identity (O=<site>, OU=<role>, CN=<id>): %s",
		    what, path, gf_reason_text(why));
		goto out;
	}
	if (strlen(id.username) >= ident_size) {
		snprintf(err, errlen, "%s %s: identity too long", what, path);
		goto out;
	}
	memcpy(ident, id.username, strlen(id.username) + 1);
	if (site)
		memcpy(site, id.site, strlen(id.site) + 1);
	rc = GF_OK;
out:
	X509_free(x);
	if (f)
		fclose(f);
	return rc;
}

enum gf_err gf_cred_password(const char *path, const char *what, const char *env, char *buf,
                             size_t size, char *err, size_t errlen)
{
	const char *value = env ? getenv(env) : NULL;
	enum gf_err rc = GF_EIO;
	FILE *f = NULL;
	size_t n;

	if (!path) {
		if (!value || !value[0]) {
			snprintf(err, errlen,
			         "no password: give %s FILE%s%s (or use a certificate)", what,
			         env ? " or set " : "", env ? env : "");
			return GF_EINVAL;
		}
		if (strlen(value) >= size) {
			snprintf(err, errlen, "%s is too long", env);
			return GF_EINVAL;
		}
		memcpy(buf, value, strlen(value) + 1);
		return GF_OK;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!fgets(buf, (int)size, f)) {
		snprintf(err, errlen, "%s %s is empty", what, path);
		goto out;
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s %s: the first line is empty", what, path);
		goto out;
	}
	rc = GF_OK;
out:
	if (f)
		fclose(f);
	return rc;
}
