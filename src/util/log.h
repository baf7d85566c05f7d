/* SPDX-License-Identifier: MIT */
/*
 * One logging API for every program.  Lines go to stderr (commands, and
 * daemons in the foreground), to syslog with ident "syslog_name/service",
 * or to a file (maillog_file).  Formats are printf-checked.  A line about a
 * message starts with its queue ID (log_qid_*).  Strings that come from
 * the network or a file are passed through log_escape() first.
 *
 * Failure levels, as STYLE.md describes: warn and go on; fatal() when the
 * environment is wrong (exit 1, the supervisor restarts); panic() when an
 * invariant broke (abort for a core dump).
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
	LOG_LVL_FATAL,
	LOG_LVL_PANIC,
};

#define LOG_PRINTF(f, a)	__attribute__((format(printf, f, a)))

/*
 * Names the program: "ternconf", or "smtpd" for a daemon (the ident then
 * becomes "tern/smtpd" once log_open_syslog is called).  Logs to stderr
 * until told otherwise.
 */
void log_init(const char *service);
/* Sends lines to syslog as "syslog_name/service"; -1 on unknown facility. */
int log_open_syslog(const char *syslog_name, const char *facility,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Appends lines to a file (Postfix's maillog_file) as
 * "syslog_name/service[pid]"; -1 with err_r set.
 */
int log_open_file(const char *syslog_name, const char *path,
    const char **err_r)
    __attribute__((warn_unused_result));
/* Back to stderr (closes syslog/file). */
void log_use_stderr(void);
/* True when the syslog facility name is known. */
bool log_facility_valid(const char *name);

/* For tests: every formatted line is also handed to fn. NULL to stop. */
typedef void log_hook_fn(enum log_level level, const char *msg, void *ctx);
void log_set_hook(log_hook_fn *fn, void *ctx);

void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_qid_info(const char *qid, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_qid_warn(const char *qid, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    LOG_PRINTF(2, 0);

_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void panic(const char *fmt, ...) LOG_PRINTF(1, 2);

#define ASSERT(cond) do {						\
	if (!(cond))							\
		panic("%s:%d: assertion failed: %s",			\
		    __FILE__, __LINE__, #cond);				\
} while (0)

/*
 * Returns a heap copy of n bytes of untrusted data that is safe to log:
 * printable ASCII is kept, backslash and everything else become \\, \r,
 * \n, \t or \xNN.  The caller frees it.
 */
char *log_escape(const void *data, size_t n) __attribute__((returns_nonnull));
/* log_escape of a C string. */
char *log_escape_str(const char *s) __attribute__((returns_nonnull));

#endif
