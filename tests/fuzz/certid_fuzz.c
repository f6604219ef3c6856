/* SPDX-License-Identifier: MIT */
/* libFuzzer target: identities read from arbitrary DER certificates. */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "bus/certid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	struct gf_cert_identity id;
	struct gf_ident ident;

	if (!x)
		return 0;
	if (gf_certid_read(x, "site1", &id) == GF_REASON_ALLOW &&
	    gf_ident_parse(id.username, &ident) != GF_OK)
		abort(); /* an admitted certificate must yield a valid identity */
	X509_free(x);
	return 0;
}
