/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for smtpd's restrictions engine (smtpd_check*.c): each test
 * writes a main.cf into a temporary directory, loads it, and drives the
 * stage functions with a session environment built here; tables are
 * inline: so that every case shows its data.  Covered: the default relay
 * policy, reject_unauth_destination and the open-relay matrix of address
 * tricks, unlisted recipients, every access(5) action and the lookup
 * order, smtpd_delay_reject, reject_unknown_sender_domain through the
 * PENDING protocol, sender login ownership, HELO and FQDN checks, and
 * configuration errors (451 4.3.5 for every check).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mail_conf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "smtpd_check.h"

#define OUTSIDE	"203.0.113.5"
#define INSIDE	"192.0.2.5"

static char dir[64];
static struct buf logged;

static const char base_cf[] =
    "myhostname = mx.ours.example\n"
    "mydomain = ours.example\n"
    "mydestination = ours.example, localhost\n"
    "mynetworks = 127.0.0.0/8, [::1]/128, 192.0.2.0/24\n"
    "alias_maps =\n"
    "local_recipient_maps = inline:{root=x, alice=x, postmaster=x}\n"
    "recipient_delimiter = +\n"
    "virtual_mailbox_domains = virt.example\n"
    "virtual_mailbox_maps = inline:{v@virt.example=x}\n"
    "relay_domains = relay.example, .sub.relay.example\n"
    "relay_recipient_maps = inline:{r@relay.example=x, "
    "@a.sub.relay.example=x}\n";

static void
hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	buf_adds(&logged, msg);
	buf_addc(&logged, '\n');
}

