/* SPDX-License-Identifier: MIT */
/*
 * certledger.h - the certificate each identity was last admitted with, kept
 * across broker restarts.
 *
 * A CRL names serial numbers, not identities, and an identity whose
 * certificate is revoked can still own things inside mosquitto while it is
 * not connected: an away persistent session that keeps queueing messages,
 * retained messages that mosquitto serves after re-checking their publisher
 * by username. The ledger maps each certificate identity ("<role>.<id>") to
 * the serial of the certificate it last connected with; after each CRL load
 * an identity whose last certificate is revoked is "revoked", and the plugin
 * refuses it everything (reads, writes, its retained messages) until it
 * connects with a new, valid certificate.
 *
 * Entries are made only for certificates the plugin admitted (issued by the
 * site CA, of this site, not revoked), so the ledger is bounded by what the
 * CA issues, not by what clients send. Password identities are not in it.
 */
#ifndef GF_CERTLEDGER_H
#define GF_CERTLEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/certid.h"
#include "base/err.h"

struct gf_certledger;

/* A new, empty ledger (free with gf_certledger_free), or NULL. */
struct gf_certledger *gf_certledger_new(void);
void gf_certledger_free(struct gf_certledger *l);

/*
 * Records that username was admitted with the certificate serial (len bytes,
 * 1..GF_SERIAL_MAX): the identity is no longer revoked. *changed (may be
 * NULL) tells whether the record differs from before, i.e. whether the
 * ledger needs saving. GF_EINVAL, GF_ENOMEM (the ledger is unchanged).
 */
enum gf_err gf_certledger_admit(struct gf_certledger *l, const char *username,
                                const uint8_t *serial, size_t len, bool *changed);

/* Marks every identity whose recorded serial crl revokes (NULL: none).
 * Returns how many are revoked now. */
size_t gf_certledger_apply_crl(struct gf_certledger *l, const struct gf_crl *crl);

/* True if username's last certificate is revoked. O(1), no allocation;
 * false for NULL and for identities not in the ledger. */
bool gf_certledger_revoked(const struct gf_certledger *l, const char *username);

size_t gf_certledger_count(const struct gf_certledger *l);
size_t gf_certledger_revoked_count(const struct gf_certledger *l);

/*
 * Reads the ledger file at path into l (which should be empty): lines
 * "<role>.<id> <serial in hex>", '#' comments. A missing file is an empty
 * ledger (GF_OK). GF_EIO, or GF_EPARSE with err naming the line.
 */
enum gf_err gf_certledger_load(struct gf_certledger *l, const char *path, char *err, size_t errlen);

/* Writes l to path atomically (a temporary file, fsync, rename). GF_EIO or
 * GF_ENOMEM with err set. */
enum gf_err gf_certledger_save(const struct gf_certledger *l, const char *path, char *err,
                               size_t errlen);

#endif
