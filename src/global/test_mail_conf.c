/* SPDX-License-Identifier: MIT */
/* Unit tests for mail_conf.c and mail_params.c. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_params.h"

static char dir[] = "/tmp/test_mail_conf.XXXXXX";

static void
write_main_cf(const char *text)
{
	char *path = xasprintf("%s/main.cf", dir);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char *path = xasprintf("%s/main.cf", dir);

	unlink(path);
	free(path);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	mail_conf_unload();
}

static const struct {
	const char *in, *out;
} domain_cases[] = {
	{ "mail.example.com", "example.com" },
	{ "host", "localdomain" },
	{ "host.", "localdomain" },
	{ "a.b", "b" },
	{ "", "localdomain" },
};

START_TEST(test_domain_of)
{
	char *d = mail_params_domain_of(domain_cases[_i].in);

	ck_assert_str_eq(d, domain_cases[_i].out);
	free(d);
}
END_TEST

START_TEST(test_hostname_and_networks)
{
	char *h = mail_params_hostname(), *n;

	ck_assert_ptr_nonnull(strchr(h, '.'));
	free(h);
	n = mail_params_mynetworks("host");
	ck_assert(str_has_prefix(n, "127.0.0.0/8 [::ffff:127.0.0.0]/104 "
	    "[::1]/128"));
	free(n);
}
END_TEST

START_TEST(test_load)
{
	struct strv ov;

	write_main_cf("# site config\n"
	    "myhostname = mx.example.org\n"
	    "mydestination = $myhostname,\n"
	    "    localhost.$mydomain, localhost\n"
	    "message_size_limit = 52428800\n"
	    "alias_maps = hash:/etc/aliases\r\n");
	strv_init(&ov);
	strv_push(&ov, "relayhost=[smart.example.net]:587");
	mail_conf_load(dir, &ov);
	strv_deinit(&ov);
	ck_assert_str_eq(mail_conf_dir(), dir);
	ck_assert_str_eq(mail_conf_get("config_directory"), dir);
	ck_assert_str_eq(mail_conf_get("mydomain"), "example.org");
	ck_assert_str_eq(mail_conf_get("myorigin"), "mx.example.org");
	ck_assert_str_eq(mail_conf_get("mydestination"),
	    "mx.example.org, localhost.example.org, localhost");
	ck_assert_uint_eq(mail_conf_list("mydestination")->n, 3);
	ck_assert_int_eq(mail_conf_size("message_size_limit"), 52428800);
	ck_assert_int_eq(mail_conf_int("default_process_limit"), 100);
	ck_assert_str_eq(mail_conf_get("relayhost"), "[smart.example.net]:587");
	ck_assert_str_eq(mail_conf_get("queue_directory"), "/var/spool/tern");
	ck_assert_str_eq(mail_conf_get("syslog_name"), "tern");
	ck_assert_str_eq(mail_conf_get("alias_maps"), "hash:/etc/aliases");
}
END_TEST

START_TEST(test_env)
{
	const char *err;

	write_main_cf("myhostname = env.example.org\n");
	setenv("MAIL_CONFIG", dir, 1);
	ck_assert_int_eq(mail_conf_try_load(NULL, NULL, false, &err), 0);
	unsetenv("MAIL_CONFIG");
	ck_assert_str_eq(mail_conf_dir(), dir);
	ck_assert_str_eq(mail_conf_get("mydomain"), "example.org");
}
END_TEST

START_TEST(test_open_log)
{
	const char *err;
	char *text, *path = xasprintf("%s/maillog", dir);
	size_t len;
	FILE *fp;

	/* maillog_file wins over syslog, and lines carry syslog_name. */
	text = xasprintf("syslog_name = tern/submission\nmaillog_file = %s\n",
	    path);
	write_main_cf(text);
	free(text);
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	log_init("smtpd");
	ck_assert_int_eq(mail_conf_open_log(&err), 0);
	log_info("connect from %s", "localhost[127.0.0.1]");
	log_use_stderr();
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	text = NULL;
	len = 0;
	ck_assert_int_gt(getline(&text, &len, fp), 0);
	ck_assert_ptr_nonnull(strstr(text,
	    " tern/submission/smtpd["));
	ck_assert_ptr_nonnull(strstr(text,
	    "]: connect from localhost[127.0.0.1]\n"));
	fclose(fp);
	free(text);
	free(path);

	write_main_cf("maillog_file = /nonexistent/dir/maillog\n");
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	ck_assert_int_eq(mail_conf_open_log(&err), -1);
	write_main_cf("syslog_facility = local5\n");
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	ck_assert_int_eq(mail_conf_open_log(&err), 0);
	log_use_stderr();
}
END_TEST