static void
setup(void)
{
	str_copy(dir, "/tmp/test_smtpd_check.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	buf_init(&logged, 0);
	log_set_hook(hook, NULL);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	smtpd_check_deinit();
	mail_conf_unload();
	log_set_hook(NULL, NULL);
	buf_deinit(&logged);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Loads base_cf plus extra (later lines win) and initializes. */
static int
load(const char *extra)
{
	char *path = xasprintf("%s/main.cf", dir);
	FILE *f = fopen(path, "w");
	const char *err;
	int rc;

	ck_assert_ptr_nonnull(f);
	fputs(base_cf, f);
	fputs(extra, f);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
	ck_assert_msg(mail_conf_try_load(dir, NULL, false, &err) == 0, "%s",
	    err);
	rc = smtpd_check_init(&err);
	return rc;
}

static void
load_ok(const char *extra)
{
	ck_assert_msg(load(extra) == 0, "init failed: %s", buf_cstr(&logged));
}

static void
env_init(struct smtpd_check_env *env, const char *client, const char *sasl,
    const char *sender, const char *rcpt)
{
	memset(env, 0, sizeof(*env));
	env->client_addr = client;
	env->client_name = "unknown";
	env->helo = "client.example.net";
	env->sender = sender;
	env->rcpt = rcpt;
	env->sasl_user = sasl;
}

/* want_code 0: PASS; else REJECT with that code and exactly that text. */
static void
expect(enum smtpd_check_result got, const struct smtpd_check_reply *r,
    int want_code, const char *want_text, const char *what)
{
	if (want_code == 0) {
		ck_assert_msg(got == SMTPD_CHECK_PASS, "%s: want PASS, got "
		    "%d %d %s", what, (int)got, r->code, r->text);
		return;
	}
	ck_assert_msg(got == SMTPD_CHECK_REJECT, "%s: want %d %s, got %d",
	    what, want_code, want_text, (int)got);
	ck_assert_msg(r->code == want_code && str_eq(r->text, want_text),
	    "%s: want %d %s, got %d %s", what, want_code, want_text, r->code,
	    r->text);
}

struct rcpt_case {
	const char	*client;
	const char	*sasl;
	const char	*rcpt;
	int		 code;
	const char	*text;
};

static void
run_rcpt_case(const struct rcpt_case *c)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	env_init(&env, c->client, c->sasl, "s@sender.example", c->rcpt);
	expect(smtpd_check_rcpt(&env, &r), &r, c->code, c->text, c->rcpt);
}

/* The default smtpd_relay_restrictions. */
static const struct rcpt_case default_cases[] = {
	{ INSIDE, NULL, "a@remote.example", 0, NULL },
	{ "::ffff:192.0.2.5", NULL, "a@remote.example", 0, NULL },
	{ "::1", NULL, "a@remote.example", 0, NULL },
	{ OUTSIDE, "alice", "a@remote.example", 0, NULL },
	{ OUTSIDE, NULL, "a@remote.example", 450,
	  "4.7.1 <a@remote.example>: Relay access denied" },
	{ "unix", NULL, "a@remote.example", 450,
	  "4.7.1 <a@remote.example>: Relay access denied" },
	{ OUTSIDE, NULL, "root@ours.example", 0, NULL },
	{ OUTSIDE, NULL, "ROOT@OURS.Example", 0, NULL },
	{ OUTSIDE, NULL, "root+box@ours.example", 0, NULL },
	{ OUTSIDE, NULL, "root@localhost", 0, NULL },
	{ OUTSIDE, NULL, "root", 0, NULL },
	{ OUTSIDE, NULL, "postmaster", 0, NULL },
	{ OUTSIDE, NULL, "PostMaster", 0, NULL },
	{ OUTSIDE, NULL, "nobody@ours.example", 550,
	  "5.1.1 <nobody@ours.example>: Recipient address rejected: "
	  "User unknown in local recipient table" },
	/* Unlisted is unlisted even for our own networks. */
	{ INSIDE, NULL, "nobody@ours.example", 550,
	  "5.1.1 <nobody@ours.example>: Recipient address rejected: "
	  "User unknown in local recipient table" },
	{ OUTSIDE, NULL, "nobody", 550,
	  "5.1.1 <nobody>: Recipient address rejected: "
	  "User unknown in local recipient table" },
	{ OUTSIDE, NULL, "v@virt.example", 0, NULL },
	{ OUTSIDE, NULL, "x@virt.example", 550,
	  "5.1.1 <x@virt.example>: Recipient address rejected: "
	  "User unknown in virtual mailbox table" },
	{ OUTSIDE, NULL, "r@relay.example", 0, NULL },
	{ OUTSIDE, NULL, "x@relay.example", 550,
	  "5.1.1 <x@relay.example>: Recipient address rejected: "
	  "User unknown in relay recipient table" },
	{ OUTSIDE, NULL, "any@a.sub.relay.example", 0, NULL },
	{ OUTSIDE, NULL, "any@b.sub.relay.example", 550,
	  "5.1.1 <any@b.sub.relay.example>: Recipient address rejected: "
	  "User unknown in relay recipient table" },
};

START_TEST(test_default_policy)
{
	load_ok("");
	run_rcpt_case(&default_cases[_i]);
}
END_TEST

/*
 * The open-relay matrix: an unauthenticated client outside mynetworks,
 * with reject_unauth_destination.  Nothing here may pass.
 */
static const struct rcpt_case relay_cases[] = {
	{ OUTSIDE, NULL, "user@remote.example", 554,
	  "5.7.1 <user@remote.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@REMOTE.EXAMPLE", 554,
	  "5.7.1 <user@REMOTE.EXAMPLE>: Relay access denied" },
	{ OUTSIDE, NULL, "user%remote.example@ours.example", 550,
	  "5.1.1 <user%remote.example@ours.example>: Recipient address "
	  "rejected: User unknown in local recipient table" },
	{ OUTSIDE, NULL, "root%remote.example@ours.example", 550,
	  "5.1.1 <root%remote.example@ours.example>: Recipient address "
	  "rejected: User unknown in local recipient table" },
	{ OUTSIDE, NULL, "remote.example!user@ours.example", 550,
	  "5.1.1 <remote.example!user@ours.example>: Recipient address "
	  "rejected: User unknown in local recipient table" },
	/* The quoted local part "user@remote.example"@ours.example. */
	{ OUTSIDE, NULL, "user@remote.example@ours.example", 550,
	  "5.1.1 <\"user@remote.example\"@ours.example>: Recipient address "
	  "rejected: User unknown in local recipient table" },
	{ OUTSIDE, NULL, "root@remote.example@ours.example", 550,
	  "5.1.1 <\"root@remote.example\"@ours.example>: Recipient address "
	  "rejected: User unknown in local recipient table" },
	{ OUTSIDE, NULL, "user%remote.example@virt.example", 550,
	  "5.1.1 <user%remote.example@virt.example>: Recipient address "
	  "rejected: User unknown in virtual mailbox table" },
	{ OUTSIDE, NULL, "root@ours.example@remote.example", 554,
	  "5.7.1 <\"root@ours.example\"@remote.example>: Relay access "
	  "denied" },
	{ OUTSIDE, NULL, "user@remote.example%ours.example", 554,
	  "5.7.1 <user@remote.example%ours.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@[192.0.2.1]", 554,
	  "5.7.1 <user@[192.0.2.1]>: Relay access denied" },
	{ OUTSIDE, NULL, "root@[127.0.0.1]", 554,
	  "5.7.1 <root@[127.0.0.1]>: Relay access denied" },
	{ OUTSIDE, NULL, "user@[IPv6:2001:db8::1]", 554,
	  "5.7.1 <user@[IPv6:2001:db8::1]>: Relay access denied" },
	{ OUTSIDE, NULL, "user@sub.ours.example", 554,
	  "5.7.1 <user@sub.ours.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@ours.example.remote.example", 554,
	  "5.7.1 <user@ours.example.remote.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@evilours.example", 554,
	  "5.7.1 <user@evilours.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@remote.example.", 554,
	  "5.7.1 <user@remote.example.>: Relay access denied" },
	{ OUTSIDE, NULL, "user@ours.example..", 554,
	  "5.7.1 <user@ours.example..>: Relay access denied" },
	{ OUTSIDE, NULL, "user@", 554,
	  "5.7.1 <user@>: Relay access denied" },
	{ OUTSIDE, NULL, "user@.", 554,
	  "5.7.1 <user@.>: Relay access denied" },
	{ OUTSIDE, NULL, "nobody@ours.example.", 550,
	  "5.1.1 <nobody@ours.example.>: Recipient address rejected: "
	  "User unknown in local recipient table" },
	/* relay_domains: ".sub" is the subdomains only. */
	{ OUTSIDE, NULL, "user@sub.relay.example", 554,
	  "5.7.1 <user@sub.relay.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@relay.example.evil.example", 554,
	  "5.7.1 <user@relay.example.evil.example>: Relay access denied" },
	{ OUTSIDE, NULL, "user@evilrelay.example", 554,
	  "5.7.1 <user@evilrelay.example>: Relay access denied" },
	/* Ours and known: these pass, trailing dot or not. */
	{ OUTSIDE, NULL, "root@ours.example.", 0, NULL },
	{ OUTSIDE, NULL, "root@OURS.EXAMPLE", 0, NULL },
};

START_TEST(test_open_relay)
{
	load_ok("smtpd_relay_restrictions = permit_mynetworks, "
	    "permit_sasl_authenticated, reject_unauth_destination\n");
	run_rcpt_case(&relay_cases[_i]);
}
END_TEST

/* The same tricks, with every table accepting any user. */
START_TEST(test_open_relay_any_user)
{
	static const char *const tricks[] = {
		"user%remote.example@ours.example",
		"remote.example!user@ours.example",
		"user@remote.example@ours.example",
		"user%remote.example@virt.example",
	};
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok("smtpd_relay_restrictions = reject_unauth_destination\n"
	    "local_recipient_maps =\nvirtual_mailbox_maps =\n");
	for (size_t i = 0; i < ARRAY_LEN(tricks); i++) {
		env_init(&env, OUTSIDE, NULL, "s@sender.example", tricks[i]);
		ck_assert_msg(smtpd_check_rcpt(&env, &r) ==
		    SMTPD_CHECK_REJECT && r.code == 550, "%s passed",
		    tricks[i]);
		ck_assert_int_eq(smtpd_check_rcpt_known(tricks[i]), 0);
	}
	env_init(&env, OUTSIDE, NULL, "s@sender.example",
	    "anyone@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "any local user");
}
END_TEST

struct access_case {
	const char	*rcpt;
	int		 code;
	const char	*text;
};

static const char access_cf[] =
    "smtpd_relay_restrictions = permit_mynetworks, reject\n"
    "smtpd_reject_unlisted_recipient = no\n"
    "smtpd_recipient_restrictions = check_recipient_access inline:{"
    "ok@t.example=OK, permit@t.example=PERMIT, "
    "rej@t.example=REJECT, {rejt@t.example=REJECT go away}, "
    "def@t.example=DEFER, {deft@t.example=defer busy now}, "
    "{n550@t.example=550 nope}, {n450@t.example=450 4.2.0 later}, "
    "n553@t.example=553, {mism@t.example=550 4.7.9 wrong class}, "
    "{own@t.example=REJECT 5.7.9 own code}, "
    "dunno@t.example=DUNNO, "
    "n250@t.example=250, {n250t@t.example=250 fine}, "
    "n600@t.example=600, hold@t.example=HOLD, "
    "{bogus@t.example=5x0 no}, "
    "full@ord.example=OK, ord.example=REJECT, "
    "ext@ord.example=OK, lp@=REJECT, .dot.example=REJECT"
    "}, permit\n";

static const struct access_case access_cases[] = {
	{ "ok@t.example", 0, NULL },
	{ "permit@t.example", 0, NULL },
	{ "OK@T.EXAMPLE", 0, NULL },
	{ "rej@t.example", 554,
	  "5.7.1 <rej@t.example>: Recipient address rejected: "
	  "Access denied" },
	{ "rejt@t.example", 554,
	  "5.7.1 <rejt@t.example>: Recipient address rejected: go away" },
	{ "def@t.example", 450,
	  "4.7.1 <def@t.example>: Recipient address rejected: "
	  "Access denied" },
	{ "deft@t.example", 450,
	  "4.7.1 <deft@t.example>: Recipient address rejected: busy now" },
	{ "n550@t.example", 550,
	  "5.7.1 <n550@t.example>: Recipient address rejected: nope" },
	{ "n450@t.example", 450,
	  "4.2.0 <n450@t.example>: Recipient address rejected: later" },
	{ "n553@t.example", 553,
	  "5.7.1 <n553@t.example>: Recipient address rejected: "
	  "Access denied" },
	{ "mism@t.example", 550,
	  "5.7.9 <mism@t.example>: Recipient address rejected: "
	  "wrong class" },
	{ "own@t.example", 554,
	  "5.7.9 <own@t.example>: Recipient address rejected: own code" },
	/* DUNNO: go on to "permit" at the end of the list. */
	{ "dunno@t.example", 0, NULL },
	{ "n250@t.example", 451, "4.3.5 Server configuration error" },
	{ "n250t@t.example", 451, "4.3.5 Server configuration error" },
	{ "n600@t.example", 451, "4.3.5 Server configuration error" },
	{ "hold@t.example", 451, "4.3.5 Server configuration error" },
	{ "bogus@t.example", 451, "4.3.5 Server configuration error" },
	/* Lookup order: full address, unextended, domain, parents, user@. */
	{ "full@ord.example", 0, NULL },
	{ "other@ord.example", 554,
	  "5.7.1 <other@ord.example>: Recipient address rejected: "
	  "Access denied" },
	{ "x@deep.sub.ord.example", 554,
	  "5.7.1 <x@deep.sub.ord.example>: Recipient address rejected: "
	  "Access denied" },
	{ "ext+tag@ord.example", 0, NULL },
	{ "lp@anywhere.example", 554,
	  "5.7.1 <lp@anywhere.example>: Recipient address rejected: "
	  "Access denied" },
	{ "lp+x@anywhere.example", 554,
	  "5.7.1 <lp+x@anywhere.example>: Recipient address rejected: "
	  "Access denied" },
	{ "x@dot.example", 0, NULL },
	{ "x@a.dot.example", 554,
	  "5.7.1 <x@a.dot.example>: Recipient address rejected: "
	  "Access denied" },
	{ "x@notord.example", 0, NULL },
};

START_TEST(test_access_actions)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok(access_cf);
	env_init(&env, INSIDE, NULL, "s@sender.example",
	    access_cases[_i].rcpt);
	expect(smtpd_check_rcpt(&env, &r), &r, access_cases[_i].code,
	    access_cases[_i].text, access_cases[_i].rcpt);
	if (access_cases[_i].code == 451)
		ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
		    "unsupported action"));
}
END_TEST

