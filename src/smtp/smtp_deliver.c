/* SPDX-License-Identifier: MIT */
/*
 * One smtp/lmtp delivery request; see smtp_deliver.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dict.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "deliver.h"
#include "dns_mx.h"
#include "tls_client.h"

#include "smtp.h"
#include "smtp_cache.h"
#include "smtp_deliver.h"
#include "smtp_hosts.h"
#include "smtp_nexthop.h"
#include "smtp_session.h"

/* One address to try. */
struct addr {
	char		*host;		/* MX host name, or the name given */
	char		*addr;		/* numeric, or the socket path */
	int		 family;	/* AF_INET, AF_INET6, AF_UNIX */
	unsigned	 port;
	bool		 secure;	/* DNSSEC: MX (if any) and address */
};

struct rcpt {
	bool		 done;
};

struct dlv {
	const struct deliver_request *req;
	struct deliver_reply *reply;
	smtp_deliver_done_fn *done;
	void		*done_ctx;
	int64_t		 start_us;
	int64_t		 conn_us;	/* connection setup, summed */
	int64_t		 conn_t0;
	struct smtp_nexthop nh;
	char		*cache_key;
	struct rcpt	*rcpt;
	size_t		 nopen;
	size_t		*idx;		/* the open ones, for a send */
	struct smtp_rcpt_result *results;
	size_t		 nsend;
	struct addr	*addrs;
	size_t		 naddrs;
	size_t		 cur;
	bool		 resolved;
	/* TLS, for the destination. */
	struct tls_policy policy;
	bool		 have_policy;
	enum tls_level	 level;
	/* TLS, for the current host. */
	enum tls_level	 host_level;
	bool		 dane_fallback;
	struct dns_tlsa	*tlsa;		/* data in tlsa_data */
	unsigned char	**tlsa_data;
	size_t		 ntlsa;
	char		**match;
	size_t		 nmatch;
	char		*servername;
	bool		 plain;		/* retry without TLS */
	/* SASL. */
	char		*sasl_user;
	char		*sasl_pass;
	bool		 sasl_nexthop;	/* found for the next hop */
	char		*host_user;
	char		*host_pass;
	/* The current attempt. */
	int		 fd;
	struct event	*ev;
	struct smtp_session *sess;
	bool		 from_cache;
	struct dns_mx_query *mq;
	struct dns_tlsa_query *tq;
	long long	 sessions;
	bool		 reached;	/* some connection was established */
	bool		 other_fail;	/* a failure other than connecting */
	char		 last_dsn[16];
	char		*last_text;
	char		*relay;
};

static size_t ndlv;

static void next_host(struct dlv *d);
static void resolve(struct dlv *d);
static void connect_host(struct dlv *d);
static smtp_session_sent_fn on_sent;

size_t
smtp_deliver_count(void)
{
	return ndlv;
}

/* A DSN code of the class of status, from dsn when it fits. */
static void
fix_dsn(enum deliver_status st, const char *dsn, char out[16])
{
	char cls = st == DELIVER_SENT ? '2' : st == DELIVER_BOUNCE ? '5' :
	    '4';

	if (dsn != NULL && dsn[0] == cls && dsn[1] == '.' &&
	    strlen(dsn) < 16)
		(void)str_copy(out, dsn, 16);
	else
		(void)str_fmt_buf(out, 16, "%c.0.0", cls);
}

static const char *
relay_name(const struct dlv *d)
{
	return d->relay != NULL ? d->relay : "none";
}

/* Recipient k's final result: into the reply, and logged. */
static void
rcpt_final(struct dlv *d, size_t k, enum deliver_status st, const char *dsn,
    const char *text)
{
	char code[16];

	if (d->rcpt[k].done)
		return;
	fix_dsn(st, dsn, code);
	if (text == NULL || *text == '\0')
		text = st == DELIVER_SENT ? "delivered" : "delivery failed";
	d->rcpt[k].done = true;
	d->nopen--;
	deliver_reply_set(d->reply, k, st, code, text);
	deliver_log(d->req, d->req->rcpt.v[k], NULL, relay_name(d),
	    d->start_us, d->conn_us, st, code, text);
}

