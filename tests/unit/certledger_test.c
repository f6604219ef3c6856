/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/bus/certledger.h: last certificate per identity, revocation,
 * the state file. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bus/certledger.h"
#include "leak_check.h"

static struct gf_certledger *l;
static char dir[] = "/tmp/gf-certledger-test-XXXXXX";
static char path[600];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ledger", dir);
	l = gf_certledger_new();
	cr_assert_not_null(l);
}

static void teardown(void)
{
	char tmp[620];

	gf_certledger_free(l);
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
	leak_check();
}

TestSuite(certledger, .init = setup, .fini = teardown);

/* A CRL file revoking the given serials (0-terminated), loaded. */
static struct gf_crl *crl_of(const long *serials)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *issuer = X509_NAME_new();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	struct gf_crl *out = NULL;
	char crlpath[620], err[256];
	FILE *f;

	X509_NAME_add_entry_by_txt(issuer, "O", MBSTRING_ASC, (const unsigned char *)"site1", -1,
	                           -1, 0);
	X509_CRL_set_issuer_name(crl, issuer);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set1_lastUpdate(crl, now);
	for (; *serials; serials++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_INTEGER_set(s, *serials);
		X509_REVOKED_set_serialNumber(r, s);
		X509_REVOKED_set_revocationDate(r, now);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sign(crl, key, EVP_sha256());
	snprintf(crlpath, sizeof(crlpath), "%s/crl.pem", dir);
	f = fopen(crlpath, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	X509_CRL_free(crl);
	X509_NAME_free(issuer);
	ASN1_TIME_free(now);
	EVP_PKEY_free(key);
	cr_assert_eq(gf_crl_load(crlpath, &out, err, sizeof(err)), GF_OK, "%s", err);
	unlink(crlpath);
	return out;
}

static const uint8_t s7[] = {7}, s8[] = {8};

Test(certledger, an_identity_is_revoked_while_its_last_certificate_is)
{
	struct gf_crl *crl = crl_of((const long[]){7, 0});
	bool changed;

	cr_assert_eq(gf_certledger_admit(l, "foa.a", s7, 1, &changed), GF_OK);
	cr_assert(changed);
	cr_assert_eq(gf_certledger_admit(l, "foa.a", s7, 1, &changed), GF_OK);
	cr_assert(!changed, "the same certificate again changes nothing");
	cr_assert_eq(gf_certledger_admit(l, "foa.b", s8, 1, NULL), GF_OK);
	cr_assert(!gf_certledger_revoked(l, "foa.a"), "no CRL applied yet");
	cr_assert_eq(gf_certledger_apply_crl(l, crl), 1);
	cr_assert(gf_certledger_revoked(l, "foa.a"));
	cr_assert(!gf_certledger_revoked(l, "foa.b"));
	cr_assert(!gf_certledger_revoked(l, "foa.c"), "unknown identities are not revoked");
	cr_assert(!gf_certledger_revoked(l, NULL));
	/* A new certificate for the identity: admitted, no longer revoked. */
	cr_assert_eq(gf_certledger_admit(l, "foa.a", s8, 1, &changed), GF_OK);
	cr_assert(changed);
	cr_assert(!gf_certledger_revoked(l, "foa.a"));
	cr_assert_eq(gf_certledger_revoked_count(l), 0);
	cr_assert_eq(gf_certledger_apply_crl(l, NULL), 0);
	gf_crl_free(crl);
}

Test(certledger, bad_arguments_change_nothing)
{
	uint8_t big[GF_SERIAL_MAX + 1] = {1};

	cr_assert_eq(gf_certledger_admit(l, NULL, s7, 1, NULL), GF_EINVAL);
	cr_assert_eq(gf_certledger_admit(l, "foa.a", NULL, 1, NULL), GF_EINVAL);
	cr_assert_eq(gf_certledger_admit(l, "foa.a", s7, 0, NULL), GF_EINVAL);
	cr_assert_eq(gf_certledger_admit(l, "foa.a", big, sizeof(big), NULL), GF_EINVAL);
	cr_assert_eq(gf_certledger_count(l), 0);
	cr_assert_eq(gf_certledger_admit(l, "foa.a", big, GF_SERIAL_MAX, NULL), GF_OK);
}

Test(certledger, save_and_load_keep_every_identity_and_its_revocation)
{
	struct gf_certledger *back = gf_certledger_new();
	struct gf_crl *crl;
	char err[256], user[32];
	uint8_t serial[3];

	for (int i = 1; i <= 3000; i++) {
		snprintf(user, sizeof(user), "foa.id-%d", i);
		/* Serials are big-endian magnitudes without leading zero bytes. */
		size_t n = i > 255 ? 2 : 1;
		serial[0] = (uint8_t)(n == 2 ? i >> 8 : i), serial[1] = (uint8_t)i;
		cr_assert_eq(gf_certledger_admit(l, user, serial, n, NULL), GF_OK);
	}
	cr_assert_eq(gf_certledger_save(l, path, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_certledger_load(back, path, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_certledger_count(back), 3000);
	crl = crl_of((const long[]){42, 2999, 0});
	cr_assert_eq(gf_certledger_apply_crl(back, crl), 2);
	cr_assert(gf_certledger_revoked(back, "foa.id-42"));
	cr_assert(gf_certledger_revoked(back, "foa.id-2999"));
	cr_assert(!gf_certledger_revoked(back, "foa.id-43"));
	gf_crl_free(crl);
	gf_certledger_free(back);
}

Test(certledger, a_missing_file_is_an_empty_ledger)
{
	char err[256];

	cr_assert_eq(gf_certledger_load(l, path, err, sizeof(err)), GF_OK);
	cr_assert_eq(gf_certledger_count(l), 0);
}

Test(certledger, a_malformed_file_is_refused_with_its_line)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"# c\nfoa.a 07\nfoa.b\n", ":3: expected"},
	    {"foa.a 7\n", ":1: the serial is not 1 to 32 bytes of hex"},
	    {"foa.a zz\n", ":1: the serial is not hex"},
	    {"bogus.a 07\n", ":1: not an identity"},
	    {"foa.all 07\n", ":1: not an identity"},
	    {"foa.a 07 08\n", ":1: text after the serial"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gf_certledger *m = gf_certledger_new();
		FILE *f = fopen(path, "w");
		fputs(cases[i].text, f);
		fclose(f);
		cr_assert_eq(gf_certledger_load(m, path, err, sizeof(err)), GF_EPARSE, "case %zu",
		             i);
		cr_assert(strstr(err, cases[i].why), "case %zu: %s", i, err);
		gf_certledger_free(m);
	}
}

Test(certledger, an_unwritable_path_is_an_error_not_a_crash)
{
	char err[256];

	cr_assert_eq(gf_certledger_admit(l, "foa.a", s7, 1, NULL), GF_OK);
	cr_assert_eq(gf_certledger_save(l, "/nonexistent-dir/ledger", err, sizeof(err)), GF_EIO);
	cr_assert(strstr(err, "/nonexistent-dir/ledger"), "%s", err);
}
