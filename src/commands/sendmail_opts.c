/* SPDX-License-Identifier: MIT */
/*
 * sendmail(1) option parsing; see sendmail_opts.h.  This is a hand-written
 * scanner rather than getopt(3) because getopt keeps global state (which
 * the unit tests would have to reset) and cannot express -q's optional
 * attached argument next to options that take a separate one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

#include "sendmail_opts.h"

static char sendmail_opts_err[160];

static int __attribute__((format(printf, 2, 3)))
fail(const char **err_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sendmail_opts_err, sizeof(sendmail_opts_err), fmt, ap);
	va_end(ap);
	*err_r = sendmail_opts_err;
	return -1;
}

int
sendmail_opts_notify(const char *s, char *out, size_t size,
    const char **err_r)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	bool seen[3] = { false, false, false };
	struct buf b;
	const char *p = s, *comma;
	size_t i, n;
	int rc = -1;

	if (str_eq_ci(s, "never")) {
		if (str_copy(out, "NEVER", size) >= size)
			return fail(err_r, "%s", "no room for NOTIFY");
		return 0;
	}
	buf_init(&b, size > 0 ? size - 1 : 1);
	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < 3; i++)
			if (n == strlen(words[i]) &&
			    strncasecmp(p, words[i], n) == 0)
				break;
		if (i == 3) {
			fail(err_r, "bad NOTIFY value: %s", s);
			goto out;
		}
		if (seen[i]) {
			fail(err_r, "NOTIFY keyword repeated: %s", s);
			goto out;
		}
		seen[i] = true;
		if ((b.len > 0 && buf_putc(&b, ',') == -1) ||
		    buf_puts(&b, words[i]) == -1) {
			fail(err_r, "NOTIFY value too long: %s", s);
			goto out;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	str_copy(out, buf_cstr(&b), size);
	rc = 0;
out:
	buf_deinit(&b);
	return rc;
}

/* Splits one recipient argument at commas (Sendmail allows lists). */
static void
add_rcpts(struct strv *rcpts, const char *arg)
{
	struct strv parts;
	size_t i;

	strv_init(&parts);
	strv_split(&parts, arg, ",");
	for (i = 0; i < parts.n; i++) {
		char *t = str_trim(parts.v[i]);

		if (*t != '\0')
			strv_push(rcpts, t);
	}
	strv_deinit(&parts);
}

/* -f/-r: "<>" and "" are the null sender; outer brackets are dropped. */
static const char *
sender_arg(char *arg)
{
	size_t n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
		arg[n - 1] = '\0';
		return arg + 1;
	}
	return arg;
}

static int
opt_b(struct sendmail_opts *o, const char *arg, const char **err_r)
{
	if (str_eq(arg, "m"))
		o->mode = SENDMAIL_MODE_DELIVER;
	else if (str_eq(arg, "s"))
		o->mode = SENDMAIL_MODE_SMTP;
	else if (str_eq(arg, "p"))
		o->mode = SENDMAIL_MODE_MAILQ;
	else if (str_eq(arg, "i"))
		o->mode = SENDMAIL_MODE_NEWALIASES;
	else
		return fail(err_r, "-b%s option is not supported", arg);
	return 0;
}

static int
opt_q(struct sendmail_opts *o, const char *arg, const char **err_r)
{
	if (*arg == '\0') {
		o->mode = SENDMAIL_MODE_FLUSH;
	} else if (arg[0] == 'R' || arg[0] == 'S') {
		if (arg[1] == '\0')
			return fail(err_r, "-q%s needs a site", arg);
		o->mode = SENDMAIL_MODE_FLUSH_SITE;
		o->site = arg + 1;
	} else if (strspn(arg, "0123456789smhdw") == strlen(arg)) {
		o->mode = SENDMAIL_MODE_QUEUE_RUNNER;
	} else {
		return fail(err_r, "bad -q option: -q%s", arg);
	}
	return 0;
}

/* Options with an argument; "q" takes an optional attached one. */
#define SENDMAIL_ARG_OPTS	"BCFLNORVXbfhopr"
/* Options without one (the ignored ones included). */
#define SENDMAIL_FLAG_OPTS	"GIUimntvx"

