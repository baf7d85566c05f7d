/* SPDX-License-Identifier: MIT */
/*
 * SMTP sessions on libevent bufferevents: connection setup (name lookup,
 * anvil limits, greeting), the input modes, the reply writer with the
 * error budget, timeouts, and the connect/disconnect log lines; see
 * smtpd_session.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "anvil_client.h"
#include "auth_client.h"
#include "cleanup.h"
#include "dns.h"

#include "smtpd.h"
#include "smtpd_session.h"

/*
 * RFC 4954 §4: an AUTH command line or response may be 12288 octets, so
 * those lines get that much even under a smaller line_length_limit.
 */
#define SASL_LINE_MAX		12288
/* Bound of the input buffer; a full buffer stops reading. */
#define INPUT_HIGH_WATER	(64 * 1024)
/* How often "anvil unreachable" is logged at most (seconds). */
#define ANVIL_WARN_INTERVAL	60

static struct smtpd_session *sessions;
static size_t session_count;
/* One command line at a time in the whole process. */
static char *line_buf;
static size_t line_buf_size;

static void session_free(struct smtpd_session *s);

size_t
smtpd_session_count(void)
{
	return session_count;
}

char *
smtpd_session_client(const struct smtpd_session *s)
{
	char *name = log_escape_str(s->name != NULL ? s->name : "unknown");
	char *addr = log_escape_str(s->addr);
	char *r = xasprintf("%s[%s]", name, addr);

	free(name);
	free(addr);
	return r;
}

static void
out_vprintf(struct smtpd_session *s, const char *fmt, va_list ap)
{
	if (evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap) < 0 ||
	    evbuffer_add(bufferevent_get_output(s->bev), "\r\n", 2) == -1)
		fatal("out of memory");
}

void
smtpd_reply_cont(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(s, fmt, ap);
	va_end(ap);
}

