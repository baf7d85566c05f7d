/* SPDX-License-Identifier: MIT */
/*
 * The SMTP command engine: the command table (verb, handler, states in
 * which it is legal) and the handlers for everything but AUTH and
 * STARTTLS.  Replies and state changes follow RFC 5321 §4.1.1, §4.1.4
 * and §4.3.2, with RFC 3463 enhanced status codes (RFC 2034) on every
 * reply.  Restriction checks go through run_check, which pauses the
 * session while a sender domain is looked up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "workq.h"
#include "xalloc.h"

#include "addr.h"
#include "anvil_client.h"
#include "cleanup.h"
#include "dns.h"

#include "smtpd.h"
#include "smtpd_session.h"

#define F_JUNK		0x01	/* counts against smtpd_junk_command_limit */
#define F_NEED_TLS	0x02	/* smtpd_tls_security_level=encrypt */
#define F_8BIT		0x04	/* may carry UTF-8 (SMTPUTF8 addresses) */

#define S(x)		SMTPD_S_##x
#define S_TXN		(S(MAIL) | S(RCPT) | S(BDAT))

struct smtpd_cmd {
	const char	*verb;
	void		(*fn)(struct smtpd_session *, char *);
	unsigned	 legal;
	enum smtpd_verb	 counter;
	unsigned	 flags;
};

static void cmd_helo(struct smtpd_session *, char *);
static void cmd_ehlo(struct smtpd_session *, char *);
static void cmd_mail(struct smtpd_session *, char *);
static void cmd_rcpt(struct smtpd_session *, char *);
static void cmd_data(struct smtpd_session *, char *);
static void cmd_bdat(struct smtpd_session *, char *);
static void cmd_rset(struct smtpd_session *, char *);
static void cmd_noop(struct smtpd_session *, char *);
static void cmd_quit(struct smtpd_session *, char *);
static void cmd_vrfy(struct smtpd_session *, char *);
static void cmd_help(struct smtpd_session *, char *);
static void cmd_starttls(struct smtpd_session *, char *);
static void cmd_auth(struct smtpd_session *, char *);

static const struct smtpd_cmd smtpd_cmds[] = {
	/* verb		handler		legal in		counter */
	{ "EHLO",	cmd_ehlo,	S(INIT) | S(READY) | S(MAIL) | S(RCPT),
	  SMTPD_V_EHLO,	0 },
	{ "HELO",	cmd_helo,	S(INIT) | S(READY) | S(MAIL) | S(RCPT),
	  SMTPD_V_HELO,	0 },
	{ "STARTTLS",	cmd_starttls,	S(INIT) | S(READY) | S(MAIL) | S(RCPT),
	  SMTPD_V_STARTTLS, 0 },
	{ "AUTH",	cmd_auth,	S(INIT) | S(READY),
	  SMTPD_V_AUTH,	F_NEED_TLS },
	{ "MAIL",	cmd_mail,	S(INIT) | S(READY),
	  SMTPD_V_MAIL,	F_NEED_TLS | F_8BIT },
	{ "RCPT",	cmd_rcpt,	S(MAIL) | S(RCPT),
	  SMTPD_V_RCPT,	F_NEED_TLS | F_8BIT },
	{ "DATA",	cmd_data,	S(RCPT),
	  SMTPD_V_DATA,	F_NEED_TLS },
	/* BDAT always consumes its chunk, so it checks its state itself. */
	{ "BDAT",	cmd_bdat,	SMTPD_S_ANY,
	  SMTPD_V_BDAT,	0 },
	{ "RSET",	cmd_rset,	SMTPD_S_ANY,
	  SMTPD_V_RSET,	F_JUNK },
	{ "NOOP",	cmd_noop,	SMTPD_S_ANY,
	  SMTPD_V_NOOP,	F_JUNK },
	{ "QUIT",	cmd_quit,	SMTPD_S_ANY,
	  SMTPD_V_QUIT,	0 },
	{ "VRFY",	cmd_vrfy,	S(INIT) | S(READY) | S(MAIL) | S(RCPT),
	  SMTPD_V_VRFY,	F_JUNK | F_NEED_TLS | F_8BIT },
	{ "HELP",	cmd_help,	SMTPD_S_ANY,
	  SMTPD_V_HELP,	F_JUNK },
};