START_TEST(test_access_codes)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok("access_map_reject_code = 550\naccess_map_defer_code = 421\n"
	    "smtpd_recipient_restrictions = check_recipient_access "
	    "inline:{a@x.example=REJECT, b@x.example=DEFER}, "
	    "reject_unauth_destination\n");
	env_init(&env, INSIDE, NULL, "s@x.example", "a@x.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 550, "5.7.1 <a@x.example>: "
	    "Recipient address rejected: Access denied", "reject code");
	env.rcpt = "b@x.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 421, "4.7.1 <b@x.example>: "
	    "Recipient address rejected: Access denied", "defer code");
}
END_TEST

START_TEST(test_access_kinds)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok("smtpd_client_restrictions = check_client_access "
	    "inline:{203.0.113=REJECT, bad.example=REJECT, "
	    "2001:db8:1=REJECT, 198.51.100.7=OK}\n"
	    "smtpd_helo_restrictions = check_helo_access "
	    "inline:{evil.example=REJECT}\n"
	    "smtpd_sender_restrictions = check_sender_access "
	    "inline:{{<>=REJECT no bounces}, spam.example=DEFER}\n");
	env_init(&env, OUTSIDE, NULL, "s@sender.example",
	    "root@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<unknown[203.0.113.5]>: Client host rejected: Access denied",
	    "client net");
	env.client_addr = "198.51.100.9";
	env.client_name = "mail.host.bad.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<mail.host.bad.example[198.51.100.9]>: Client host rejected: "
	    "Access denied", "client name parent");
	/* The address is looked up before the name. */
	env.client_addr = "198.51.100.7";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "client ok");
	env.client_addr = "2001:db8:1:2::1";
	env.client_name = "unknown";
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<unknown[2001:db8:1:2::1]>: Client host rejected: "
	    "Access denied", "client v6 prefix");
	env.client_addr = "198.51.100.9";
	env.helo = "mx.EVIL.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<mx.EVIL.example>: Helo command rejected: Access denied",
	    "helo");
	env.helo = "good.example";
	env.sender = "";
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<>: Sender address rejected: no bounces", "null sender");
	env.sender = "x@spam.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 450, "4.7.1 "
	    "<x@spam.example>: Sender address rejected: Access denied",
	    "sender domain");
	env.sender = "x@ok.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "all pass");
}
END_TEST