static void
sleep_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)fd;
	(void)what;
	s->sleeping = false;
	if (bufferevent_enable(s->bev, EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	if (!s->paused && !s->closing)
		smtpd_session_resume(s);
	else
		(void)smtpd_session_settle(s);
}

/*
 * Past smtpd_soft_error_limit each error reply is held back for
 * smtpd_error_sleep_time, and nothing more is read meanwhile.
 */
static void
error_sleep(struct smtpd_session *s)
{
	struct timeval tv = { .tv_sec = smtpd_conf.error_sleep };

	if (s->timer == NULL &&
	    (s->timer = evtimer_new(smtpd_base(), sleep_cb, s)) == NULL)
		fatal("cannot create a timer");
	s->sleeping = true;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	evtimer_add(s->timer, &tv);
}

void
smtpd_session_error(struct smtpd_session *s)
{
	s->errors++;
	if (s->errors >= (unsigned long long)smtpd_conf.hard_errors) {
		char *client = smtpd_session_client(s);

		log_info("too many errors after %s from %s",
		    s->where != NULL ? s->where : "CONNECT", client);
		free(client);
		smtpd_reply_cont(s, "421 4.7.0 %s Error: too many errors",
		    smtpd_conf.hostname);
		smtpd_session_close(s);
		return;
	}
	if (s->errors > (unsigned long long)smtpd_conf.soft_errors &&
	    smtpd_conf.error_sleep > 0 && !s->sleeping)
		error_sleep(s);
}

void
smtpd_reply(struct smtpd_session *s, int code, const char *fmt, ...)
{
	va_list ap;

	if (evbuffer_add_printf(bufferevent_get_output(s->bev), "%d ",
	    code) < 0)
		fatal("out of memory");
	va_start(ap, fmt);
	out_vprintf(s, fmt, ap);
	va_end(ap);
	if (code == 334 || code == 354)
		return;
	if (s->cur_verb >= 0) {
		s->verb_total[s->cur_verb]++;
		if (code < 400)
			s->verb_ok[s->cur_verb]++;
		s->cur_verb = -1;
	}
	if (code < 400 || code == 421 || s->closing)
		return;
	smtpd_session_error(s);
}

void
smtpd_session_log_reject(struct smtpd_session *s, const char *qid,
    const char *where, const char *reply)
{
	char *client = smtpd_session_client(s);
	char *text = log_escape_str(reply);
	char *from = log_escape_str(s->sender != NULL ? s->sender : "");
	char *to = log_escape_str(s->rcpt != NULL ? s->rcpt : "");
	char *helo = log_escape_str(s->helo != NULL ? s->helo : "");

	if (qid == NULL)
		qid = s->cleanup != NULL ? cleanup_qid(s->cleanup) : "NOQUEUE";

	log_info("%s: reject: %s from %s: %s; from=<%s>%s%s%s proto=%s "
	    "helo=<%s>", qid, where, client, text, from,
	    s->rcpt != NULL ? " to=<" : "", s->rcpt != NULL ? to : "",
	    s->rcpt != NULL ? ">" : "", s->esmtp ? "ESMTP" : "SMTP", helo);
	free(client);
	free(text);
	free(from);
	free(to);
	free(helo);
}

void
smtpd_session_close(struct smtpd_session *s)
{
	s->closing = true;
	s->input = SMTPD_IN_NONE;
	bufferevent_disable(s->bev, EV_READ);
}

void
smtpd_session_pause(struct smtpd_session *s)
{
	s->paused = true;
	bufferevent_disable(s->bev, EV_READ);
}

void
smtpd_session_resume(struct smtpd_session *s)
{
	s->paused = false;
	if (s->closing || s->sleeping || s->tls_switch)
		return;
	if (bufferevent_enable(s->bev, EV_READ) == -1)
		fatal("cannot enable a bufferevent");
	smtpd_session_input(s);
}

bool
smtpd_session_settle(struct smtpd_session *s)
{
	if (!s->closing || s->sleeping)
		return true;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return true;
	session_free(s);
	return false;
}

void
smtpd_session_reset(struct smtpd_session *s)
{
	cleanup_abort(&s->cleanup);
	free(s->sender);
	s->sender = NULL;
	smtpd_mail_params_deinit(&s->mail);
	free(s->rcpt);
	s->rcpt = NULL;
	smtpd_rcpt_params_deinit(&s->rcpt_params);
	free(s->bdat_error);
	s->bdat_error = NULL;
	s->rcpts = 0;
	s->rcpt_seen = false;
	s->data_bytes = 0;
	s->bdat_left = 0;
	s->bdat_last = false;
	s->env.sender = NULL;
	s->env.rcpt = NULL;
	s->env.sender_domain_done = false;
	if ((s->state & (SMTPD_S_MAIL | SMTPD_S_RCPT | SMTPD_S_BDAT)) != 0)
		s->state = SMTPD_S_READY;
}

/* One command (or SASL) line, if a whole one is buffered. */
static bool
line_step(struct smtpd_session *s, struct evbuffer *in)
{
	size_t max = smtpd_conf.line_max, eol_len, total, len;
	struct evbuffer_ptr eol;
	char head[5];

	if (s->input == SMTPD_IN_SASL ||
	    (evbuffer_copyout(in, head, 5) == 5 &&
	    strncasecmp(head, "AUTH ", 5) == 0))
		max = max > SASL_LINE_MAX ? max : SASL_LINE_MAX;
	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		len = evbuffer_get_length(in);
		if (len >= max || (s->skipping && len > 0)) {
			/* Never buffer a long line: drop it as it streams. */
			s->skipping = true;
			evbuffer_drain(in, len);
		}
		return false;
	}
	total = (size_t)eol.pos + eol_len;
	if (s->skipping || total > max) {
		evbuffer_drain(in, total);
		s->skipping = false;
		smtpd_reply(s, 500, "5.5.2 Error: line too long");
		return true;
	}
	if (line_buf_size < max + 1) {
		line_buf = xreallocarray(line_buf, max + 1, 1);
		line_buf_size = max + 1;
	}
	if (evbuffer_remove(in, line_buf, total) != (int)total)
		fatal("evbuffer lost bytes");
	len = total - 1;
	if (len > 0 && line_buf[len - 1] == '\r')
		len--;
	else if (smtpd_conf.bare == SMTPD_BARE_REJECT) {
		/* RFC 5321 §2.3.8: lines end in CRLF. */
		smtpd_reply(s, 550, "5.5.2 Error: bare <LF> received");
		smtpd_session_close(s);
		return true;
	}
	line_buf[len] = '\0';
	if (s->input == SMTPD_IN_SASL)
		smtpd_sasl_line(s, line_buf, len);
	else
		smtpd_cmd_line(s, line_buf, len);
	/* Wipe: the line may have been an AUTH response. */
	explicit_bzero(line_buf, total);
	return true;
}

