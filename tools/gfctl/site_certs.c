/* SPDX-License-Identifier: MIT */
/* site_certs.c - gfctl site check: the site CA, the CRL, the broker's and the clients' certificates
 * and keys (site_check.h). */
#include "site_check.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "bus/certid.h"

X509 *gfctl_site_certs_load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *key_load(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	ERR_clear_error();
	return k;
}

/* The first value of field nid in name, or "" (at most size - 1 bytes). */
static void name_field(const X509_NAME *name, int nid, char *out, size_t size)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *v;
	int len;

	out[0] = '\0';
	if (i < 0)
		return;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	len = ASN1_STRING_length(v);
	if (len < 0 || (size_t)len >= size)
		return;
	memcpy(out, ASN1_STRING_get0_data(v), (size_t)len);
	out[len] = '\0';
}

/* A time as RFC 3339 UTC ("?" if unreadable). */
static void time_text(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, size, "?");
		return;
	}
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from now until t (negative: past); false if unreadable. */
static bool days_until(const ASN1_TIME *t, int *days)
{
	int d, secs;

	if (!t || ASN1_TIME_diff(&d, &secs, NULL, t) != 1)
		return false;
	*days = d < 0 || secs < 0 ? (d < 0 ? d : -1) : d;
	return true;
}

/*
 * A private key file: readable, only by its owner, and the key of cert.
 * Returns false (after a FAIL) if it is not.
 */
static bool key_check(struct site_check *s, const char *rel, X509 *cert, bool required)
{
	char path[PATHLEN];
	struct stat st;
	EVP_PKEY *k;
	bool match;

	gfctl_site_dir_path(s, rel, path, sizeof(path));
	if (stat(path, &st) != 0) {
		if (required)
			gfctl_site_finding_print(s, LV_FAIL, "cert", rel, "missing (%s)",
			                         strerror(errno));
		else
			gfctl_site_finding_print(
			    s, LV_WARN, "cert", rel,
			    "no key next to the certificate (fine if it lives only on the "
			    "client's machine)");
		return !required;
	}
	if (st.st_mode & 077) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "cert", rel,
		    "mode %04o: a private key must be readable by its owner only (chmod 600)",
		    (unsigned)(st.st_mode & 07777));
		return false;
	}
	k = key_load(path);
	if (!k) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel, "not a readable PEM private key");
		return false;
	}
	match = X509_check_private_key(cert, k) == 1;
	ERR_clear_error();
	EVP_PKEY_free(k);
	if (!match) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "does not match its certificate (wrong key)");
		return false;
	}
	gfctl_site_finding_print(s, LV_OK, "cert", rel, "matches its certificate, mode %04o",
	                         (unsigned)(st.st_mode & 07777));
	return true;
}

/* Verifies cert against the site CA and CRL; fills why and returns the
 * OpenSSL verify result (X509_V_OK when good). */
int gfctl_site_certs_verify(struct site_check *s, X509 *cert)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = X509_V_ERR_UNSPECIFIED;

	if (!ctx || !s->store || X509_STORE_CTX_init(ctx, s->store, cert, NULL) != 1) {
		X509_STORE_CTX_free(ctx);
		return rc;
	}
	if (X509_verify_cert(ctx) == 1)
		rc = X509_V_OK;
	else
		rc = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* The expiry gfctl_site_finding_print of cert (after a good chain): OK, WARN within
 * warn_days. */
static void expiry_finding(struct site_check *s, const char *rel, X509 *cert, const char *what)
{
	char until[64];
	int days = 0;

	time_text(X509_get0_notAfter(cert), until, sizeof(until));
	if (days_until(X509_get0_notAfter(cert), &days) && days < s->o->warn_days)
		gfctl_site_finding_print(s, LV_WARN, "cert", rel,
		                         "%s expires in %d day%s (%s): renew it", what, days,
		                         days == 1 ? "" : "s", until);
	else
		gfctl_site_finding_print(s, LV_OK, "cert", rel, "%s, valid until %s", what, until);
}

