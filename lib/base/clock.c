/* SPDX-License-Identifier: MIT */
#include "base/clock.h"

#include <time.h>

double gf_clock_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