/* A whole "NNN X.Y.Z text" reply from another module. */
static void
reply_full(struct smtpd_session *s, const char *r)
{
	int code = atoi(r);

	if (code < 200 || code > 599 || strlen(r) < 4)
		panic("malformed reply \"%s\"", r);
	smtpd_reply(s, code, "%s", r + 4);
}

static bool
has_8bit(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return true;
	return false;
}

/* Restriction checks, with the sender domain lookup they may need. */
static void check_step(struct smtpd_session *s);

static void
domain_cb(void *ctx, enum dns_status status, bool null_mx)
{
	struct smtpd_session *s = ctx;

	s->dnsq = NULL;
	s->env.sender_domain_done = true;
	s->env.sender_domain_status = status;
	s->env.sender_domain_null_mx = null_mx;
	check_step(s);
	smtpd_session_resume(s);
	(void)smtpd_session_settle(s);
}

static void
check_step(struct smtpd_session *s)
{
	enum smtpd_check_result r;
	const char *at, *err;

	r = s->check_stage(&s->env, &s->check_reply);
	if (r == SMTPD_CHECK_PENDING && !s->env.sender_domain_done) {
		at = s->sender != NULL ? strrchr(s->sender, '@') : NULL;
		if (at != NULL && (s->dnsq = dns_lookup_mail_domain(at + 1,
		    domain_cb, s, &err)) != NULL) {
			smtpd_session_pause(s);
			return;
		}
		/* No lookup possible: a temporary DNS failure. */
		s->env.sender_domain_done = true;
		s->env.sender_domain_status = DNS_TEMPFAIL;
		s->env.sender_domain_null_mx = false;
		r = s->check_stage(&s->env, &s->check_reply);
	}
	if (r == SMTPD_CHECK_PENDING) {
		s->check_reply.code = 451;
		str_copy(s->check_reply.text, "4.3.0 Error: temporary lookup "
		    "failure", sizeof(s->check_reply.text));
		r = SMTPD_CHECK_REJECT;
	}
	s->check_done(s, r);
}

static void
run_check(struct smtpd_session *s,
    enum smtpd_check_result (*stage)(struct smtpd_check_env *,
    struct smtpd_check_reply *),
    void (*done)(struct smtpd_session *, enum smtpd_check_result))
{
	s->check_stage = stage;
	s->check_done = done;
	check_step(s);
}

/* Replies with a check's rejection and logs it. */
static void
check_reject(struct smtpd_session *s, const char *where)
{
	char *r = xasprintf("%d %s", s->check_reply.code, s->check_reply.text);

	smtpd_session_log_reject(s, NULL, where, r);
	free(r);
	smtpd_reply(s, s->check_reply.code, "%s", s->check_reply.text);
}

