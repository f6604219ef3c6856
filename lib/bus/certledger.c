/* SPDX-License-Identifier: MIT */
#include "bus/certledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bus/ident.h"
#include "base/hash.h"

struct ledger_entry {
	char *username; /* owned; NULL for an empty slot */
	uint8_t serial[GF_SERIAL_MAX];
	size_t serial_len;
	bool revoked;
};

/* Open addressing with linear probing; entries are never removed. */
struct gf_certledger {
	struct ledger_entry *slots;
	size_t cap, count, revoked; /* cap a power of two; count <= cap / 2 */
};

static size_t slot_of(size_t cap, const char *key)
{
	return (size_t)gf_fnv1a64(GF_FNV1A64_BASIS, key, strlen(key)) & (cap - 1);
}

static struct ledger_entry *lookup(struct ledger_entry *slots, size_t cap, const char *key)
{
	size_t i = slot_of(cap, key);

	while (slots[i].username && strcmp(slots[i].username, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct gf_certledger *gf_certledger_new(void)
{
	struct gf_certledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->cap = 64;
	l->slots = calloc(l->cap, sizeof(*l->slots));
	if (!l->slots) {
		free(l);
		return NULL;
	}
	return l;
}

void gf_certledger_free(struct gf_certledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->cap; i++)
		free(l->slots[i].username);
	free(l->slots);
	free(l);
}

static enum gf_err grow(struct gf_certledger *l)
{
	size_t cap = l->cap * 2;
	struct ledger_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return GF_ENOMEM;
	for (size_t i = 0; i < l->cap; i++) {
		if (l->slots[i].username)
			*lookup(slots, cap, l->slots[i].username) = l->slots[i];
	}
	free(l->slots);
	l->slots = slots;
	l->cap = cap;
	return GF_OK;
}

enum gf_err gf_certledger_admit(struct gf_certledger *l, const char *username,
                                const uint8_t *serial, size_t len, bool *changed)
{
	struct ledger_entry *e;

	if (!username || !serial || len == 0 || len > GF_SERIAL_MAX)
		return GF_EINVAL;
	e = lookup(l->slots, l->cap, username);
	if (!e->username) {
		if ((l->count + 1) * 2 > l->cap) {
			if (grow(l) != GF_OK)
				return GF_ENOMEM;
			e = lookup(l->slots, l->cap, username);
		}
		if (!(e->username = strdup(username)))
			return GF_ENOMEM;
		l->count++;
	} else if (e->serial_len == len && memcmp(e->serial, serial, len) == 0 && !e->revoked) {
		if (changed)
			*changed = false;
		return GF_OK;
	}
	if (e->revoked)
		l->revoked--;
	e->revoked = false;
	memcpy(e->serial, serial, len);
	e->serial_len = len;
	if (changed)
		*changed = true;
	return GF_OK;
}

size_t gf_certledger_apply_crl(struct gf_certledger *l, const struct gf_crl *crl)
{
	l->revoked = 0;
	for (size_t i = 0; i < l->cap; i++) {
		struct ledger_entry *e = &l->slots[i];
		if (!e->username)
			continue;
		e->revoked = gf_crl_revoked(crl, e->serial, e->serial_len);
		l->revoked += e->revoked;
	}
	return l->revoked;
}

bool gf_certledger_revoked(const struct gf_certledger *l, const char *username)
{
	if (!username || l->revoked == 0)
		return false;
	return lookup(l->slots, l->cap, username)->revoked;
}

size_t gf_certledger_count(const struct gf_certledger *l)
{
	return l->count;
}

size_t gf_certledger_revoked_count(const struct gf_certledger *l)
{
	return l->revoked;
}

/* One non-comment line: "<role>.<id> <hex>". */
static enum gf_err parse_line(struct gf_certledger *l, char *line, const char **why)
{
	char *user = line, *hex, *end;
	uint8_t serial[GF_SERIAL_MAX];
	struct gf_ident ident;
	size_t n = 0;

	hex = user + strcspn(user, " \t");
	if (*hex == '\0') {
		*why = "expected '<role>.<id> <serial>'";
		return GF_EPARSE;
	}
	*hex++ = '\0';
	hex += strspn(hex, " \t");
	end = hex + strcspn(hex, " \t\r");
	if (*end != '\0' && end[strspn(end, " \t\r")] != '\0') {
		*why = "text after the serial";
		return GF_EPARSE;
	}
	*end = '\0';
	if (gf_ident_parse(user, &ident) != GF_OK) {
		*why = "not an identity <role>.<id>";
		return GF_EPARSE;
	}
	if (strlen(hex) == 0 || strlen(hex) % 2 || strlen(hex) / 2 > GF_SERIAL_MAX) {
		*why = "the serial is not 1 to 32 bytes of hex";
		return GF_EPARSE;
	}
	for (; hex[2 * n]; n++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * n]);
		int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * n + 1]);
		if (hi < 0 || lo < 0) {
			*why = "the serial is not hex";
			return GF_EPARSE;
		}
		serial[n] = (uint8_t)(hi << 4 | lo);
	}
	*why = "out of memory";
	return gf_certledger_admit(l, user, serial, n, NULL);
}

enum gf_err gf_certledger_load(struct gf_certledger *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	const char *why = NULL;
	enum gf_err rc = GF_OK;
	unsigned lineno = 0;

	if (!f) {
		if (errno == ENOENT)
			return GF_OK;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return GF_EIO;
	}
	while (rc == GF_OK && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			why = "line too long";
			rc = GF_EPARSE;
			break;
		}
		if (line[strspn(line, " \t\r")] == '\0' || line[0] == '#')
			continue;
		rc = parse_line(l, line, &why);
	}
	if (rc == GF_OK && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = GF_EIO;
	} else if (rc != GF_OK) {
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why ? why : gf_strerror(rc));
	}
	fclose(f);
	return rc;
}

enum gf_err gf_certledger_save(const struct gf_certledger *l, const char *path, char *err,
                               size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int fd;
	bool ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return GF_EIO;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return GF_EIO;
	}
	fputs("# goflex-bus broker plugin: the certificate serial each identity was last\n"
	      "# admitted with (docs/broker-plugin.md). Written by the broker; do not edit.\n",
	      f);
	for (size_t i = 0; i < l->cap; i++) {
		const struct ledger_entry *e = &l->slots[i];
		if (!e->username)
			continue;
		fprintf(f, "%s ", e->username);
		for (size_t k = 0; k < e->serial_len; k++)
			fprintf(f, "%02x", e->serial[k]);
		fputc('\n', f);
	}
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return GF_EIO;
	}
	return GF_OK;
}
