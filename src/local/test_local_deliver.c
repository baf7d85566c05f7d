/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for local.c and local_alias.c: local_deliver() on requests
 * built here, against a configuration in a temporary directory (aliases
 * in a texthash: table, the spool there, the current user as the system
 * user, deliveries as ourselves as in an unprivileged instance).  Checks
 * the per-recipient status, the mailbox contents and the log lines.
 */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "log.h"
#include "mail_conf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "local.h"

static char dir[64];
static char me[64];
static struct buf logged;

static void
hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	buf_adds(&logged, msg);
	buf_addc(&logged, '\n');
}

static void
put(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
}

static void
setup(void)
{
	struct passwd *pw;
	const char *err;
	char *cf, *al;

	/*
	 * As root, become nobody first (each test runs in its own child):
	 * local never delivers as root, and an unprivileged process
	 * delivers as itself, which is what is tested here.
	 */
	if (geteuid() == 0) {
		gid_t g = 65534;

		ck_assert_int_eq(setgroups(1, &g), 0);
		ck_assert_int_eq(setgid(g), 0);
		ck_assert_int_eq(setuid(65534), 0);
	}
	pw = getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	str_copy(me, pw->pw_name, sizeof(me));
	str_copy(dir, "/tmp/test_local_deliver.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	al = xasprintf(
	    "list: %s, \"|/bin/sh -c 'cat > %s/cmd.out'\"\n"
	    "owner-list: %s\n"
	    "loopa: loopb\n"
	    "loopb: loopa\n"
	    "self: %s, self\n"
	    "nobody-here: no-such-user-xyz\n"
	    "tofile: %s/file.mbox\n"
	    "inc: :include:%s/inc\n"
	    "bad: \"unterminated\n",
	    me, dir, me, me, dir, dir);
	put("aliases", al);
	free(al);
	al = xasprintf("# list\n%s\n", me);
	put("inc", al);
	free(al);
	cf = xasprintf("queue_directory = %s\nmydestination = example.org\n"
	    "myorigin = example.org\nmyhostname = mx.example.org\n"
	    "alias_maps = texthash:%s/aliases\n"
	    "mail_spool_directory = %s/spool\n"
	    "recipient_delimiter = +\n"
	    "virtual_mailbox_domains = virt.example\n"
	    "virtual_mailbox_base = %s/vmail\n"
	    "virtual_mailbox_maps = texthash:%s/vmaps\n"
	    "allow_mail_to_files = alias, forward, include\n",
	    dir, dir, dir, dir, dir);
	put("main.cf", cf);
	put("vmaps", "a@virt.example virt/a/\nb@virt.example ../escape\n");
	free(cf);
	al = xasprintf("%s/spool", dir);
	ck_assert_int_eq(mkdir(al, 0700), 0);
	free(al);
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	local_init();
	buf_init(&logged, 0);
	log_set_hook(hook, NULL);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	log_set_hook(NULL, NULL);
	buf_deinit(&logged);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Delivers content to one recipient; returns the reply (caller deinits). */
static void
deliver(const char *rcpt, const char *content, struct deliver_reply *reply)
{
	struct deliver_request req;
	char *qf = xasprintf("%s/qf", dir);
	int fd;

	put("qf", content);
	deliver_request_init(&req);
	req.queue_id = "1MQ3K7F0A3C2B";
	req.queue_name = "active";
	req.arrival = req.active = deliver_now_us();
	req.fd = fd = open(qf, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	req.content_off = 0;
	req.content_size = strlen(content);
	req.sender = "sender@remote.example";
	strv_push(&req.rcpt, rcpt);
	strv_push(&req.orcpt, "-");
	strv_push(&req.notify, "-");
	memset(reply, 0, sizeof(*reply));
	local_deliver(&req, reply);
	ck_assert_uint_eq(reply->n, 1);
	deliver_request_deinit(&req);
	free(qf);
}

static char *
spool(void)
{
	char *p = xasprintf("%s/spool/%s", dir, me);
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd = open(p, O_RDONLY);

	free(p);
	buf_init(&b, 0);
	if (fd == -1)
		return buf_steal(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_steal(&b);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_user_mailbox)
{
	struct deliver_reply r;
	char *rcpt = xasprintf("%s+tag@example.org", me), *box;

	deliver(rcpt, "Subject: x\n\nhello\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	box = spool();
	ck_assert_int_eq(count(box, "\nhello\n"), 1);
	ck_assert_ptr_nonnull(strstr(box, "Return-Path: "
	    "<sender@remote.example>\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), "1MQ3K7F0A3C2B: to=<"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), "relay=local"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "status=sent (delivered to mailbox)"));
	deliver_reply_deinit(&r);
	free(box);
	free(rcpt);
}
END_TEST

START_TEST(test_unknown_user)
{
	struct deliver_reply r;

	deliver("No-Such-User-xyz@example.org", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	ck_assert_str_eq(r.results[0].dsn, "5.1.1");
	ck_assert_str_eq(r.results[0].text,
	    "unknown user: \"no-such-user-xyz\"");
	deliver_reply_deinit(&r);
	/* Through an alias. */
	deliver("nobody-here@example.org", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	deliver_reply_deinit(&r);
}
END_TEST

START_TEST(test_alias_list_and_command)
{
	struct deliver_reply r;
	char *box, *out = xasprintf("%s/cmd.out", dir);
	struct stat sb;

	deliver("LIST@example.org", "Subject: l\n\nto the list\n", &r);
	ck_assert_msg(r.results[0].status == DELIVER_SENT, "%s",
	    r.results[0].text);
	box = spool();
	ck_assert_int_eq(count(box, "to the list"), 1);
	/* owner-list exists: the sender becomes owner-list@myorigin. */
	ck_assert_ptr_nonnull(strstr(box, "From owner-list@example.org "));
	ck_assert_int_eq(stat(out, &sb), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "orig_to=<LIST@example.org>"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "delivered to command: /bin/sh -c"));
	deliver_reply_deinit(&r);
	free(box);
	free(out);
}
END_TEST

START_TEST(test_alias_loops)
{
	struct deliver_reply r;
	char *box;

	/* loopa -> loopb -> loopa: ends (loopa is no user: bounced). */
	deliver("loopa@example.org", "x\n", &r);
	ck_assert_int_ne(r.results[0].status, DELIVER_DEFER);
	deliver_reply_deinit(&r);
	/* self: me, self -> me gets one copy. */
	deliver("self@example.org", "Subject: s\n\nonce\n", &r);
	box = spool();
	ck_assert_int_eq(count(box, "once"), 1);
	deliver_reply_deinit(&r);
	free(box);
}
END_TEST

START_TEST(test_delivered_to_loop)
{
	struct deliver_reply r;
	char *rcpt = xasprintf("%s@example.org", me), *msg;

	msg = xasprintf("Delivered-To: %s\nSubject: x\n\nx\n", rcpt);
	deliver(rcpt, msg, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	ck_assert_str_eq(r.results[0].dsn, "5.4.6");
	ck_assert(str_has_prefix(r.results[0].text,
	    "mail forwarding loop for "));
	deliver_reply_deinit(&r);
	free(rcpt);
	free(msg);
}
END_TEST

START_TEST(test_file_include_forward)
{
	struct deliver_reply r;
	char *p, *box;
	struct stat sb;

	deliver("tofile@example.org", "Subject: f\n\nfile\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	p = xasprintf("%s/file.mbox", dir);
	ck_assert_int_eq(stat(p, &sb), 0);
	free(p);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "delivered to file: "));
	deliver_reply_deinit(&r);
	deliver("inc@example.org", "Subject: i\n\nincluded\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	box = spool();
	ck_assert_int_eq(count(box, "included"), 1);
	free(box);
	deliver_reply_deinit(&r);
	/* A bad alias value defers, never loses the mail. */
	deliver("bad@example.org", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_DEFER);
	deliver_reply_deinit(&r);
	/* The double-bounce address is discarded. */
	deliver("double-bounce@example.org", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	ck_assert_str_eq(r.results[0].text, "discarded");
	deliver_reply_deinit(&r);
}
END_TEST

START_TEST(test_virtual)
{
	struct deliver_reply r;
	char *p;
	struct stat sb;

	deliver("a@virt.example", "Subject: v\n\nvirtual\n", &r);
	ck_assert_msg(r.results[0].status == DELIVER_SENT, "%s",
	    r.results[0].text);
	ck_assert_str_eq(r.relay, "virtual");
	ck_assert_str_eq(r.results[0].text, "delivered to maildir");
	p = xasprintf("%s/vmail/virt/a/new", dir);
	ck_assert_int_eq(stat(p, &sb), 0);
	free(p);
	deliver_reply_deinit(&r);
	deliver("nobody@virt.example", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	ck_assert_str_eq(r.results[0].text,
	    "unknown user: \"nobody@virt.example\"");
	deliver_reply_deinit(&r);
	/* A map result escaping the base is a configuration error. */
	deliver("b@virt.example", "x\n", &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_DEFER);
	deliver_reply_deinit(&r);
}
END_TEST

/* A short queue file defers: nothing accepted is lost. */
START_TEST(test_short_queue_file)
{
	struct deliver_request req;
	struct deliver_reply r;
	char *qf = xasprintf("%s/qf", dir);

	put("qf", "abc");
	deliver_request_init(&req);
	req.queue_id = "1MQ3K7F0A3C2B";
	req.fd = open(qf, O_RDONLY);
	req.content_size = 1000;
	req.sender = "";
	strv_push(&req.rcpt, "x@example.org");
	memset(&r, 0, sizeof(r));
	local_deliver(&req, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_DEFER);
	deliver_reply_deinit(&r);
	deliver_request_deinit(&req);
	free(qf);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("local_deliver");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_user_mailbox);
	tcase_add_test(tc, test_unknown_user);
	tcase_add_test(tc, test_alias_list_and_command);
	tcase_add_test(tc, test_alias_loops);
	tcase_add_test(tc, test_delivered_to_loop);
	tcase_add_test(tc, test_file_include_forward);
	tcase_add_test(tc, test_virtual);
	tcase_add_test(tc, test_short_queue_file);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