static void set_last(struct dlv *d, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The failure the recipients still open get when the hosts run out. */
static void
set_last(struct dlv *d, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	fix_dsn(DELIVER_DEFER, dsn, d->last_dsn);
	free(d->last_text);
	va_start(ap, fmt);
	d->last_text = xvasprintf(fmt, ap);
	va_end(ap);
}

static void
free_tlsa(struct dlv *d)
{
	size_t i;

	for (i = 0; i < d->ntlsa; i++)
		free(d->tlsa_data[i]);
	free(d->tlsa_data);
	free(d->tlsa);
	d->tlsa = NULL;
	d->tlsa_data = NULL;
	d->ntlsa = 0;
}

static void
free_match(struct dlv *d)
{
	size_t i;

	for (i = 0; i < d->nmatch; i++)
		free(d->match[i]);
	free(d->match);
	d->match = NULL;
	d->nmatch = 0;
}

static void
wipe_free(char **sp)
{
	if (*sp != NULL) {
		explicit_bzero(*sp, strlen(*sp));
		free(*sp);
		*sp = NULL;
	}
}

/* Every open recipient gets status; the request is over. */
static void
finish_all(struct dlv *d, enum deliver_status st, const char *dsn,
    const char *text)
{
	size_t k, i;

	for (k = 0; k < d->req->rcpt.n; k++)
		rcpt_final(d, k, st, dsn, text);
	if (d->relay != NULL) {
		free(d->reply->relay);
		d->reply->relay = xstrdup(d->relay);
	}
	ASSERT(d->sess == NULL && d->fd == -1 && d->mq == NULL &&
	    d->tq == NULL);
	for (i = 0; i < d->naddrs; i++) {
		free(d->addrs[i].host);
		free(d->addrs[i].addr);
	}
	free(d->addrs);
	free(d->rcpt);
	free(d->idx);
	free(d->results);
	free(d->cache_key);
	free(d->last_text);
	free(d->relay);
	free(d->servername);
	free_tlsa(d);
	free_match(d);
	if (d->have_policy)
		tls_policy_deinit(&d->policy);
	wipe_free(&d->sasl_user);
	wipe_free(&d->sasl_pass);
	wipe_free(&d->host_user);
	wipe_free(&d->host_pass);
	ndlv--;
	d->done(d->done_ctx);
	free(d);
}

/* The hosts ran out: the recipients still open are deferred. */
static void
finish(struct dlv *d)
{
	if (d->nopen > 0) {
		/* No host could be reached at all: qmgr suspends the
		   destination (deliver.h). */
		if (!d->reached && !d->other_fail && d->naddrs > 0)
			d->reply->dead = true;
		if (d->last_text == NULL)
			set_last(d, "4.4.1", "no server for %s could be tried",
			    d->nh.key);
	}
	finish_all(d, DELIVER_DEFER, d->last_dsn, d->last_text);
}

/*
 * Looks key up in maps: 1 found (value_r), 0 not, -1 error (text in
 * err_r).
 */
static int
maps_lookup(struct dict **maps, size_t n, const char *key,
    const char **value_r, const char **err_r)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = dict_lookup(maps[i], key, value_r, err_r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* "user:password" into user_r/pass_r; -1 when malformed. */
static int
split_credentials(const char *value, char **user_r, char **pass_r)
{
	const char *colon = strchr(value, ':');

	if (colon == NULL || colon == value)
		return -1;
	*user_r = xstrndup(value, (size_t)(colon - value));
	*pass_r = xstrdup(colon + 1);
	return 0;
}

/* The TLS policy and next-hop credentials; -1 when the request is over. */
static int
destination_setup(struct dlv *d)
{
	const char *value, *err;
	int rc;

	d->level = smtp_conf.tls_level;
	rc = maps_lookup(smtp_conf.tls_policy, smtp_conf.ntls_policy,
	    d->nh.key, &value, &err);
	if (rc == -1) {
		finish_all(d, DELIVER_DEFER, "4.3.0", "smtp_tls_policy_maps "
		    "lookup error");
		log_qid_warn(d->req->queue_id, "smtp_tls_policy_maps lookup "
		    "for %s: %s", d->nh.key, err);
		return -1;
	}
	if (rc == 1) {
		if (tls_policy_parse(value, &d->policy, &err) == -1) {
			log_qid_warn(d->req->queue_id, "smtp_tls_policy_maps "
			    "entry for %s: %s", d->nh.key, err);
			finish_all(d, DELIVER_DEFER, "4.3.5", "configuration "
			    "error in smtp_tls_policy_maps");
			return -1;
		}
		d->have_policy = true;
		d->level = d->policy.level;
	}
	if (d->level != TLS_LEV_NONE && smtp_tls == NULL) {
		if (d->level == TLS_LEV_MAY) {
			d->level = TLS_LEV_NONE;
		} else {
			finish_all(d, DELIVER_DEFER, "4.7.5", "TLS is "
			    "required but the TLS client is not available "
			    "(see earlier warnings)");
			return -1;
		}
	}
	if (smtp_conf.sasl_enable) {
		rc = maps_lookup(smtp_conf.sasl_passwd,
		    smtp_conf.nsasl_passwd, d->nh.key, &value, &err);
		if (rc == -1) {
			log_qid_warn(d->req->queue_id, "smtp_sasl_password_"
			    "maps lookup for %s: %s", d->nh.key, err);
			finish_all(d, DELIVER_DEFER, "4.3.0",
			    "smtp_sasl_password_maps lookup error");
			return -1;
		}
		if (rc == 1) {
			if (split_credentials(value, &d->sasl_user,
			    &d->sasl_pass) == -1) {
				log_qid_warn(d->req->queue_id, "smtp_sasl_"
				    "password_maps entry for %s is not "
				    "user:password", d->nh.key);
				finish_all(d, DELIVER_DEFER, "4.3.5",
				    "configuration error in "
				    "smtp_sasl_password_maps");
				return -1;
			}
			d->sasl_nexthop = true;
		}
	}
	d->cache_key = smtp_cache_key(d->req->transport, d->nh.key, d->level);
	return 0;
}

/* Credentials for host when none were found for the next hop. */
static int
host_credentials(struct dlv *d, const char *host)
{
	const char *value, *err;
	int rc;

	wipe_free(&d->host_user);
	wipe_free(&d->host_pass);
	if (!smtp_conf.sasl_enable || d->sasl_nexthop)
		return 0;
	rc = maps_lookup(smtp_conf.sasl_passwd, smtp_conf.nsasl_passwd, host,
	    &value, &err);
	if (rc == -1) {
		log_qid_warn(d->req->queue_id, "smtp_sasl_password_maps "
		    "lookup for %s: %s", host, err);
		set_last(d, "4.3.0", "smtp_sasl_password_maps lookup error");
		return -1;
	}
	if (rc == 1 && split_credentials(value, &d->host_user,
	    &d->host_pass) == -1) {
		log_qid_warn(d->req->queue_id, "smtp_sasl_password_maps "
		    "entry for %s is not user:password", host);
		set_last(d, "4.3.5", "configuration error in "
		    "smtp_sasl_password_maps");
		return -1;
	}
	return 0;
}

/* The certificate names to match for the current host and level. */
static void
expand_match(struct dlv *d, const struct addr *a)
{
	char *const *src = NULL;
	size_t i, n = 0;

	free_match(d);
	switch (d->host_level) {
	case TLS_LEV_DANE:
		/* RFC 7672 §3.2.2: the TLSA base domain. */
		d->match = xcalloc(1, sizeof(*d->match));
		d->match[0] = xstrdup(a->host);
		d->nmatch = 1;
		return;
	case TLS_LEV_VERIFY:
		src = smtp_conf.verify_match;
		break;
	case TLS_LEV_SECURE:
		src = smtp_conf.secure_match;
		break;
	default:
		return;
	}
	if (d->have_policy && d->policy.match != NULL)
		src = d->policy.match;
	if (src == NULL)
		return;
	while (src[n] != NULL)
		n++;
	d->match = xcalloc(xadd(n, 1), sizeof(*d->match));
	for (i = 0; i < n; i++) {
		if (str_eq_ci(src[i], "hostname"))
			d->match[i] = xstrdup(a->host);
		else if (str_eq_ci(src[i], "nexthop"))
			d->match[i] = xstrdup(d->nh.host);
		else if (str_eq_ci(src[i], "dot-nexthop"))
			d->match[i] = xasprintf(".%s", d->nh.host);
		else
			d->match[i] = xstrdup(src[i]);
	}
	d->nmatch = n;
}

static void
send_msg(struct dlv *d)
{
	size_t k, n = 0;

	free(d->idx);
	free(d->results);
	d->idx = xcalloc(d->nopen, sizeof(*d->idx));
	d->results = xcalloc(d->nopen, sizeof(*d->results));
	for (k = 0; k < d->req->rcpt.n; k++)
		if (!d->rcpt[k].done)
			d->idx[n++] = k;
	d->nsend = n;
	smtp_session_send(d->sess, d->req, d->idx, n, d->results,
	    on_sent, d);
}

static void
on_sent(void *ctx, struct smtp_session *s, bool reusable)
{
	struct dlv *d = ctx;
	struct smtp_rcpt_result *r;
	size_t i;

	for (i = 0; i < d->nsend; i++) {
		r = &d->results[i];
		switch (r->status) {
		case SMTP_RCPT_SENT:
			rcpt_final(d, d->idx[i], DELIVER_SENT, r->dsn,
			    r->text);
			break;
		case SMTP_RCPT_HARD:
			rcpt_final(d, d->idx[i], DELIVER_BOUNCE, r->dsn,
			    r->text);
			break;
		case SMTP_RCPT_SOFT:
			set_last(d, r->dsn, "%s",
			    r->text != NULL ? r->text : "delivery failed");
			break;
		case SMTP_RCPT_TODO:
			break;
		}
		smtp_rcpt_result_deinit(r);
	}
	d->nsend = 0;
	d->sess = NULL;
	if (reusable && d->nopen == 0)
		(void)smtp_cache_put(d->cache_key, &s);
	else
		smtp_session_close(&s);
	if (d->nopen == 0) {
		finish(d);
		return;
	}
	if (d->from_cache) {
		/* The cached connection did not take them all: look the
		   destination up as for a new connection. */
		d->from_cache = false;
		resolve(d);
		return;
	}
	d->cur++;
	next_host(d);
}

static void
on_reset(void *ctx, struct smtp_session *s, bool ok)
{
	struct dlv *d = ctx;

	if (!ok) {
		/* RFC 5321 §4.1.1.5: RSET failed; start afresh. */
		smtp_session_close(&s);
		d->from_cache = false;
		resolve(d);
		return;
	}
	d->sess = s;
	d->reached = true;
	free(d->relay);
	d->relay = xstrdup(smtp_session_relay(s));
	send_msg(d);
}

static void
add_addr(struct dlv *d, const char *host, const char *addr, int family,
    unsigned port, bool secure)
{
	struct addr *a;

	d->addrs = xreallocarray(d->addrs, xadd(d->naddrs, 1),
	    sizeof(*d->addrs));
	a = &d->addrs[d->naddrs++];
	a->host = xstrdup(host);
	a->addr = xstrdup(addr);
	a->family = family;
	a->port = port;
	a->secure = secure;
}

static void
on_mx(void *ctx, const struct dns_mx_result *r)
{
	struct dlv *d = ctx;
	const char *why = r->why != NULL ? r->why : "name service error";
	size_t i;

	d->mq = NULL;
	switch (r->status) {
	case DNS_OK:
		for (i = 0; i < r->n; i++)
			add_addr(d, r->addrs[i].host, r->addrs[i].addr,
			    r->addrs[i].family, d->nh.port,
			    r->addrs[i].secure);
		next_host(d);
		return;
	case DNS_NOTFOUND:
		if (r->null_mx)		/* RFC 7505 §3 */
			finish_all(d, DELIVER_BOUNCE, "5.1.10", why);
		else if (r->loops)	/* RFC 5321 §5.1 */
			finish_all(d, DELIVER_BOUNCE, "5.4.6", why);
		else
			finish_all(d, DELIVER_BOUNCE, "5.4.4", why);
		return;
	case DNS_TEMPFAIL:
		break;
	}
	finish_all(d, DELIVER_DEFER, "4.4.3", why);
}

/* The addresses of the next hop, then the first host. */
static void
resolve(struct dlv *d)
{
	const char *err;
	char *text;

	if (d->resolved) {
		next_host(d);
		return;
	}
	d->resolved = true;
	switch (d->nh.kind) {
	case SMTP_NH_UNIX:
		add_addr(d, smtp_conf.mx.nlocal > 0 ?
		    smtp_conf.mx.local_names[0] : "localhost", d->nh.path,
		    AF_UNIX, 0, false);
		next_host(d);
		return;
	case SMTP_NH_ADDR:
		add_addr(d, d->nh.host, d->nh.host, d->nh.family, d->nh.port,
		    false);
		next_host(d);
		return;
	case SMTP_NH_MX:
	case SMTP_NH_HOST:
		break;
	}
	d->mq = dns_mx_lookup(d->nh.host,
	    d->nh.kind == SMTP_NH_MX ? DNS_MX_USE_MX : 0, &smtp_conf.mx,
	    on_mx, d, &err);
	if (d->mq == NULL) {
		text = xasprintf("cannot look up %s: %s", d->nh.host, err);
		finish_all(d, DELIVER_DEFER, "4.4.3", text);
		free(text);
	}
}

static void
on_tlsa(void *ctx, const struct dns_tlsa_result *r)
{
	struct dlv *d = ctx;
	const struct addr *a = &d->addrs[d->cur];
	size_t i;

	d->tq = NULL;
	if (r->status == DNS_TEMPFAIL) {
		/* RFC 7672 §2.1.1: this host fails, another may do. */
		set_last(d, "4.7.5", "TLSA lookup error for %s:%u", a->host,
		    a->port);
		d->other_fail = true;
		d->cur++;
		next_host(d);
		return;
	}
	if (r->status == DNS_OK && r->secure) {
		if (r->n == 0) {
			/* RFC 7672 §2.2: TLSA records exist but none is
			   usable: TLS stays mandatory. */
			d->host_level = TLS_LEV_ENCRYPT;
		} else {
			d->tlsa = xcalloc(r->n, sizeof(*d->tlsa));
			d->tlsa_data = xcalloc(r->n, sizeof(*d->tlsa_data));
			for (i = 0; i < r->n; i++) {
				d->tlsa[i] = r->records[i];
				d->tlsa_data[i] = xmalloc(r->records[i].len +
				    1);
				if (r->records[i].len > 0)
					memcpy(d->tlsa_data[i],
					    r->records[i].data,
					    r->records[i].len);
				d->tlsa[i].data = d->tlsa_data[i];
			}
			d->ntlsa = r->n;
		}
	} else {
		/* RFC 7672 §2.2: no secure TLSA records: opportunistic. */
		d->host_level = TLS_LEV_MAY;
		d->dane_fallback = true;
	}
	connect_host(d);
}

/* The TLS level of the current host (TLSA for dane), then connect. */
static void
host_setup(struct dlv *d)
{
	const struct addr *a = &d->addrs[d->cur];
	const char *err;

	d->plain = false;
	d->dane_fallback = false;
	d->host_level = d->level;
	free_tlsa(d);
	if (host_credentials(d, a->host) == -1) {
		d->other_fail = true;
		d->cur++;
		next_host(d);
		return;
	}
	if (d->host_level != TLS_LEV_DANE) {
		connect_host(d);
		return;
	}
	/* RFC 7672 §2.2: TLSA records count only when the MX RRset (if
	   MX was used) and the address are DNSSEC-validated. */
	if (a->family == AF_UNIX || d->nh.kind == SMTP_NH_ADDR ||
	    !a->secure) {
		d->host_level = TLS_LEV_MAY;
		d->dane_fallback = true;
		connect_host(d);
		return;
	}
	d->tq = dns_tlsa_lookup(a->host, a->port, on_tlsa, d, &err);
	if (d->tq == NULL) {
		set_last(d, "4.7.5", "TLSA lookup error for %s:%u", a->host,
		    a->port);
		d->other_fail = true;
		d->cur++;
		next_host(d);
	}
}

static void
next_host(struct dlv *d)
{
	const struct addr *a;
	int64_t now = (int64_t)time(NULL);

	for (;;) {
		if (d->nopen == 0 || d->cur >= d->naddrs ||
		    (smtp_conf.mx_session_limit > 0 &&
		    d->sessions >= smtp_conf.mx_session_limit)) {
			finish(d);
			return;
		}
		a = &d->addrs[d->cur];
		if (!smtp_hosts_dead(a->addr, a->port, now))
			break;
		if (d->last_text == NULL)
			set_last(d, "4.4.1", "connect to %s[%s]:%u: server "
			    "unreachable a moment ago", a->host, a->addr,
			    a->port);
		d->cur++;
	}
	host_setup(d);
}

/* The connection to the current address failed (err: errno). */
static void
connect_failed(struct dlv *d, int err)
{
	const struct addr *a = &d->addrs[d->cur];

	if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	if (d->fd != -1) {
		(void)close(d->fd);
		d->fd = -1;
	}
	d->conn_us += deliver_now_us() - d->conn_t0;
	if (a->family == AF_UNIX)
		set_last(d, "4.4.1", "connect to %s[%s]: %s", a->host, a->addr,
		    strerror(err));
	else
		set_last(d, "4.4.1", "connect to %s[%s]:%u: %s", a->host,
		    a->addr, a->port, strerror(err));
	smtp_hosts_mark_dead(a->addr, a->port, (int64_t)time(NULL),
	    smtp_conf.dead_host_time);
	d->cur++;
	next_host(d);
}

static void
on_open(void *ctx, struct smtp_session *s, const struct smtp_fail *fail)
{
	struct dlv *d = ctx;
	const struct addr *a = &d->addrs[d->cur];

	d->conn_us += deliver_now_us() - d->conn_t0;
	if (s != NULL) {
		smtp_hosts_alive(a->addr, a->port);
		d->sess = s;
		free(d->relay);
		d->relay = xstrdup(smtp_session_relay(s));
		if (d->dane_fallback)
			log_qid_info(d->req->queue_id, "no secure TLSA records "
			    "for %s[%s]:%u: opportunistic TLS", a->host,
			    a->addr, a->port);
		send_msg(d);
		return;
	}
	set_last(d, fail->dsn, "%s", fail->text != NULL ? fail->text :
	    "session failed");
	if (fail->retry_plain && !d->plain) {
		/* A failed opportunistic handshake: once more without TLS
		   on the same address (Postfix does the same). */
		d->plain = true;
		connect_host(d);
		return;
	}
	/* A greeting or EHLO failure makes the host dead for a while; a
	   TLS or authentication failure (X.7.Y) says nothing about it. */
	if (fail->dsn[0] == '\0' || fail->dsn[1] != '.' ||
	    fail->dsn[2] != '7')
		smtp_hosts_mark_dead(a->addr, a->port, (int64_t)time(NULL),
		    smtp_conf.dead_host_time);
	else
		d->other_fail = true;
	if (fail->hard && !smtp_conf.skip_5xx_greeting) {
		finish_all(d, DELIVER_BOUNCE, fail->dsn, fail->text);
		return;
	}
	d->cur++;
	next_host(d);
}

static void
on_connect_ev(evutil_socket_t fd, short what, void *arg)
{
	struct dlv *d = arg;
	const struct addr *a = &d->addrs[d->cur];
	struct smtp_target t;
	socklen_t len = sizeof(int);
	int err = 0;

	if (what & EV_TIMEOUT) {
		connect_failed(d, ETIMEDOUT);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		connect_failed(d, err);
		return;
	}
	event_free(d->ev);
	d->ev = NULL;
	if (!d->plain)
		d->sessions++;
	d->reached = true;
	/* Postfix names the server in relay= once it was connected to,
	   also when the session fails later (e.g. AUTH). */
	free(d->relay);
	if (a->family == AF_UNIX)
		d->relay = xasprintf("%s[%s]", a->host, a->addr);
	else
		d->relay = xasprintf("%s[%s]:%u", a->host, a->addr, a->port);

	memset(&t, 0, sizeof(t));
	t.host = a->host;
	t.addr = a->addr;
	t.port = a->port;
	t.nexthop = d->nh.key;
	t.tls.level = d->plain ? TLS_LEV_NONE : d->host_level;
	expand_match(d, a);
	free(d->servername);
	d->servername = NULL;
	if (str_eq_ci(smtp_conf.servername, "hostname"))
		d->servername = xstrdup(a->host);
	else if (str_eq_ci(smtp_conf.servername, "nexthop"))
		d->servername = xstrdup(d->nh.host);
	else if (smtp_conf.servername[0] != '\0')
		d->servername = xstrdup(smtp_conf.servername);
	/* RFC 7672 §8.1: DANE clients send SNI with the TLSA base domain. */
	if (d->servername == NULL && t.tls.level == TLS_LEV_DANE)
		d->servername = xstrdup(a->host);
	t.tls.servername = d->servername;
	t.tls.match = (const char *const *)d->match;
	t.tls.nmatch = d->nmatch;
	t.tls.tlsa = d->tlsa;
	t.tls.ntlsa = d->ntlsa;
	if (d->have_policy) {
		t.tls.protocols = d->policy.protocols;
		t.tls.ciphers = d->policy.ciphers;
	}
	t.dane_fallback = d->dane_fallback;
	t.sasl_user = d->sasl_nexthop ? d->sasl_user : d->host_user;
	t.sasl_pass = d->sasl_nexthop ? d->sasl_pass : d->host_pass;
	d->fd = -1;
	smtp_session_open(fd, &t, on_open, d);
}

/* Bind to smtp_bind_address(6) when set; -1 with errno. */
static int
bind_local(int fd, int family)
{
	struct sockaddr_storage ss;
	const char *addr = family == AF_INET ? smtp_conf.bind_addr :
	    smtp_conf.bind_addr6;
	socklen_t len;

	if (addr == NULL || *addr == '\0')
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return -1;
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return -1;
		len = sizeof(*sin6);
	}
	return bind(fd, (struct sockaddr *)&ss, len);
}

static void
connect_host(struct dlv *d)
{
	const struct addr *a = &d->addrs[d->cur];
	struct sockaddr_storage ss;
	struct timeval tv = { 0, 0 };
	socklen_t len = 0;
	int rc;

	d->conn_t0 = deliver_now_us();
	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		sun->sun_family = AF_UNIX;
		if (str_copy(sun->sun_path, a->addr, sizeof(sun->sun_path)) >=
		    sizeof(sun->sun_path)) {
			connect_failed(d, ENAMETOOLONG);
			return;
		}
		len = sizeof(*sun);
	} else if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET, a->addr, &sin->sin_addr) != 1) {
			connect_failed(d, EINVAL);
			return;
		}
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET6, a->addr, &sin6->sin6_addr) != 1) {
			connect_failed(d, EINVAL);
			return;
		}
		len = sizeof(*sin6);
	}
	d->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (d->fd == -1) {
		connect_failed(d, errno);
		return;
	}
	if (a->family != AF_UNIX && bind_local(d->fd, a->family) == -1) {
		connect_failed(d, errno);
		return;
	}
	rc = connect(d->fd, (struct sockaddr *)&ss, len);
	if (rc == -1 && errno != EINPROGRESS) {
		/* A UNIX socket with a full backlog says EAGAIN. */
		connect_failed(d, errno);
		return;
	}
	/* Connected or not: the answer comes from the loop. */
	d->ev = event_new(smtp_base(), d->fd, EV_WRITE, on_connect_ev, d);
	tv.tv_sec = (time_t)smtp_conf.connect_timeout;
	if (d->ev == NULL || event_add(d->ev, &tv) == -1)
		fatal("cannot watch an outgoing connection");
}

