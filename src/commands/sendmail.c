/* SPDX-License-Identifier: MIT */
/*
 * sendmail: the Sendmail-compatible way for local programs to post mail,
 * modelled on Postfix's sendmail(1).  The command itself has no privilege:
 * it reads the message (from standard input, or an SMTP dialogue with -bs)
 * and hands the envelope and content to terndrop(1), the setgid helper
 * that writes them into the maildrop directory, over the stream that
 * sendmail_drop.h describes.  Under the names mailq and newaliases (and
 * with -bp, -bi, -q) it runs ternqueue or ternalias instead.  Errors go to
 * stderr as "sendmail: fatal: ..." and the exit status follows sysexits.h;
 * when terndrop fails, its exit status is sendmail's.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "addr.h"
#include "mail_conf.h"

#include "sendmail_drop.h"
#include "sendmail_opts.h"
#include "sendmail_smtp.h"

#define SENDMAIL_USAGE	"usage: sendmail [-bm|-bs|-bp|-bi|-q] [-t] [-i] " \
	"[-f sender] [-F fullname] [-N dsn] [-R ret] [-V envid] " \
	"[-C config_dir] [recipient ...]"

static const char *progname = "sendmail";

static _Noreturn void LOG_PRINTF(2, 3)
die(int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: fatal: %s\n", progname, msg);
	exit(status);
}

/*
 * The environment of the programs sendmail runs: only what
 * import_environment names ("NAME" imports, "NAME=value" sets), as
 * Postfix does; terndrop trusts none of it but MAIL_CONFIG anyway.
 */
static char **
clean_env(void)
{
	static struct strv env;
	const struct strv *list = mail_conf_list("import_environment");
	const char *v;
	size_t i;

	if (env.v != NULL)
		return env.v;
	strv_init(&env);
	for (i = 0; i < list->n; i++) {
		if (strchr(list->v[i], '=') != NULL)
			strv_push(&env, list->v[i]);
		else if ((v = getenv(list->v[i])) != NULL)
			strv_push_owned(&env, xasprintf("%s=%s", list->v[i],
			    v));
	}
	if (env.v == NULL)
		strv_push(&env, "PATH=/usr/bin:/bin");
	return env.v;
}

/* argv for a command: PROG [-c DIR] ARGS...; the caller frees the vector. */
static void
command_argv(struct strv *av, const char *name, const char *const *args)
{
	strv_push_owned(av, xasprintf("%s/%s",
	    mail_conf_get("command_directory"), name));
	if (!str_eq(mail_conf_dir(), DEF_CONFIG_DIR)) {
		strv_push(av, "-c");
		strv_push(av, mail_conf_dir());
	}
	for (; args != NULL && *args != NULL; args++)
		strv_push(av, *args);
}

static _Noreturn void
exec_command(const char *name, const char *const *args)
{
	struct strv av;

	strv_init(&av);
	command_argv(&av, name, args);
	fflush(stdout);
	execve(av.v[0], av.v, clean_env());
	die(SENDMAIL_EX_OSERR, "execute %s: %s", av.v[0], strerror(errno));
}

struct drop_proc {
	pid_t		 pid;
	int		 fd;		/* terndrop's stdin */
	bool		 broken;	/* a write failed (terndrop gave up) */
};

static void
drop_start(struct drop_proc *p)
{
	struct strv av;
	int fds[2];

	strv_init(&av);
	command_argv(&av, "terndrop", NULL);
	if (pipe(fds) == -1)
		die(SENDMAIL_EX_OSERR, "pipe: %s", strerror(errno));
	fflush(stdout);
	p->pid = fork();
	if (p->pid == -1)
		die(SENDMAIL_EX_OSERR, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(SENDMAIL_EX_OSERR);
		close(fds[0]);
		close(fds[1]);
		/* terndrop's stdout would corrupt a -bs dialogue. */
		if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(SENDMAIL_EX_OSERR);
		execve(av.v[0], av.v, clean_env());
		fprintf(stderr, "%s: fatal: execute %s: %s\n", progname,
		    av.v[0], strerror(errno));
		_exit(SENDMAIL_EX_OSERR);
	}
	close(fds[0]);
	p->fd = fds[1];
	p->broken = false;
	strv_deinit(&av);
}

static void
drop_write(struct drop_proc *p, const void *data, size_t n)
{
	if (!p->broken && safefile_write_all(p->fd, data, n) == -1)
		p->broken = true;
}

/* Closes the pipe and returns terndrop's exit status (0: queued). */
static int
drop_finish(struct drop_proc *p)
{
	int status;

	close(p->fd);
	while (waitpid(p->pid, &status, 0) == -1)
		if (errno != EINTR)
			return SENDMAIL_EX_OSERR;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) :
		    p->broken ? SENDMAIL_EX_SOFTWARE : 0;
	return SENDMAIL_EX_SOFTWARE;
}

