/* SPDX-License-Identifier: MIT */
/*
 * terncat: show queue files in readable form, as postcat(1): the
 * envelope records, the message content (or only its header or body) and
 * the log records appended after it.  Files are named by path, or with -q
 * by queue ID (searched in the queue directories, which only root and the
 * queue's owner can read).  A file that does not parse is shown raw, with
 * every byte that is not printable ASCII escaped, and reported: terncat
 * is how an administrator looks into corrupt/, so garbage must never make
 * it fail worse than that.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"
#include "qfile.h"
#include "qid.h"
#include "showq_client.h"

#define EX_USAGE_	64
#define EX_NOPERM_	77

#define CAT_ENVELOPE	0x01
#define CAT_HEADER	0x02
#define CAT_BODY	0x04
#define CAT_CHUNK	((size_t)64 * 1024)

static const char *const cat_queues[] = {
	QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD,
	QFILE_CORRUPT,
};

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: terncat [-c config_dir] [-e] [-h] [-b] [-q] "
	    "file...\n");
	exit(EX_USAGE_);
}

static void
out(const struct buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
}

static void
put_time(struct buf *b, int64_t when)
{
	time_t t = (time_t)when;
	char s[64];
	struct tm tm;

	if ((int64_t)t == when && localtime_r(&t, &tm) != NULL &&
	    strftime(s, sizeof(s), "%a %b %e %H:%M:%S %Y", &tm) > 0)
		buf_adds(b, s);
	else
		buf_addf(b, "%" PRId64, when);
}

static const char *
state_name(enum qfile_state s)
{
	switch (s) {
	case QFILE_TODO: return "to do";
	case QFILE_DONE: return "done";
	case QFILE_FAILED: return "failed";
	}
	return "?";
}

static void
show_envelope(const struct qfile *qf)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "message_arrival_time: ");
	put_time(&b, qf->arrival.tv_sec);
	buf_addf(&b, "\nmessage_size: %" PRIu64 "\nsender: ",
	    qf->content_size);
	showq_printable(&b, qf->sender);
	buf_addc(&b, '\n');
	for (size_t i = 0; i < qf->nattrs; i++) {
		buf_adds(&b, "named_attribute: ");
		showq_printable(&b, qf->attrs[i].name);
		buf_addc(&b, '=');
		showq_printable(&b, qf->attrs[i].value);
		buf_addc(&b, '\n');
	}
	for (size_t i = 0; i < qf->nrcpts; i++) {
		const struct qfile_rcpt *r = &qf->rcpts[i];

		buf_adds(&b, "recipient: ");
		showq_printable(&b, r->addr);
		buf_addf(&b, " (state: %s, notify: ", state_name(r->state));
		showq_printable(&b, r->notify);
		buf_adds(&b, ", orcpt: ");
		showq_printable(&b, r->orcpt);
		buf_adds(&b, ")\n");
	}
	out(&b);
	buf_deinit(&b);
}

/*
 * Streams the content; with only one of header and body wanted, splits
 * at the first empty line (RFC 5322 §2.1), which belongs to neither.
 * -1 with err_r on a read error or a short file.
 */
static int
show_content(const struct qfile *qf, unsigned what, const char **err_r)
{
	static char chunk[CAT_CHUNK];
	uint64_t left = qf->content_size;
	off_t off = qf->content_off;
	bool in_header = true, bol = true;

	while (left > 0) {
		size_t want = left < CAT_CHUNK ? (size_t)left : CAT_CHUNK;
		ssize_t n = pread(qf->fd, chunk, want, off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err_r = n == 0 ? "file shorter than its size record"
			    : strerror(errno);
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			char c = chunk[i];

			if (in_header && bol && c == '\n') {
				in_header = false;
				if ((what & (CAT_HEADER | CAT_BODY)) !=
				    (CAT_HEADER | CAT_BODY))
					continue;
			}
			bol = c == '\n';
			if (in_header ? (what & CAT_HEADER) :
			    (what & CAT_BODY))
				putchar(c);
		}
		left -= (uint64_t)n;
		off += n;
	}
	return 0;
}