/* The chain gfctl_site_finding_print of a certificate; false (after a FAIL) if it is bad.
 * A revoked client certificate is not a fault of the site: *revoked says so. */
static bool chain_check(struct site_check *s, const char *rel, X509 *cert, const char *what,
                        bool *revoked)
{
	char when[64];
	int rc = gfctl_site_certs_verify(s, cert);

	if (revoked)
		*revoked = false;
	switch (rc) {
	case X509_V_OK:
		expiry_finding(s, rel, cert, what);
		return true;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		time_text(X509_get0_notAfter(cert), when, sizeof(when));
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "%s expired on %s: renew or revoke it", what, when);
		return false;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		time_text(X509_get0_notBefore(cert), when, sizeof(when));
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "%s is not valid before %s (check the clock)", what, when);
		return false;
	case X509_V_ERR_CERT_REVOKED:
		if (revoked) {
			*revoked = true;
			gfctl_site_finding_print(s, LV_OK, "cert", rel,
			                         "%s is revoked: the broker refuses it", what);
			return false;
		}
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel, "%s is revoked (crl.pem)", what);
		return false;
	default:
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "%s does not verify against pki/ca.crt: %s", what,
		                         X509_verify_cert_error_string(rc));
		return false;
	}
}

/* --- certificates ---------------------------------------------------------------- */

static bool check_ca(struct site_check *s)
{
	char path[PATHLEN], org[GF_SITE_MAX + 2];
	EVP_PKEY *pub;
	int days = 0;

	gfctl_site_dir_path(s, "pki/ca.crt", path, sizeof(path));
	s->ca = gfctl_site_certs_load(path);
	if (!s->ca) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/ca.crt",
		                         "missing or not a PEM certificate (certs/gf-certs init)");
		return false;
	}
	name_field(X509_get_subject_name(s->ca), NID_organizationName, org, sizeof(org));
	if (!org[0] || strlen(org) > GF_SITE_MAX || !gf_id_valid(org, strlen(org))) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/ca.crt",
		                         "its O= is not a site name (SPEC section 3): '%s'", org);
		return false;
	}
	memcpy(s->site, org, strlen(org) + 1); /* at most GF_SITE_MAX bytes, checked */
	pub = X509_get0_pubkey(s->ca);
	if (X509_check_ca(s->ca) < 1)
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/ca.crt",
		                         "not a CA certificate (basicConstraints)");
	else if (!pub || X509_verify(s->ca, pub) != 1)
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/ca.crt",
		                         "not self-signed: a site CA is its own root");
	else if (!days_until(X509_get0_notAfter(s->ca), &days) || days < 0)
		gfctl_site_finding_print(
		    s, LV_FAIL, "cert", "pki/ca.crt",
		    "the site CA has expired: every certificate of the site is refused");
	else
		expiry_finding(s, "pki/ca.crt", s->ca, "site CA");
	ERR_clear_error();
	s->store = X509_STORE_new();
	if (!s->store || X509_STORE_add_cert(s->store, s->ca) != 1) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/ca.crt",
		                         "cannot build a trust store (out of memory)");
		return false;
	}
	return true;
}

