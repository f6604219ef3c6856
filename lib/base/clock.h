/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the monotonic clock, for timeouts and ages that must not jump
 * with the wall clock (the simulated clock is lib/agent/simclock.h).
 */
#ifndef GF_CLOCK_H
#define GF_CLOCK_H

/* Seconds on CLOCK_MONOTONIC, with their fraction. */
double gf_clock_mono_s(void);

#endif
