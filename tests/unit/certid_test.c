/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/bus/certid.h: identities from certificate subjects, and CRLs.
 * Certificates and CRLs are made here with the OpenSSL API (EC P-256,
 * self-signed: gf_certid_read looks at the subject and serial only).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bus/certid.h"

#define SITE "site1"

static EVP_PKEY *pkey;
static char path[64];
/* MBSTRING_ASC as a CA would use; V_ASN1_UTF8STRING to store a value as is,
 * past OpenSSL's own length limits (64 for O and CN). */
static int entry_type = MBSTRING_ASC;

static void setup(void)
{
	pkey = EVP_EC_gen("P-256");
	cr_assert_not_null(pkey, "EC key generation failed");
	path[0] = '\0';
}

static void teardown(void)
{
	EVP_PKEY_free(pkey);
	pkey = NULL;
	if (path[0])
		unlink(path);
}

TestSuite(certid, .init = setup, .fini = teardown);
TestSuite(crl, .init = setup, .fini = teardown);

static const uint8_t serial_default[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static void set_serial(ASN1_INTEGER *to, const uint8_t *serial, size_t len)
{
	BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);

	cr_assert_not_null(bn);
	cr_assert_not_null(BN_to_ASN1_INTEGER(bn, to));
	BN_free(bn);
}

/*
 * A certificate whose subject has the given entries, in order: pairs of
 * field name and value, ended by NULL. The caller frees it with X509_free.
 */
static X509 *make_cert_serial(const char *const *entries, const uint8_t *serial, size_t len)
{
	X509 *x = X509_new();
	X509_NAME *name;

	cr_assert_not_null(x);
	cr_assert_eq(X509_set_version(x, 2), 1);
	set_serial(X509_get_serialNumber(x), serial, len);
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	name = X509_get_subject_name(x);
	for (size_t i = 0; entries[i]; i += 2) {
		cr_assert_eq(X509_NAME_add_entry_by_txt(name, entries[i], entry_type,
		                                        (const unsigned char *)entries[i + 1], -1,
		                                        -1, 0),
		             1, "adding %s=%s", entries[i], entries[i + 1]);
	}
	cr_assert_eq(X509_set_issuer_name(x, name), 1);
	cr_assert_eq(X509_set_pubkey(x, pkey), 1);
	cr_assert_gt(X509_sign(x, pkey, EVP_sha256()), 0);
	return x;
}

static X509 *make_cert(const char *const *entries)
{
	return make_cert_serial(entries, serial_default, sizeof(serial_default));
}

/* Reads the identity of a certificate with entries; checks out is untouched
 * on refusal. */
static enum gf_reason read_subject(const char *const *entries, struct gf_cert_identity *out)
{
	X509 *x = make_cert(entries);
	struct gf_cert_identity id;
	enum gf_reason r;

	memset(&id, 0x5a, sizeof(id));
	r = gf_certid_read(x, SITE, &id);
	X509_free(x);
	if (r != GF_REASON_ALLOW) {
		for (size_t i = 0; i < sizeof(id); i++)
			cr_assert_eq(((unsigned char *)&id)[i], 0x5a, "out changed on refusal");
	}
	if (out)
		*out = id;
	return r;
}

static void expect_reason(const char *const *entries, enum gf_reason expect)
{
	enum gf_reason r = read_subject(entries, NULL);

	cr_assert_eq(r, expect, "got %s, expected %s", gf_reason_msgid(r), gf_reason_msgid(expect));
}

#define SUBJECT(...) ((const char *const[]){__VA_ARGS__, NULL})

/* --- identities ------------------------------------------------------------ */

Test(certid, good_subject)
{
	struct gf_cert_identity id;

	cr_assert_eq(read_subject(SUBJECT("O", SITE, "OU", "foa", "CN", "7-PRE-001"), &id),
	             GF_REASON_ALLOW);
	cr_assert_str_eq(id.username, "foa.7-PRE-001");
	cr_assert_str_eq(id.site, SITE);
	cr_assert_eq(id.serial_len, sizeof(serial_default));
	cr_assert_arr_eq(id.serial, serial_default, sizeof(serial_default));
}

