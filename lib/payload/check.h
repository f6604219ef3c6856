/* SPDX-License-Identifier: MIT */
/*
 * check.h - the verdict on a payload, for the broker: is data a valid
 * message of type d in this encoding, in form (codec.h) and meaning
 * (validate.h)? The answer and, for a refusal, the reason; never the
 * message (agents decode with gf_codec_decode and gf_validate).
 *
 * It accepts and refuses exactly what gf_codec_decode followed by
 * gf_validate does, with the same reason text; the differential tests
 * (tests/unit/check_test.c, tests/fuzz/check_fuzz.c) hold it to that.
 * Protobuf and JSON go first through a one-pass verdict (check_protobuf.c,
 * check_json.c, below; what they share is check_walk.c) that builds no
 * message; what it does not accept (every refusal, to get its reason, and
 * what it leaves to the full path) and msgpack are decoded into the codec's
 * arena, released at once, with gf_validate_verdict's plan-driven walk and
 * no finite checks when the decoder saw no NaN or infinity. docs/bench.md
 * has the profile of where the time goes.
 */
#ifndef GF_CHECK_H
#define GF_CHECK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"
#include "payload/codec.h"

/*
 * GF_OK if the len bytes at data are a valid message of type d in format.
 * GF_EPARSE with "path: reason" in err (NUL-terminated, truncated to
 * errlen; err may be NULL) when not: the text gf_codec_decode or
 * gf_validate would give. GF_ENOMEM, GF_EINVAL for NULL arguments.
 * Allocates only for the time of the call.
 */
enum gf_err gf_check_message(enum gf_codec_format format, const ProtobufCMessageDescriptor *d,
                             const void *data, size_t len, char *err, size_t errlen);

#ifdef GF__CHECK_INTERNAL
/*
 * The one-pass protobuf verdict (check_protobuf.c), which gf_check_message
 * tries first: the wire format walked with the descriptor, the decoder's
 * checks and the validation rules applied as the values come, nothing
 * allocated. VALID only when decode + gf_validate accept; INVALID only when
 * they refuse; UNSURE where it does not decide (types whose rules read
 * repeated values, map fields, oversized types), and gf_check_message then
 * takes the full path. It gives no reason: a refusal is explained by the
 * full path.
 */
enum gf__check_fast { GF__CHECK_VALID, GF__CHECK_INVALID, GF__CHECK_UNSURE };
enum gf__check_fast gf__check_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                       size_t len);

/*
 * The one-pass JSON verdict (check_json.c), tried first the same way, with
 * the same contract: the text parsed as the JSON decoder parses it, its
 * values read by the decoder's own readers, the rules on partial copies
 * (check_walk.c). UNSURE for what it leaves to the full path: escapes and
 * non-ASCII in keys and strings, bytes and map fields, "NaN" and the
 * infinities, and the types gf__check_protobuf leaves.
 */
enum gf__check_fast gf__check_json(const ProtobufCMessageDescriptor *d, const char *data,
                                   size_t len);
#endif

#endif