static void check_crl(struct site_check *s)
{
	char path[PATHLEN], when[64];
	FILE *f;
	int days = 0, revoked_n;

	gfctl_site_dir_path(s, "pki/crl.pem", path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		gfctl_site_finding_print(
		    s, LV_WARN, "cert", "pki/crl.pem",
		    "no CRL: revoked certificates are not refused (certs/gf-certs crl)");
		return;
	}
	s->crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	if (!s->crl) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/crl.pem",
		                         "not a PEM CRL: the broker will not start");
		return;
	}
	if (X509_CRL_verify(s->crl, X509_get0_pubkey(s->ca)) != 1) {
		ERR_clear_error();
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/crl.pem",
		                         "not signed by the site CA");
		X509_CRL_free(s->crl);
		s->crl = NULL;
		return;
	}
	time_text(X509_CRL_get0_nextUpdate(s->crl), when, sizeof(when));
	if (!days_until(X509_CRL_get0_nextUpdate(s->crl), &days) || days < 0) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "cert", "pki/crl.pem",
		    "expired (next update was %s): TLS clients are refused until it is renewed "
		    "(certs/gf-certs crl)",
		    when);
		/* Verify the rest without it, so that each certificate's own fault shows. */
		X509_CRL_free(s->crl);
		s->crl = NULL;
		return;
	}
	revoked_n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(s->crl));
	if (days < 7)
		gfctl_site_finding_print(s, LV_WARN, "cert", "pki/crl.pem",
		                         "next update %s, in %d day%s: run certs/gf-certs crl",
		                         when, days, days == 1 ? "" : "s");
	else
		gfctl_site_finding_print(s, LV_OK, "cert", "pki/crl.pem",
		                         "signed by the site CA, %d revoked, next update %s",
		                         revoked_n > 0 ? revoked_n : 0, when);
	X509_STORE_add_crl(s->store, s->crl);
	X509_STORE_set_flags(s->store, X509_V_FLAG_CRL_CHECK);
}

static void check_broker_cert(struct site_check *s)
{
	char path[PATHLEN], org[GF_SITE_MAX + 2];
	X509 *cert;

	gfctl_site_dir_path(s, "pki/broker.crt", path, sizeof(path));
	cert = gfctl_site_certs_load(path);
	if (!cert) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "cert", "pki/broker.crt",
		    "missing or not a PEM certificate (certs/gf-certs broker)");
		return;
	}
	name_field(X509_get_subject_name(cert), NID_organizationName, org, sizeof(org));
	if (strcmp(org, s->site) != 0)
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/broker.crt",
		                         "O='%s', not the site '%s'", org, s->site);
	if (!(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER))
		gfctl_site_finding_print(s, LV_FAIL, "cert", "pki/broker.crt",
		                         "not a server certificate (extendedKeyUsage serverAuth)");
	if (chain_check(s, "pki/broker.crt", cert, "broker certificate", NULL))
		key_check(s, "pki/broker.key", cert, true);
	X509_free(cert);
}

static void check_client(struct site_check *s, const char *name)
{
	char rel[PATHLEN], path[PATHLEN], file_ident[256];
	struct gf_cert_identity id;
	enum gf_reason reason;
	bool revoked = false;
	X509 *cert;

	snprintf(rel, sizeof(rel), "pki/clients/%s", name);
	gfctl_site_dir_path(s, rel, path, sizeof(path));
	cert = gfctl_site_certs_load(path);
	if (!cert) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel, "not a PEM certificate");
		return;
	}
	snprintf(file_ident, sizeof(file_ident), "%.*s", (int)(strlen(name) - 4), name);
	reason = gf_certid_read(cert, s->site, &id);
	if (reason != GF_REASON_ALLOW) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "not an identity of this site (%s): %s",
		                         gf_reason_msgid(reason), gf_reason_text(reason));
		goto out;
	}
	if (strcmp(id.username, file_ident) != 0) {
		gfctl_site_finding_print(s, LV_FAIL, "cert", rel,
		                         "the file is named %s but the certificate is %s",
		                         file_ident, id.username);
		goto out;
	}
	if (chain_check(s, rel, cert, id.username, &revoked)) {
		snprintf(rel, sizeof(rel), "pki/clients/%s.key", file_ident);
		key_check(s, rel, cert, false);
	}
out:
	X509_free(cert);
}

void gfctl_site_certs_check(struct site_check *s)
{
	char path[PATHLEN];
	struct dirent **names = NULL;
	int n, i;

	if (!check_ca(s))
		return;
	check_crl(s);
	check_broker_cert(s);
	gfctl_site_dir_path(s, "pki/clients", path, sizeof(path));
	n = scandir(path, &names, NULL, gfctl_site_dir_name_cmp);
	if (n < 0) {
		gfctl_site_finding_print(s, LV_WARN, "cert", "pki/clients",
		                         "no client certificates (%s)", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (i < MAX_ITEMS && gfctl_site_dir_has_suffix(names[i]->d_name, ".crt"))
			check_client(s, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}
