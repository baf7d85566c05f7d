/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr, syslog or a file; see log.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xalloc.h"

enum log_sink { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static char log_service[64] = "tern";
static char log_ident[128] = "tern";
static enum log_sink log_sink = SINK_STDERR;
static int log_fd = -1;
static log_hook_fn *log_hook;
static void *log_hook_ctx;
static int log_depth;		/* guards against fatal() inside logging */

static const struct {
	const char *name;
	int	    value;
} facilities[] = {
	{ "auth", LOG_AUTH },	  { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON },	  { "daemon", LOG_DAEMON },
	{ "ftp", LOG_FTP },	  { "kern", LOG_KERN },
	{ "lpr", LOG_LPR },	  { "mail", LOG_MAIL },
	{ "news", LOG_NEWS },	  { "syslog", LOG_SYSLOG },
	{ "user", LOG_USER },	  { "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const char *const level_prefix[] = {
	[LOG_LVL_INFO] = "",
	[LOG_LVL_WARN] = "warning: ",
	[LOG_LVL_ERROR] = "error: ",
	[LOG_LVL_FATAL] = "fatal: ",
	[LOG_LVL_PANIC] = "panic: ",
};

static const int level_priority[] = {
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_FATAL] = LOG_CRIT,
	[LOG_LVL_PANIC] = LOG_CRIT,
};

static void
close_sink(void)
{
	if (log_sink == SINK_SYSLOG)
		closelog();
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	log_sink = SINK_STDERR;
}

void
log_init(const char *service)
{
	snprintf(log_service, sizeof(log_service), "%s", service);
	snprintf(log_ident, sizeof(log_ident), "%s", service);
}

static int
facility_value(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].value;
	return -1;
}

bool
log_facility_valid(const char *name)
{
	return facility_value(name) != -1;
}

static void
set_ident(const char *syslog_name)
{
	snprintf(log_ident, sizeof(log_ident), "%s/%s", syslog_name,
	    log_service);
}

int
log_open_syslog(const char *syslog_name, const char *facility,
    const char **err_r)
{
	int fac = facility_value(facility);

	if (fac == -1) {
		*err_r = "unknown syslog facility";
		return -1;
	}
	close_sink();
	set_ident(syslog_name);
	openlog(log_ident, LOG_PID | LOG_NDELAY, fac);
	log_sink = SINK_SYSLOG;
	return 0;
}

int
log_open_file(const char *syslog_name, const char *path, const char **err_r)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640);

	if (fd == -1) {
		*err_r = strerror(errno);
		return -1;
	}
	close_sink();
	set_ident(syslog_name);
	log_fd = fd;
	log_sink = SINK_FILE;
	return 0;
}

void
log_use_stderr(void)
{
	close_sink();
}

void
log_set_hook(log_hook_fn *fn, void *ctx)
{
	log_hook = fn;
	log_hook_ctx = ctx;
}

/* Writes all of a line, retrying on EINTR; logging must not fail loudly. */
static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
emit(enum log_level level, const char *msg)
{
	struct buf line;
	char stamp[64];
	struct tm tm;
	time_t now;

	if (log_hook != NULL)
		log_hook(level, msg, log_hook_ctx);
	switch (log_sink) {
	case SINK_SYSLOG:
		syslog(level_priority[level], "%s%s", level_prefix[level], msg);
		return;
	case SINK_FILE:
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		buf_init(&line, 0);
		buf_addf(&line, "%s %s[%ld]: %s%s\n", stamp, log_ident,
		    (long)getpid(), level_prefix[level], msg);
		write_all(log_fd, line.data, line.len);
		buf_deinit(&line);
		return;
	case SINK_STDERR:
		buf_init(&line, 0);
		buf_addf(&line, "%s: %s%s\n", log_ident, level_prefix[level],
		    msg);
		write_all(STDERR_FILENO, line.data, line.len);
		buf_deinit(&line);
		return;
	}
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[4096];
	int saved = errno;

	if (log_depth > 1)
		return;
	log_depth++;
	/* Long lines are cut, as syslog would cut them anyway. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(level, msg);
	log_depth--;
	errno = saved;
}

#define LOG_FN(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vmsg(level, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_error, LOG_LVL_ERROR)

static void
qid_msg(enum log_level level, const char *qid, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (level == LOG_LVL_WARN)
		log_warn("%s: %s", qid, msg);
	else
		log_info("%s: %s", qid, msg);
}

void
log_qid_info(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	qid_msg(LOG_LVL_INFO, qid, fmt, ap);
	va_end(ap);
}

void
log_qid_warn(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	qid_msg(LOG_LVL_WARN, qid, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}

char *
log_escape(const void *data, size_t n)
{
	const unsigned char *p = data;
	struct buf out;

	buf_init(&out, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\\')
			buf_adds(&out, "\\\\");
		else if (c == '\r')
			buf_adds(&out, "\\r");
		else if (c == '\n')
			buf_adds(&out, "\\n");
		else if (c == '\t')
			buf_adds(&out, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			buf_addf(&out, "\\x%02x", c);
		else
			buf_addc(&out, (char)c);
	}
	return buf_steal(&out);
}

char *
log_escape_str(const char *s)
{
	return log_escape(s, strlen(s));
}
