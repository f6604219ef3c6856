/* SPDX-License-Identifier: MIT */
/*
 * log.h - logging with stable message ids.
 *
 * Every line carries a message id such as GF-ACL-SPOOF that tests and
 * operators can grep for; the id never changes once released (see
 * docs/messages.md). The text after it is for humans and may change.
 *
 * Lines go to a sink: stderr by default, or a function installed with
 * gf_log_set_sink() (the broker plugin routes them to mosquitto's log).
 * Never pass the payload of a private flow or a secret to these functions.
 */
#ifndef GF_LOG_H
#define GF_LOG_H

enum gf_log_level { GF_LOG_DEBUG, GF_LOG_INFO, GF_LOG_NOTICE, GF_LOG_WARNING, GF_LOG_ERR };

/* Receives one formatted line (message id, a space, the text; no newline).
 * The line is only valid during the call. */
typedef void (*gf_log_sink)(enum gf_log_level level, const char *line, void *userdata);

/* Installs sink (NULL restores stderr) and sets the least level written. */
void gf_log_set_sink(gf_log_sink sink, void *userdata);
void gf_log_set_level(enum gf_log_level min_level);

/* Formats into a stack buffer (lines are cut at 1023 bytes); never allocates. */
void gf_log(enum gf_log_level level, const char *msgid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define gf_log_debug(msgid, ...)   gf_log(GF_LOG_DEBUG, msgid, __VA_ARGS__)
#define gf_log_info(msgid, ...)    gf_log(GF_LOG_INFO, msgid, __VA_ARGS__)
#define gf_log_notice(msgid, ...)  gf_log(GF_LOG_NOTICE, msgid, __VA_ARGS__)
#define gf_log_warning(msgid, ...) gf_log(GF_LOG_WARNING, msgid, __VA_ARGS__)
#define gf_log_err(msgid, ...)     gf_log(GF_LOG_ERR, msgid, __VA_ARGS__)

#endif