static void
data_step(struct smtpd_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t used;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		return;
	used = smtpd_data_feed(&s->data, v.iov_base, v.iov_len);
	evbuffer_drain(in, used);
	s->data_bytes += used;
	switch (s->data.state) {
	case SMTPD_DATA_MORE:
		break;
	case SMTPD_DATA_END:
		s->input = SMTPD_IN_CMD;
		smtpd_cmd_commit(s);
		break;
	case SMTPD_DATA_BARE:
		/* smtpd_forbid_bare_newline = reject: nothing is kept. */
		smtpd_session_log_reject(s, NULL, "DATA",
		    "550 5.5.2 Error: bare <CR> or <LF> received");
		smtpd_reply(s, 550, "5.5.2 Error: bare <CR> or <LF> received");
		smtpd_session_reset(s);
		smtpd_session_close(s);
		break;
	}
}

static void
bdat_step(struct smtpd_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t n;

	if (s->bdat_left > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		n = v.iov_len < s->bdat_left ? v.iov_len : (size_t)s->bdat_left;
		/* RFC 3030 §2: the chunk is exact bytes, no dot-stuffing. */
		if (s->cleanup != NULL && s->bdat_error == NULL)
			cleanup_write(s->cleanup, v.iov_base, n);
		evbuffer_drain(in, n);
		s->bdat_left -= n;
		s->data_bytes += n;
	}
	if (s->bdat_left == 0) {
		s->input = SMTPD_IN_CMD;
		if (s->bdat_last && s->bdat_error == NULL)
			smtpd_cmd_commit(s);
		else
			smtpd_cmd_bdat_done(s);
	}
}

void
smtpd_session_input(struct smtpd_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	while (!s->paused && !s->closing && !s->sleeping) {
		if (s->input == SMTPD_IN_BDAT && s->bdat_left == 0) {
			bdat_step(s, in);
			continue;
		}
		if (evbuffer_get_length(in) == 0)
			break;
		switch (s->input) {
		case SMTPD_IN_CMD:
		case SMTPD_IN_SASL:
			if (!line_step(s, in))
				return;
			break;
		case SMTPD_IN_DATA:
			data_step(s, in);
			break;
		case SMTPD_IN_BDAT:
			bdat_step(s, in);
			break;
		case SMTPD_IN_NONE:
			return;
		}
	}
}

static void
read_cb(struct bufferevent *bev, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)bev;
	smtpd_session_input(s);
	(void)smtpd_session_settle(s);
}

static void
write_cb(struct bufferevent *bev, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)bev;
	if (s->tls_switch && !s->closing) {
		/* "220 Ready to start TLS" is out: switch now. */
		if (smtpd_tls_start(s) == -1)
			smtpd_session_close(s);
		else
			return;
	}
	(void)smtpd_session_settle(s);
}