START_TEST(test_delay_reject)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	/* Delayed: nothing before RCPT; then client first. */
	load_ok("smtpd_client_restrictions = reject\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname\n");
	env_init(&env, OUTSIDE, NULL, NULL, NULL);
	env.helo = "bad_name";
	expect(smtpd_check_connect(&env, &r), &r, 0, NULL, "connect");
	expect(smtpd_check_helo(&env, &r), &r, 0, NULL, "helo");
	env.sender = "s@sender.example";
	expect(smtpd_check_mail(&env, &r), &r, 0, NULL, "mail");
	env.rcpt = "a@remote.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<unknown[203.0.113.5]>: Client host rejected: Access denied",
	    "rcpt");
	smtpd_check_deinit();
	mail_conf_unload();

	/* Not delayed: each list at its own stage, not again at RCPT. */
	load_ok("smtpd_delay_reject = no\n"
	    "smtpd_client_restrictions = reject\n"
	    "smtpd_helo_restrictions = reject_invalid_helo_hostname\n"
	    "smtpd_sender_restrictions = reject_non_fqdn_sender\n");
	env_init(&env, OUTSIDE, NULL, NULL, NULL);
	env.helo = "bad_name";
	expect(smtpd_check_connect(&env, &r), &r, 554, "5.7.1 "
	    "<unknown[203.0.113.5]>: Client host rejected: Access denied",
	    "connect");
	expect(smtpd_check_helo(&env, &r), &r, 501,
	    "5.5.2 <bad_name>: Helo command rejected: Invalid name", "helo");
	env.sender = "s@host";
	expect(smtpd_check_mail(&env, &r), &r, 504, "5.5.2 <s@host>: "
	    "Sender address rejected: need fully-qualified address", "mail");
	env.rcpt = "root@ours.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "rcpt");
	smtpd_check_deinit();
	mail_conf_unload();

	/* A permit ends only its own list. */
	load_ok("smtpd_client_restrictions = permit\n"
	    "smtpd_sender_restrictions = reject\n");
	env_init(&env, INSIDE, NULL, "s@sender.example", "a@remote.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 554, "5.7.1 "
	    "<s@sender.example>: Sender address rejected: Access denied",
	    "sender after client permit");
	/* Restrictions that need data not given yet do not apply. */
	smtpd_check_deinit();
	mail_conf_unload();
	load_ok("smtpd_delay_reject = no\nsmtpd_client_restrictions = "
	    "reject_unlisted_recipient, reject_non_fqdn_sender, "
	    "reject_unauth_destination, check_recipient_access "
	    "inline:{x=REJECT}, reject_invalid_helo_hostname\n"
	    "smtpd_data_restrictions = reject_unlisted_recipient, reject\n");
	env_init(&env, OUTSIDE, NULL, NULL, NULL);
	env.helo = NULL;
	expect(smtpd_check_connect(&env, &r), &r, 0, NULL, "no data yet");
	expect(smtpd_check_data(&env, &r), &r, 554, "5.7.1 <DATA>: Data "
	    "command rejected: Access denied", "data");
}
END_TEST