static const struct {
	const char *text;
	const char *override;
	const char *err;	/* suffix of the message; NULL: loads */
} err_cases[] = {
	{ "syslog_facility = bogus\n", NULL, "/main.cf, line 1: "
	  "syslog_facility: unknown syslog facility \"bogus\"" },
	{ "syslog_facility = local3\n", NULL, NULL },
	{ "mynetworks_style = subnet\n", NULL, NULL },
	{ "mynetworks_style = world\n", NULL, "/main.cf, line 1: "
	  "mynetworks_style: expected host, subnet or class, got \"world\"" },
	{ "inet_protocols = ipv4, ipx\n", NULL, "/main.cf, line 1: "
	  "inet_protocols: expected ipv4, ipv6 or all, got \"ipx\"" },
	{ "message_size_limit = 10M\n", NULL, "/main.cf, line 1: "
	  "message_size_limit: expected a size in bytes, got \"10M\"" },
	{ "x = 1\n", "message_size_limit=10M", "command line: "
	  "message_size_limit: expected a size in bytes, got \"10M\"" },
	{ "x = 1\n", "bad name=1", "command line: missing '=' after "
	  "attribute name" },
	{ "myhostname = $myorigin\nmyorigin = $myhostname\n", NULL,
	  "recursive reference to parameter myhostname" },
	{ "default_process_limit = 0\n", NULL, "/main.cf, line 1: "
	  "default_process_limit: value 0 out of range (expected 1..100000)" },
	{ "alias_maps = aliases\n", NULL, "/main.cf, line 1: alias_maps: "
	  "expected lookup tables as type:name, got \"aliases\"" },
	{ "myhostname\n", NULL, "/main.cf, line 1: missing '=' after "
	  "attribute name" },
};

START_TEST(test_errors)
{
	struct strv ov;
	const char *err = NULL;
	int rc;

	write_main_cf(err_cases[_i].text);
	strv_init(&ov);
	if (err_cases[_i].override != NULL)
		strv_push(&ov, err_cases[_i].override);
	rc = mail_conf_try_load(dir, &ov, false, &err);
	strv_deinit(&ov);
	if (err_cases[_i].err == NULL) {
		ck_assert_msg(rc == 0, "%s", err);
		return;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strlen(err) >= strlen(err_cases[_i].err) &&
	    str_eq(err + strlen(err) - strlen(err_cases[_i].err),
	    err_cases[_i].err), "got %s", err);
}
END_TEST

START_TEST(test_missing)
{
	const char *err;
	char *want;

	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), -1);
	want = xasprintf("open %s/main.cf: No such file or directory", dir);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, true, &err), 0);
	ck_assert_str_eq(mail_conf_get("relayhost"), "");
	ck_assert_str_eq(param_raw(mail_conf_params(), "mydestination", NULL),
	    "$myhostname, localhost.$mydomain, localhost");
}
END_TEST

START_TEST(test_defaults_only)
{
	const char *err;
	struct strv ov;

	/* As postconf -d: the file and the overrides are not consulted. */
	write_main_cf("myhostname = file.example.com\nrelayhost = [h]:587\n"
	    "message_size_limit = broken\n");
	strv_init(&ov);
	strv_push(&ov, "relayhost=[o]:25");
	ck_assert_int_eq(mail_conf_try_load(dir, &ov, true, &err), 0);
	ck_assert_str_eq(mail_conf_get("relayhost"), "");
	ck_assert_str_ne(mail_conf_get("myhostname"), "file.example.com");
	ck_assert_int_eq(mail_conf_size("message_size_limit"), 10240000);
	ck_assert_int_eq(mail_conf_try_load(dir, &ov, false, &err), -1);
	strv_deinit(&ov);
}
END_TEST

START_TEST(test_missing_fatal)
{
	mail_conf_load(dir, NULL);
}
END_TEST

START_TEST(test_unknown_panics)
{
	write_main_cf("");
	mail_conf_load(dir, NULL);
	(void)mail_conf_get("no_such_parameter");
}
END_TEST

START_TEST(test_unloaded_panics)
{
	(void)mail_conf_get("myhostname");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mail_conf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_domain_of, 0, ARRAY_LEN(domain_cases));
	tcase_add_test(tc, test_hostname_and_networks);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_open_log);
	tcase_add_loop_test(tc, test_errors, 0, ARRAY_LEN(err_cases));
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_defaults_only);
	tcase_add_exit_test(tc, test_missing_fatal, 1);
	tcase_add_test_raise_signal(tc, test_unknown_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_unloaded_panics, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
