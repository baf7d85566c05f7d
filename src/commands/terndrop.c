/* SPDX-License-Identifier: MIT */
/*
 * terndrop: the setgid helper that writes a message from sendmail(1) into
 * the maildrop directory, as Postfix's postdrop does.  maildrop/ is mode
 * 1730, owned by mail_owner with group setgid_group, so only this program
 * (installed setgid to that group) can create files there; the owner of a
 * file is the submitting user, which pickup(8) trusts as the origin.  The
 * input is the stream of sendmail_drop.h, checked strictly; the file is
 * a queue file (qfile.h) made under a temporary name and renamed when
 * complete, so pickup never sees half a message.  Exit status per
 * sysexits.h: 0 queued, 64 usage, 65 bad input or message too big, 75
 * temporary failure (disk full: nothing is left behind), 77 untrusted
 * configuration directory, 78 configuration error.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_trigger.h"
#include "qfile.h"

#include "sendmail_drop.h"
#include "sendmail_opts.h"

#define TERNDROP_CHUNK	65536

static struct qfile_writer *terndrop_writer;

static _Noreturn void LOG_PRINTF(2, 3)
die(int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The temporary file goes; no half message is ever left. */
	qfile_writer_abort(&terndrop_writer);
	fprintf(stderr, "terndrop: fatal: %s\n", msg);
	exit(status);
}

struct reader {
	char	buf[TERNDROP_CHUNK];
	size_t	len;
	size_t	off;
	bool	eof;
};

static void
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	do
		n = read(STDIN_FILENO, r->buf + r->len, sizeof(r->buf) - r->len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		die(SENDMAIL_EX_TEMPFAIL, "read standard input: %s",
		    strerror(errno));
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
}

/* Reads the envelope, up to and including the E line. */
static void
read_envelope(struct reader *r, struct sendmail_drop_env *env)
{
	char line[SENDMAIL_DROP_LINE_MAX + 1];
	const char *err;
	char *lf;
	size_t n;

	while (!env->ended) {
		lf = memchr(r->buf + r->off, '\n', r->len - r->off);
		if (lf == NULL) {
			if (r->len - r->off > SENDMAIL_DROP_LINE_MAX)
				die(SENDMAIL_EX_DATAERR, "malformed input: "
				    "envelope line too long");
			if (r->eof)
				die(SENDMAIL_EX_DATAERR, "malformed input: "
				    "premature end of the envelope");
			reader_fill(r);
			continue;
		}
		n = (size_t)(lf - (r->buf + r->off));
		if (n > SENDMAIL_DROP_LINE_MAX)
			die(SENDMAIL_EX_DATAERR, "malformed input: "
			    "envelope line too long");
		memcpy(line, r->buf + r->off, n);
		line[n] = '\0';
		r->off += n + 1;
		if (sendmail_drop_parse_line(env, line, n, &err) == -1)
			die(SENDMAIL_EX_DATAERR, "malformed input: %s", err);
	}
}

static void
write_file(struct reader *r, const struct sendmail_drop_env *env,
    char qid_r[QID_SIZE])
{
	long long limit = mail_conf_size("message_size_limit");
	const char *err;
	size_t i;

	if (qfile_create(QFILE_MAILDROP, 0644, &terndrop_writer, &err) == -1)
		die(SENDMAIL_EX_TEMPFAIL, "%s", err);
	if (qfile_put_sender(terndrop_writer, env->sender) == -1 ||
	    (env->fullname != NULL && qfile_put_attr(terndrop_writer,
	    "fullname", env->fullname) == -1) ||
	    (env->ret != NULL && qfile_put_attr(terndrop_writer, "ret",
	    env->ret) == -1) ||
	    (env->envid != NULL && qfile_put_attr(terndrop_writer, "envid",
	    env->envid) == -1) ||
	    (env->extract && qfile_put_attr(terndrop_writer, "flags",
	    "extract") == -1))
		die(SENDMAIL_EX_DATAERR, "malformed input: bad envelope");
	for (i = 0; i < env->rcpts.n; i++)
		if (qfile_put_rcpt(terndrop_writer, env->rcpts.v[i],
		    env->notify.v[i], NULL) == -1)
			die(SENDMAIL_EX_DATAERR, "malformed input: bad "
			    "recipient");
	if (env->rcpts.n == 0)
		/* XXX: qfile(5) files need a recipient; see sendmail -t. */
		die(SENDMAIL_EX_DATAERR, "no recipients specified");
	qfile_begin_content(terndrop_writer);
	for (;;) {
		if (r->len > r->off) {
			qfile_put_content(terndrop_writer, r->buf + r->off,
			    r->len - r->off);
			r->off = r->len;
		}
		if (limit > 0 &&
		    qfile_content_size(terndrop_writer) > (uint64_t)limit)
			die(SENDMAIL_EX_DATAERR, "message too big");
		if (r->eof)
			break;
		r->off = r->len = 0;
		reader_fill(r);
	}
	if (qfile_commit(&terndrop_writer, qid_r, &err) == -1)
		die(SENDMAIL_EX_TEMPFAIL, "%s", err);
}

int
main(int argc, char **argv)
{
	struct sendmail_drop_env env;
	static struct reader r;
	char qid[QID_SIZE], *dir = NULL;
	const char *err, *e;
	int c;

	log_init("terndrop");
	/* A signal must not leave a temporary file behind: finish instead. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		switch (c) {
		case 'c':
			free(dir);
			dir = xstrdup(optarg);
			break;
		default:
			fprintf(stderr, "terndrop: usage: terndrop "
			    "[-c config_dir]\n");
			return SENDMAIL_EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "terndrop: usage: terndrop [-c config_dir]\n");
		return SENDMAIL_EX_USAGE;
	}
	/* SECURITY: nothing from the environment but MAIL_CONFIG. */
	if (dir == NULL && (e = getenv("MAIL_CONFIG")) != NULL && *e != '\0')
		dir = xstrdup(e);
	if (clearenv() != 0)
		die(SENDMAIL_EX_OSERR, "cannot clear the environment");
	if (dir != NULL && !mail_conf_dir_trusted(dir, &err))
		die(SENDMAIL_EX_NOPERM, "configuration directory %s is not "
		    "trusted: %s", dir, err);
	if (mail_conf_try_load(dir != NULL ? dir : DEF_CONFIG_DIR, NULL,
	    false, &err) == -1)
		die(SENDMAIL_EX_CONFIG, "%s", err);
	if (chdir(mail_conf_get("queue_directory")) == -1)
		die(SENDMAIL_EX_TEMPFAIL, "chdir %s: %s",
		    mail_conf_get("queue_directory"), strerror(errno));
	umask(077);

	sendmail_drop_env_init(&env);
	read_envelope(&r, &env);
	write_file(&r, &env, qid);
	sendmail_drop_env_deinit(&env);
	/* pickup also scans maildrop/ on its timer: a lost wakeup is fine. */
	if (mail_trigger_wakeup(MAIL_TRIGGER_PICKUP, &err) == -1) {
		/* ignored */
	}
	free(dir);
	mail_conf_unload();
	return 0;
}
