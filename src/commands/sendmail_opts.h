/* SPDX-License-Identifier: MIT */
/*
 * The sendmail(1) command line, parsed without side effects so that it can
 * be tested: Sendmail's and Postfix's options (man/sendmail.1 lists them),
 * the mode chosen by -b, -q, -I and by the program name (mailq means -bp,
 * newaliases -bi), and the recipients that follow the options.  Options
 * may be clustered ("-ti"), and an option's argument may be attached
 * ("-fuser") or the next word ("-f user").  Options end at "--" or at the
 * first word that does not start with '-'.
 */
#ifndef TERN_SENDMAIL_OPTS_H
#define TERN_SENDMAIL_OPTS_H

#include <stdbool.h>

#include "str.h"

/* sysexits.h values, spelled out so that every file agrees on them. */
#define SENDMAIL_EX_USAGE	64
#define SENDMAIL_EX_DATAERR	65
#define SENDMAIL_EX_NOUSER	67
#define SENDMAIL_EX_SOFTWARE	70
#define SENDMAIL_EX_OSERR	71
#define SENDMAIL_EX_TEMPFAIL	75
#define SENDMAIL_EX_NOPERM	77
#define SENDMAIL_EX_CONFIG	78

/* RFC 3461 §4.4: ENVID is at most 100 characters (before xtext). */
#define SENDMAIL_ENVID_MAX	100

enum sendmail_mode {
	SENDMAIL_MODE_DELIVER,		/* -bm (default) */
	SENDMAIL_MODE_SMTP,		/* -bs */
	SENDMAIL_MODE_MAILQ,		/* -bp, mailq */
	SENDMAIL_MODE_NEWALIASES,	/* -bi, -I, newaliases */
	SENDMAIL_MODE_FLUSH,		/* -q */
	SENDMAIL_MODE_FLUSH_SITE,	/* -qRsite, -qSsite */
	SENDMAIL_MODE_QUEUE_RUNNER,	/* -q<time>: not supported, ignored */
};

struct sendmail_opts {
	enum sendmail_mode mode;
	const char	*config_dir;	/* -C, or NULL */
	const char	*sender;	/* -f/-r as given (brackets removed),
					   "" for <>, NULL: the login name */
	const char	*fullname;	/* -F, or NULL */
	const char	*envid;		/* -V, not encoded, or NULL */
	const char	*site;		/* -qR/-qS argument */
	char		 notify[32];	/* -N: "" or e.g. "SUCCESS,DELAY" */
	char		 ret[8];	/* -R: "", "FULL" or "HDRS" */
	bool		 extract;	/* -t */
	bool		 ignore_dot;	/* -i, -oi */
	bool		 verbose;	/* -v (accepted, ignored) */
	struct strv	 rcpts;		/* split at commas, trimmed */
};

/*
 * Parses argv (argv[0] chooses the mode for mailq and newaliases).  Strings
 * in opts point into argv, except rcpts (copies).  Returns 0, or -1 with
 * err_r (a usage message without the program name); the caller then
 * exits with SENDMAIL_EX_USAGE.  Call sendmail_opts_deinit in any case.
 */
int sendmail_opts_parse(struct sendmail_opts *opts, int argc, char **argv,
    const char **err_r) __attribute__((warn_unused_result));
void sendmail_opts_deinit(struct sendmail_opts *opts);

/*
 * Normalises a -N / NOTIFY value (RFC 3461 §4.1): "never", or a comma
 * list of success, failure and delay in any case, each at most once.
 * Writes the upper-case form ("NEVER", "SUCCESS,FAILURE") to out.
 * Returns -1 with err_r for anything else.
 */
int sendmail_opts_notify(const char *s, char *out, size_t size,
    const char **err_r) __attribute__((warn_unused_result));

#endif
