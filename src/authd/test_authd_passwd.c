/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for authd's users file (authd_passwd.c): single lines good
 * and hostile (missing fields, bad and mismatched schemes, NUL, CR,
 * overflowing IDs, relative homes, bad names), whole files with comments,
 * CRLF, overlong lines and duplicate users (logged with file:line),
 * lookups that ignore case, the hash check for every scheme against
 * hashes made here with crypt_rn, and the re-read after the file changes.
 */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "authd_passwd.h"

/* A valid SHA-512 crypt hash of "secret" (made once with crypt_rn). */
static char sha512_secret[CRYPT_OUTPUT_SIZE];

static const char *
hash_of(const char *prefix, const char *pw, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, setting,
	    sizeof(setting)));
	ck_assert_ptr_nonnull(crypt_rn(pw, setting, &cd, sizeof(cd)));
	ck_assert_int_ne(cd.output[0], '*');
	str_copy(out, cd.output, outlen);
	return out;
}

static void
setup(void)
{
	if (sha512_secret[0] == '\0')
		hash_of("$6$", "secret", sha512_secret, sizeof(sha512_secret));
}

/* Lines: "%s" in line is replaced by sha512_secret. */
static const struct {
	const char	*line;
	size_t		 len;		/* 0: strlen after substitution */
	int		 rc;
	const char	*name;
	long		 uid;		/* -1: none */
	long		 gid;
	const char	*home;
} line_cases[] = {
	{ "alice@example.com:{SHA512-CRYPT}%s:1000:1000::/home/alice::",
	  0, 1, "alice@example.com", 1000, 1000, "/home/alice" },
	{ "bob:{sha512-crypt}%s", 0, 1, "bob", -1, -1, "" },
	{ "carol:%s:::", 0, 1, "carol", -1, -1, "" },
	{ "dave:{CRYPT}%s:5:6:Dave X:/d:/bin/sh:userdb_quota=1G extra:x",
	  0, 1, "dave", 5, 6, "/d" },
	{ "erin:{SHA512-CRYPT}%s:1:2::/e::\r", 0, 1, "erin", 1, 2, "/e" },
	{ "", 0, 0, NULL, 0, 0, NULL },
	{ "   \t", 0, 0, NULL, 0, 0, NULL },
	{ "# alice:{PLAIN}x", 0, 0, NULL, 0, 0, NULL },
	{ "  # indented comment", 0, 0, NULL, 0, 0, NULL },
	{ "\r", 0, 0, NULL, 0, 0, NULL },
	/* hostile */
	{ "alice", 0, -1, NULL, 0, 0, NULL },
	{ "alice:", 0, -1, NULL, 0, 0, NULL },
	{ ":{SHA512-CRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{PLAIN}secret", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{}%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{BLF-CRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{YESCRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:!%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:*", 0, -1, NULL, 0, 0, NULL },
	{ "alice:$9$abc", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:0:1", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:1:0", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:-1:1", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:+5:1", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:4294967295:1", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:99999999999999999999:1",
	  0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:1x:1", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s:1:1::home", 0, -1, NULL, 0, 0, NULL },
	{ "al ice:{SHA512-CRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "al\x01ice:{SHA512-CRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "al\rice:{SHA512-CRYPT}%s", 0, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}%s\r\r", 0, -1, NULL, 0, 0, NULL },
	{ "alice\0x:{SHA512-CRYPT}%s", 14, -1, NULL, 0, 0, NULL },
	{ "alice:{SHA512-CRYPT}\xff%s", 0, -1, NULL, 0, 0, NULL },
};

START_TEST(test_parse_line)
{
	struct authd_passwd_entry e;
	const char *err = NULL;
	char *line, *pct;
	size_t len;
	int rc;

	/* Substitute the hash; keep an embedded NUL case byte-exact. */
	len = line_cases[_i].len != 0 ? line_cases[_i].len :
	    strlen(line_cases[_i].line);
	line = xmalloc(len + CRYPT_OUTPUT_SIZE + 1);
	memcpy(line, line_cases[_i].line, len);
	line[len] = '\0';
	pct = memmem(line, len, "%s", 2);
	if (pct != NULL) {
		size_t tail = len - (size_t)(pct + 2 - line);
		size_t hl = strlen(sha512_secret);

		memmove(pct + hl, pct + 2, tail);
		memcpy(pct, sha512_secret, hl);
		len = len - 2 + hl;
		line[len] = '\0';
	}
	rc = authd_passwd_parse_line(line, len, &e, &err);
	ck_assert_int_eq(rc, line_cases[_i].rc);
	if (rc == -1)
		ck_assert_ptr_nonnull(err);
	if (rc == 1) {
		ck_assert_str_eq(e.name, line_cases[_i].name);
		ck_assert_str_eq(e.hash, sha512_secret);
		ck_assert_int_eq(e.has_uid, line_cases[_i].uid != -1);
		ck_assert_int_eq(e.has_gid, line_cases[_i].gid != -1);
		if (e.has_uid)
			ck_assert_int_eq(e.uid, line_cases[_i].uid);
		if (e.has_gid)
			ck_assert_int_eq(e.gid, line_cases[_i].gid);
		ck_assert_str_eq(e.home, line_cases[_i].home);
	}
	free(line);
}
END_TEST

static const struct {
	const char	*name;
	bool		 ok;
} name_cases[] = {
	{ "alice", true },
	{ "alice@example.com", true },
	{ "Al.Ice+tag@example.com", true },
	{ "j\xc3\xb6rg", true },
	{ "", false },
	{ "#alice", false },
	{ "a:b", false },
	{ "a b", false },
	{ "a\tb", false },
	{ "a\nb", false },
	{ "a\x7f", false },
};

START_TEST(test_name_valid)
{
	const char *err = NULL;

	ck_assert_int_eq(authd_passwd_name_valid(name_cases[_i].name, &err),
	    name_cases[_i].ok);
	if (!name_cases[_i].ok)
		ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_name_too_long)
{
	char name[2000];
	const char *err = NULL;

	memset(name, 'a', sizeof(name));
	name[1024] = '\0';
	ck_assert(authd_passwd_name_valid(name, &err));
	name[1024] = 'a';
	name[1025] = '\0';
	ck_assert(!authd_passwd_name_valid(name, &err));
	ck_assert_str_eq(err, "name too long");
}
END_TEST

/* Warnings the loader logs, for the file:line checks. */
static struct strv logged;

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == LOG_LVL_WARN)
		strv_push(&logged, msg);
}

static bool
logged_has(const char *needle)
{
	for (size_t i = 0; i < logged.n; i++)
		if (strstr(logged.v[i], needle) != NULL)
			return true;
	return false;
}

START_TEST(test_load_file)
{
	struct authd_passwd *p = authd_passwd_new("");
	const struct authd_passwd_entry *e;
	const char *err;
	struct buf data;
	char *longline;
	size_t n;

	strv_init(&logged);
	log_set_hook(log_hook, NULL);
	buf_init(&data, 0);
	buf_addf(&data, "# users\r\n");				/* 1 */
	buf_addf(&data, "alice:{SHA512-CRYPT}%s:10:10::/h/a::\r\n",	/* 2 */
	    sha512_secret);
	buf_addf(&data, "\n");						/* 3 */
	buf_addf(&data, "bad line without password\n");			/* 4 */
	buf_addf(&data, "ALICE:{SHA512-CRYPT}%s:11:11\n", sha512_secret);/* 5 */
	buf_add(&data, "nul\0:x\n", 7);					/* 6 */
	longline = xmalloc(AUTHD_PASSWD_LINE_MAX + 2);
	memset(longline, 'x', AUTHD_PASSWD_LINE_MAX + 1);
	longline[AUTHD_PASSWD_LINE_MAX + 1] = '\0';
	buf_addf(&data, "%s\n", longline);				/* 7 */
	buf_addf(&data, "bob:{PLAIN}pw\n");				/* 8 */
	buf_addf(&data, "carol:%s", sha512_secret);		/* 9, no LF */
	n = authd_passwd_load_buf(p, data.data, data.len, "users");
	log_set_hook(NULL, NULL);
	ck_assert_uint_eq(n, 2);
	ck_assert(logged_has("users, line 4: "));
	ck_assert(logged_has("users, line 5: user already defined on line 2"));
	ck_assert(logged_has("users, line 6: NUL byte"));
	ck_assert(logged_has("users, line 7: line too long"));
	ck_assert(logged_has("users, line 8: unsupported password scheme"));
	ck_assert_uint_eq(logged.n, 5);

	ck_assert_int_eq(authd_passwd_lookup(p, "alice", &e, &err), 1);
	ck_assert_str_eq(e->name, "alice");
	ck_assert_int_eq(e->uid, 10);
	ck_assert_str_eq(e->home, "/h/a");
	ck_assert_int_eq(authd_passwd_lookup(p, "aLiCe", &e, &err), 1);
	ck_assert_str_eq(e->name, "alice");
	ck_assert_int_eq(authd_passwd_lookup(p, "carol", &e, &err), 1);
	ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "alic", &e, &err), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "alicex", &e, &err), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "", &e, &err), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "nul", &e, &err), 0);

	/* An empty file, then nothing at all. */
	ck_assert_uint_eq(authd_passwd_load_buf(p, "", 0, "users"), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "alice", &e, &err), 0);
	authd_passwd_free(&p);
	ck_assert_ptr_null(p);
	authd_passwd_free(&p);
	free(longline);
	buf_deinit(&data);
	strv_deinit(&logged);
}
END_TEST