Test(certid, entry_order_and_other_fields_do_not_matter)
{
	struct gf_cert_identity id;

	cr_assert_eq(
	    read_subject(SUBJECT("C", "DK", "CN", "f1", "L", "Aarhus", "OU", "fman", "O", SITE),
	                 &id),
	    GF_REASON_ALLOW);
	cr_assert_str_eq(id.username, "fman.f1");
}

Test(certid, every_role)
{
	static const char *const roles[] = {"user", "xems", "foa", "fman", "fmar", "doms",
	                                    "sp",   "dms",  "ext", "kpi",  "ops",  "bridge"};
	struct gf_cert_identity id;
	char expect[32];

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		cr_assert_eq(read_subject(SUBJECT("O", SITE, "OU", roles[i], "CN", "x.1"), &id),
		             GF_REASON_ALLOW, "%s", roles[i]);
		snprintf(expect, sizeof(expect), "%s.x.1", roles[i]);
		cr_assert_str_eq(id.username, expect);
	}
}

Test(certid, wrong_site)
{
	expect_reason(SUBJECT("O", "site2", "OU", "foa", "CN", "7-PRE-001"), GF_REASON_AUTH_SITE);
	expect_reason(SUBJECT("O", "Site1", "OU", "foa", "CN", "7-PRE-001"), GF_REASON_AUTH_SITE);
	expect_reason(SUBJECT("O", "site1 ", "OU", "foa", "CN", "7-PRE-001"), GF_REASON_AUTH_SITE);
	expect_reason(SUBJECT("O", "site", "OU", "foa", "CN", "7-PRE-001"), GF_REASON_AUTH_SITE);
}

Test(certid, not_exactly_one_of_each)
{
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "OU", "fman", "CN", "7-PRE-001"),
	              GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "OU", "foa", "CN", "7-PRE-001"),
	              GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("O", SITE, "O", SITE, "OU", "foa", "CN", "7-PRE-001"),
	              GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a", "CN", "b"), GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("O", SITE, "OU", "foa"), GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("O", SITE, "CN", "7-PRE-001"), GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("OU", "foa", "CN", "7-PRE-001"), GF_REASON_AUTH_CERT);
	expect_reason(SUBJECT("C", "DK"), GF_REASON_AUTH_CERT);
}

Test(certid, unknown_role)
{
	expect_reason(SUBJECT("O", SITE, "OU", "bogus", "CN", "7-PRE-001"), GF_REASON_AUTH_ROLE);
	expect_reason(SUBJECT("O", SITE, "OU", "all", "CN", "7-PRE-001"), GF_REASON_AUTH_ROLE);
	expect_reason(SUBJECT("O", SITE, "OU", "FOA", "CN", "7-PRE-001"), GF_REASON_AUTH_ROLE);
}

Test(certid, invalid_id)
{
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "all"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a/b"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a+b"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a#"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a:b"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "-a"), GF_REASON_AUTH_ID);
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", "a b"), GF_REASON_AUTH_ID);
}

Test(certid, id_length)
{
	char cn[80];
	struct gf_cert_identity id;

	memset(cn, 'c', sizeof(cn));
	cn[GF_ID_MAX] = '\0';
	cr_assert_eq(read_subject(SUBJECT("O", SITE, "OU", "bridge", "CN", cn), &id),
	             GF_REASON_ALLOW, "64 characters");
	cr_assert_eq(strlen(id.username), 7 + GF_ID_MAX);
	cn[GF_ID_MAX] = 'c';
	cn[GF_ID_MAX + 1] = '\0';
	entry_type = V_ASN1_UTF8STRING;
	expect_reason(SUBJECT("O", SITE, "OU", "foa", "CN", cn), GF_REASON_AUTH_CERT);
}

Test(certid, site_length)
{
	char o[80];

	memset(o, 's', sizeof(o));
	o[GF_SITE_MAX + 1] = '\0';
	entry_type = V_ASN1_UTF8STRING;
	expect_reason(SUBJECT("O", o, "OU", "foa", "CN", "x"), GF_REASON_AUTH_CERT);
}

