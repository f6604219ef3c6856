/* SPDX-License-Identifier: MIT */
/*
 * broker_stubs.h - a stand-in for the mosquitto broker, so the plugin's
 * callbacks can be called with synthetic events (mosquitto's own
 * test/unit stubs technique). The stubs record what the plugin asked of
 * the broker: log lines, publications, callback registrations.
 */
#ifndef GF_BROKER_STUBS_H
#define GF_BROKER_STUBS_H

#include <stdbool.h>

#include <openssl/x509.h>

/* The broker's opaque client, as far as the stubs need it. */
struct mosquitto {
	char *id;
	char *username; /* malloc'd; replaced by mosquitto_set_username */
	X509 *cert;     /* returned (with a new reference) as the client certificate */
	int protocol;   /* mosquitto_client_protocol_version: 3, 4, 5; 0 = the retained stand-in */
	bool opened;    /* the test harness's own: authenticated once (a connection is open) */
	int sub_count;  /* what mosquitto_client_sub_count reports */
};

#define STUB_MAX 64

struct stub_record {
	char log[STUB_MAX][1100];
	int nlog;
	char pub_topic[STUB_MAX][256];
	char pub_payload[STUB_MAX][4096];
	bool pub_retain[STUB_MAX];
	int npub;
	int ncallbacks;
	int events[16];
	void *cb_userdata;
};

extern struct stub_record stub;
/* The Content Type property that mosquitto_property_read_string reports
 * (NULL: none). */
extern const char *stub_content_type;

/* Clears the record. */
void stub_reset(void);
/* True if some log line contains both a and b (b may be NULL). */
bool stub_logged(const char *a, const char *b);

#endif
