/* SPDX-License-Identifier: MIT */
/*
 * plugin.c - the entry points of goflex_privacy.so: check the plugin API
 * version, build the gate, register its callbacks, tear down. The decisions
 * live in gate.c and lib/.
 */
#include <stdlib.h>

#include "gate.h"
#include "base/log.h"

#define GF_EXPORT __attribute__((visibility("default")))

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
} gate_callbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, gf_gate_on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, gf_gate_on_acl_check},
    {MOSQ_EVT_DISCONNECT, gf_gate_on_disconnect},
    {MOSQ_EVT_RELOAD, gf_gate_on_reload},
    {MOSQ_EVT_TICK, gf_gate_on_tick},
    {MOSQ_EVT_MESSAGE, gf_gate_on_message},
};
#define N_CALLBACKS (sizeof(gate_callbacks) / sizeof(gate_callbacks[0]))

GF_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions);
GF_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                    struct mosquitto_opt *options, int option_count);
GF_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
                                       int option_count);

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5)
			return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                          struct mosquitto_opt *options, int option_count)
{
	struct gf_gate *gate = NULL;
	size_t registered = 0;
	int rc;

	gf_log_set_sink(gf_gate_log_sink, NULL);
	rc = gf_gate_new(identifier, options, option_count, &gate);
	while (rc == MOSQ_ERR_SUCCESS && registered < N_CALLBACKS) {
		rc = mosquitto_callback_register(identifier, gate_callbacks[registered].event,
		                                 gate_callbacks[registered].cb, NULL, gate);
		registered += rc == MOSQ_ERR_SUCCESS;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		while (registered-- > 0)
			mosquitto_callback_unregister(identifier, gate_callbacks[registered].event,
			                              gate_callbacks[registered].cb, NULL);
		gf_gate_free(gate);
		return rc;
	}
	*userdata = gate;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	struct gf_gate *gate = userdata;

	(void)options;
	(void)option_count;
	if (gate) {
		gf_gate_save_state(gate);
		for (size_t i = 0; i < N_CALLBACKS; i++)
			mosquitto_callback_unregister(gate->pid, gate_callbacks[i].event,
			                              gate_callbacks[i].cb, NULL);
	}
	gf_gate_free(gate);
	gf_log_set_sink(NULL, NULL);
	return MOSQ_ERR_SUCCESS;
}