void
smtp_deliver_start(const struct deliver_request *req,
    struct deliver_reply *reply, smtp_deliver_done_fn *done, void *ctx)
{
	struct dlv *d = xcalloc(1, sizeof(*d));
	const char *err;
	char *text, *esc;

	ndlv++;
	d->req = req;
	d->reply = reply;
	d->done = done;
	d->done_ctx = ctx;
	d->fd = -1;
	d->start_us = deliver_now_us();
	d->rcpt = xcalloc(req->rcpt.n == 0 ? 1 : req->rcpt.n,
	    sizeof(*d->rcpt));
	d->nopen = req->rcpt.n;
	deliver_reply_alloc(reply, req->rcpt.n, "none");

	if (smtp_nexthop_parse(req->nexthop, smtp_conf.lmtp, smtp_conf.port,
	    smtp_conf.queue_dir, &d->nh, &err) == -1) {
		esc = log_escape_str(req->nexthop != NULL ? req->nexthop : "");
		text = xasprintf("configuration error: next hop \"%s\": %s",
		    esc, err);
		free(esc);
		finish_all(d, DELIVER_DEFER, "4.3.5", text);
		free(text);
		return;
	}
	if (destination_setup(d) == -1)
		return;
	d->from_cache = true;
	d->sess = smtp_cache_take(d->cache_key);
	if (d->sess != NULL) {
		struct smtp_session *s = d->sess;

		d->sess = NULL;
		smtp_session_reset(s, on_reset, d);
		return;
	}
	d->from_cache = false;
	resolve(d);
}

static void
job_done(void *ctx)
{
	deliver_done(ctx);
}

void
smtp_deliver(const struct deliver_request *req, struct deliver_reply *reply,
    struct deliver_job *job)
{
	smtp_deliver_start(req, reply, job_done, job);
}
