/* SPDX-License-Identifier: MIT */
#include "reverse.h"

#include <stdio.h>
#include <string.h>

int anonymizer_reverse_run(const struct anonymizer_conf *c, int argc, char **argv)
{
	struct anonymizer_idmap *ids = NULL;
	struct gf_pseudonym_key key;
	char err[512], p[GF_PSEUDONYM_LEN + 1];
	int code = 2, missing = 0;

	memset(&key, 0, sizeof(key));
	if (argc < 2 || strcmp(argv[0], "reverse") != 0) {
		fprintf(stderr,
		        "gf-anonymizer: unknown command '%s' (the command is: reverse "
		        "PSEUDONYM...)\n",
		        argv[0]);
		return 2;
	}
	if (anonymizer_idmap_load(c->id_map, &ids, err, sizeof(err)) != GF_OK ||
	    gf_pseudonym_key_load(c->hmac_key_file, c->hmac_key_id, &key, err, sizeof(err)) !=
	        GF_OK) {
		fprintf(stderr, "gf-anonymizer: %s\n", err);
		goto out;
	}
	code = 0;
	for (int k = 1; k < argc; k++) {
		bool found = false;

		for (size_t i = 0; i < anonymizer_idmap_count(ids) && !found; i++) {
			const char *pid, *cid;

			anonymizer_idmap_entry(ids, i, &pid, &cid);
			if (gf_pseudonym(&key, cid, strlen(cid), p) != GF_OK) {
				code = 2;
				goto out;
			}
			if (strcmp(p, argv[k]) == 0) {
				printf("%s %s %s\n", argv[k], cid, pid);
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr,
			        "gf-anonymizer: %s is no pseudonym of id_map under key %s (another "
			        "key, or not ours)\n",
			        argv[k], key.id);
			missing++;
		}
	}
	if (missing)
		code = 1;
out:
	gf_pseudonym_key_wipe(&key);
	anonymizer_idmap_free(ids);
	return code;
}
