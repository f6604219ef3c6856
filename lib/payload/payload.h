/* SPDX-License-Identifier: MIT */
/*
 * payload.h - is this payload acceptable on this topic? The one decision
 * used by the broker plugin (every publish, with plugin_opt_validate on) and
 * by gfctl validate.
 *
 *  - rows flagged anon carry a sealed payload: Content Type
 *    application/jose and a well-formed compact JWE (jwe.h);
 *  - every other row carries its message type's schema in the encoding its
 *    Content Type names (codec.h; none = JSON), decoded strictly and then
 *    validated for meaning (validate.h), through gf_check_message (check.h).
 */
#ifndef GF_PAYLOAD_H
#define GF_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_CONTENT_TYPE_JOSE "application/jose"

/*
 * Checks data (len bytes) as a payload of message type msg (msglen bytes),
 * sealed (a row the catalogue flags anon) or not, sent with content_type (NULL
 * if the publisher gave none). GF_OK, or GF_EPARSE with err naming what is
 * wrong (a field path where there is one), or GF_ENOMEM. The payload is never
 * copied into err.
 */
enum gf_err gf_payload_check(const char *msg, size_t msglen, bool sealed, const char *content_type,
                             const void *data, size_t len, char *err, size_t errlen);

#endif
