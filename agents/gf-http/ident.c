/* SPDX-License-Identifier: MIT */
/*
 * ident.c - the identities gf-http serves and their bearer tokens.
 *
 * The file holds SHA-256 hashes of the tokens, never the tokens: a copy of
 * it lets nobody in. A presented token is hashed and compared with every
 * identity's hash in constant time (CRYPTO_memcmp), so the time a refusal
 * takes does not tell how much of a hash matched. Neither tokens nor hashes
 * are ever written to a log or an error message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "base/file.h"

#define IDENT_FILE_MAX (4 << 20)

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Fills id from one line's words; err names the problem (never the hash). */
static enum gf_err parse_line(char *line, struct http_ident *id, char *err, size_t errlen)
{
	char *save = NULL, *name = strtok_r(line, " \t", &save);
	char *token = strtok_r(NULL, " \t", &save), *opt, *dot;
	enum gf_role role;

	*id = (struct http_ident){0};
	if (!name || !token) {
		snprintf(err, errlen,
		         "expected '<role>.<id> <sha256-hex of the token, or -> [foa=<id>]'");
		return GF_EPARSE;
	}
	dot = strchr(name, '.');
	if (!dot || strlen(name) >= sizeof(id->name)) {
		snprintf(err, errlen, "'%.80s' is not <role>.<id>", name);
		return GF_EPARSE;
	}
	role = gf_role_parse(name, (size_t)(dot - name));
	if (role != GF_ROLE_XEMS && role != GF_ROLE_FOA) {
		snprintf(err, errlen, "%.80s: gf-http serves roles xems and foa only", name);
		return GF_EPARSE;
	}
	if (!gf_id_valid(dot + 1, strlen(dot + 1)) || strcmp(dot + 1, "all") == 0) {
		snprintf(err, errlen, "%.80s: not a valid id", name);
		return GF_EPARSE;
	}
	snprintf(id->name, sizeof(id->name), "%s", name);
	snprintf(id->role, sizeof(id->role), "%s", gf_role_name(role));
	snprintf(id->id, sizeof(id->id), "%s", dot + 1);
	if (strcmp(token, "-") != 0) {
		if (strlen(token) != 2 * HTTP_TOKEN_HASH) {
			snprintf(err, errlen,
			         "%s: the token is given as 64 lowercase hex digits "
			         "(its SHA-256), or -",
			         name);
			return GF_EPARSE;
		}
		for (size_t i = 0; i < HTTP_TOKEN_HASH; i++) {
			int hi = hexval(token[2 * i]), lo = hexval(token[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s: the token hash is not lowercase hex",
				         name);
				return GF_EPARSE;
			}
			id->token[i] = (unsigned char)(hi << 4 | lo);
		}
		id->has_token = true;
	}
	if (role == GF_ROLE_XEMS)
		snprintf(id->foa, sizeof(id->foa), "%s", id->id);
	while ((opt = strtok_r(NULL, " \t", &save))) {
		if (strncmp(opt, "foa=", 4) == 0 && role == GF_ROLE_XEMS &&
		    gf_id_valid(opt + 4, strlen(opt + 4)) && strcmp(opt + 4, "all") != 0) {
			snprintf(id->foa, sizeof(id->foa), "%s", opt + 4);
		} else {
			snprintf(err, errlen, "%s: unknown option '%.40s' (xems: foa=<id>)", name,
			         opt);
			return GF_EPARSE;
		}
	}
	return GF_OK;
}

static enum gf_err parse_text(const char *name, const char *text, size_t len,
                              struct http_ident **out, size_t *n, char *err, size_t errlen)
{
	struct http_ident *v = NULL, *grown;
	size_t count = 0, cap = 0, lineno = 0, pos = 0;
	char line[1024], why[256];
	enum gf_err rc = GF_OK;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *hash;

		lineno++;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "%s:%zu: line too long", name, lineno);
			rc = GF_EPARSE;
			goto out;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (memchr(line, '\0', ll)) {
			snprintf(err, errlen, "%s:%zu: a NUL byte", name, lineno);
			rc = GF_EPARSE;
			goto out;
		}
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		line[strcspn(line, "\r")] = '\0';
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(grown = realloc(v, cap * sizeof(*v)))) {
				rc = GF_ENOMEM;
				goto out;
			}
			v = grown;
		}
		rc = parse_line(line, &v[count], why, sizeof(why));
		OPENSSL_cleanse(line, sizeof(line));
		if (rc != GF_OK) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
			goto out;
		}
		if (http_ident_by_name(v, count, v[count].name)) {
			snprintf(err, errlen, "%s:%zu: %s is listed twice", name, lineno,
			         v[count].name);
			rc = GF_EPARSE;
			goto out;
		}
		count++;
	}
	if (count == 0) {
		snprintf(err, errlen, "%s: no identity", name);
		rc = GF_EPARSE;
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
out:
	if (v)
		OPENSSL_cleanse(v, cap * sizeof(*v));
	free(v);
	return rc;
}

enum gf_err http_ident_load(const char *path, struct http_ident **out, size_t *n, char *err,
                            size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, IDENT_FILE_MAX, &text, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = parse_text(path, text, len, out, n, err, errlen);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

struct http_ident *http_ident_by_token(struct http_ident *ids, size_t n, const char *token,
                                       size_t len)
{
	unsigned char md[HTTP_TOKEN_HASH];
	unsigned int mdlen = 0;
	struct http_ident *found = NULL;

	if (len == 0 || !EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != sizeof(md))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (ids[i].has_token && CRYPTO_memcmp(ids[i].token, md, sizeof(md)) == 0 && !found)
			found = &ids[i];
	OPENSSL_cleanse(md, sizeof(md));
	return found;
}

struct http_ident *http_ident_by_name(struct http_ident *ids, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i].name, name) == 0)
			return &ids[i];
	return NULL;
}
