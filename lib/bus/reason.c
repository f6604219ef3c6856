/* SPDX-License-Identifier: MIT */
#include "bus/reason.h"

static const char *const reason_msgids[] = {
#define GF__REASON_ID(name, msgid, text) msgid,
    GF_REASON_MAP(GF__REASON_ID)
#undef GF__REASON_ID
};

static const char *const reason_texts[] = {
#define GF__REASON_TEXT(name, msgid, text) text,
    GF_REASON_MAP(GF__REASON_TEXT)
#undef GF__REASON_TEXT
};

const char *gf_reason_msgid(enum gf_reason reason)
{
	return (unsigned)reason < GF_REASON_COUNT ? reason_msgids[reason] : "GF-UNKNOWN";
}

const char *gf_reason_text(enum gf_reason reason)
{
	return (unsigned)reason < GF_REASON_COUNT ? reason_texts[reason] : "unknown reason";
}
