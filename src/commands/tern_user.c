/* SPDX-License-Identifier: MIT */
/*
 * "tern user add/passwd/del/list": edits authd's users file; see
 * tern_user.h.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "auth_client.h"
#include "mail_conf.h"

#include "authd_passwd.h"
#include "tern_user.h"

/* The longest password crypt(3) hashes (and so authd can check). */
#define USER_PW_MAX	(CRYPT_MAX_PASSPHRASE_SIZE - 1)
/* Room for it, its LF and a NUL. */
#define USER_PW_SIZE	(USER_PW_MAX + 2)

/* The file as lines (without their LF), and whether the last had one. */
struct users_file {
	char		*path;
	struct strv	 lines;
	bool		 exists;
	struct stat	 st;
};

static void
users_deinit(struct users_file *u)
{
	for (size_t i = 0; i < u->lines.n; i++)
		explicit_bzero(u->lines.v[i], strlen(u->lines.v[i]));
	strv_deinit(&u->lines);
	free(u->path);
}

static int
users_read(struct users_file *u, const char *path)
{
	struct buf data;
	char chunk[4096];
	ssize_t n;
	int fd, rc = 0;

	memset(u, 0, sizeof(*u));
	strv_init(&u->lines);
	u->path = xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &u->st) == -1 || !S_ISREG(u->st.st_mode)) {
		log_error("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	u->exists = true;
	buf_init(&data, AUTHD_PASSWD_FILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_append(&data, chunk, (size_t)n) == -1) {
			log_error("read %s: %s", path, n == -1 ?
			    strerror(errno) : "file too large");
			rc = -1;
			break;
		}
	}
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	for (size_t off = 0; rc == 0 && off < data.len;) {
		char *nl = memchr(data.data + off, '\n', data.len - off);
		size_t len = (nl != NULL ? (size_t)(nl - data.data) :
		    data.len) - off;

		if (memchr(data.data + off, '\0', len) != NULL) {
			log_error("%s, line %zu: NUL byte; fix the file first",
			    path, u->lines.n + 1);
			rc = -1;
			break;
		}
		strv_push_n(&u->lines, data.data + off, len);
		off += len + 1;
	}
	if (data.data != NULL)
		explicit_bzero(data.data, data.cap);
	buf_deinit(&data);
	return rc;
}

/* Whether line is an account line for name (ASCII case ignored). */
static bool
line_is(const char *line, const char *name)
{
	const char *colon = strchr(line, ':');
	size_t len = strlen(name);

	return colon != NULL && (size_t)(colon - line) == len &&
	    strncasecmp(line, name, len) == 0;
}

static long
find_user(const struct users_file *u, const char *name)
{
	for (size_t i = 0; i < u->lines.n; i++)
		if (line_is(u->lines.v[i], name))
			return (long)i;
	return -1;
}