static void
event_cb(struct bufferevent *bev, short what, void *ctx)
{
	struct smtpd_session *s = ctx;
	char *client;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		smtpd_tls_established(s);
		(void)smtpd_session_settle(s);
		return;
	}
	client = smtpd_session_client(s);
	if ((what & BEV_EVENT_TIMEOUT) && !s->closing) {
		log_info("timeout after %s from %s",
		    s->where != NULL ? s->where : "CONNECT", client);
		free(client);
		smtpd_reply_cont(s, "421 4.4.2 %s Error: timeout exceeded",
		    smtpd_conf.hostname);
		smtpd_session_reset(s);
		smtpd_session_close(s);
		(void)smtpd_session_settle(s);
		return;
	}
	if (s->tls_switch || (smtpd_conf.wrappermode && !s->tls))
		smtpd_tls_failed(s);
	else if (!s->closing && (s->input == SMTPD_IN_DATA ||
	    s->input == SMTPD_IN_BDAT))
		log_info("lost connection after %s (%llu bytes) from %s",
		    s->where, s->data_bytes, client);
	else if (!s->closing)
		log_info("lost connection after %s from %s",
		    s->where != NULL ? s->where : "CONNECT", client);
	free(client);
	session_free(s);
}

void
smtpd_session_bev_setup(struct smtpd_session *s)
{
	struct timeval tv = { .tv_sec = smtpd_conf.timeout };

	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_setwatermark(s->bev, EV_READ, 0, INPUT_HIGH_WATER);
}

void
smtpd_session_greet(struct smtpd_session *s)
{
	s->greeted = true;
	s->input = SMTPD_IN_CMD;
	smtpd_reply_cont(s, "220 %s", smtpd_conf.banner);
	smtpd_session_resume(s);
}

static void
anvil_warn(const char *err)
{
	static time_t last;
	time_t now = time(NULL);

	if (now - last < ANVIL_WARN_INTERVAL)
		return;
	last = now;
	log_warn("anvil unreachable, connection limits not applied: %s", err);
}

/* Connection count and rate (Postfix's anvil limits); false: refused. */
static bool
anvil_connect(struct smtpd_session *s)
{
	struct anvil_counts c;
	const char *err;

	if (str_eq(s->addr, "unix") || s->limits_exempt ||
	    (smtpd_conf.conn_count_limit == 0 &&
	    smtpd_conf.conn_rate_limit == 0))
		return true;
	if (anvil_client_event(ANVIL_CONNECT, s->addr, &c, &err) == -1) {
		anvil_warn(err);
		return true;
	}
	s->anvil_counted = true;
	if ((smtpd_conf.conn_count_limit > 0 &&
	    c.count > (uint64_t)smtpd_conf.conn_count_limit) ||
	    (smtpd_conf.conn_rate_limit > 0 &&
	    c.rate > (uint64_t)smtpd_conf.conn_rate_limit)) {
		char *client = smtpd_session_client(s);
		bool count = smtpd_conf.conn_count_limit > 0 &&
		    c.count > (uint64_t)smtpd_conf.conn_count_limit;

		log_warn("Connection %s limit exceeded: %llu from %s",
		    count ? "concurrency" : "rate",
		    (unsigned long long)(count ? c.count : c.rate), client);
		free(client);
		smtpd_reply_cont(s, "421 4.7.0 %s Error: too many connections "
		    "from %s", smtpd_conf.hostname, s->addr);
		return false;
	}
	return true;
}

/* The client's name is known: log, apply the limits and greet. */
static void
session_connected(struct smtpd_session *s)
{
	char *client = smtpd_session_client(s);

	log_info("connect from %s", client);
	free(client);
	s->env.client_name = s->name;
	if (!anvil_connect(s)) {
		smtpd_session_close(s);
		return;
	}
	if (smtpd_check_connect(&s->env, &s->check_reply) ==
	    SMTPD_CHECK_REJECT)
		/* Answered to MAIL and later, as Postfix does. */
		s->connect_reject = xasprintf("%d %s", s->check_reply.code,
		    s->check_reply.text);
	if (!smtpd_conf.wrappermode || s->tls)
		smtpd_session_greet(s);
}

static void
name_cb(void *ctx, enum dns_status status, const char *name)
{
	struct smtpd_session *s = ctx;

	s->dnsq = NULL;
	s->name = xstrdup(status == DNS_OK ? name : "unknown");
	session_connected(s);
	(void)smtpd_session_settle(s);
}

