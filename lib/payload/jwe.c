/* SPDX-License-Identifier: MIT */
#include "payload/jwe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/b64url.h"

#define HEADER_MAX 1024

/* Length of a base64url part of raw bytes n: ceil(4n/3) without padding. */
static size_t b64_len(size_t n)
{
	return (4 * n + 2) / 3;
}

static enum gf_err check_header(const char *part, size_t len, char *kid, size_t kidlen, char *err,
                                size_t errlen)
{
	unsigned char raw[HEADER_MAX + 1];
	size_t n;
	cJSON *h = NULL;
	const cJSON *alg, *enc, *k;
	enum gf_err rc;

	if (gf_b64url_decode(part, len, raw, HEADER_MAX, &n) != GF_OK)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE protected header: not base64url (or over %d bytes)",
		                  HEADER_MAX);
	raw[n] = '\0';
	if (memchr(raw, '\0', n) || !(h = cJSON_ParseWithLength((const char *)raw, n)) ||
	    !cJSON_IsObject(h)) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: not a JSON object");
		goto out;
	}
	alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	enc = cJSON_GetObjectItemCaseSensitive(h, "enc");
	k = cJSON_GetObjectItemCaseSensitive(h, "kid");
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "RSA-OAEP-256") != 0) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: alg must be RSA-OAEP-256");
		goto out;
	}
	if (!cJSON_IsString(enc) || strcmp(enc->valuestring, "A256GCM") != 0) {
		rc =
		    gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: enc must be A256GCM");
		goto out;
	}
	if (!cJSON_IsString(k) || k->valuestring[0] == '\0' ||
	    strlen(k->valuestring) > GF_JWE_KID_MAX) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: kid must name the key (1..%d chars)",
		                GF_JWE_KID_MAX);
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "zip")) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: compression (zip) is not allowed");
		goto out;
	}
	if (kid && kidlen)
		snprintf(kid, kidlen, "%s", k->valuestring);
	rc = GF_OK;
out:
	cJSON_Delete(h);
	return rc;
}

enum gf_err gf_jwe_check_compact(const char *data, size_t len, char *kid, size_t kidlen, char *err,
                                 size_t errlen)
{
	static const char *const names[] = {"protected header", "encrypted key",
	                                    "initialization vector", "ciphertext",
	                                    "authentication tag"};
	const char *part[5];
	size_t plen[5], n = 0;
	const char *p = data, *end = data + len;

	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		if (n == 5)
			return gf_err_set(err, errlen, GF_EPARSE,
			                  "JWE compact: more than five parts");
		part[n] = p;
		plen[n] = (size_t)((dot ? dot : end) - p);
		n++;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (n != 5)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE compact: %zu parts, expected five separated by '.'", n);
	for (size_t i = 0; i < 5; i++) {
		if (!gf_b64url_valid(part[i], plen[i]))
			return gf_err_set(err, errlen, GF_EPARSE, "JWE %s: not base64url",
			                  names[i]);
	}
	/* RSA-OAEP wraps the key into the RSA modulus size: 2048 to 8192 bits. */
	if (plen[1] < b64_len(256) || plen[1] > b64_len(1024) || plen[1] % 4 == 1)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE encrypted key: not an RSA-OAEP-wrapped key");
	if (plen[2] != b64_len(12))
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE initialization vector: A256GCM needs 96 bits");
	if (plen[3] == 0 || plen[3] % 4 == 1)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE ciphertext: empty or of impossible length");
	if (plen[4] != b64_len(16))
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE authentication tag: A256GCM needs 128 bits");
	return check_header(part[0], plen[0], kid, kidlen, err, errlen);
}