START_TEST(test_unknown_sender_domain)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok("smtpd_sender_restrictions = reject_unknown_sender_domain\n");
	env_init(&env, OUTSIDE, NULL, "a@nx.example", "root@ours.example");
	ck_assert_int_eq(smtpd_check_rcpt(&env, &r), SMTPD_CHECK_PENDING);
	env.sender_domain_done = true;
	env.sender_domain_status = DNS_OK;
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "found");
	env.sender_domain_status = DNS_NOTFOUND;
	expect(smtpd_check_rcpt(&env, &r), &r, 450, "4.1.8 <a@nx.example>: "
	    "Sender address rejected: Domain not found", "notfound");
	env.sender_domain_status = DNS_TEMPFAIL;
	expect(smtpd_check_rcpt(&env, &r), &r, 450, "4.1.8 <a@nx.example>: "
	    "Sender address rejected: Domain not found", "tempfail");
	env.sender_domain_status = DNS_NOTFOUND;
	env.sender_domain_null_mx = true;
	expect(smtpd_check_rcpt(&env, &r), &r, 556, "5.7.27 "
	    "<a@nx.example>: Sender address rejected: Domain nx.example does "
	    "not accept mail (nullMX)", "null mx");
	/* No lookup for <>, our own domains and address literals. */
	env_init(&env, OUTSIDE, NULL, "", "root@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "null sender");
	env.sender = "x@ours.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "ours");
	env.sender = "x@virt.example";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "virtual");
	env.sender = "x@[192.0.2.1]";
	expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, "literal");
	env.sender = "x@relay.example";
	ck_assert_int_eq(smtpd_check_rcpt(&env, &r), SMTPD_CHECK_PENDING);
	smtpd_check_deinit();
	mail_conf_unload();

	load_ok("unknown_address_reject_code = 550\nsmtpd_delay_reject = no\n"
	    "smtpd_sender_restrictions = reject_unknown_sender_domain\n");
	env_init(&env, OUTSIDE, NULL, "a@nx.example", NULL);
	ck_assert_int_eq(smtpd_check_mail(&env, &r), SMTPD_CHECK_PENDING);
	env.sender_domain_done = true;
	env.sender_domain_status = DNS_NOTFOUND;
	expect(smtpd_check_mail(&env, &r), &r, 550, "5.1.8 <a@nx.example>: "
	    "Sender address rejected: Domain not found", "550");
	env.sender_domain_status = DNS_TEMPFAIL;
	expect(smtpd_check_mail(&env, &r), &r, 450, "4.1.8 <a@nx.example>: "
	    "Sender address rejected: Domain not found", "tempfail is 450");
}
END_TEST

struct login_case {
	const char	*sasl;
	const char	*sender;
	int		 code;
	const char	*text;
};

static const struct login_case login_nomaps[] = {
	{ "alice", "alice@ours.example", 0, NULL },
	{ "alice", "ALICE@Ours.Example", 0, NULL },
	{ "alice", "alice+lists@ours.example", 0, NULL },
	{ "alice", "alice@localhost", 0, NULL },
	{ "alice", "alice@virt.example", 0, NULL },
	{ "alice", "", 0, NULL },
	{ "alice", "bob@ours.example", 553, "5.7.1 <bob@ours.example>: "
	  "Sender address rejected: not owned by user alice" },
	{ "alice", "alice@remote.example", 553, "5.7.1 "
	  "<alice@remote.example>: Sender address rejected: not owned by "
	  "user alice" },
	{ "alice", "alice@relay.example", 553, "5.7.1 "
	  "<alice@relay.example>: Sender address rejected: not owned by "
	  "user alice" },
	{ "alice", "alicex@ours.example", 553, "5.7.1 "
	  "<alicex@ours.example>: Sender address rejected: not owned by "
	  "user alice" },
	{ "alice", "alice%remote.example@ours.example", 553, "5.7.1 "
	  "<alice%remote.example@ours.example>: Sender address rejected: "
	  "not owned by user alice" },
	{ "carol@virt.example", "carol@virt.example", 0, NULL },
	{ "carol@virt.example", "Carol@VIRT.example", 0, NULL },
	{ "carol@virt.example", "carol@ours.example", 553, "5.7.1 "
	  "<carol@ours.example>: Sender address rejected: not owned by "
	  "user carol@virt.example" },
	{ "carol@virt.example", "carol@virt.example.evil", 553, "5.7.1 "
	  "<carol@virt.example.evil>: Sender address rejected: not owned by "
	  "user carol@virt.example" },
	/* Unauthenticated: with no maps nothing is listed. */
	{ NULL, "bob@ours.example", 0, NULL },
};

START_TEST(test_login_nomaps)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	const struct login_case *c = &login_nomaps[_i];

	load_ok("smtpd_sender_restrictions = reject_sender_login_mismatch\n");
	env_init(&env, OUTSIDE, c->sasl, c->sender, "root@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, c->code, c->text, c->sender);
}
END_TEST