/* HELO and EHLO (RFC 5321 §4.1.1.1): both reset the transaction. */
static void
helo_done(struct smtpd_session *s, enum smtpd_check_result r)
{
	if (r == SMTPD_CHECK_REJECT) {
		check_reject(s, s->esmtp ? "EHLO" : "HELO");
		free(s->helo);
		s->helo = NULL;
		s->env.helo = NULL;
		s->state = SMTPD_S_INIT;
		return;
	}
	s->state = SMTPD_S_READY;
	if (!s->esmtp) {
		smtpd_reply(s, 250, "%s", smtpd_conf.hostname);
		return;
	}
	smtpd_reply_cont(s, "250-%s", smtpd_conf.hostname);
	smtpd_reply_cont(s, "250-PIPELINING");
	if (smtpd_conf.size_limit > 0)
		smtpd_reply_cont(s, "250-SIZE %lld", smtpd_conf.size_limit);
	else
		smtpd_reply_cont(s, "250-SIZE");
	if (smtpd_tls_offered(s))
		smtpd_reply_cont(s, "250-STARTTLS");
	if (smtpd_sasl_offered(s))
		smtpd_reply_cont(s, "250-AUTH PLAIN LOGIN");
	smtpd_reply_cont(s, "250-ENHANCEDSTATUSCODES");
	smtpd_reply_cont(s, "250-8BITMIME");
	smtpd_reply_cont(s, "250-DSN");
	smtpd_reply_cont(s, "250-SMTPUTF8");
	/* RFC 8689 §4.1: only on a TLS-protected session. */
	if (s->tls)
		smtpd_reply_cont(s, "250-REQUIRETLS");
	smtpd_reply(s, 250, "CHUNKING");
}