/* Group and mode of a new file. */
static int
new_file_owner(uid_t *uid_r, gid_t *gid_r, mode_t *mode_r)
{
	struct priv_user owner;
	const char *err;

	*uid_r = geteuid();
	*gid_r = getegid();
	*mode_r = 0600;
	if (!priv_is_root())
		return 0;
	switch (priv_lookup(mail_conf_get("mail_owner"), &owner, &err)) {
	case 1:
		/* SECURITY: authd runs as mail_owner and must read it. */
		*gid_r = owner.gid;
		*mode_r = 0640;
		priv_user_deinit(&owner);
		return 0;
	case 0:
		log_error("mail_owner: unknown user \"%s\"",
		    mail_conf_get("mail_owner"));
		return -1;
	default:
		log_error("mail_owner: %s", err);
		return -1;
	}
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replaces the file with u's lines, atomically. */
static int
users_write(const struct users_file *u)
{
	char *tmp = xasprintf("%s.tmpXXXXXX", u->path), *dcopy, *dir;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int fd, dfd, rc = -1;

	if (u->exists) {
		uid = u->st.st_uid;
		gid = u->st.st_gid;
		mode = u->st.st_mode & 07777;
	} else if (new_file_owner(&uid, &gid, &mode) == -1) {
		free(tmp);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_error("create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if ((uid != geteuid() || gid != getegid()) &&
	    fchown(fd, uid, gid) == -1) {
		log_error("chown %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) == -1) {
		log_error("chmod %s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < u->lines.n; i++)
		if (write_all(fd, u->lines.v[i], strlen(u->lines.v[i])) ==
		    -1 || write_all(fd, "\n", 1) == -1) {
			log_error("write %s: %s", tmp, strerror(errno));
			goto out;
		}
	if (fsync(fd) == -1) {
		log_error("fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, u->path) == -1) {
		log_error("rename %s to %s: %s", tmp, u->path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
	/* The rename itself must survive a crash too. */
	dcopy = xstrdup(u->path);
	dir = dirname(dcopy);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(dfd) == -1)
			log_warn("fsync %s: %s", dir, strerror(errno));
		close(dfd);
	}
	free(dcopy);
out:
	close(fd);
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Takes FILE.lock; returns its descriptor (closing it unlocks). */
static int
users_lock(const char *path)
{
	char *lock = xasprintf("%s.lock", path);
	int fd;

	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_error("open %s: %s", lock, strerror(errno));
	} else if (flock(fd, LOCK_EX) == -1) {
		log_error("lock %s: %s", lock, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(lock);
	return fd;
}

/*
 * Passwords.
 */

/* Reads one line from fd into pw; -1 with the error logged. */
static int
read_line(int fd, char *pw, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("read password: %s", strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (c == '\0') {
			log_error("NUL byte in password");
			return -1;
		}
		if (n >= USER_PW_MAX || n + 1 >= size) {
			log_error("password longer than %d bytes",
			    USER_PW_MAX);
			return -1;
		}
		pw[n++] = c;
	}
	c = '\0';		/* the last byte read may be the password's */
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (n == 0) {
		log_error("empty password");
		return -1;
	}
	return 0;
}

static int
prompt(const char *what, char *pw, size_t size)
{
	struct termios old, quiet;
	int rc;

	if (tcgetattr(STDIN_FILENO, &old) == -1) {
		log_error("tcgetattr: %s", strerror(errno));
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fprintf(stderr, "%s", what);
	fflush(stderr);
	/* XXX: a signal here leaves echo off, as passwd(1) may. */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1) {
		log_error("tcsetattr: %s", strerror(errno));
		return -1;
	}
	rc = read_line(STDIN_FILENO, pw, size);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return rc;
}

/* The new password: asked twice on a terminal, else one line of stdin. */
static int
get_password(char *pw, size_t size)
{
	char again[USER_PW_SIZE];
	int rc = 0;

	if (!isatty(STDIN_FILENO))
		return read_line(STDIN_FILENO, pw, size);
	if (prompt("New password: ", pw, size) == -1 ||
	    prompt("Retype new password: ", again, sizeof(again)) == -1)
		rc = -1;
	else if (strcmp(pw, again) != 0) {
		log_error("the passwords do not match");
		rc = -1;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* "{CRYPT}hash" of pw with the strongest method at hand (heap). */
static char *
hash_password(const char *pw)
{
	static const char *const methods[] = { "$y$", "$2b$", "$6$" };
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char *out = NULL;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (crypt_gensalt_rn(methods[i], 0, NULL, 0, setting,
		    sizeof(setting)) == NULL)
			continue;
		if (crypt_rn(pw, setting, cd, sizeof(*cd)) != NULL &&
		    cd->output[0] != '*') {
			out = xasprintf("{CRYPT}%s", cd->output);
			break;
		}
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (out == NULL)
		log_error("crypt: no usable password hashing method");
	return out;
}

/*
 * Subcommands.
 */

struct user_opts {
	const char	*home;
	const char	*uid;
	const char	*gid;
};

static bool
id_valid(const char *s)
{
	long long v;
	const char *err;

	return s[0] >= '0' && s[0] <= '9' &&
	    str_to_ll(s, 1, (long long)UINT32_MAX - 1, &v, &err) == 0;
}

static int
check_opts(const struct user_opts *o)
{
	if (o->uid[0] != '\0' && !id_valid(o->uid)) {
		log_error("-u %s: not a uid in 1..4294967294", o->uid);
		return -1;
	}
	if (o->gid[0] != '\0' && !id_valid(o->gid)) {
		log_error("-g %s: not a gid in 1..4294967294", o->gid);
		return -1;
	}
	if (o->home[0] != '\0' && (o->home[0] != '/' ||
	    strchr(o->home, ':') != NULL ||
	    !str_is_printable(o->home, strlen(o->home)))) {
		log_error("-d: home must be an absolute path without ':' or "
		    "control characters");
		return -1;
	}
	return 0;
}

/* True when line is what authd will read as name's account. */
static bool
line_parses(const char *line, const char *name)
{
	struct authd_passwd_entry e;
	char *copy = xstrdup(line);
	const char *err;
	bool ok;

	ok = authd_passwd_parse_line(copy, strlen(copy), &e, &err) == 1 &&
	    strcasecmp(e.name, name) == 0;
	explicit_bzero(copy, strlen(copy));
	free(copy);
	return ok;
}

static int
cmd_add(struct users_file *u, const char *name, const struct user_opts *o)
{
	char pw[USER_PW_SIZE], *hash, *line;
	int rc = -1;

	if (find_user(u, name) != -1) {
		log_error("user %s already exists", name);
		return -1;
	}
	if (get_password(pw, sizeof(pw)) == -1)
		goto out;
	if ((hash = hash_password(pw)) == NULL)
		goto out;
	line = xasprintf("%s:%s:%s:%s::%s::", name, hash, o->uid, o->gid,
	    o->home);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (!line_parses(line, name))
		panic("tern user: the line for %s does not parse", name);
	strv_push_owned(&u->lines, line);
	if (users_write(u) == 0) {
		log_info("added user %s", name);
		rc = 0;
	}
out:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

static int
cmd_passwd(struct users_file *u, const char *name)
{
	char pw[USER_PW_SIZE], *hash, *old, *rest, *line;
	long i = find_user(u, name);
	int rc = -1;

	if (i == -1) {
		log_error("no such user: %s", name);
		return -1;
	}
	if (get_password(pw, sizeof(pw)) == -1)
		goto out;
	if ((hash = hash_password(pw)) == NULL)
		goto out;
	old = u->lines.v[i];
	/* name ':' hash [':' the rest]: only the hash changes. */
	rest = strchr(strchr(old, ':') + 1, ':');
	line = xasprintf("%.*s:%s%s", (int)(strchr(old, ':') - old), old,
	    hash, rest != NULL ? rest : "");
	explicit_bzero(hash, strlen(hash));
	free(hash);
	explicit_bzero(old, strlen(old));
	free(old);
	u->lines.v[i] = line;
	if (!line_parses(line, name)) {
		log_error("the line of user %s has other errors; fix it, or "
		    "delete and add the user", name);
		goto out;
	}
	if (users_write(u) == 0) {
		log_info("changed the password of user %s", name);
		rc = 0;
	}
out:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

static int
cmd_del(struct users_file *u, const char *name)
{
	size_t keep = 0, gone = 0;

	for (size_t i = 0; i < u->lines.n; i++) {
		if (line_is(u->lines.v[i], name)) {
			explicit_bzero(u->lines.v[i], strlen(u->lines.v[i]));
			free(u->lines.v[i]);
			gone++;
			continue;
		}
		u->lines.v[keep++] = u->lines.v[i];
	}
	u->lines.n = keep;
	if (u->lines.v != NULL)
		u->lines.v[keep] = NULL;
	if (gone == 0) {
		log_error("no such user: %s", name);
		return -1;
	}
	if (users_write(u) == -1)
		return -1;
	log_info("deleted user %s", name);
	return 0;
}

static int
cmd_list(const struct users_file *u)
{
	for (size_t i = 0; i < u->lines.n; i++) {
		struct authd_passwd_entry e;
		char *copy = xstrdup(u->lines.v[i]);
		const char *err;

		/* What authd would load; bad lines it skips are not shown. */
		if (authd_passwd_parse_line(copy, strlen(copy), &e, &err) ==
		    1)
			printf("%s\n", e.name);
		explicit_bzero(copy, strlen(copy));
		free(copy);
	}
	if (fflush(stdout) == EOF) {
		log_error("write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: tern [-c config_dir] user add [-d home] "
	    "[-u uid] [-g gid] name\n"
	    "       tern [-c config_dir] user passwd|del name\n"
	    "       tern [-c config_dir] user list\n");
	return 1;
}

int
tern_user_main(int argc, char **argv)
{
	struct user_opts o = { "", "", "" };
	struct users_file u;
	const char *path, *cmd, *name = NULL, *err;
	int ch, lock, rc;

	if (argc < 1)
		return usage();
	cmd = argv[0];
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+d:g:u:")) != -1) {
		if (!str_eq(cmd, "add"))
			return usage();
		switch (ch) {
		case 'd': o.home = optarg; break;
		case 'g': o.gid = optarg; break;
		case 'u': o.uid = optarg; break;
		default: return usage();
		}
	}
	if (str_eq(cmd, "list")) {
		if (argc != optind)
			return usage();
	} else if (str_eq(cmd, "add") || str_eq(cmd, "passwd") ||
	    str_eq(cmd, "del")) {
		if (argc != optind + 1)
			return usage();
		name = argv[optind];
		if (!authd_passwd_name_valid(name, &err)) {
			char *esc = log_escape_str(name);

			log_error("bad user name \"%s\": %s", esc, err);
			free(esc);
			return 1;
		}
	} else {
		return usage();
	}
	if (check_opts(&o) == -1)
		return 1;
	path = mail_conf_get("authd_passwd_file");
	if (path[0] == '\0') {
		log_error("authd_passwd_file is not set");
		return 1;
	}
	if (name == NULL) {
		rc = users_read(&u, path) == 0 ? cmd_list(&u) : -1;
		users_deinit(&u);
		return rc == 0 ? 0 : 1;
	}
	if ((lock = users_lock(path)) == -1)
		return 1;
	rc = users_read(&u, path);
	if (rc == 0 && str_eq(cmd, "add"))
		rc = cmd_add(&u, name, &o);
	else if (rc == 0 && str_eq(cmd, "passwd"))
		rc = cmd_passwd(&u, name);
	else if (rc == 0)
		rc = cmd_del(&u, name);
	users_deinit(&u);
	close(lock);
	return rc == 0 ? 0 : 1;
}