static void
drop_envelope(struct drop_proc *p, const struct sendmail_drop_env *env)
{
	struct buf b;
	const char *err;

	buf_init(&b, 0);
	if (sendmail_drop_encode(env, &b, &err) == -1)
		die(SENDMAIL_EX_USAGE, "%s", err);
	drop_write(p, b.data, b.len);
	buf_deinit(&b);
}

/* -bs: one message per DATA. */
static int
smtp_deliver(const struct sendmail_drop_env *env, const struct buf *content,
    void *ctx, const char **err_r)
{
	static char reason[64];
	struct drop_proc p;
	int status;

	(void)ctx;
	drop_start(&p);
	drop_envelope(&p, env);
	drop_write(&p, content->data, content->len);
	status = drop_finish(&p);
	if (status == 0)
		return 0;
	*err_r = str_fmt_buf(reason, sizeof(reason),
	    "queue file write error (terndrop status %d)", status);
	return -1;
}

static int
run_smtp(void)
{
	struct sendmail_smtp_cfg cfg = {
		.hostname = mail_conf_get("myhostname"),
		.size_limit = (size_t)mail_conf_size("message_size_limit"),
		.deliver = smtp_deliver,
	};

	return sendmail_smtp_run(stdin, stdout, &cfg) == -1 ?
	    SENDMAIL_EX_OSERR : 0;
}

/*
 * Copies standard input to terndrop: CRLF becomes LF, and without -i a
 * line holding only "." ends the message (Sendmail's convention).
 */
static size_t read_line(char **line, size_t *cap, bool ignore_dot);

static void
copy_message(struct drop_proc *p, bool ignore_dot)
{
	char *line = NULL;
	size_t cap = 0, len;

	while ((len = read_line(&line, &cap, ignore_dot)) > 0) {
		drop_write(p, line, len);
		if (p->broken)
			break;
	}
	free(line);
}

/* Most header bytes sendmail -t holds while it looks for recipients. */
#define SENDMAIL_HEADER_MAX	((size_t)1024 * 1024)

/*
 * Reads one input line into *line (LF ending kept, CRLF made LF).
 * Returns its length, 0 at end of input or at a "." line without -i.
 */
static size_t
read_line(char **line, size_t *cap, bool ignore_dot)
{
	ssize_t n = getline(line, cap, stdin);
	size_t len;

	if (n <= 0) {
		if (ferror(stdin))
			die(SENDMAIL_EX_OSERR, "read standard input: %s",
			    strerror(errno));
		return 0;
	}
	len = (size_t)n;
	if ((*line)[len - 1] == '\n') {
		len--;
		if (len > 0 && (*line)[len - 1] == '\r')
			len--;
		if (!ignore_dot && len == 1 && (*line)[0] == '.')
			return 0;
		(*line)[len++] = '\n';
	} else if (!ignore_dot && len == 1 && (*line)[0] == '.') {
		return 0;
	}
	return len;
}

/* Adds the addresses of one unfolded To:, Cc: or Bcc: field. */
static void
extract_field(struct strv *rcpts, const char *field, size_t len)
{
	static const char *const names[] = { "to:", "cc:", "bcc:" };
	const char *err;
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(names[i]);
		if (len >= n && strncasecmp(field, names[i], n) == 0)
			break;
	}
	if (i == 3)
		return;
	if (addr_parse_header_list(field + n, len - n,
	    ADDR_BARE_LOCAL_OK | ADDR_SMTPUTF8, rcpts, &err) == -1)
		fprintf(stderr, "%s: warning: ignoring a malformed %.*s "
		    "header: %s\n", progname, (int)(n - 1), field, err);
}

/*
 * sendmail -t: reads the header (RFC 5322 §2.2, folded lines joined) into
 * hdr and the addresses of To:, Cc: and Bcc: into rcpts.  The queue file
 * format needs a recipient, so sendmail extracts them here, as the
 * submitting user, and hands them on as ordinary recipients (cleanup
 * removes Bcc: from local submissions).  Returns false when the input
 * ended within the header.
 */
static bool
extract_header(struct buf *hdr, struct strv *rcpts, bool ignore_dot)
{
	struct buf field;
	char *line = NULL;
	size_t cap = 0, len;
	bool more = true;

	buf_init(&field, SENDMAIL_HEADER_MAX);
	for (;;) {
		len = read_line(&line, &cap, ignore_dot);
		if (len == 0) {
			more = false;
			break;
		}
		if (buf_append(hdr, line, len) == -1)
			die(SENDMAIL_EX_DATAERR, "message header too large");
		if (line[0] == ' ' || line[0] == '\t') {
			if (buf_append(&field, line, len - 1) == -1)
				die(SENDMAIL_EX_DATAERR, "message header too "
				    "large");
			continue;
		}
		if (field.len > 0)
			extract_field(rcpts, field.data, field.len);
		buf_reset(&field);
		/* An empty line or a non-header line ends the header. */
		if (len == 1 || memchr(line, ':', len) == NULL ||
		    strcspn(line, " \t:") != (size_t)(strchr(line, ':') -
		    line))
			break;
		if (buf_append(&field, line, len - 1) == -1)
			die(SENDMAIL_EX_DATAERR, "message header too large");
	}
	if (field.len > 0)
		extract_field(rcpts, field.data, field.len);
	buf_deinit(&field);
	free(line);
	return more;
}