/* Each scheme against a hash made here. */
static const struct {
	const char	*prefix;
	const char	*scheme;
} scheme_cases[] = {
	{ "$6$", "{SHA512-CRYPT}" },
	{ "$5$", "{SHA256-CRYPT}" },
	{ "$2b$", "{BLF-CRYPT}" },
	{ "$2y$", "{BLF-CRYPT}" },
	{ "$y$", "{YESCRYPT}" },
	{ "$y$", "{CRYPT}" },
	{ "$6$", "{CRYPT}" },
	{ "$y$", "" },
};

START_TEST(test_schemes)
{
	char hash[CRYPT_OUTPUT_SIZE], *line;
	struct authd_passwd *p = authd_passwd_new("");
	const struct authd_passwd_entry *e;
	const char *err;

	hash_of(scheme_cases[_i].prefix, "pa:ss w\xc3\xb6rd", hash,
	    sizeof(hash));
	line = xasprintf("u:%s%s", scheme_cases[_i].scheme, hash);
	ck_assert_uint_eq(authd_passwd_load_buf(p, line, strlen(line), "f"),
	    1);
	ck_assert_int_eq(authd_passwd_lookup(p, "u", &e, &err), 1);
	ck_assert_str_eq(e->hash, hash);
	ck_assert(authd_passwd_check_hash(e->hash, "pa:ss w\xc3\xb6rd"));
	ck_assert(!authd_passwd_check_hash(e->hash, "pa:ss w\xc3\xb6rD"));
	ck_assert(!authd_passwd_check_hash(e->hash, ""));
	ck_assert(!authd_passwd_check_hash(e->hash, "pa:ss w\xc3\xb6rd "));
	authd_passwd_free(&p);
	free(line);
}
END_TEST

