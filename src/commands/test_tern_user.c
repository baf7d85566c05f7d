/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for "tern user" (tern_user.c), run in-process with the
 * password on a pipe as standard input: add, passwd, del and list on a
 * real file, the line format authd reads back (and whose hash verifies),
 * the modes and owners of new and existing files, lines it must keep
 * byte for byte, and refusals: duplicate and unknown users, hostile
 * names, bad options, empty, overlong and NUL passwords, no
 * authd_passwd_file.
 */
#include "config.h"

#include <crypt.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "auth_client.h"
#include "mail_conf.h"

#include "authd_passwd.h"
#include "tern_user.h"

static char tdir[] = "/tmp/test_tern_user.XXXXXX";
static char users[512];
static gid_t owner_gid;

static void
load_conf(bool with_file)
{
	char *path = xasprintf("%s/main.cf", tdir);
	struct passwd *pw;
	const char *err = NULL, *owner;
	FILE *fp;

	/* As root, a real unprivileged owner; otherwise ourselves. */
	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		ck_assert_ptr_nonnull(pw);
	} else {
		pw = getpwuid(geteuid());
		ck_assert_ptr_nonnull(pw);
	}
	owner = pw->pw_name;
	owner_gid = pw->pw_gid;
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "mail_owner = %s\n", owner);
	if (with_file)
		fprintf(fp, "authd_passwd_file = %s\n", users);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(mail_conf_try_load(tdir, NULL, false, &err), 0);
	free(path);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	str_fmt_buf(users, sizeof(users), "%s/users", tdir);
	load_conf(true);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tdir);

	mail_conf_unload();
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	memcpy(tdir + strlen(tdir) - 6, "XXXXXX", 6);
}

/*
 * Runs "tern user ARGS" with input (len bytes) on stdin; stdout goes to
 * out (may be NULL).  Returns the exit status.
 */
static int
run(const char *input, size_t len, struct buf *out, int argc, ...)
{
	char *argv[16];
	int p[2], saved_in, saved_out, ofd = -1, rc;
	char *opath = xasprintf("%s/stdout", tdir);
	va_list ap;

	ck_assert_int_lt(argc, 16);
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], input, len), (ssize_t)len);
	close(p[1]);
	saved_in = dup(0);
	ck_assert_int_eq(dup2(p[0], 0), 0);
	close(p[0]);
	fflush(stdout);
	saved_out = dup(1);
	ofd = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(ofd, 0);
	ck_assert_int_eq(dup2(ofd, 1), 1);
	close(ofd);
	rc = tern_user_main(argc, argv);
	fflush(stdout);
	ck_assert_int_eq(dup2(saved_in, 0), 0);
	ck_assert_int_eq(dup2(saved_out, 1), 1);
	close(saved_in);
	close(saved_out);
	if (out != NULL) {
		FILE *fp = fopen(opath, "r");
		char line[512];

		ck_assert_ptr_nonnull(fp);
		buf_reset(out);
		while (fgets(line, sizeof(line), fp) != NULL)
			buf_adds(out, line);
		fclose(fp);
	}
	unlink(opath);
	free(opath);
	return rc;
}

#define RUN(in, ...) run((in), strlen(in), NULL, \
	(int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)), __VA_ARGS__)

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct buf b;
	char chunk[1024];
	size_t n;

	ck_assert_ptr_nonnull(fp);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b);
}

/* The line of name in the file, parsed as authd parses it. */
static bool
entry_of(const char *text, const char *name, char **copy_r,
    struct authd_passwd_entry *e)
{
	const char *err;
	char *copy = xstrdup(text), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (authd_passwd_parse_line(line, strlen(line), e, &err) == 1 &&
		    str_eq(e->name, name)) {
			*copy_r = copy;
			return true;
		}
	free(copy);
	return false;
}