static const struct login_case login_maps[] = {
	{ "alice", "alice@ours.example", 0, NULL },
	{ "ALICE", "alice@ours.example", 0, NULL },
	{ "bob", "shared@ours.example", 0, NULL },
	{ "alice", "shared@ours.example", 0, NULL },
	{ "bob", "anyone@team.example", 0, NULL },
	{ "bob", "alice@ours.example", 553, "5.7.1 <alice@ours.example>: "
	  "Sender address rejected: not owned by user bob" },
	{ "alice", "unlisted@ours.example", 553, "5.7.1 "
	  "<unlisted@ours.example>: Sender address rejected: not owned by "
	  "user alice" },
	{ "alice", "anyone@team.example", 553, "5.7.1 "
	  "<anyone@team.example>: Sender address rejected: not owned by "
	  "user alice" },
	{ "alice", "", 0, NULL },
	{ NULL, "alice@ours.example", 553, "5.7.1 <alice@ours.example>: "
	  "Sender address rejected: not logged in" },
	{ NULL, "x@team.example", 553, "5.7.1 <x@team.example>: "
	  "Sender address rejected: not logged in" },
	{ NULL, "free@remote.example", 0, NULL },
	{ NULL, "", 0, NULL },
};

START_TEST(test_login_maps)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	const struct login_case *c = &login_maps[_i];

	load_ok("smtpd_sender_restrictions = reject_sender_login_mismatch\n"
	    "smtpd_sender_login_maps = inline:{alice@ours.example=alice, "
	    "{shared@ours.example=alice bob}, @team.example=bob}\n");
	env_init(&env, OUTSIDE, c->sasl, c->sender, "root@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, c->code, c->text, c->sender);
}
END_TEST

struct helo_case {
	const char	*helo;
	int		 invalid_code;	/* reject_invalid_helo_hostname */
	int		 fqdn_code;	/* reject_non_fqdn_helo_hostname */
};

static const struct helo_case helo_cases[] = {
	{ "mx.example.com", 0, 0 },
	{ "mx.example.com.", 0, 0 },
	{ "MX.Example.COM", 0, 0 },
	{ "localhost", 0, 504 },
	{ "[192.0.2.1]", 0, 0 },
	{ "[IPv6:2001:db8::1]", 0, 0 },
	{ "192.0.2.1", 0, 504 },
	{ "[300.1.1.1]", 501, 504 },
	{ "[192.0.2.1", 501, 504 },
	{ "bad_name.example", 501, 504 },
	{ "-x.example", 501, 504 },
	{ "x..example", 501, 504 },
	{ "mx.example.com..", 501, 504 },
	{ "", 501, 504 },
	{ ".", 501, 504 },
	{ "a b.example", 501, 504 },
	{ "caf\xc3\xa9.example", 501, 504 },
	{ "x\r\n.example", 501, 504 },
	{ "123.456", 501, 504 },
};

START_TEST(test_helo)
{
	const struct helo_case *c = &helo_cases[_i];
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	enum smtpd_check_result got;

	load_ok("smtpd_delay_reject = no\nsmtpd_helo_restrictions = "
	    "reject_invalid_helo_hostname\n");
	env_init(&env, OUTSIDE, NULL, NULL, NULL);
	env.helo = c->helo;
	got = smtpd_check_helo(&env, &r);
	ck_assert_msg((got == SMTPD_CHECK_PASS) == (c->invalid_code == 0),
	    "invalid \"%s\": got %d %s", c->helo, (int)got, r.text);
	if (c->invalid_code != 0) {
		ck_assert_int_eq(r.code, 501);
		ck_assert_msg(str_has_prefix(r.text, "5.5.2 <") &&
		    strstr(r.text, ">: Helo command rejected: Invalid name") !=
		    NULL, "%s", r.text);
		ck_assert(strchr(r.text, '\r') == NULL &&
		    strchr(r.text, '\n') == NULL);
	}
	smtpd_check_deinit();
	mail_conf_unload();
	load_ok("smtpd_delay_reject = no\nsmtpd_helo_restrictions = "
	    "reject_non_fqdn_helo_hostname\n");
	got = smtpd_check_helo(&env, &r);
	ck_assert_msg((got == SMTPD_CHECK_PASS) == (c->fqdn_code == 0),
	    "fqdn \"%s\": got %d %s", c->helo, (int)got, r.text);
	if (c->fqdn_code != 0) {
		ck_assert_int_eq(r.code, 504);
		ck_assert_msg(strstr(r.text, ">: Helo command rejected: need "
		    "fully-qualified hostname") != NULL, "%s", r.text);
	}
}
END_TEST

START_TEST(test_helo_text)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	load_ok("smtpd_delay_reject = no\nsmtpd_helo_restrictions = "
	    "reject_non_fqdn_helo_hostname\n");
	env_init(&env, OUTSIDE, NULL, NULL, NULL);
	env.helo = "localhost";
	expect(smtpd_check_helo(&env, &r), &r, 504, "5.5.2 <localhost>: Helo "
	    "command rejected: need fully-qualified hostname", "text");
}
END_TEST