Test(certid, nul_byte_in_value)
{
	X509 *x = make_cert(SUBJECT("O", SITE, "OU", "foa"));
	struct gf_cert_identity id;

	cr_assert_eq(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                                        (const unsigned char *)"ab\0c", 4, -1, 0),
	             1);
	cr_assert_eq(gf_certid_read(x, SITE, &id), GF_REASON_AUTH_CERT);
	X509_free(x);
}

Test(certid, null_cert)
{
	struct gf_cert_identity id;

	cr_assert_eq(gf_certid_read(NULL, SITE, &id), GF_REASON_AUTH_CERT);
}

Test(certid, serial_with_high_bit)
{
	static const uint8_t serial[] = {0x80, 0x00, 0x01};
	X509 *x =
	    make_cert_serial(SUBJECT("O", SITE, "OU", "sp", "CN", "s1"), serial, sizeof(serial));
	struct gf_cert_identity id;

	cr_assert_eq(gf_certid_read(x, SITE, &id), GF_REASON_ALLOW);
	X509_free(x);
	cr_assert_eq(id.serial_len, 3, "the magnitude, without DER's leading zero");
	cr_assert_arr_eq(id.serial, serial, 3);
}

/* --- CRLs ------------------------------------------------------------------- */

static void write_crl(const uint8_t *const *serials, const size_t *lens, size_t n)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *issuer = X509_NAME_new();
	ASN1_TIME *now = ASN1_TIME_new();
	FILE *f;
	int fd;

	cr_assert(crl && issuer && now);
	cr_assert_eq(X509_CRL_set_version(crl, 1), 1);
	cr_assert_eq(X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
	                                        (const unsigned char *)"site1 CA", -1, -1, 0),
	             1);
	cr_assert_eq(X509_CRL_set_issuer_name(crl, issuer), 1);
	cr_assert_not_null(X509_gmtime_adj(now, 0));
	cr_assert_eq(X509_CRL_set1_lastUpdate(crl, now), 1);
	cr_assert_not_null(X509_gmtime_adj(now, 86400));
	cr_assert_eq(X509_CRL_set1_nextUpdate(crl, now), 1);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		cr_assert(r && s);
		set_serial(s, serials[i], lens[i]);
		cr_assert_eq(X509_REVOKED_set_serialNumber(r, s), 1);
		cr_assert_eq(X509_REVOKED_set_revocationDate(r, now), 1);
		cr_assert_eq(X509_CRL_add0_revoked(crl, r), 1);
		ASN1_INTEGER_free(s);
	}
	cr_assert_eq(X509_CRL_sort(crl), 1);
	cr_assert_gt(X509_CRL_sign(crl, pkey, EVP_sha256()), 0);

	snprintf(path, sizeof(path), "/tmp/gf-crl-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_X509_CRL(f, crl), 1);
	cr_assert_eq(fclose(f), 0);
	ASN1_TIME_free(now);
	X509_NAME_free(issuer);
	X509_CRL_free(crl);
}