START_TEST(test_add_passwd_del)
{
	struct authd_passwd_entry e;
	struct stat st;
	struct buf out;
	char *text, *copy, *before;

	ck_assert_int_eq(RUN("s3cret\n", "add", "-d", "/var/vmail/alice",
	    "-u", "5000", "-g", "5001", "alice@example.com"), 0);
	text = slurp(users);
	ck_assert(str_has_prefix(text, "alice@example.com:{CRYPT}$"));
	ck_assert_ptr_nonnull(strstr(text, ":5000:5001::/var/vmail/alice::\n"));
	ck_assert(entry_of(text, "alice@example.com", &copy, &e));
	ck_assert(authd_passwd_check_hash(e.hash, "s3cret"));
	ck_assert(!authd_passwd_check_hash(e.hash, "s3cret\n"));
	ck_assert(str_has_prefix(e.hash, "$y$"));
	ck_assert_int_eq(e.uid, 5000);
	ck_assert_int_eq(e.gid, 5001);
	free(copy);
	free(text);

	/* The mode and group authd needs. */
	ck_assert_int_eq(stat(users, &st), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(st.st_mode & 07777, 0640);
		ck_assert_int_eq(st.st_gid, owner_gid);
		ck_assert_int_eq(st.st_uid, 0);
	} else {
		ck_assert_int_eq(st.st_mode & 07777, 0600);
	}

	/* Without options, CRLF input from a script. */
	ck_assert_int_eq(RUN("pw two\r\n", "add", "bob"), 0);
	text = slurp(users);
	ck_assert(entry_of(text, "bob", &copy, &e));
	ck_assert(authd_passwd_check_hash(e.hash, "pw two"));
	ck_assert(!e.has_uid && !e.has_gid);
	ck_assert_str_eq(e.home, "");
	free(copy);
	ck_assert_ptr_nonnull(strstr(text, "\nbob:{CRYPT}$"));
	ck_assert(str_has_suffix_ci(text, ":::::\n"));
	before = text;

	/* Duplicates, in any case, leave the file alone. */
	ck_assert_int_eq(RUN("x\n", "add", "bob"), 1);
	ck_assert_int_eq(RUN("x\n", "add", "ALICE@example.com"), 1);
	text = slurp(users);
	ck_assert_str_eq(text, before);
	free(text);
	free(before);

	/* passwd: only the hash changes. */
	ck_assert_int_eq(RUN("n3w\n", "passwd", "Alice@Example.com"), 0);
	text = slurp(users);
	ck_assert(entry_of(text, "alice@example.com", &copy, &e));
	ck_assert(authd_passwd_check_hash(e.hash, "n3w"));
	ck_assert(!authd_passwd_check_hash(e.hash, "s3cret"));
	ck_assert_int_eq(e.uid, 5000);
	ck_assert_str_eq(e.home, "/var/vmail/alice");
	free(copy);
	free(text);
	ck_assert_int_eq(RUN("x\n", "passwd", "carol"), 1);

	/* list */
	buf_init(&out, 0);
	ck_assert_int_eq(run("", 0, &out, 1, "list"), 0);
	ck_assert_str_eq(buf_cstr(&out), "alice@example.com\nbob\n");

	/* del */
	ck_assert_int_eq(RUN("", "del", "alice@example.com"), 0);
	ck_assert_int_eq(RUN("", "del", "alice@example.com"), 1);
	text = slurp(users);
	ck_assert(!entry_of(text, "alice@example.com", &copy, &e));
	ck_assert(entry_of(text, "bob", &copy, &e));
	free(copy);
	free(text);
	ck_assert_int_eq(run("", 0, &out, 1, "list"), 0);
	ck_assert_str_eq(buf_cstr(&out), "bob\n");
	buf_deinit(&out);
	/* The lock stays beside the file; no temporary file is left. */
	text = xasprintf("%s.lock", users);
	ck_assert_int_eq(access(text, F_OK), 0);
	free(text);
	text = xasprintf("ls %s | grep -c tmp >/dev/null", tdir);
	ck_assert_int_ne(system(text), 0);
	free(text);
}
END_TEST