static const struct rcpt_case fqdn_cases[] = {
	{ OUTSIDE, NULL, "a@remote.example", 0, NULL },
	{ OUTSIDE, NULL, "a@remote.example.", 0, NULL },
	{ OUTSIDE, NULL, "a@[192.0.2.1]", 0, NULL },
	{ OUTSIDE, NULL, "postmaster", 0, NULL },
	{ OUTSIDE, NULL, "a@host", 504, "5.5.2 <a@host>: Recipient address "
	  "rejected: need fully-qualified address" },
	{ OUTSIDE, NULL, "a", 504, "5.5.2 <a>: Recipient address "
	  "rejected: need fully-qualified address" },
	{ OUTSIDE, NULL, "a@remote..example", 504, "5.5.2 "
	  "<a@remote..example>: Recipient address rejected: need "
	  "fully-qualified address" },
	{ OUTSIDE, NULL, "a@123.456", 504, "5.5.2 <a@123.456>: Recipient "
	  "address rejected: need fully-qualified address" },
};

START_TEST(test_non_fqdn)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	const struct rcpt_case *c = &fqdn_cases[_i];

	load_ok("smtpd_relay_restrictions = reject_non_fqdn_recipient, "
	    "permit\nsmtpd_recipient_restrictions = reject\n"
	    "smtpd_sender_restrictions = reject_non_fqdn_sender\n");
	env_init(&env, OUTSIDE, NULL, "s@sender.example", c->rcpt);
	if (c->code != 0) {
		expect(smtpd_check_rcpt(&env, &r), &r, c->code, c->text,
		    c->rcpt);
	} else if (!str_eq(c->rcpt, "postmaster")) {
		/* Past the relay list, the recipient list rejects. */
		ck_assert_int_eq(smtpd_check_rcpt(&env, &r),
		    SMTPD_CHECK_REJECT);
		ck_assert_msg(strstr(r.text, "Access denied") != NULL, "%s",
		    r.text);
	} else {
		expect(smtpd_check_rcpt(&env, &r), &r, 0, NULL, c->rcpt);
	}
	/* The same domain as a sender. */
	env.sender = c->rcpt;
	env.rcpt = "root@ours.example";
	if (c->code != 0 && !str_eq(c->rcpt, "postmaster")) {
		ck_assert_int_eq(smtpd_check_rcpt(&env, &r),
		    SMTPD_CHECK_REJECT);
		ck_assert_msg(strstr(r.text, "Sender address rejected: need "
		    "fully-qualified address") != NULL, "%s", r.text);
	}
}
END_TEST

static const char *const bad_configs[] = {
	"smtpd_recipient_restrictions = reject_everything\n",
	"smtpd_client_restrictions = check_client_access\n",
	"smtpd_client_restrictions = check_client_access permit\n",
	"smtpd_client_restrictions = check_client_access nosuch:table\n",
	"smtpd_client_restrictions = check_client_access inline:{broken\n",
	"smtpd_helo_restrictions = texthash:/nonexistent/tern-access\n",
	"smtpd_data_restrictions = inline:{a=b}\n",
	"smtpd_relay_restrictions = permit_mynetworks\n",
	"smtpd_relay_restrictions = permit_mynetworks, permit\n",
	"smtpd_relay_restrictions =\n",
	"mynetworks = 192.0.2.0/33\n",
	"mynetworks = 192.0.2.1/24\n",
	"smtpd_client_event_limit_exceptions = garbage\n",
	"mydestination = .ours.example\n",
	"mydestination = inline:{ours.example=x}\n",
	"virtual_mailbox_domains = virt..example\n",
	"relay_domains = bad_domain!\n",
	"local_recipient_maps = texthash:/nonexistent/tern-local\n",
	"smtpd_sender_login_maps = nosuch:table\n",
};

START_TEST(test_config_error)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	static const char *const want = "4.3.5 Server configuration error";

	ck_assert_int_eq(load(bad_configs[_i]), -1);
	ck_assert_msg(strstr(buf_cstr(&logged), "451 4.3.5") != NULL,
	    "not logged: %s", buf_cstr(&logged));
	env_init(&env, INSIDE, "alice", "root@ours.example",
	    "root@ours.example");
	expect(smtpd_check_connect(&env, &r), &r, 451, want, "connect");
	expect(smtpd_check_helo(&env, &r), &r, 451, want, "helo");
	expect(smtpd_check_mail(&env, &r), &r, 451, want, "mail");
	expect(smtpd_check_rcpt(&env, &r), &r, 451, want, "rcpt");
	expect(smtpd_check_data(&env, &r), &r, 451, want, "data");
	ck_assert_int_eq(smtpd_check_rcpt_known("root@ours.example"), -1);
	ck_assert(!smtpd_check_limits_exempt(INSIDE));
}
END_TEST

START_TEST(test_not_initialized)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;

	env_init(&env, INSIDE, NULL, "", "root@ours.example");
	expect(smtpd_check_rcpt(&env, &r), &r, 451,
	    "4.3.5 Server configuration error", "uninitialized");
	ck_assert_int_eq(smtpd_check_rcpt_known("root@ours.example"), -1);
}
END_TEST

static const struct {
	const char	*rcpt;
	int		 want;
} known_cases[] = {
	{ "root@ours.example", 1 },
	{ "Root@OURS.EXAMPLE", 1 },
	{ "root+ext@ours.example", 1 },
	{ "root", 1 },
	{ "root@localhost", 1 },
	{ "nobody@ours.example", 0 },
	{ "nobody", 0 },
	{ "root%remote.example@ours.example", 0 },
	{ "remote.example!root@ours.example", 0 },
	{ "root@remote.example@ours.example", 0 },
	{ "v@virt.example", 1 },
	{ "v+x@virt.example", 1 },
	{ "w@virt.example", 0 },
	{ "r@relay.example", 1 },
	{ "s@relay.example", 0 },
	{ "anyone@a.sub.relay.example", 1 },
	{ "anyone@remote.example", 1 },
	{ "root@[127.0.0.1]", 1 },
};

