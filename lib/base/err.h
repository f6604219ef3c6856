/* SPDX-License-Identifier: MIT */
/*
 * err.h - the one error enum of goflex-bus.
 *
 * Every fallible function returns enum gf_err; results travel through
 * out-parameters, which are left untouched on failure. The names and their
 * strings come from one X-macro table so they can never drift apart.
 */
#ifndef GF_ERR_H
#define GF_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define GF_ERR_MAP(X)                                                                              \
	X(OK, "success")                                                                           \
	X(ENOMEM, "out of memory")                                                                 \
	X(EINVAL, "invalid argument")                                                              \
	X(ERANGE, "value out of range")                                                            \
	X(ENOENT, "not found")                                                                     \
	X(EEXIST, "already exists")                                                                \
	X(EIO, "input/output error")                                                               \
	X(EPARSE, "malformed input")                                                               \
	X(ETOOLONG, "too long")                                                                    \
	X(EDENIED, "access denied")                                                                \
	X(EFULL, "no room left")

enum gf_err {
#define GF__ERR_ENUM(name, text) GF_##name,
	GF_ERR_MAP(GF__ERR_ENUM)
#undef GF__ERR_ENUM
	    GF_ERR_COUNT
};

/* Returns a static, human-readable description of err ("unknown error" for
 * values outside the enum). Never NULL. */
const char *gf_strerror(enum gf_err err);

/*
 * Writes the formatted message into err (errlen bytes, truncated,
 * NUL-terminated; nothing if err is NULL or errlen 0) and returns rc: the
 * one way a function says why it failed, return gf_err_set(err, errlen,
 * GF_EINVAL, "...", ...). gf_err_vset takes a va_list, for wrappers.
 */
enum gf_err gf_err_set(char *err, size_t errlen, enum gf_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum gf_err gf_err_vset(char *err, size_t errlen, enum gf_err rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/*
 * Writes "<name>:<line>: " and the formatted message into err (errlen bytes,
 * truncated, NUL-terminated; nothing if err is NULL or errlen 0): the one
 * form of a parse error in a named file. Returns GF_EPARSE.
 */
enum gf_err gf_err_at(char *err, size_t errlen, const char *name, size_t line, const char *fmt,
                      va_list ap) __attribute__((format(printf, 5, 0)));

/* Returns the symbolic name of err without the GF_ prefix ("ENOMEM"). */
const char *gf_err_name(enum gf_err err);

#endif
