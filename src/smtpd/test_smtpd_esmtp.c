/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for smtpd_esmtp.c: tables of MAIL FROM and RCPT TO
 * parameter strings, legal and hostile (overlong values, NUL, non-ASCII,
 * numbers that overflow, bad xtext, duplicates, empty keywords, tabs),
 * each with the reply code and the values it must produce, and with
 * what the session offers (EHLO, DSN, AUTH, TLS, SMTPUTF8).
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd_esmtp.h"
#include "test_main.h"

#define EHLO	SMTPD_ESMTP_EHLO
#define DSN	(SMTPD_ESMTP_EHLO | SMTPD_ESMTP_DSN)
#define ALL	(SMTPD_ESMTP_EHLO | SMTPD_ESMTP_DSN | SMTPD_ESMTP_AUTH | \
		 SMTPD_ESMTP_TLS | SMTPD_ESMTP_SMTPUTF8)
#define NOTLS	(ALL & ~SMTPD_ESMTP_TLS)
#define NOUTF8	(ALL & ~SMTPD_ESMTP_SMTPUTF8)
#define NOAUTH	(ALL & ~SMTPD_ESMTP_AUTH)

#define S(lit)	lit, sizeof(lit) - 1

/* reply: NULL for success, else the prefix the reply must start with. */
static const struct {
	const char	*in;
	size_t		 len;
	unsigned	 flags;
	long long	 limit;
	const char	*reply;
	long long	 size;
	enum smtpd_body	 body;
	bool		 utf8, requiretls;
	const char	*ret, *envid, *auth;
} mail_cases[] = {
	{ S(""), ALL, 0, NULL, -1, 0, false, false, "", NULL, NULL },
	{ S("   "), ALL, 0, NULL, -1, 0, false, false, "", NULL, NULL },
	{ S(""), 0, 0, NULL, -1, 0, false, false, "", NULL, NULL },
	/* SIZE (RFC 1870). */
	{ S("SIZE=1000"), EHLO, 0, NULL, 1000, 0, false, false, "", NULL,
	    NULL },
	{ S("size=0"), EHLO, 10, NULL, 0, 0, false, false, "", NULL, NULL },
	{ S("SIZE=1000"), EHLO, 1000, NULL, 1000, 0, false, false, "", NULL,
	    NULL },
	{ S("SIZE=1001"), EHLO, 1000, "552 5.3.4 Message size exceeds "
	    "fixed limit", 0, 0, false, false, NULL, NULL, NULL },
	{ S("SIZE=9223372036854775807"), EHLO, 0, NULL, LLONG_MAX, 0, false,
	    false, "", NULL, NULL },
	{ S("SIZE=9223372036854775808"), EHLO, 0, "552 5.3.4", 0, 0, false,
	    false, NULL, NULL, NULL },
	{ S("SIZE=99999999999999999999"), EHLO, 0, "552 5.3.4", 0, 0, false,
	    false, NULL, NULL, NULL },
	{ S("SIZE=99999999999999999999999"), EHLO, 0, "501 5.5.4", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("SIZE=-1"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("SIZE=+1"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("SIZE="), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE=1x"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE=1 SIZE=2"), EHLO, 0, "501 5.5.4 Duplicate SIZE", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("SIZE=1 size=1"), EHLO, 0, "501 5.5.4 Duplicate", 0, 0, false,
	    false, NULL, NULL, NULL },
	/* White space: SP separates, leading/trailing SP is tolerated. */
	{ S("  SIZE=5   BODY=8BITMIME  "), EHLO, 0, NULL, 5,
	    SMTPD_BODY_8BITMIME, false, false, "", NULL, NULL },
	{ S("SIZE=5\tBODY=8BITMIME"), EHLO, 0, "501 5.5.4", 0, 0, false,
	    false, NULL, NULL, NULL },
	{ S("\tSIZE=5"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("SIZE=5\r\n"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	/* BODY (RFC 6152). */
	{ S("BODY=7BIT"), EHLO, 0, NULL, -1, SMTPD_BODY_7BIT, false, false,
	    "", NULL, NULL },
	{ S("body=8bitmime"), EHLO, 0, NULL, -1, SMTPD_BODY_8BITMIME, false,
	    false, "", NULL, NULL },
	{ S("BODY=BINARYMIME"), EHLO, 0, "555 5.5.4", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("BODY=9BIT"), EHLO, 0, "501 5.5.4 Bad BODY", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("BODY"), EHLO, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("BODY=7BIT BODY=8BITMIME"), EHLO, 0, "501 5.5.4 Duplicate", 0, 0,
	    false, false, NULL, NULL, NULL },
	/* SMTPUTF8 (RFC 6531). */
	{ S("SMTPUTF8"), ALL, 0, NULL, -1, 0, true, false, "", NULL, NULL },
	{ S("smtputf8 BODY=8BITMIME"), ALL, 0, NULL, -1, SMTPD_BODY_8BITMIME,
	    true, false, "", NULL, NULL },
	{ S("SMTPUTF8"), NOUTF8, 0, "555 5.5.4 Unsupported option: SMTPUTF8",
	    0, 0, false, false, NULL, NULL, NULL },
	{ S("SMTPUTF8=yes"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("SMTPUTF8 SMTPUTF8"), ALL, 0, "501 5.5.4 Duplicate", 0, 0, false,
	    false, NULL, NULL, NULL },
	/* REQUIRETLS (RFC 8689). */
	{ S("REQUIRETLS"), ALL, 0, NULL, -1, 0, false, true, "", NULL, NULL },
	{ S("REQUIRETLS"), NOTLS, 0, "530 5.7.10", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("REQUIRETLS=YES"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("REQUIRETLS REQUIRETLS"), ALL, 0, "501 5.5.4 Duplicate", 0, 0,
	    false, false, NULL, NULL, NULL },
	/* RET and ENVID (RFC 3461 §4.3, §4.4). */
	{ S("RET=FULL"), DSN, 0, NULL, -1, 0, false, false, "FULL", NULL,
	    NULL },
	{ S("ret=hdrs"), DSN, 0, NULL, -1, 0, false, false, "HDRS", NULL,
	    NULL },
	{ S("RET=NONE"), DSN, 0, "501 5.5.4 Bad RET", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("RET=FULLX"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("RET=FULL"), EHLO, 0, "555 5.5.4 Unsupported option: RET", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("RET=FULL RET=HDRS"), DSN, 0, "501 5.5.4 Duplicate", 0, 0, false,
	    false, NULL, NULL, NULL },
	{ S("ENVID=QQ314159"), DSN, 0, NULL, -1, 0, false, false, "",
	    "QQ314159", NULL },
	{ S("ENVID=a+2Bb+3D"), DSN, 0, NULL, -1, 0, false, false, "",
	    "a+2Bb+3D", NULL },
	{ S("ENVID=a+20b"), DSN, 0, NULL, -1, 0, false, false, "", "a+20b",
	    NULL },
	{ S("ENVID=x"), EHLO, 0, "555 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("ENVID=+4"), DSN, 0, "501 5.5.4 Bad ENVID", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("ENVID=a+"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("ENVID=+zz"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ENVID=+2b"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ENVID=a+0D+0AX-Injected:+20yes"), DSN, 0, "501 5.5.4", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("ENVID=+00"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ENVID=+7F"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ENVID=a=b"), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ENVID="), DSN, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("ENVID=a ENVID=b"), DSN, 0, "501 5.5.4 Duplicate", 0, 0, false,
	    false, NULL, NULL, NULL },
	{ S("ENVID=\xc3\xa9"), NOUTF8, 0, "501 5.5.4", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("ENVID=\xc3\xa9"), ALL, 0, "501 5.5.4 Bad ENVID", 0, 0, false,
	    false, NULL, NULL, NULL },
	/* AUTH (RFC 4954 §5). */
	{ S("AUTH=<>"), ALL, 0, NULL, -1, 0, false, false, "", NULL, "<>" },
	{ S("AUTH=user+40example.com"), ALL, 0, NULL, -1, 0, false, false,
	    "", NULL, "user+40example.com" },
	{ S("AUTH=<>"), NOAUTH, 0, "555 5.5.4 Unsupported option: AUTH", 0,
	    0, false, false, NULL, NULL, NULL },
	{ S("AUTH="), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("AUTH"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("AUTH=+zz"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("AUTH=a+0Ab"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("AUTH=<> AUTH=<>"), ALL, 0, "501 5.5.4 Duplicate", 0, 0, false,
	    false, NULL, NULL, NULL },
	/* Everything at once. */
	{ S("SIZE=42 BODY=8BITMIME SMTPUTF8 REQUIRETLS RET=HDRS "
	    "ENVID=id+2B1 AUTH=<>"), ALL, 100, NULL, 42, SMTPD_BODY_8BITMIME,
	    true, true, "HDRS", "id+2B1", "<>" },
	/* One bad parameter after good ones: nothing is kept. */
	{ S("SIZE=42 ENVID=x AUTH=<> FOO"), ALL, 0, "555 5.5.4 Unsupported "
	    "option: FOO", 0, 0, false, false, NULL, NULL, NULL },
	/* Unknown keywords, HELO, generic syntax. */
	{ S("FOO=bar"), ALL, 0, "555 5.5.4 Unsupported option: FOO", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("X-FOO"), ALL, 0, "555 5.5.4 Unsupported option: X-FOO", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("NOTIFY=NEVER"), ALL, 0, "555 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("ORCPT=rfc822;a"), ALL, 0, "555 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("SIZE=10"), 0, 0, "555 5.5.4 Unsupported option: SIZE", 0, 0,
	    false, false, NULL, NULL, NULL },
	{ S("BODY=8BITMIME"), SMTPD_ESMTP_DSN | SMTPD_ESMTP_SMTPUTF8, 0,
	    "555 5.5.4", 0, 0, false, false, NULL, NULL, NULL },
	{ S("=x"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("="), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL, NULL },
	{ S("-SIZE=1"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SI_ZE=1"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE==1"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE=1\0"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("SIZE=1 \0BODY=7BIT"), ALL, 0, "501 5.5.4", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("\0"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("F\xc3\xa9=1"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	/* UTF-8 values: only with SMTPUTF8 offered, only well-formed. */
	{ S("FOO=\xc3\xa9"), ALL, 0, "555 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("FOO=\xc3\xa9"), NOUTF8, 0, "501 5.5.4", 0, 0, false, false,
	    NULL, NULL, NULL },
	{ S("FOO=\xff"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("FOO=\xc3"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL, NULL,
	    NULL },
	{ S("FOO=\xc0\xaf"), ALL, 0, "501 5.5.4", 0, 0, false, false, NULL,
	    NULL, NULL },
	{ S("FOO=\xed\xa0\x80"), ALL, 0, "501 5.5.4", 0, 0, false, false,
	    NULL, NULL, NULL },
};

static void
check_reply(const char *reply, const char *want)
{
	ck_assert_msg(strncmp(reply, want, strlen(want)) == 0,
	    "reply \"%s\", want \"%s...\"", reply, want);
	ck_assert_uint_lt(strlen(reply), SMTPD_ESMTP_REPLY_MAX);
	ck_assert_ptr_null(strpbrk(reply, "\r\n"));
}

START_TEST(test_mail)
{
	char reply[SMTPD_ESMTP_REPLY_MAX];
	struct smtpd_mail_params p;
	int rc;

	rc = smtpd_esmtp_mail(mail_cases[_i].in, mail_cases[_i].len,
	    mail_cases[_i].flags, mail_cases[_i].limit, &p, reply);
	if (mail_cases[_i].reply != NULL) {
		ck_assert_int_eq(rc, -1);
		check_reply(reply, mail_cases[_i].reply);
		/* Failure leaves the struct empty. */
		ck_assert_int_eq(p.size, -1);
		ck_assert_ptr_null(p.envid);
		ck_assert_ptr_null(p.auth);
		ck_assert(!p.smtputf8 && !p.requiretls);
		ck_assert_str_eq(p.ret, "");
		return;
	}
	ck_assert_msg(rc == 0, "rc %d reply \"%s\"", rc, reply);
	ck_assert_int_eq(p.size, mail_cases[_i].size);
	ck_assert_int_eq(p.body, mail_cases[_i].body);
	ck_assert(p.smtputf8 == mail_cases[_i].utf8);
	ck_assert(p.requiretls == mail_cases[_i].requiretls);
	ck_assert_str_eq(p.ret, mail_cases[_i].ret);
	ck_assert_pstr_eq(p.envid, mail_cases[_i].envid);
	ck_assert_pstr_eq(p.auth, mail_cases[_i].auth);
	smtpd_mail_params_deinit(&p);
	ck_assert_ptr_null(p.envid);
	ck_assert_ptr_null(p.auth);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;
	unsigned	 flags;
	const char	*reply;
	const char	*notify, *orcpt;
} rcpt_cases[] = {
	{ S(""), DSN, NULL, NULL, NULL },
	{ S(""), 0, NULL, NULL, NULL },
	/* NOTIFY (RFC 3461 §4.1). */
	{ S("NOTIFY=NEVER"), DSN, NULL, "NEVER", NULL },
	{ S("notify=never"), DSN, NULL, "NEVER", NULL },
	{ S("NOTIFY=SUCCESS"), DSN, NULL, "SUCCESS", NULL },
	{ S("NOTIFY=success,Failure,DELAY"), DSN, NULL,
	    "SUCCESS,FAILURE,DELAY", NULL },
	{ S("NOTIFY=DELAY,SUCCESS"), DSN, NULL, "DELAY,SUCCESS", NULL },
	{ S("NOTIFY=NEVER,SUCCESS"), DSN, "501 5.5.4 Bad NOTIFY", NULL,
	    NULL },
	{ S("NOTIFY=SUCCESS,NEVER"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=NEVER,NEVER"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCESS,SUCCESS"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCESS,"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=,SUCCESS"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCESS,,FAILURE"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCESS;FAILURE"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCES"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=SUCCESSX"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY="), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY"), DSN, "501 5.5.4", NULL, NULL },
	{ S("NOTIFY=NEVER"), EHLO, "555 5.5.4 Unsupported option: NOTIFY",
	    NULL, NULL },
	{ S("NOTIFY=NEVER NOTIFY=NEVER"), DSN, "501 5.5.4 Duplicate", NULL,
	    NULL },
	/* ORCPT (RFC 3461 §4.2). */
	{ S("ORCPT=rfc822;user+40example.com"), DSN, NULL, NULL,
	    "rfc822;user+40example.com" },
	{ S("ORCPT=RFC822;a@b"), DSN, NULL, NULL, "RFC822;a@b" },
	{ S("ORCPT=x-local;+2Bx"), DSN, NULL, NULL, "x-local;+2Bx" },
	{ S("NOTIFY=FAILURE ORCPT=rfc822;a@b"), DSN, NULL, "FAILURE",
	    "rfc822;a@b" },
	{ S("ORCPT=rfc822;"), DSN, "501 5.5.4 Bad ORCPT", NULL, NULL },
	{ S("ORCPT=;a@b"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT="), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rf(c;a"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;+4"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a+zz"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a+2b"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a+0D+0Ab"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a;b"), DSN, NULL, NULL, "rfc822;a;b" },
	{ S("ORCPT=rfc822;a=b"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a\tb"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;\xc3\xa9"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=rfc822;a ORCPT=rfc822;b"), DSN, "501 5.5.4 Duplicate",
	    NULL, NULL },
	{ S("ORCPT=rfc822;a"), EHLO, "555 5.5.4", NULL, NULL },
	/* RFC 6533 utf-8-addr-xtext. */
	{ S("ORCPT=utf-8;j\\x{E9}r\\x{F4}me@example.com"), DSN, NULL, NULL,
	    "utf-8;j\\x{E9}r\\x{F4}me@example.com" },
	{ S("ORCPT=UTF-8;a\\x{2B}b\\x{3D}c\\x{20}d\\x{1F600}"), DSN, NULL,
	    NULL, "UTF-8;a\\x{2B}b\\x{3D}c\\x{20}d\\x{1F600}" },
	{ S("ORCPT=utf-8;a\\x{5C}b\\x{10FFFF}"), DSN, NULL, NULL,
	    "utf-8;a\\x{5C}b\\x{10FFFF}" },
	{ S("ORCPT=utf-8;a+2Bb"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{41}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{0041}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{e9}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{D800}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{110000}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{1000000}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{00}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{}"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\x{E9"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\xE9"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;a\\"), DSN, "501 5.5.4", NULL, NULL },
	{ S("ORCPT=utf-8;j\xc3\xa9r\xc3\xb4me@example.com"),
	    DSN | SMTPD_ESMTP_SMTPUTF8, "501 5.5.4 ORCPT utf-8-addr-unitext",
	    NULL, NULL },
	{ S("ORCPT=utf-8;j\xc3\xa9r\xc3\xb4me@example.com"), DSN,
	    "501 5.5.4 Syntax", NULL, NULL },
	/* MAIL parameters and unknown ones. */
	{ S("SIZE=1"), ALL, "555 5.5.4 Unsupported option: SIZE", NULL,
	    NULL },
	{ S("RET=FULL"), ALL, "555 5.5.4", NULL, NULL },
	{ S("NOTIFY=NEVER"), 0, "555 5.5.4", NULL, NULL },
	{ S("NOTIFY=NEVER FOO"), DSN, "555 5.5.4 Unsupported option: FOO",
	    NULL, NULL },
	{ S("NOTIFY=NEVER\0"), DSN, "501 5.5.4", NULL, NULL },
	{ S(" NOTIFY=NEVER  ORCPT=rfc822;x "), DSN, NULL, "NEVER",
	    "rfc822;x" },
	{ S("NOTIFY=NEVER\tORCPT=rfc822;x"), DSN, "501 5.5.4", NULL, NULL },
};

START_TEST(test_rcpt)
{
	char reply[SMTPD_ESMTP_REPLY_MAX];
	struct smtpd_rcpt_params p;
	int rc;

	rc = smtpd_esmtp_rcpt(rcpt_cases[_i].in, rcpt_cases[_i].len,
	    rcpt_cases[_i].flags, &p, reply);
	if (rcpt_cases[_i].reply != NULL) {
		ck_assert_int_eq(rc, -1);
		check_reply(reply, rcpt_cases[_i].reply);
		ck_assert_ptr_null(p.notify);
		ck_assert_ptr_null(p.orcpt);
		return;
	}
	ck_assert_msg(rc == 0, "rc %d reply \"%s\"", rc, reply);
	ck_assert_pstr_eq(p.notify, rcpt_cases[_i].notify);
	ck_assert_pstr_eq(p.orcpt, rcpt_cases[_i].orcpt);
	smtpd_rcpt_params_deinit(&p);
	ck_assert_ptr_null(p.notify);
	ck_assert_ptr_null(p.orcpt);
}
END_TEST

/* Builds keyword "=" and n copies of c, with an optional prefix. */
static char *
long_param(const char *head, char c, size_t n, size_t *len_r)
{
	size_t h = strlen(head);
	char *s = malloc(h + n + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, head, h);
	memset(s + h, c, n);
	s[h + n] = '\0';
	*len_r = h + n;
	return s;
}

/* Length limits: ENVID 100, ORCPT 500; huge keywords and values. */
START_TEST(test_lengths)
{
	char reply[SMTPD_ESMTP_REPLY_MAX];
	struct smtpd_mail_params mp;
	struct smtpd_rcpt_params rp;
	size_t len;
	char *s;

	s = long_param("ENVID=", 'a', 100, &len);
	ck_assert_int_eq(smtpd_esmtp_mail(s, len, DSN, 0, &mp, reply), 0);
	ck_assert_uint_eq(strlen(mp.envid), 100);
	smtpd_mail_params_deinit(&mp);
	free(s);
	s = long_param("ENVID=", 'a', 101, &len);
	ck_assert_int_eq(smtpd_esmtp_mail(s, len, DSN, 0, &mp, reply), -1);
	check_reply(reply, "501 5.5.4 Bad ENVID");
	free(s);
	s = long_param("ENVID=", 'a', 100000, &len);
	ck_assert_int_eq(smtpd_esmtp_mail(s, len, DSN, 0, &mp, reply), -1);
	check_reply(reply, "501 5.5.4");
	free(s);

	s = long_param("ORCPT=rfc822;", 'a', 500 - 7, &len);
	ck_assert_int_eq(smtpd_esmtp_rcpt(s, len, DSN, &rp, reply), 0);
	ck_assert_uint_eq(strlen(rp.orcpt), 500);
	smtpd_rcpt_params_deinit(&rp);
	free(s);
	s = long_param("ORCPT=rfc822;", 'a', 500 - 6, &len);
	ck_assert_int_eq(smtpd_esmtp_rcpt(s, len, DSN, &rp, reply), -1);
	check_reply(reply, "501 5.5.4 Bad ORCPT");
	free(s);

	/* A huge unknown keyword is cut in the reply. */
	s = long_param("", 'X', 100000, &len);
	ck_assert_int_eq(smtpd_esmtp_mail(s, len, ALL, 0, &mp, reply), -1);
	check_reply(reply, "555 5.5.4 Unsupported option: XXXX");
	ck_assert_uint_lt(strlen(reply), 80);
	ck_assert_int_eq(smtpd_esmtp_rcpt(s, len, ALL, &rp, reply), -1);
	check_reply(reply, "555 5.5.4 Unsupported option: XXXX");
	free(s);
	s = long_param("FOO=", 'v', 100000, &len);
	ck_assert_int_eq(smtpd_esmtp_mail(s, len, ALL, 0, &mp, reply), -1);
	check_reply(reply, "555 5.5.4 Unsupported option: FOO");
	free(s);
	/* Trailing spaces in bulk are only separators. */
	s = long_param("NOTIFY=NEVER", ' ', 50000, &len);
	ck_assert_int_eq(smtpd_esmtp_rcpt(s, len, DSN, &rp, reply), 0);
	ck_assert_str_eq(rp.notify, "NEVER");
	smtpd_rcpt_params_deinit(&rp);
	free(s);
}
END_TEST

/* Only n bytes are read: a parameter string need not be terminated. */
START_TEST(test_length_bound)
{
	char reply[SMTPD_ESMTP_REPLY_MAX];
	struct smtpd_mail_params mp;
	struct smtpd_rcpt_params rp;
	static const char mail[] = "SIZE=12345";
	static const char rcpt[] = "NOTIFY=SUCCESS,FAILURE";

	ck_assert_int_eq(smtpd_esmtp_mail(mail, 7, EHLO, 0, &mp, reply), 0);
	ck_assert_int_eq(mp.size, 12);
	smtpd_mail_params_deinit(&mp);
	ck_assert_int_eq(smtpd_esmtp_rcpt(rcpt, 14, DSN, &rp, reply), 0);
	ck_assert_str_eq(rp.notify, "SUCCESS");
	smtpd_rcpt_params_deinit(&rp);
	ck_assert_int_eq(smtpd_esmtp_rcpt(rcpt, 15, DSN, &rp, reply), -1);
	check_reply(reply, "501 5.5.4 Bad NOTIFY");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtpd_esmtp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_mail, 0, ARRAY_LEN(mail_cases));
	tcase_add_loop_test(tc, test_rcpt, 0, ARRAY_LEN(rcpt_cases));
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_length_bound);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