/* The records after the content: each L and W line, escaped. */
static void
show_trailer(const struct qfile *qf)
{
	struct buf b;
	FILE *fp;
	int fd;
	char *s = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((fd = dup(qf->fd)) == -1 || (fp = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (fseeko(fp, qf->content_off + (off_t)qf->content_size,
	    SEEK_SET) == -1) {
		fclose(fp);
		return;
	}
	buf_init(&b, 0);
	while ((n = getline(&s, &cap, fp)) > 0) {
		const char *label;
		size_t skip;
		char *esc;

		if (s[n - 1] == '\n')
			n--;
		if (n == 1 && s[0] == 'X')
			continue;
		label = "unknown_record: ";
		skip = 0;
		if (n >= 2 && s[1] == ' ' && (s[0] == 'L' || s[0] == 'W')) {
			label = s[0] == 'L' ? "log: " : "warning_sent: ";
			skip = 2;
		}
		esc = log_escape(s + skip, (size_t)n - skip);
		buf_addf(&b, "%s%s\n", label, esc);
		free(esc);
	}
	out(&b);
	buf_deinit(&b);
	free(s);
	fclose(fp);
}

/* The whole file, line by line, escaped (for files that do not parse). */
static void
show_raw(int fd)
{
	FILE *fp;
	char *s = NULL, *esc;
	size_t cap = 0;
	ssize_t n;
	int fd2;

	if ((fd2 = dup(fd)) == -1 || (fp = fdopen(fd2, "r")) == NULL) {
		if (fd2 != -1)
			close(fd2);
		return;
	}
	rewind(fp);
	while ((n = getline(&s, &cap, fp)) > 0) {
		bool lf = s[n - 1] == '\n';

		esc = log_escape(s, (size_t)n - (lf ? 1 : 0));
		printf("%s%s\n", esc, lf ? "" : "\\(no end of line)");
		free(esc);
	}
	free(s);
	fclose(fp);
}

/* Shows one open file; 0, or -1 after a warning. */
static int
cat_fd(int fd, const char *label, unsigned what)
{
	struct qfile *qf = NULL;
	const char *base = strrchr(label, '/'), *err;
	char *esc = log_escape_str(label);
	bool banners = (what & CAT_ENVELOPE) != 0;
	int rc;

	base = base != NULL ? base + 1 : label;
	if ((rc = qfile_open_fd(fd, ".", base, &qf, &err)) != 0) {
		if (banners)
			printf("*** RAW FILE %s ***\n", esc);
		show_raw(fd);
		fflush(stdout);
		fprintf(stderr, "terncat: warning: %s: %s: %s\n", esc,
		    rc == -2 ? "corrupt" : "cannot read", err);
		free(esc);
		return -1;
	}
	if (what & CAT_ENVELOPE) {
		printf("*** ENVELOPE RECORDS %s ***\n", esc);
		show_envelope(qf);
	}
	rc = 0;
	if (what & (CAT_HEADER | CAT_BODY)) {
		if (banners)
			printf("*** MESSAGE CONTENTS %s ***\n", esc);
		if (show_content(qf, what, &err) == -1) {
			fflush(stdout);
			fprintf(stderr, "terncat: warning: %s: corrupt: %s\n",
			    esc, err);
			rc = -1;
		}
	}
	if ((what & CAT_ENVELOPE) && rc == 0) {
		printf("*** HEADER EXTRACTED %s ***\n", esc);
		show_trailer(qf);
		printf("*** MESSAGE FILE END %s ***\n", esc);
	}
	qf->fd = -1;		/* the caller's */
	qfile_free(&qf);
	free(esc);
	return rc;
}

/* Opens path for reading without blocking on FIFOs or following links. */
static int
cat_path(const char *path, unsigned what, bool *missing_r)
{
	struct stat st;
	int fd, rc;

	*missing_r = false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1) {
		*missing_r = errno == ENOENT;
		if (!*missing_r) {
			char *esc = log_escape_str(path);

			fprintf(stderr, "terncat: warning: open %s: %s\n",
			    esc, strerror(errno));
			free(esc);
		}
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		char *esc = log_escape_str(path);

		fprintf(stderr, "terncat: warning: %s: not a regular file\n",
		    esc);
		free(esc);
		close(fd);
		return -1;
	}
	rc = cat_fd(fd, path, what);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *err;
	unsigned what = 0;
	bool by_id = false, missing;
	int ch, rc = 0;

	log_init("terncat");
	log_use_stderr();
	while ((ch = getopt(argc, argv, "c:ehbq")) != -1) {
		switch (ch) {
		case 'c': dir = optarg; break;
		case 'e': what |= CAT_ENVELOPE; break;
		case 'h': what |= CAT_HEADER; break;
		case 'b': what |= CAT_BODY; break;
		case 'q': by_id = true; break;
		default: usage();
		}
	}
	if (optind == argc)
		usage();
	if (what == 0)
		what = CAT_ENVELOPE | CAT_HEADER | CAT_BODY;
	if (by_id) {
		if (mail_conf_try_load(dir, NULL, false, &err) == -1) {
			fprintf(stderr, "terncat: fatal: %s\n", err);
			return 1;
		}
		if (chdir(mail_conf_get("queue_directory")) == -1) {
			fprintf(stderr, "terncat: fatal: chdir %s: %s\n",
			    mail_conf_get("queue_directory"),
			    strerror(errno));
			return 1;
		}
		if (!mail_dirs_queue_admin()) {
			fprintf(stderr, "terncat: fatal: permission denied\n");
			return EX_NOPERM_;
		}
	}
	for (int i = optind; i < argc; i++) {
		const char *arg = argv[i];

		if (!by_id) {
			if (cat_path(arg, what, &missing) == -1) {
				if (missing) {
					char *esc = log_escape_str(arg);

					fprintf(stderr, "terncat: warning: "
					    "%s: no such file\n", esc);
					free(esc);
				}
				rc = 1;
			}
			continue;
		}
		if (!qid_valid(arg)) {
			char *esc = log_escape_str(arg);

			fprintf(stderr, "terncat: fatal: %s: bad queue ID\n",
			    esc);
			free(esc);
			return 1;
		}
		missing = true;
		for (size_t q = 0; missing &&
		    q < sizeof(cat_queues) / sizeof(cat_queues[0]); q++) {
			char *path = xasprintf("%s/%s", cat_queues[q], arg);

			if (cat_path(path, what, &missing) == -1 && !missing)
				rc = 1;
			free(path);
		}
		if (missing) {
			fprintf(stderr, "terncat: fatal: %s: no such message\n",
			    arg);
			return 1;
		}
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "terncat: fatal: write error: %s\n",
		    strerror(errno));
		return 1;
	}
	return rc;
}
