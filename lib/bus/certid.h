/* SPDX-License-Identifier: MIT */
/*
 * certid.h - identities from client certificates, and certificate
 * revocation lists.
 *
 * A client certificate of the site CA carries the identity in its subject:
 * O=<site>, OU=<role>, CN=<id>, each exactly once (SPEC section 3).
 */
#ifndef GF_CERTID_H
#define GF_CERTID_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "base/err.h"
#include "bus/ident.h"
#include "bus/reason.h"

/* The longest certificate serial number the plugin keeps (RFC 5280: 20
 * octets; a little room for non-conforming CAs). */
#define GF_SERIAL_MAX 32

struct gf_cert_identity {
	char site[GF_SITE_MAX + 1];
	char username[16 + GF_ID_MAX + 1]; /* "<role>.<id>" */
	uint8_t serial[GF_SERIAL_MAX];
	size_t serial_len;
};

/*
 * Reads the identity of cert and checks it against the broker's site.
 * Returns GF_REASON_ALLOW and fills out, or the refusal: AUTH_CERT (not
 * exactly one O, OU and CN, or an over-long or binary value), AUTH_SITE,
 * AUTH_ROLE, AUTH_ID. out is untouched on refusal. Does not take ownership of
 * cert.
 */
enum gf_reason gf_certid_read(X509 *cert, const char *site, struct gf_cert_identity *out);

struct gf_crl;

/*
 * Loads the serial numbers revoked by the PEM CRL at path (free with
 * gf_crl_free). GF_EIO or GF_EPARSE with err set. The CRL's signature is not
 * checked here: the file is broker configuration, like the CA file.
 */
enum gf_err gf_crl_load(const char *path, struct gf_crl **out, char *err, size_t errlen);
void gf_crl_free(struct gf_crl *crl);

/* True if serial (big-endian magnitude bytes) is revoked; false for NULL crl. */
bool gf_crl_revoked(const struct gf_crl *crl, const uint8_t *serial, size_t len);

/* Number of revoked serials. */
size_t gf_crl_count(const struct gf_crl *crl);

#endif