void
smtpd_session_start(int fd, const struct server_peer *peer)
{
	struct smtpd_session *s = xcalloc(1, sizeof(*s));
	const char *err;

	s->fd = fd;
	s->addr = xstrdup(peer->addr);
	s->state = SMTPD_S_INIT;
	s->input = SMTPD_IN_NONE;
	s->cur_verb = -1;
	s->where = "CONNECT";
	s->env.client_addr = s->addr;
	s->limits_exempt = peer->family != AF_UNIX &&
	    smtpd_check_limits_exempt(s->addr);
	s->next = sessions;
	if (sessions != NULL)
		sessions->prev = s;
	sessions = s;
	session_count++;

	if (smtpd_conf.wrappermode) {
		if (smtpd_tls_start(s) == -1) {
			session_free(s);
			return;
		}
	} else {
		s->bev = bufferevent_socket_new(smtpd_base(), fd, 0);
		if (s->bev == NULL)
			fatal("cannot create a bufferevent");
		smtpd_session_bev_setup(s);
		bufferevent_disable(s->bev, EV_READ);
		if (bufferevent_enable(s->bev, EV_WRITE) == -1)
			fatal("cannot enable a bufferevent");
	}

	if (peer->family == AF_UNIX)
		s->name = xstrdup("localhost");
	else if (smtpd_conf.peername_lookup &&
	    (s->dnsq = dns_lookup_ptr(s->addr, name_cb, s, &err)) != NULL)
		return;
	else
		s->name = xstrdup("unknown");
	session_connected(s);
	(void)smtpd_session_settle(s);
}

static void
log_disconnect(struct smtpd_session *s)
{
	static const char *const names[SMTPD_V_COUNT] = {
		"helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
		"bdat", "rset", "noop", "vrfy", "help", "quit", "unknown",
	};
	char *client = smtpd_session_client(s);
	struct buf b;
	unsigned ok = 0, total = 0;

	buf_init(&b, 0);
	for (size_t i = 0; i < SMTPD_V_COUNT; i++) {
		if (s->verb_total[i] == 0)
			continue;
		ok += s->verb_ok[i];
		total += s->verb_total[i];
		if (s->verb_ok[i] == s->verb_total[i])
			buf_addf(&b, " %s=%u", names[i], s->verb_ok[i]);
		else
			buf_addf(&b, " %s=%u/%u", names[i], s->verb_ok[i],
			    s->verb_total[i]);
	}
	if (ok == total)
		buf_addf(&b, " commands=%u", total);
	else
		buf_addf(&b, " commands=%u/%u", ok, total);
	log_info("disconnect from %s%s", client, buf_cstr(&b));
	buf_deinit(&b);
	free(client);
}

static void
session_free(struct smtpd_session *s)
{
	struct anvil_counts c;
	const char *err;

	dns_cancel(&s->dnsq);
	smtpd_cmd_commit_orphan(s);
	smtpd_sasl_reset(s);
	smtpd_session_reset(s);
	if (s->anvil_counted &&
	    anvil_client_event(ANVIL_DISCONNECT, s->addr, &c, &err) == -1)
		anvil_warn(err);
	if (s->name != NULL)
		log_disconnect(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	/* A TLS bufferevent owns (and has closed) the descriptor. */
	if (!s->bev_owns_fd)
		close(s->fd);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	session_count--;
	free(s->name);
	free(s->addr);
	free(s->helo);
	free(s->tls_info);
	free(s->sasl_user);
	free(s->connect_reject);
	free(s);
	smtpd_session_ended();
}

void
smtpd_session_shutdown_idle(void)
{
	struct smtpd_session *s, *next;

	for (s = sessions; s != NULL; s = next) {
		next = s->next;
		if (s->closing || s->paused || !s->greeted ||
		    s->input != SMTPD_IN_CMD ||
		    (s->state & (SMTPD_S_MAIL | SMTPD_S_RCPT | SMTPD_S_BDAT)))
			continue;
		smtpd_reply_cont(s, "421 4.3.2 %s Service shutting down",
		    smtpd_conf.hostname);
		smtpd_session_close(s);
		(void)smtpd_session_settle(s);
	}
}
