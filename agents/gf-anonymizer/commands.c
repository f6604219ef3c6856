/* SPDX-License-Identifier: MIT */
#include "commands.h"

#include <stdio.h>
#include <string.h>

/* reverse PSEUDONYM... */
static int reverse(const struct anonymizer_idmap *ids, const struct gf_pseudonym_key *key, int argc,
                   char **argv)
{
	char p[GF_PSEUDONYM_LEN + 1];
	int code = 0, missing = 0;

	for (int k = 1; k < argc; k++) {
		bool found = false;

		for (size_t i = 0; i < anonymizer_idmap_count(ids) && !found; i++) {
			const char *pid, *cid;

			anonymizer_idmap_entry(ids, i, &pid, &cid);
			if (gf_pseudonym(key, cid, strlen(cid), p) != GF_OK)
				return 2;
			if (strcmp(p, argv[k]) == 0) {
				printf("%s %s %s\n", argv[k], cid, pid);
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr,
			        "gf-anonymizer: %s is no pseudonym of id_map under key %s (another "
			        "key, or not ours)\n",
			        argv[k], key->id);
			missing++;
		}
	}
	if (missing)
		code = 1;
	return code;
}

/* pseudonyms [PRIVATE_ID...] */
static int pseudonyms(const struct anonymizer_idmap *ids, const struct gf_pseudonym_key *key,
                      int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)argc - 1 : anonymizer_idmap_count(ids);
	char p[GF_PSEUDONYM_LEN + 1];
	int code = 0;

	printf("private_id,pseudonym\n");
	for (size_t k = 0; k < n; k++) {
		const char *pid, *cid;
		long i = (long)k;

		if (argc > 1) {
			i = anonymizer_idmap_find(ids, argv[k + 1], strlen(argv[k + 1]));
			if (i < 0) {
				fprintf(stderr, "gf-anonymizer: %s is not in id_map\n",
				        argv[k + 1]);
				code = 1;
				continue;
			}
		}
		anonymizer_idmap_entry(ids, (size_t)i, &pid, &cid);
		if (gf_pseudonym(key, cid, strlen(cid), p) != GF_OK)
			return 2;
		printf("%s,%s\n", pid, p);
	}
	return code;
}

int anonymizer_commands_run(const struct anonymizer_conf *c, int argc, char **argv)
{
	struct anonymizer_idmap *ids = NULL;
	struct gf_pseudonym_key key;
	char err[512];
	bool rev = strcmp(argv[0], "reverse") == 0;
	int code = 2;

	memset(&key, 0, sizeof(key));
	if ((!rev && strcmp(argv[0], "pseudonyms") != 0) || (rev && argc < 2)) {
		fprintf(stderr,
		        "gf-anonymizer: %s '%s' (the commands are: reverse PSEUDONYM..., "
		        "pseudonyms [PRIVATE_ID...])\n",
		        rev ? "reverse needs a pseudonym:" : "unknown command", argv[0]);
		return 2;
	}
	if (anonymizer_idmap_load(c->id_map, &ids, err, sizeof(err)) != GF_OK ||
	    gf_pseudonym_key_load(c->hmac_key_file, c->hmac_key_id, &key, err, sizeof(err)) !=
	        GF_OK) {
		fprintf(stderr, "gf-anonymizer: %s\n", err);
		goto out;
	}
	code = rev ? reverse(ids, &key, argc, argv) : pseudonyms(ids, &key, argc, argv);
out:
	gf_pseudonym_key_wipe(&key);
	anonymizer_idmap_free(ids);
	return code;
}