static void
helo_common(struct smtpd_session *s, char *args, bool esmtp)
{
	size_t n = strlen(args);

	while (n > 0 && (args[n - 1] == ' ' || args[n - 1] == '\t'))
		args[--n] = '\0';
	if (n == 0 || has_8bit(args)) {
		smtpd_reply(s, 501, "5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	smtpd_session_reset(s);
	free(s->helo);
	s->helo = xstrdup(args);
	s->env.helo = s->helo;
	s->esmtp = esmtp;
	run_check(s, smtpd_check_helo, helo_done);
}

static void
cmd_helo(struct smtpd_session *s, char *args)
{
	helo_common(s, args, false);
}

static void
cmd_ehlo(struct smtpd_session *s, char *args)
{
	helo_common(s, args, true);
}

/* The ESMTP flags for smtpd_esmtp.h. */
static unsigned
esmtp_flags(const struct smtpd_session *s)
{
	unsigned f = SMTPD_ESMTP_DSN | SMTPD_ESMTP_SMTPUTF8;

	if (s->esmtp)
		f |= SMTPD_ESMTP_EHLO;
	if (smtpd_sasl_offered(s) || s->sasl_user != NULL)
		f |= SMTPD_ESMTP_AUTH;
	if (s->tls)
		f |= SMTPD_ESMTP_TLS;
	return f;
}

/* "local@domain" in internal form, or "local" alone. */
static char *
path_join(const struct addr_path *p)
{
	if (p->domain[0] == '\0')
		return xstrdup(p->local);
	return xasprintf("%s@%s", p->local, p->domain);
}

static void
mail_done(struct smtpd_session *s, enum smtpd_check_result r)
{
	if (r == SMTPD_CHECK_REJECT) {
		check_reject(s, "MAIL");
		smtpd_session_reset(s);
		return;
	}
	s->state = SMTPD_S_MAIL;
	smtpd_reply(s, 250, "2.1.0 Ok");
}

/* ANVIL_MAIL; false when the client is over its message rate. */
static bool
mail_rate_ok(struct smtpd_session *s)
{
	struct anvil_counts c;
	const char *err;
	char *client;

	if (smtpd_conf.msg_rate_limit == 0 || s->limits_exempt ||
	    str_eq(s->addr, "unix"))
		return true;
	if (anvil_client_event(ANVIL_MAIL, s->addr, &c, &err) == -1) {
		log_warn("anvil unreachable, message rate not limited: %s",
		    err);
		return true;
	}
	if (c.rate <= (uint64_t)smtpd_conf.msg_rate_limit)
		return true;
	client = smtpd_session_client(s);
	log_warn("Message delivery request rate limit exceeded: %llu from "
	    "%s", (unsigned long long)c.rate, client);
	free(client);
	smtpd_reply(s, 450, "4.7.1 Error: too much mail from %s", s->addr);
	return false;
}

static void
cmd_mail(struct smtpd_session *s, char *args)
{
	struct addr_path path;
	char reply[SMTPD_ESMTP_REPLY_MAX];
	const char *err, *p;
	size_t end;

	if (s->connect_reject != NULL) {
		reply_full(s, s->connect_reject);
		return;
	}
	if (smtpd_conf.helo_required && s->helo == NULL) {
		smtpd_reply(s, 503, "5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (strncasecmp(args, "FROM:", 5) != 0) {
		smtpd_reply(s, 501, "5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	for (p = args + 5; *p == ' '; p++)
		;
	if (addr_parse_path(p, strlen(p), ADDR_MAIL_FROM | ADDR_SMTPUTF8,
	    &path, &end, &err) == -1) {
		smtpd_reply(s, 501, "5.1.7 Bad sender address syntax");
		return;
	}
	if (smtpd_esmtp_mail(p + end, strlen(p + end), esmtp_flags(s),
	    smtpd_conf.size_limit, &s->mail, reply) == -1) {
		addr_path_deinit(&path);
		reply_full(s, reply);
		return;
	}
	/* RFC 6531 §3.4: UTF-8 in the path needs the SMTPUTF8 parameter. */
	if (!s->mail.smtputf8 && (has_8bit(path.local) ||
	    has_8bit(path.domain))) {
		addr_path_deinit(&path);
		smtpd_mail_params_deinit(&s->mail);
		smtpd_reply(s, 553, "5.6.7 Must declare SMTPUTF8 to send a "
		    "UTF-8 address");
		return;
	}
	if (!mail_rate_ok(s)) {
		addr_path_deinit(&path);
		smtpd_mail_params_deinit(&s->mail);
		return;
	}
	s->sender = path.null ? xstrdup("") : path_join(&path);
	addr_path_deinit(&path);
	s->env.sender = s->sender;
	s->env.sender_domain_done = false;
	run_check(s, smtpd_check_mail, mail_done);
}

/* The Received: protocol name: RFC 3848 and RFC 6531 §3.7.3. */
static const char *
protocol_name(const struct smtpd_session *s)
{
	static char name[16];

	if (!s->esmtp)
		return "SMTP";
	str_fmt_buf(name, sizeof(name), "%s%s%s",
	    s->mail.smtputf8 ? "UTF8SMTP" : "ESMTP", s->tls ? "S" : "",
	    s->sasl_user != NULL ? "A" : "");
	return name;
}

/* Opens the queue file at the first accepted recipient, as Postfix. */
static bool
cleanup_start(struct smtpd_session *s)
{
	struct cleanup_origin o = {
		.protocol = protocol_name(s), .client_name = s->name,
		.client_addr = s->addr, .helo = s->helo,
		.sasl_user = s->sasl_user, .tls_info = s->tls_info, .uid = -1,
	};
	const char *err;
	char *client;

	if (cleanup_open(0, &o, &s->cleanup, &err) == -1) {
		log_warn("cannot start a queue file: %s", err);
		return false;
	}
	client = smtpd_session_client(s);
	if (s->sasl_user != NULL) {
		char *u = log_escape_str(s->sasl_user);

		log_qid_info(cleanup_qid(s->cleanup), "client=%s, "
		    "sasl_method=%s, sasl_username=%s", client,
		    s->sasl_method, u);
		free(u);
	} else
		log_qid_info(cleanup_qid(s->cleanup), "client=%s", client);
	free(client);
	cleanup_sender(s->cleanup, s->sender);
	if (s->mail.envid != NULL)
		cleanup_attr(s->cleanup, "envid", s->mail.envid);
	if (s->mail.ret[0] != '\0')
		cleanup_attr(s->cleanup, "ret", s->mail.ret);
	if (s->mail.smtputf8)
		cleanup_attr(s->cleanup, "smtputf8", "yes");
	if (s->mail.body == SMTPD_BODY_8BITMIME)
		cleanup_attr(s->cleanup, "body", "8BITMIME");
	if (s->mail.requiretls)
		cleanup_attr(s->cleanup, "requiretls", "yes");
	return true;
}

static void
rcpt_done(struct smtpd_session *s, enum smtpd_check_result r)
{
	if (r == SMTPD_CHECK_REJECT)
		check_reject(s, "RCPT");
	else if (s->cleanup == NULL && !cleanup_start(s))
		smtpd_reply(s, 451, "4.3.0 Error: queue file write error");
	else {
		cleanup_rcpt(s->cleanup, s->rcpt, s->rcpt_params.notify,
		    s->rcpt_params.orcpt);
		s->rcpts++;
		s->state = SMTPD_S_RCPT;
		smtpd_reply(s, 250, "2.1.5 Ok");
	}
	free(s->rcpt);
	s->rcpt = NULL;
	s->env.rcpt = NULL;
	smtpd_rcpt_params_deinit(&s->rcpt_params);
}

static void
cmd_rcpt(struct smtpd_session *s, char *args)
{
	struct addr_path path;
	char reply[SMTPD_ESMTP_REPLY_MAX];
	const char *err, *p;
	size_t end;
	unsigned flags = ADDR_RCPT_TO;

	if (strncasecmp(args, "TO:", 3) != 0) {
		smtpd_reply(s, 501, "5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	s->rcpt_seen = true;
	if (s->rcpts >= (unsigned long long)smtpd_conf.rcpt_limit) {
		smtpd_reply(s, 452, "4.5.3 Error: too many recipients");
		return;
	}
	for (p = args + 3; *p == ' '; p++)
		;
	if (s->mail.smtputf8)
		flags |= ADDR_SMTPUTF8;
	else if (has_8bit(p)) {
		smtpd_reply(s, 553, "5.6.7 Must declare SMTPUTF8 to send a "
		    "UTF-8 address");
		return;
	}
	if (addr_parse_path(p, strlen(p), flags, &path, &end, &err) == -1) {
		smtpd_reply(s, 501, "5.1.3 Bad recipient address syntax");
		return;
	}
	if (smtpd_esmtp_rcpt(p + end, strlen(p + end), esmtp_flags(s),
	    &s->rcpt_params, reply) == -1) {
		addr_path_deinit(&path);
		reply_full(s, reply);
		return;
	}
	s->rcpt = path_join(&path);
	addr_path_deinit(&path);
	s->env.rcpt = s->rcpt;
	run_check(s, smtpd_check_rcpt, rcpt_done);
}

/* Decoded DATA text goes straight to the queue file. */
static void
data_out(void *ctx, const char *p, size_t n)
{
	struct smtpd_session *s = ctx;

	if (s->cleanup != NULL)
		cleanup_write(s->cleanup, p, n);
}

static void
data_done(struct smtpd_session *s, enum smtpd_check_result r)
{
	if (r == SMTPD_CHECK_REJECT) {
		check_reject(s, "DATA");
		return;
	}
	smtpd_data_init(&s->data, smtpd_conf.bare, data_out, s);
	s->data_bytes = 0;
	s->input = SMTPD_IN_DATA;
	smtpd_reply(s, 354, "End data with <CR><LF>.<CR><LF>");
}

static void
cmd_data(struct smtpd_session *s, char *args)
{
	if (*args != '\0') {
		smtpd_reply(s, 501, "5.5.4 Syntax: DATA");
		return;
	}
	run_check(s, smtpd_check_data, data_done);
}

/*
 * The end of a message: cleanup_prepare writes the rest of the queue file
 * here, a worker thread makes it durable (fsync, rename, directory
 * fsync), and commit_done answers.  Waiting for the disk in a thread lets
 * the loop serve other sessions meanwhile, and lets the file system
 * commit the fsyncs of concurrent sessions together.  The session is
 * paused in between; if the client goes away, the job keeps the cleanup
 * and finishes it alone (the message is in the queue; the client, never
 * told, will send it again, as RFC 5321 §6.1 expects).
 */
struct smtpd_commit {
	struct smtpd_session *s;	/* NULL once the session is gone */
	struct cleanup	*cleanup;
	char		 qid[QID_SIZE];
};

static struct workq *commit_q;

static void
commit_work(void *arg)
{
	struct smtpd_commit *job = arg;

	/* SECURITY: worker thread; touches only the cleanup. */
	cleanup_sync(job->cleanup);
}

static void
commit_done(void *arg)
{
	struct smtpd_commit *job = arg;
	struct smtpd_session *s = job->s;
	char qid[QID_SIZE];
	const char *reason;
	char *r;
	int code;
	enum cleanup_status st;

	st = cleanup_finish(&job->cleanup, qid, &reason);
	if (s == NULL) {
		if (st == CLEANUP_OK)
			log_qid_info(qid, "queued, but the client left before "
			    "the reply");
		free(job);
		return;
	}
	s->commit = NULL;
	switch (st) {
	case CLEANUP_OK:
		smtpd_reply(s, 250, "2.0.0 Ok: queued as %s", qid);
		break;
	case CLEANUP_TEMP:
		smtpd_reply(s, 451, "%s", reason);
		break;
	case CLEANUP_PERM:
		/* RFC 1870 §6.2 / RFC 3463: size gets 552 5.3.4. */
		code = str_has_prefix(reason, "5.3.4") ? 552 : 554;
		r = xasprintf("%d %s", code, reason);
		smtpd_session_log_reject(s, job->qid, "END-OF-MESSAGE", r);
		free(r);
		smtpd_reply(s, code, "%s", reason);
		break;
	}
	free(job);
	smtpd_session_reset(s);
	smtpd_session_resume(s);
	(void)smtpd_session_settle(s);
}

void
smtpd_cmd_commit(struct smtpd_session *s)
{
	struct smtpd_commit *job = xcalloc(1, sizeof(*job));

	ASSERT(s->cleanup != NULL && s->commit == NULL);
	job->s = s;
	job->cleanup = s->cleanup;
	s->cleanup = NULL;
	str_copy(job->qid, cleanup_qid(job->cleanup), sizeof(job->qid));
	s->commit = job;
	smtpd_session_pause(s);
	cleanup_prepare(job->cleanup);
	if (commit_q == NULL)
		commit_q = workq_new(smtpd_base(), SMTPD_COMMIT_THREADS);
	workq_submit(commit_q, commit_work, commit_done, job);
}

void
smtpd_cmd_commit_orphan(struct smtpd_session *s)
{
	if (s->commit != NULL) {
		s->commit->s = NULL;
		s->commit = NULL;
	}
}

/*
 * BDAT (RFC 3030 §2): "BDAT size [LAST]".  The chunk is read whatever
 * happens, so that its bytes are never taken for commands; a refused
 * chunk is answered once it has been read.
 */
static void
bdat_start_done(struct smtpd_session *s, enum smtpd_check_result r)
{
	if (r == SMTPD_CHECK_REJECT) {
		char *full = xasprintf("%d %s", s->check_reply.code,
		    s->check_reply.text);

		smtpd_session_log_reject(s, NULL, "BDAT", full);
		s->bdat_error = full;
	}
	s->input = SMTPD_IN_BDAT;
}

static void
cmd_bdat(struct smtpd_session *s, char *args)
{
	unsigned long long size = 0;
	char *p = args;
	size_t digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits >= 18) {
			digits = 0;
			break;
		}
		size = size * 10 + (unsigned)(*p - '0');
	}
	s->bdat_last = false;
	if (digits > 0 && *p == ' ') {
		while (*p == ' ')
			p++;
		if (strcasecmp(p, "LAST") == 0) {
			s->bdat_last = true;
			p += 4;
		}
	}
	while (*p == ' ')
		p++;
	if (digits == 0 || *p != '\0') {
		/* Nothing can be consumed without a size. */
		smtpd_reply(s, 501, "5.5.4 Syntax: BDAT count [LAST]");
		return;
	}
	s->bdat_left = size;
	s->bdat_size = size;
	free(s->bdat_error);
	s->bdat_error = NULL;
	if (s->state == SMTPD_S_BDAT) {
		s->input = SMTPD_IN_BDAT;
		return;
	}
	if (s->state == SMTPD_S_RCPT) {
		s->data_bytes = 0;
		run_check(s, smtpd_check_data, bdat_start_done);
		return;
	}
	if (smtpd_conf.tls_level == SMTPD_TLS_ENCRYPT && !s->tls)
		s->bdat_error = xstrdup("530 5.7.0 Must issue a STARTTLS "
		    "command first");
	else if (s->state == SMTPD_S_MAIL && s->rcpt_seen)
		s->bdat_error = xstrdup("554 5.5.1 Error: no valid recipients");
	else
		s->bdat_error = xstrdup("503 5.5.1 Error: need RCPT command");
	s->input = SMTPD_IN_BDAT;
}

void
smtpd_cmd_bdat_done(struct smtpd_session *s)
{
	char *err = s->bdat_error;

	if (err != NULL) {
		s->bdat_error = NULL;
		reply_full(s, err);
		free(err);
		if (s->bdat_last && s->state == SMTPD_S_BDAT)
			smtpd_session_reset(s);
		return;
	}
	s->state = SMTPD_S_BDAT;
	smtpd_reply(s, 250, "2.0.0 Ok: %llu bytes", s->bdat_size);
}

static void
cmd_rset(struct smtpd_session *s, char *args)
{
	if (*args != '\0') {
		smtpd_reply(s, 501, "5.5.4 Syntax: RSET");
		return;
	}
	smtpd_session_reset(s);
	smtpd_reply(s, 250, "2.0.0 Ok");
}

static void
cmd_noop(struct smtpd_session *s, char *args)
{
	(void)args;
	smtpd_reply(s, 250, "2.0.0 Ok");
}

static void
cmd_quit(struct smtpd_session *s, char *args)
{
	(void)args;
	smtpd_reply(s, 221, "2.0.0 Bye");
	smtpd_session_close(s);
}

static void
cmd_help(struct smtpd_session *s, char *args)
{
	(void)args;
	smtpd_reply(s, 214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT "
	    "RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
}

static void
cmd_vrfy(struct smtpd_session *s, char *args)
{
	struct addr_path path;
	const char *err;
	char *rcpt, *esc;
	size_t end;
	int known;

	/* RFC 5321 §3.5.3: 252 when the server will not say. */
	if (smtpd_conf.vrfy_disabled) {
		smtpd_reply(s, 252, "2.5.2 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		return;
	}
	if (*args == '\0') {
		smtpd_reply(s, 501, "5.5.4 Syntax: VRFY address");
		return;
	}
	if (addr_parse_path(args, strlen(args), ADDR_RCPT_TO |
	    ADDR_NO_ANGLE_OK, &path, &end, &err) == -1) {
		smtpd_reply(s, 501, "5.1.3 Bad recipient address syntax");
		return;
	}
	if (args[end] != '\0') {
		addr_path_deinit(&path);
		smtpd_reply(s, 501, "5.1.3 Bad recipient address syntax");
		return;
	}
	rcpt = path_join(&path);
	addr_path_deinit(&path);
	known = smtpd_check_rcpt_known(rcpt);
	esc = log_escape_str(rcpt);
	if (known == 1)
		smtpd_reply(s, 252, "2.0.0 <%s>", esc);
	else if (known == 0)
		smtpd_reply(s, 550, "5.1.1 <%s>: Recipient address rejected: "
		    "User unknown", esc);
	else
		smtpd_reply(s, 450, "4.3.0 <%s>: Temporary lookup failure",
		    esc);
	free(esc);
	free(rcpt);
}

static void
cmd_starttls(struct smtpd_session *s, char *args)
{
	smtpd_tls_cmd(s, args);
}

static void
cmd_auth(struct smtpd_session *s, char *args)
{
	smtpd_sasl_cmd(s, args);
}

/* Why cmd may not be used now (RFC 5321 §4.1.4, §3.3). */
static void
bad_state(struct smtpd_session *s, const struct smtpd_cmd *cmd)
{
	if (s->state == SMTPD_S_BDAT)
		smtpd_reply(s, 503, "5.5.1 Error: BDAT transaction in "
		    "progress");
	else if (cmd->fn == cmd_mail)
		smtpd_reply(s, 503, "5.5.1 Error: nested MAIL command");
	else if (cmd->fn == cmd_rcpt)
		smtpd_reply(s, 503, "5.5.1 Error: need MAIL command");
	else if (cmd->fn == cmd_data && s->state == SMTPD_S_MAIL &&
	    s->rcpt_seen)
		smtpd_reply(s, 554, "5.5.1 Error: no valid recipients");
	else if (cmd->fn == cmd_data)
		smtpd_reply(s, 503, "5.5.1 Error: need RCPT command");
	else if (cmd->fn == cmd_auth)
		smtpd_reply(s, 503, "5.5.1 Error: MAIL transaction in "
		    "progress");
	else
		smtpd_reply(s, 503, "5.5.1 Error: bad sequence of commands");
}

void
smtpd_cmd_line(struct smtpd_session *s, char *line, size_t len)
{
	const struct smtpd_cmd *cmd = NULL;
	size_t vlen, i;
	char *args;

	s->cur_verb = SMTPD_V_UNKNOWN;
	if (memchr(line, '\0', len) != NULL) {
		s->where = "UNKNOWN";
		smtpd_reply(s, 500, "5.5.2 Error: NUL character in command");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			s->where = "UNKNOWN";
			smtpd_reply(s, 500, "5.5.2 Error: bad character in "
			    "command");
			return;
		}
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		if ((unsigned char)line[vlen] >= 0x80) {
			/* RFC 5321 §2.4: verbs are ASCII; this is no command. */
			s->where = "UNKNOWN";
			smtpd_reply(s, 500, "5.5.2 Error: non-ASCII character "
			    "in command");
			return;
		}
	for (i = 0; i < sizeof(smtpd_cmds) / sizeof(smtpd_cmds[0]); i++)
		if (strlen(smtpd_cmds[i].verb) == vlen &&
		    strncasecmp(line, smtpd_cmds[i].verb, vlen) == 0)
			cmd = &smtpd_cmds[i];
	if (cmd == NULL) {
		s->where = "UNKNOWN";
		smtpd_reply(s, 502, "5.5.2 Error: command not recognized");
		return;
	}
	s->where = cmd->verb;
	s->cur_verb = (int)cmd->counter;
	for (args = line + vlen; *args == ' '; args++)
		;
	if ((cmd->flags & F_8BIT) == 0 && has_8bit(args)) {
		smtpd_reply(s, 500, "5.5.2 Error: non-ASCII character in "
		    "command");
		return;
	}
	if ((cmd->flags & F_JUNK) != 0 &&
	    ++s->junk > (unsigned long long)smtpd_conf.junk_limit) {
		/* Past the junk limit each such command is an error. */
		smtpd_session_error(s);
		if (s->closing)
			return;
	}
	if ((cmd->legal & s->state) == 0) {
		bad_state(s, cmd);
		return;
	}
	if ((cmd->flags & F_NEED_TLS) != 0 &&
	    smtpd_conf.tls_level == SMTPD_TLS_ENCRYPT && !s->tls) {
		smtpd_reply(s, 530, "5.7.0 Must issue a STARTTLS command "
		    "first");
		return;
	}
	cmd->fn(s, args);
}
