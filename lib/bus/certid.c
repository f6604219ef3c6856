/* SPDX-License-Identifier: MIT */
#include "bus/certid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

/* Copies the only entry of nid in name into buf. -1 if there is none, more
 * than one, or the value does not fit or contains a NUL byte. */
static int only_entry(const X509_NAME *name, int nid, char *buf, size_t size)
{
	int at = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *v;
	int len;

	if (at < 0 || X509_NAME_get_index_by_NID(name, nid, at) >= 0)
		return -1;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
	len = ASN1_STRING_length(v);
	if (len <= 0 || (size_t)len >= size || memchr(ASN1_STRING_get0_data(v), '\0', (size_t)len))
		return -1;
	memcpy(buf, ASN1_STRING_get0_data(v), (size_t)len);
	buf[len] = '\0';
	return 0;
}

static int serial_bytes(const ASN1_INTEGER *serial, uint8_t *out, size_t *len)
{
	int n = ASN1_STRING_length(serial);

	if (n <= 0 || (size_t)n > GF_SERIAL_MAX)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(serial), (size_t)n);
	*len = (size_t)n;
	return 0;
}

enum gf_reason gf_certid_read(X509 *cert, const char *site, struct gf_cert_identity *out)
{
	const X509_NAME *subject;
	char o[GF_SITE_MAX + 1], ou[32], cn[GF_ID_MAX + 1];
	struct gf_cert_identity id;
	struct gf_ident ident;

	if (!cert || !(subject = X509_get_subject_name(cert)))
		return GF_REASON_AUTH_CERT;
	if (only_entry(subject, NID_organizationName, o, sizeof(o)) ||
	    only_entry(subject, NID_organizationalUnitName, ou, sizeof(ou)) ||
	    only_entry(subject, NID_commonName, cn, sizeof(cn)))
		return GF_REASON_AUTH_CERT;
	if (strcmp(o, site) != 0)
		return GF_REASON_AUTH_SITE;
	ident.role = gf_role_parse(ou, strlen(ou));
	if (ident.role >= GF_ROLE_COUNT)
		return GF_REASON_AUTH_ROLE;
	ident.id = (struct gf_sv){cn, strlen(cn)};
	if (!gf_id_valid(cn, ident.id.len) || gf_sv_is_all(ident.id))
		return GF_REASON_AUTH_ID;
	if (serial_bytes(X509_get0_serialNumber(cert), id.serial, &id.serial_len))
		return GF_REASON_AUTH_CERT;
	memcpy(id.site, o, sizeof(o));
	if (gf_ident_format(&ident, id.username, sizeof(id.username)) != GF_OK)
		return GF_REASON_AUTH_ID;
	*out = id;
	return GF_REASON_ALLOW;
}

struct gf_crl_serial {
	uint8_t b[GF_SERIAL_MAX];
	size_t len;
};

struct gf_crl {
	struct gf_crl_serial *serials; /* sorted by (len, bytes) */
	size_t count;
};

static int serial_cmp(const void *a, const void *b)
{
	const struct gf_crl_serial *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->b, y->b, x->len);
}

enum gf_err gf_crl_load(const char *path, struct gf_crl **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509_CRL *x = NULL;
	STACK_OF(X509_REVOKED) * revoked;
	struct gf_crl *crl = NULL;
	enum gf_err rc = GF_EPARSE;
	int n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return GF_EIO;
	}
	x = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	if (!x) {
		snprintf(err, errlen, "%s: not a PEM certificate revocation list", path);
		goto out;
	}
	crl = calloc(1, sizeof(*crl));
	revoked = X509_CRL_get_REVOKED(x);
	n = revoked ? sk_X509_REVOKED_num(revoked) : 0;
	if (!crl || (n > 0 && !(crl->serials = calloc((size_t)n, sizeof(*crl->serials))))) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		struct gf_crl_serial *s = &crl->serials[crl->count];
		if (serial_bytes(X509_REVOKED_get0_serialNumber(r), s->b, &s->len) == 0)
			crl->count++;
	}
	if (crl->count)
		qsort(crl->serials, crl->count, sizeof(*crl->serials), serial_cmp);
	*out = crl;
	crl = NULL;
	rc = GF_OK;
out:
	gf_crl_free(crl);
	X509_CRL_free(x);
	fclose(f);
	return rc;
}

void gf_crl_free(struct gf_crl *crl)
{
	if (!crl)
		return;
	free(crl->serials);
	free(crl);
}

bool gf_crl_revoked(const struct gf_crl *crl, const uint8_t *serial, size_t len)
{
	struct gf_crl_serial key;

	if (!crl || crl->count == 0 || len == 0 || len > GF_SERIAL_MAX)
		return false;
	memcpy(key.b, serial, len);
	key.len = len;
	return bsearch(&key, crl->serials, crl->count, sizeof(key), serial_cmp) != NULL;
}

size_t gf_crl_count(const struct gf_crl *crl)
{
	return crl ? crl->count : 0;
}