START_TEST(test_keeps_other_lines)
{
	static const char orig[] =
	    "# managed by hand once\n"
	    "\n"
	    "x:{PLAIN}bad but kept\n"
	    "carol:{SHA512-CRYPT}$6$abc$def:7:7::/c::extra=1\n"
	    "dave:$6$x$y";			/* no LF at the end */
	struct authd_passwd_entry e;
	struct stat st;
	char *text, *copy;
	FILE *fp;

	fp = fopen(users, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(orig, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(users, 0604), 0);

	ck_assert_int_eq(RUN("pw\n", "passwd", "carol"), 0);
	text = slurp(users);
	ck_assert(str_has_prefix(text, "# managed by hand once\n\n"
	    "x:{PLAIN}bad but kept\ncarol:{CRYPT}$"));
	ck_assert_ptr_nonnull(strstr(text, ":7:7::/c::extra=1\ndave:$6$x$y\n"));
	ck_assert(entry_of(text, "carol", &copy, &e));
	ck_assert(authd_passwd_check_hash(e.hash, "pw"));
	free(copy);
	free(text);
	/* The existing mode is kept. */
	ck_assert_int_eq(stat(users, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0604);

	ck_assert_int_eq(RUN("pw\n", "add", "erin"), 0);
	ck_assert_int_eq(RUN("", "del", "carol"), 0);
	text = slurp(users);
	ck_assert(str_has_prefix(text, "# managed by hand once\n\n"
	    "x:{PLAIN}bad but kept\ndave:$6$x$y\nerin:{CRYPT}$"));
	free(text);
}
END_TEST

/* Refusals: each exits 1 and writes nothing. */
static const struct {
	const char	*input;
	size_t		 len;		/* 0: strlen */
	const char	*argv[6];
} bad_cases[] = {
	{ "pw\n", 0, { "add", "a:b" } },
	{ "pw\n", 0, { "add", "a b" } },
	{ "pw\n", 0, { "add", "" } },
	{ "pw\n", 0, { "add", "a\x01" } },
	{ "pw\n", 0, { "add", "a\n" } },
	{ "pw\n", 0, { "add", "#a" } },
	{ "pw\n", 0, { "add" } },
	{ "pw\n", 0, { "add", "a", "b" } },
	{ "pw\n", 0, { "add", "-u", "0", "a" } },
	{ "pw\n", 0, { "add", "-u", "-5", "a" } },
	{ "pw\n", 0, { "add", "-g", "4294967295", "a" } },
	{ "pw\n", 0, { "add", "-g", "12x", "a" } },
	{ "pw\n", 0, { "add", "-d", "relative", "a" } },
	{ "pw\n", 0, { "add", "-d", "/a:b", "a" } },
	{ "pw\n", 0, { "add", "-d", "/a\nb", "a" } },
	{ "pw\n", 0, { "add", "-x", "a" } },
	{ "pw\n", 0, { "del", "-u", "5", "a" } },
	{ "pw\n", 0, { "frob", "a" } },
	{ "pw\n", 0, { "list", "a" } },
	{ "", 0, { "add", "a" } },
	{ "\n", 0, { "add", "a" } },
	{ "\r\n", 0, { "add", "a" } },
	{ "p\0w\n", 4, { "add", "a" } },
	{ "pw\n", 0, { "passwd", "nobody-here" } },
	{ "pw\n", 0, { "del", "nobody-here" } },
};

START_TEST(test_refusals)
{
	int argc = 0;
	char *argv[7];
	const char *in = bad_cases[_i].input;
	size_t len = bad_cases[_i].len ? bad_cases[_i].len : strlen(in);

	while (argc < 6 && bad_cases[_i].argv[argc] != NULL) {
		argv[argc] = xstrdup(bad_cases[_i].argv[argc]);
		argc++;
	}
	for (int i = argc; i < 7; i++)
		argv[i] = NULL;
	ck_assert_int_eq(run(in, len, NULL, argc, argv[0], argv[1], argv[2],
	    argv[3], argv[4], argv[5]), 1);
	ck_assert_int_eq(access(users, F_OK), -1);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}
END_TEST

/* crypt(3) hashes at most CRYPT_MAX_PASSPHRASE_SIZE - 1 bytes. */
START_TEST(test_password_too_long)
{
	enum { MAX = CRYPT_MAX_PASSPHRASE_SIZE - 1 };
	struct authd_passwd_entry e;
	char pw[MAX + 3], *text, *copy;

	memset(pw, 'p', sizeof(pw));
	pw[MAX] = '\n';
	ck_assert_int_eq(run(pw, MAX + 1, NULL, 2, "add", "a"), 0);
	text = slurp(users);
	ck_assert(entry_of(text, "a", &copy, &e));
	pw[MAX] = '\0';
	ck_assert(authd_passwd_check_hash(e.hash, pw));
	free(copy);
	free(text);
	pw[MAX] = 'p';
	pw[MAX + 1] = '\n';
	ck_assert_int_eq(run(pw, MAX + 2, NULL, 2, "add", "b"), 1);
}
END_TEST

START_TEST(test_no_passwd_file)
{
	mail_conf_unload();
	load_conf(false);
	ck_assert_int_eq(RUN("pw\n", "add", "alice"), 1);
	ck_assert_int_eq(RUN("", "list"), 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tern_user");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_passwd_del);
	tcase_add_test(tc, test_keeps_other_lines);
	tcase_add_loop_test(tc, test_refusals, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_password_too_long);
	tcase_add_test(tc, test_no_passwd_file);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