static void write_text(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/gf-crl-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static const uint8_t s1[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t s2[] = {0x05};
static const uint8_t s3[] = {0x80, 0x00, 0x01};

Test(crl, revoked_serials)
{
	const uint8_t *const serials[] = {s1, s2, s3};
	const size_t lens[] = {sizeof(s1), sizeof(s2), sizeof(s3)};
	static const uint8_t other[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xee};
	static const uint8_t longer[] = {0x05, 0x00};
	static const uint8_t six[] = {0x06};
	struct gf_crl *crl = NULL;
	char err[256] = "";

	write_crl(serials, lens, 3);
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_not_null(crl);
	cr_assert_eq(gf_crl_count(crl), 3);
	cr_assert(gf_crl_revoked(crl, s1, sizeof(s1)));
	cr_assert(gf_crl_revoked(crl, s2, sizeof(s2)));
	cr_assert(gf_crl_revoked(crl, s3, sizeof(s3)));
	cr_assert_not(gf_crl_revoked(crl, other, sizeof(other)));
	cr_assert_not(gf_crl_revoked(crl, six, sizeof(six)));
	cr_assert_not(gf_crl_revoked(crl, longer, sizeof(longer)));
	cr_assert_not(gf_crl_revoked(crl, s1, sizeof(s1) - 1), "a prefix is another serial");
	cr_assert_not(gf_crl_revoked(crl, s1, 0));
	cr_assert_not(gf_crl_revoked(NULL, s1, sizeof(s1)));
	gf_crl_free(crl);
}

Test(crl, certificate_serial_matches_crl)
{
	const uint8_t *const serials[] = {s3};
	const size_t lens[] = {sizeof(s3)};
	X509 *revoked =
	    make_cert_serial(SUBJECT("O", SITE, "OU", "foa", "CN", "a"), s3, sizeof(s3));
	X509 *good = make_cert_serial(SUBJECT("O", SITE, "OU", "foa", "CN", "b"), s1, sizeof(s1));
	struct gf_cert_identity ida, idb;
	struct gf_crl *crl = NULL;
	char err[256] = "";

	cr_assert_eq(gf_certid_read(revoked, SITE, &ida), GF_REASON_ALLOW);
	cr_assert_eq(gf_certid_read(good, SITE, &idb), GF_REASON_ALLOW);
	X509_free(revoked);
	X509_free(good);
	write_crl(serials, lens, 1);
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert(gf_crl_revoked(crl, ida.serial, ida.serial_len));
	cr_assert_not(gf_crl_revoked(crl, idb.serial, idb.serial_len));
	gf_crl_free(crl);
}

Test(crl, many_serials)
{
	enum { N = 500 };
	static uint8_t store[N][2];
	const uint8_t *serials[N];
	size_t lens[N];
	struct gf_crl *crl = NULL;
	char err[256] = "";

	for (size_t i = 0; i < N; i++) {
		/* Odd numbers from 0x0101 up: all two bytes, no leading zero. */
		unsigned v = 0x0101u + 2u * (unsigned)i;
		store[i][0] = (uint8_t)(v >> 8);
		store[i][1] = (uint8_t)v;
		serials[i] = store[i];
		lens[i] = 2;
	}
	write_crl(serials, lens, N);
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_crl_count(crl), N);
	for (unsigned v = 0x0100u; v < 0x0101u + 2u * N + 4u; v++) {
		uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
		bool expect = v >= 0x0101u && v < 0x0101u + 2u * N && (v & 1u);
		cr_assert_eq(gf_crl_revoked(crl, b, 2), expect, "serial %04x", v);
	}
	gf_crl_free(crl);
}

Test(crl, empty_crl)
{
	struct gf_crl *crl = NULL;
	char err[256] = "";

	write_crl(NULL, NULL, 0);
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_not_null(crl);
	cr_assert_eq(gf_crl_count(crl), 0);
	cr_assert_not(gf_crl_revoked(crl, s1, sizeof(s1)));
	gf_crl_free(crl);
}

Test(crl, not_a_crl)
{
	struct gf_crl *crl = NULL;
	char err[256] = "", expect[320];

	write_text("this is not a CRL\n");
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_EPARSE);
	cr_assert_null(crl);
	snprintf(expect, sizeof(expect), "%s: not a PEM certificate revocation list", path);
	cr_assert_str_eq(err, expect);
	ERR_clear_error();
}

Test(crl, certificate_is_not_a_crl)
{
	X509 *x = make_cert(SUBJECT("O", SITE, "OU", "foa", "CN", "a"));
	struct gf_crl *crl = NULL;
	char err[256] = "";
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/gf-crl-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_X509(f, x), 1);
	cr_assert_eq(fclose(f), 0);
	X509_free(x);
	cr_assert_eq(gf_crl_load(path, &crl, err, sizeof(err)), GF_EPARSE);
	cr_assert_null(crl);
	cr_assert_not_null(strstr(err, "not a PEM certificate revocation list"), "err: %s", err);
	ERR_clear_error();
}

Test(crl, missing_file)
{
	struct gf_crl *crl = NULL;
	char err[256] = "";

	cr_assert_eq(gf_crl_load("/nonexistent/crl.pem", &crl, err, sizeof(err)), GF_EIO);
	cr_assert_null(crl);
	cr_assert_eq(strncmp(err, "/nonexistent/crl.pem: ", 22), 0, "err: %s", err);
}

Test(crl, null_helpers)
{
	gf_crl_free(NULL);
	cr_assert_eq(gf_crl_count(NULL), 0);
	cr_assert_not(gf_crl_revoked(NULL, NULL, 0));
}