static int
run_deliver(const struct sendmail_opts *o)
{
	struct sendmail_drop_env env;
	struct drop_proc p;
	struct passwd *pw;
	struct buf envid, hdr;
	struct strv rcpts;
	const char *err, *sender = o->sender;
	bool more = true;
	size_t i;
	int status;

	if (o->rcpts.n == 0 && !o->extract)
		die(SENDMAIL_EX_USAGE, "no recipients specified");
	strv_init(&rcpts);
	for (i = 0; i < o->rcpts.n; i++)
		strv_push(&rcpts, o->rcpts.v[i]);
	buf_init(&hdr, SENDMAIL_HEADER_MAX);
	if (o->extract) {
		more = extract_header(&hdr, &rcpts, o->ignore_dot);
		if (rcpts.n == 0)
			die(SENDMAIL_EX_USAGE, "no recipients specified");
	}
	sendmail_drop_env_init(&env);
	if (sender == NULL) {
		errno = 0;
		pw = getpwuid(getuid());
		if (pw == NULL)
			die(SENDMAIL_EX_NOUSER, "no login name found for user "
			    "ID %lu", (unsigned long)getuid());
		sender = pw->pw_name;
	}
	if (sendmail_drop_set_sender(&env, sender, &err) == -1)
		die(SENDMAIL_EX_DATAERR, "bad sender address: %s", err);
	if (o->fullname != NULL &&
	    sendmail_drop_set_fullname(&env, o->fullname, &err) == -1)
		die(SENDMAIL_EX_DATAERR, "bad -F value: %s", err);
	if (o->ret[0] != '\0' &&
	    sendmail_drop_set_ret(&env, o->ret, &err) == -1)
		die(SENDMAIL_EX_USAGE, "bad -R value: %s", err);
	if (o->envid != NULL) {
		buf_init(&envid, 0);
		sendmail_drop_xtext(&envid, o->envid);
		if (sendmail_drop_set_envid(&env, buf_cstr(&envid),
		    &err) == -1)
			die(SENDMAIL_EX_USAGE, "bad -V value: %s", err);
		buf_deinit(&envid);
	}
	for (i = 0; i < rcpts.n; i++)
		if (sendmail_drop_add_rcpt(&env, rcpts.v[i], o->notify,
		    &err) == -1)
			die(SENDMAIL_EX_DATAERR, "bad recipient \"%s\": %s",
			    rcpts.v[i], err);
	drop_start(&p);
	drop_envelope(&p, &env);
	drop_write(&p, hdr.data, hdr.len);
	if (more)
		copy_message(&p, o->ignore_dot);
	status = drop_finish(&p);
	sendmail_drop_env_deinit(&env);
	strv_deinit(&rcpts);
	buf_deinit(&hdr);
	return status;
}

int
main(int argc, char **argv)
{
	struct sendmail_opts o;
	const char *err;
	int status;

	if (argc > 0 && argv[0] != NULL) {
		const char *slash = strrchr(argv[0], '/');

		progname = slash != NULL ? slash + 1 : argv[0];
		if (!str_eq(progname, "mailq") &&
		    !str_eq(progname, "newaliases"))
			progname = "sendmail";
	}
	log_init(progname);
	signal(SIGPIPE, SIG_IGN);
	if (sendmail_opts_parse(&o, argc, argv, &err) == -1) {
		fprintf(stderr, "%s: fatal: %s\n%s: %s\n", progname, err,
		    progname, SENDMAIL_USAGE);
		return SENDMAIL_EX_USAGE;
	}
	if (mail_conf_try_load(o.config_dir, NULL, false, &err) == -1)
		die(SENDMAIL_EX_CONFIG, "%s", err);

	switch (o.mode) {
	case SENDMAIL_MODE_MAILQ:
		exec_command("ternqueue", (const char *[]){ "-p", NULL });
	case SENDMAIL_MODE_NEWALIASES:
		exec_command("ternalias", NULL);
	case SENDMAIL_MODE_FLUSH:
		exec_command("ternqueue", (const char *[]){ "-f", NULL });
	case SENDMAIL_MODE_FLUSH_SITE:
		exec_command("ternqueue",
		    (const char *[]){ "-s", o.site, NULL });
	case SENDMAIL_MODE_QUEUE_RUNNER:
		fprintf(stderr, "%s: warning: -q<interval> is not "
		    "supported, ignored\n", progname);
		status = 0;
		break;
	case SENDMAIL_MODE_SMTP:
		status = run_smtp();
		break;
	case SENDMAIL_MODE_DELIVER:
	default:
		status = run_deliver(&o);
		break;
	}
	sendmail_opts_deinit(&o);
	mail_conf_unload();
	return status;
}