START_TEST(test_check_bad_hash)
{
	ck_assert(!authd_passwd_check_hash("", "secret"));
	ck_assert(!authd_passwd_check_hash("*", "secret"));
	ck_assert(!authd_passwd_check_hash("!$6$x$y", "secret"));
	ck_assert(!authd_passwd_check_hash("$6$", "secret"));
	/* Only costs time; must not crash or succeed at anything. */
	authd_passwd_dummy_check("secret");
	authd_passwd_dummy_check("");
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	char tmp[512];
	FILE *fp;

	str_fmt_buf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

START_TEST(test_reread)
{
	char dir[] = "/tmp/test_authd_passwd.XXXXXX", path[512];
	struct authd_passwd *p;
	const struct authd_passwd_entry *e;
	const char *err = NULL;
	char *text;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	str_fmt_buf(path, sizeof(path), "%s/users", dir);
	p = authd_passwd_new(path);
	/* Missing: empty, not an error. */
	ck_assert_int_eq(authd_passwd_lookup(p, "alice", &e, &err), 0);

	text = xasprintf("alice:%s:1:1\n", sha512_secret);
	write_file(path, text);
	free(text);
	ck_assert_int_eq(authd_passwd_lookup(p, "alice", &e, &err), 1);
	ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), 0);

	/* A new inode (as tern user writes it) is noticed at once. */
	text = xasprintf("bob:%s:2:2\n", sha512_secret);
	write_file(path, text);
	free(text);
	ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), 1);
	ck_assert_int_eq(e->uid, 2);
	ck_assert_int_eq(authd_passwd_lookup(p, "alice", &e, &err), 0);

	/* Unreadable: an error, not an empty table. */
	if (geteuid() != 0) {
		/* The ctime changes: the table is re-read, and fails. */
		ck_assert_int_eq(chmod(path, 0), 0);
		ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), -1);
		ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
		ck_assert_int_eq(chmod(path, 0600), 0);
	}
	/* A directory in its place. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(rmdir(path), 0);
	/* Gone again: empty. */
	ck_assert_int_eq(authd_passwd_lookup(p, "bob", &e, &err), 0);
	authd_passwd_free(&p);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("authd_passwd");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_parse_line, 0, ARRAY_LEN(line_cases));
	tcase_add_loop_test(tc, test_name_valid, 0, ARRAY_LEN(name_cases));
	tcase_add_test(tc, test_name_too_long);
	tcase_add_test(tc, test_load_file);
	tcase_add_loop_test(tc, test_schemes, 0, ARRAY_LEN(scheme_cases));
	tcase_add_test(tc, test_check_bad_hash);
	tcase_add_test(tc, test_reread);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
