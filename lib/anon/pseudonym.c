/* SPDX-License-Identifier: MIT */
#include "anon/pseudonym.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "anon/keyfile.h"
#include "base/b64url.h"

static bool key_id_ok(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];
		if (n == GF_PSEUDONYM_KEY_ID_MAX ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

enum gf_err gf_pseudonym_key_load(const char *path, const char *key_id,
                                  struct gf_pseudonym_key *out, char *err, size_t errlen)
{
	struct gf_pseudonym_key k;
	unsigned char *buf = NULL;
	size_t len = 0, n;
	enum gf_err rc;

	memset(&k, 0, sizeof(k));
	if (!key_id_ok(key_id))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "HMAC key id: 1 to %d characters of A-Z a-z 0-9 . _ -",
		                  GF_PSEUDONYM_KEY_ID_MAX);
	/* The key and the newline an editor adds. */
	rc = gf__keyfile_read(path, GF_PSEUDONYM_KEY_MAX + 1, true, &buf, &len, err, errlen);
	if (rc != GF_OK)
		goto out;
	n = len;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < GF_PSEUDONYM_KEY_MIN || n > GF_PSEUDONYM_KEY_MAX) {
		rc = gf_err_set(err, errlen, GF_ERANGE,
		                "%s: an HMAC key of %zu bytes; it must have %d to %d "
		                "(e.g. openssl rand -base64 48)",
		                path, n, GF_PSEUDONYM_KEY_MIN, GF_PSEUDONYM_KEY_MAX);
		goto out;
	}
	memcpy(k.key, buf, n);
	k.len = n;
	snprintf(k.id, sizeof(k.id), "%s", key_id);
	*out = k;
	rc = GF_OK;
out:
	gf__keyfile_free(buf, len);
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

void gf_pseudonym_key_wipe(struct gf_pseudonym_key *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

enum gf_err gf_pseudonym(const struct gf_pseudonym_key *k, const char *id, size_t len,
                         char out[GF_PSEUDONYM_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char b64[GF_PSEUDONYM_LEN + 1];
	enum gf_err rc = GF_EIO;

	/* HMAC() takes a non-NULL data pointer even for no bytes. */
	if (!HMAC(EVP_sha256(), k->key, (int)k->len, len ? (const unsigned char *)id : mac, len,
	          mac, &maclen) ||
	    maclen != 32)
		goto out;
	/* 32 bytes are 43 base64url characters without padding. */
	gf_b64url_encode(mac, maclen, b64);
	b64[GF_PSEUDONYM_LEN] = '\0';
	memcpy(out, b64, sizeof(b64));
	rc = GF_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}
