/* SPDX-License-Identifier: MIT */
/*
 * ternqueue: the user interface to the queue, as postqueue(1): -p lists
 * it in mailq's format and -j as JSON lines (for anybody, through the
 * showq service), -f, -i ID and -s SITE ask qmgr to deliver now (for root
 * and the queue's owner only).  Installed setgid setgid_group so that it
 * can reach public/showq and public/qmgr; as "mailq" it lists.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "str.h"

#include "addr.h"
#include "mail_conf.h"
#include "mail_dirs.h"
#include "mail_trigger.h"
#include "qid.h"
#include "showq_client.h"

/* sysexits(3) values, as postqueue uses them. */
#define EX_USAGE_	64
#define EX_TEMPFAIL_	75
#define EX_NOPERM_	77

enum mode { MODE_NONE, MODE_LIST, MODE_JSON, MODE_FLUSH, MODE_ID,
	MODE_SITE };

static __attribute__((noreturn, format(printf, 2, 3))) void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ternqueue: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: ternqueue [-c config_dir] -p | -j | -f | "
	    "-i queue_id | -s site\n");
	exit(EX_USAGE_);
}

/* Gives up the setgid group for good. */
static void
drop_group(void)
{
	gid_t gid = getgid();

	if (getegid() == gid)
		return;
	if (setresgid(gid, gid, gid) == -1)
		die(1, "cannot give up group privileges: %s",
		    strerror(errno));
}

static int
ipc_timeout_ms(void)
{
	long long t = mail_conf_time("ipc_timeout");

	return t > INT_MAX / 1000 ? INT_MAX : (int)(t * 1000);
}

static int
list(enum showq_format format)
{
	struct showq_print p;
	const char *err;
	int fd, rc;

	showq_print_init(&p, format);
	fd = ipc_connect(SHOWQ_SERVICE_PATH, ipc_timeout_ms(), &err);
	drop_group();
	if (fd == -1) {
		if (!mail_dirs_queue_admin())
			die(EX_TEMPFAIL_, "cannot connect to the showq "
			    "service: %s", err);
		/* The owner may read the queue directly (as postqueue). */
		rc = showq_scan(showq_print_stdout, &p, &err);
	} else {
		rc = showq_read_fd(fd, ipc_timeout_ms(), showq_print_stdout,
		    &p, &err);
		close(fd);
	}
	if (rc == -1)
		die(EX_TEMPFAIL_, "cannot list the queue: %s", err);
	showq_print_finish(&p);
	if (fwrite(p.out.data, 1, p.out.len, stdout) != p.out.len ||
	    fflush(stdout) == EOF)
		die(1, "write error on standard output: %s", strerror(errno));
	showq_print_deinit(&p);
	return 0;
}

/* Asks qmgr to deliver what is waiting (all, one message, one site). */
static int
flush(const char *qid, const char *site)
{
	struct attr_writer w;
	struct buf frame;
	const char *err;

	drop_group();
	if (!mail_dirs_queue_admin())
		die(EX_NOPERM_, "permission denied");
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "flush");
	if (qid != NULL)
		attr_put_str(&w, "queue_id", qid);
	if (site != NULL)
		attr_put_str(&w, "site", site);
	if (attr_frame_end(&w, &err) == -1 ||
	    mail_trigger_send(MAIL_TRIGGER_QMGR, &frame, &err) == -1)
		die(EX_TEMPFAIL_, "cannot flush the mail queue: %s", err);
	buf_deinit(&frame);
	return 0;
}

/*
 * SECURITY: a setgid ternqueue must not let its caller choose a
 * configuration of their own (and with it queue_directory, maillog_file
 * and the sockets it talks to with the group's rights).
 */
static void
check_config_choice(const char *dir)
{
	const char *env = getenv("MAIL_CONFIG"), *err;

	if (dir == NULL)
		dir = env;
	if (dir != NULL && dir[0] != '\0' &&
	    !mail_conf_dir_trusted(dir, &err))
		die(EX_NOPERM_, "%s: permission denied: configuration "
		    "directory not trusted: %s", dir, err);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *qid = NULL, *site = NULL, *err;
	const char *name = strrchr(argv[0], '/');
	enum mode mode = MODE_NONE;
	int ch;

	name = name != NULL ? name + 1 : argv[0];
	log_init("ternqueue");
	log_use_stderr();
	if (str_eq(name, "mailq"))
		mode = MODE_LIST;
	while ((ch = getopt(argc, argv, "c:pjfi:s:")) != -1) {
		enum mode m;

		switch (ch) {
		case 'c': dir = optarg; continue;
		case 'p': m = MODE_LIST; break;
		case 'j': m = MODE_JSON; break;
		case 'f': m = MODE_FLUSH; break;
		case 'i': m = MODE_ID; qid = optarg; break;
		case 's': m = MODE_SITE; site = optarg; break;
		default: usage();
		}
		if (mode != MODE_NONE && mode != m && !str_eq(name, "mailq"))
			usage();
		mode = m;
	}
	if (optind != argc || mode == MODE_NONE)
		usage();
	if (qid != NULL && !qid_valid(qid))
		die(EX_USAGE_, "bad queue ID: %s", log_escape_str(qid));
	if (site != NULL && !addr_valid_domain_or_literal(site, strlen(site),
	    0, &err))
		die(EX_USAGE_, "bad site name: %s: %s", log_escape_str(site),
		    err);
	check_config_choice(dir);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		die(1, "%s", err);
	if (chdir(mail_conf_get("queue_directory")) == -1)
		die(1, "chdir %s: %s", mail_conf_get("queue_directory"),
		    strerror(errno));

	switch (mode) {
	case MODE_LIST: return list(SHOWQ_MAILQ);
	case MODE_JSON: return list(SHOWQ_JSON);
	case MODE_FLUSH: return flush(NULL, NULL);
	case MODE_ID: return flush(qid, NULL);
	case MODE_SITE: return flush(NULL, site);
	case MODE_NONE: break;
	}
	usage();
}