static int
opt_arg(struct sendmail_opts *o, char c, char *arg, const char **err_r)
{
	long long n;

	switch (c) {
	case 'B':
		if (!str_eq_ci(arg, "7BIT") && !str_eq_ci(arg, "8BITMIME"))
			return fail(err_r, "bad -B option: %s", arg);
		return 0;
	case 'C':
		o->config_dir = arg;
		return 0;
	case 'F':
		o->fullname = arg;
		return 0;
	case 'N':
		return sendmail_opts_notify(arg, o->notify,
		    sizeof(o->notify), err_r);
	case 'R':
		if (str_eq_ci(arg, "full"))
			str_copy(o->ret, "FULL", sizeof(o->ret));
		else if (str_eq_ci(arg, "hdrs"))
			str_copy(o->ret, "HDRS", sizeof(o->ret));
		else
			return fail(err_r, "bad -R option: %s", arg);
		return 0;
	case 'V':
		if (*arg == '\0' || strlen(arg) > SENDMAIL_ENVID_MAX)
			return fail(err_r, "bad -V option: %s",
			    "empty or longer than 100 characters");
		o->envid = arg;
		return 0;
	case 'b':
		return opt_b(o, arg, err_r);
	case 'f':
	case 'r':
		o->sender = sender_arg(arg);
		return 0;
	case 'h':
		if (str_to_ll(arg, 0, 1000000, &n, err_r) == -1)
			return fail(err_r, "bad -h option: %s", arg);
		return 0;
	case 'o':
		/* -oi is the one -o that matters; -oA, -oe*, -od*, ... */
		if (str_eq(arg, "i"))
			o->ignore_dot = true;
		return 0;
	case 'L':	/* syslog label */
	case 'O':	/* Sendmail long option */
	case 'X':	/* Sendmail traffic log */
	case 'p':	/* protocol */
		return 0;
	}
	return fail(err_r, "unknown option -%s", "?");
}

static void
opt_flag(struct sendmail_opts *o, char c)
{
	switch (c) {
	case 'I':
		o->mode = SENDMAIL_MODE_NEWALIASES;
		break;
	case 'i':
		o->ignore_dot = true;
		break;
	case 't':
		o->extract = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	default:	/* G U m n x: accepted for compatibility */
		break;
	}
}

int
sendmail_opts_parse(struct sendmail_opts *o, int argc, char **argv,
    const char **err_r)
{
	const char *name;
	char opt[2] = { 0, 0 };
	int i;

	memset(o, 0, sizeof(*o));
	strv_init(&o->rcpts);
	o->mode = SENDMAIL_MODE_DELIVER;
	if (argc > 0 && argv[0] != NULL) {
		name = strrchr(argv[0], '/');
		name = name != NULL ? name + 1 : argv[0];
		if (str_eq(name, "mailq"))
			o->mode = SENDMAIL_MODE_MAILQ;
		else if (str_eq(name, "newaliases"))
			o->mode = SENDMAIL_MODE_NEWALIASES;
	}
	for (i = 1; i < argc; i++) {
		char *a = argv[i], *p;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (str_eq(a, "--")) {
			i++;
			break;
		}
		for (p = a + 1; *p != '\0'; p++) {
			opt[0] = *p;
			if (*p == 'q') {
				if (opt_q(o, p + 1, err_r) == -1)
					return -1;
				break;
			}
			if (strchr(SENDMAIL_FLAG_OPTS, *p) != NULL) {
				opt_flag(o, *p);
				continue;
			}
			if (strchr(SENDMAIL_ARG_OPTS, *p) == NULL)
				return fail(err_r, "unknown option -%s", opt);
			if (p[1] == '\0') {
				if (i + 1 >= argc)
					return fail(err_r,
					    "option -%s needs an argument",
					    opt);
				p = argv[++i];
			} else {
				p++;
			}
			if (opt_arg(o, opt[0], p, err_r) == -1)
				return -1;
			break;
		}
	}
	for (; i < argc; i++)
		add_rcpts(&o->rcpts, argv[i]);
	return 0;
}

void
sendmail_opts_deinit(struct sendmail_opts *o)
{
	strv_deinit(&o->rcpts);
}
