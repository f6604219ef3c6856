/* SPDX-License-Identifier: MIT */
/*
 * cmplx.h - <complex.h> with C11's CMPLX(x, y), which glibc defines only for
 * compilers with __builtin_complex (not clang 14: the fuzz build). The
 * fallback is exact for finite parts, all this layer ever builds.
 */
#ifndef GF_CMPLX_H
#define GF_CMPLX_H

#include <complex.h>

#ifndef CMPLX
#define CMPLX(x, y) ((double complex)((double)(x) + _Complex_I * (double)(y)))
#endif

#endif