START_TEST(test_rcpt_known)
{
	load_ok("");
	ck_assert_msg(smtpd_check_rcpt_known(known_cases[_i].rcpt) ==
	    known_cases[_i].want, "%s: want %d", known_cases[_i].rcpt,
	    known_cases[_i].want);
}
END_TEST

START_TEST(test_rcpt_known_passwd)
{
	load_ok("local_recipient_maps = unix:passwd.byname\n");
	ck_assert_int_eq(smtpd_check_rcpt_known("root@ours.example"), 1);
	ck_assert_int_eq(smtpd_check_rcpt_known("ROOT@ours.example"), 1);
	ck_assert_int_eq(smtpd_check_rcpt_known(
	    "no-such-user-tern-test@ours.example"), 0);
	ck_assert_int_eq(smtpd_check_rcpt_known("root%x@ours.example"), 0);
}
END_TEST

START_TEST(test_limits_exempt)
{
	load_ok("");
	ck_assert(smtpd_check_limits_exempt("192.0.2.9"));
	ck_assert(smtpd_check_limits_exempt("127.0.0.1"));
	ck_assert(smtpd_check_limits_exempt("::1"));
	ck_assert(!smtpd_check_limits_exempt(OUTSIDE));
	ck_assert(!smtpd_check_limits_exempt("unix"));
	ck_assert(!smtpd_check_limits_exempt(""));
	smtpd_check_deinit();
	mail_conf_unload();
	load_ok("smtpd_client_event_limit_exceptions = !192.0.2.9, "
	    "192.0.2.0/24\n");
	ck_assert(!smtpd_check_limits_exempt("192.0.2.9"));
	ck_assert(smtpd_check_limits_exempt("192.0.2.10"));
}
END_TEST

/* Hostile recipients and names never crash and never relay. */
START_TEST(test_hostile)
{
	struct smtpd_check_env env;
	struct smtpd_check_reply r;
	char *big = xmalloc(5000);
	static const char *const odd[] = {
		"@", "@@", "@@@ours.example", "\"@ours.example",
		"a\r\nRCPT TO:<b@remote.example>@ours.example",
		"a@ours.example\r\n", "caf\xc3\xa9@remote.example",
		"\xff\xfe@remote.example", "a@\xc3\xa9.example",
	};

	load_ok("smtpd_relay_restrictions = reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = check_recipient_access "
	    "inline:{x=OK}\nsmtpd_client_restrictions = check_client_access "
	    "inline:{x=OK}\n");
	memset(big, 'a', 4999);
	big[4999] = '\0';
	big[2000] = '@';
	env_init(&env, OUTSIDE, NULL, "s@sender.example", big);
	ck_assert_int_eq(smtpd_check_rcpt(&env, &r), SMTPD_CHECK_REJECT);
	ck_assert(strlen(r.text) < sizeof(r.text));
	env.client_name = big;
	env.client_addr = big;
	ck_assert_int_eq(smtpd_check_rcpt(&env, &r), SMTPD_CHECK_REJECT);
	for (size_t i = 0; i < ARRAY_LEN(odd); i++) {
		env_init(&env, OUTSIDE, NULL, "s@sender.example", odd[i]);
		ck_assert_msg(smtpd_check_rcpt(&env, &r) ==
		    SMTPD_CHECK_REJECT, "%zu passed", i);
		ck_assert(strchr(r.text, '\r') == NULL &&
		    strchr(r.text, '\n') == NULL);
	}
	free(big);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtpd_check");
	TCase *tc = tcase_create("smtpd_check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_default_policy, 0,
	    ARRAY_LEN(default_cases));
	tcase_add_loop_test(tc, test_open_relay, 0, ARRAY_LEN(relay_cases));
	tcase_add_test(tc, test_open_relay_any_user);
	tcase_add_loop_test(tc, test_access_actions, 0,
	    ARRAY_LEN(access_cases));
	tcase_add_test(tc, test_access_codes);
	tcase_add_test(tc, test_access_kinds);
	tcase_add_test(tc, test_delay_reject);
	tcase_add_test(tc, test_unknown_sender_domain);
	tcase_add_loop_test(tc, test_login_nomaps, 0,
	    ARRAY_LEN(login_nomaps));
	tcase_add_loop_test(tc, test_login_maps, 0, ARRAY_LEN(login_maps));
	tcase_add_loop_test(tc, test_helo, 0, ARRAY_LEN(helo_cases));
	tcase_add_test(tc, test_helo_text);
	tcase_add_loop_test(tc, test_non_fqdn, 0, ARRAY_LEN(fqdn_cases));
	tcase_add_loop_test(tc, test_config_error, 0,
	    ARRAY_LEN(bad_configs));
	tcase_add_test(tc, test_not_initialized);
	tcase_add_loop_test(tc, test_rcpt_known, 0, ARRAY_LEN(known_cases));
	tcase_add_test(tc, test_rcpt_known_passwd);
	tcase_add_test(tc, test_limits_exempt);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
