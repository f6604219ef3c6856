/* SPDX-License-Identifier: MIT */
/*
 * leak_check.h - a Criterion suite .fini that fails the test on any leak
 * LeakSanitizer finds (Criterion alone does not fail on LSan reports):
 *
 *     TestSuite(name, .fini = leak_check);
 *
 * A no-op in builds without AddressSanitizer.
 */
#ifndef GF_TEST_LEAK_CHECK_H
#define GF_TEST_LEAK_CHECK_H

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define GF_TEST_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GF_TEST_HAVE_LSAN 1
#endif
#endif

#ifdef GF_TEST_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
static inline void leak_check(void)
{
	if (__lsan_do_recoverable_leak_check() != 0)
		abort();
}
#else
static inline void leak_check(void)
{
}
#endif

#endif
