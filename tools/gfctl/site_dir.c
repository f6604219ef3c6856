/* SPDX-License-Identifier: MIT */
/* site_dir.c - the site directory's files for gfctl site check (site_check.h). */
#include "site_check.h"

#include <stdio.h>
#include <string.h>

/* SITEDIR/rel into out; an over-long path becomes "" (which no file has). */
void gfctl_site_dir_path(const struct site_check *s, const char *rel, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", s->o->dir, rel);

	if (n < 0 || (size_t)n >= size)
		out[0] = '\0';
}

int gfctl_site_dir_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

bool gfctl_site_dir_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}
