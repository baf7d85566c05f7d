/* SPDX-License-Identifier: MIT */
/*
 * smtpd's restriction lists: parsed once from main.cf, then evaluated for
 * each stage of a session (see smtpd_check.h for the rules).  Access
 * tables live in smtpd_check_access.c, our domains and recipients in
 * smtpd_check_rcpt.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "dict.h"
#include "log.h"
#include "mail_conf.h"
#include "netmatch.h"
#include "str.h"
#include "xalloc.h"

#include "smtpd_check_priv.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum restr_kind {
	R_PERMIT,
	R_REJECT,
	R_DEFER,
	R_PERMIT_MYNETWORKS,
	R_PERMIT_SASL,
	R_PERMIT_AUTH_DEST,
	R_REJECT_UNAUTH_DEST,
	R_DEFER_UNAUTH_DEST,
	R_REJECT_UNLISTED_RCPT,
	R_REJECT_NON_FQDN_SENDER,
	R_REJECT_NON_FQDN_RCPT,
	R_REJECT_NON_FQDN_HELO,
	R_REJECT_INVALID_HELO,
	R_REJECT_UNKNOWN_SENDER_DOMAIN,
	R_REJECT_SENDER_LOGIN_MISMATCH,
	R_CHECK_CLIENT,
	R_CHECK_HELO,
	R_CHECK_SENDER,
	R_CHECK_RCPT,
};

static const struct {
	const char	*name;
	enum restr_kind	 kind;
} restr_names[] = {
	{ "permit",			R_PERMIT },
	{ "reject",			R_REJECT },
	{ "defer",			R_DEFER },
	{ "permit_mynetworks",		R_PERMIT_MYNETWORKS },
	{ "permit_sasl_authenticated",	R_PERMIT_SASL },
	{ "permit_auth_destination",	R_PERMIT_AUTH_DEST },
	{ "reject_unauth_destination",	R_REJECT_UNAUTH_DEST },
	{ "defer_unauth_destination",	R_DEFER_UNAUTH_DEST },
	{ "reject_unlisted_recipient",	R_REJECT_UNLISTED_RCPT },
	{ "reject_non_fqdn_sender",	R_REJECT_NON_FQDN_SENDER },
	{ "reject_non_fqdn_recipient",	R_REJECT_NON_FQDN_RCPT },
	{ "reject_non_fqdn_helo_hostname", R_REJECT_NON_FQDN_HELO },
	{ "reject_non_fqdn_hostname",	R_REJECT_NON_FQDN_HELO },
	{ "reject_invalid_helo_hostname", R_REJECT_INVALID_HELO },
	{ "reject_invalid_hostname",	R_REJECT_INVALID_HELO },
	{ "reject_unknown_sender_domain", R_REJECT_UNKNOWN_SENDER_DOMAIN },
	{ "reject_sender_login_mismatch", R_REJECT_SENDER_LOGIN_MISMATCH },
	{ "check_client_access",	R_CHECK_CLIENT },
	{ "check_helo_access",		R_CHECK_HELO },
	{ "check_sender_access",	R_CHECK_SENDER },
	{ "check_recipient_access",	R_CHECK_RCPT },
};

struct restr {
	enum restr_kind	 kind;
	struct dict	*table;
};

enum list_id { L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RECIPIENT, L_DATA,
	L_COUNT };

static const struct {
	const char	*param;
	const char	*class;		/* "<x>: Class rejected: ..." */
	enum restr_kind	 bare_table;	/* what a bare type:table means */
} list_defs[L_COUNT] = {
	{ "smtpd_client_restrictions", "Client host", R_CHECK_CLIENT },
	{ "smtpd_helo_restrictions", "Helo command", R_CHECK_HELO },
	{ "smtpd_sender_restrictions", "Sender address", R_CHECK_SENDER },
	{ "smtpd_relay_restrictions", "Recipient address", R_CHECK_RCPT },
	{ "smtpd_recipient_restrictions", "Recipient address", R_CHECK_RCPT },
	{ "smtpd_data_restrictions", "Data command", R_PERMIT },
};

struct rlist {
	struct restr	*v;
	size_t		 n;
};

static struct {
	bool		 ready;
	bool		 broken;
	bool		 delay_reject;
	bool		 reject_unlisted;
	struct rlist	 lists[L_COUNT];
	struct netmatch	*mynetworks;
	struct netmatch	*exceptions;
} sc;

static char check_err[1024];

/* Replies. */

enum sc_verdict
sc_reply(struct smtpd_check_reply *r, int code, const char *dsn,
    const char *fmt, ...)
{
	char text[SMTPD_CHECK_TEXT_MAX], d[16];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	str_copy(d, dsn, sizeof(d));
	/* The enhanced code's class follows the reply code (RFC 2034). */
	d[0] = (char)('0' + code / 100);
	r->code = code;
	n = str_copy(r->text, d, sizeof(r->text));
	if (n + 1 < sizeof(r->text)) {
		r->text[n++] = ' ';
		str_copy(r->text + n, text, sizeof(r->text) - n);
	}
	return SC_REJECT;
}

enum sc_verdict
sc_config_error(struct smtpd_check_reply *r)
{
	return sc_reply(r, 451, "4.3.5", "Server configuration error");
}

enum sc_verdict
sc_lookup_error(struct smtpd_check_reply *r, const char *what)
{
	return sc_reply(r, 451, "4.3.0", "<%s>: Temporary lookup failure",
	    what);
}

void
sc_show_addr(char *out, size_t size, const char *addr)
{
	const char *at, *err;
	struct buf b;
	char *local;

	if (addr == NULL || addr[0] == '\0') {
		str_copy(out, "", size);
		return;
	}
	at = strrchr(addr, '@');
	local = at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
	    xstrdup(addr);
	buf_init(&b, size);
	if (local[0] != '\0' && (at == NULL || at[1] != '\0') &&
	    str_is_printable(at != NULL ? at : "", at !=
	    NULL ? strlen(at) : 0) && addr_quote(&b, local, at != NULL ?
	    at + 1 : NULL, ADDR_SMTPUTF8, &err) == 0) {
		str_copy(out, buf_cstr(&b), size);
	} else {
		char *e = log_escape_str(addr);

		str_copy(out, e, size);
		free(e);
	}
	buf_deinit(&b);
	free(local);
}

/* The "<name>" of a list's generic replies (reject, defer). */
static void
list_name(enum list_id id, const struct smtpd_check_env *env, char *out,
    size_t size)
{
	char *e, *a;

	switch (id) {
	case L_CLIENT:
		e = log_escape_str(env->client_name != NULL ?
		    env->client_name : "unknown");
		a = log_escape_str(env->client_addr != NULL ?
		    env->client_addr : "unknown");
		(void)snprintf(out, size, "%s[%s]", e, a);
		free(e);
		free(a);
		break;
	case L_HELO:
		e = log_escape_str(env->helo != NULL ? env->helo : "");
		str_copy(out, e, size);
		free(e);
		break;
	case L_SENDER:
		sc_show_addr(out, size, env->sender);
		break;
	case L_RELAY:
	case L_RECIPIENT:
		sc_show_addr(out, size, env->rcpt);
		break;
	default:
		str_copy(out, "DATA", size);
		break;
	}
}

/* The restrictions that need no table. */

static enum sc_verdict
non_fqdn_address(const char *addr, const char *class,
    struct smtpd_check_reply *r)
{
	const char *at = strrchr(addr, '@');
	char shown[SMTPD_CHECK_TEXT_MAX / 2], *d;
	size_t n;
	bool ok;

	if (at != NULL && at[1] == '[')
		return SC_DUNNO;
	d = xstrdup(at != NULL ? at + 1 : "");
	n = strlen(d);
	if (n > 1 && d[n - 1] == '.' && d[n - 2] != '.')
		d[n - 1] = '\0';
	ok = addr_is_fqdn(d, ADDR_SMTPUTF8);
	free(d);
	if (ok)
		return SC_DUNNO;
	sc_show_addr(shown, sizeof(shown), addr);
	return sc_reply(r, 504, "5.5.2", "<%s>: %s rejected: need "
	    "fully-qualified address", shown, class);
}

/* HELO name checks; fqdn also asks for a dot.  A trailing dot is fine. */
static enum sc_verdict
helo_name(const char *helo, bool fqdn, struct smtpd_check_reply *r)
{
	unsigned char bytes[16];
	const char *err;
	char *name, *e;
	size_t n = strlen(helo);
	bool ok;
	int af;

	if (helo[0] == '[')
		ok = addr_valid_literal(helo, n, &err);
	else if (!fqdn && netmatch_parse_addr(helo, &af, bytes))
		ok = true;
	else {
		name = xstrdup(helo);
		if (n > 1 && name[n - 1] == '.' && name[n - 2] != '.')
			name[n - 1] = '\0';
		ok = addr_valid_hostname(name, &err) &&
		    (!fqdn || strchr(name, '.') != NULL);
		free(name);
	}
	if (ok)
		return SC_DUNNO;
	e = log_escape_str(helo);
	if (fqdn)
		sc_reply(r, 504, "5.5.2", "<%s>: Helo command rejected: need "
		    "fully-qualified hostname", e);
	else
		sc_reply(r, 501, "5.5.2", "<%s>: Helo command rejected: "
		    "Invalid name", e);
	free(e);
	return SC_REJECT;
}

static enum sc_verdict
unauth_destination(const struct smtpd_check_env *env, bool defer,
    struct smtpd_check_reply *r)
{
	char shown[SMTPD_CHECK_TEXT_MAX / 2];
	enum sc_class class;
	const char *err;

	if (sc_rcpt_class(env->rcpt, &class, &err) == -1) {
		log_warn("relay_domains lookup failed: %s", err);
		sc_show_addr(shown, sizeof(shown), env->rcpt);
		return sc_lookup_error(r, shown);
	}
	if (class != SC_CLASS_REMOTE)
		return SC_DUNNO;
	sc_show_addr(shown, sizeof(shown), env->rcpt);
	if (defer)
		return sc_reply(r, 450, "4.7.1", "<%s>: Relay access denied",
		    shown);
	return sc_reply(r, 554, "5.7.1", "<%s>: Relay access denied", shown);
}

static enum sc_verdict
unlisted_recipient(const struct smtpd_check_env *env,
    struct smtpd_check_reply *r)
{
	char shown[SMTPD_CHECK_TEXT_MAX / 2];
	enum sc_class class;
	const char *err, *table;
	int rc = sc_rcpt_known(env->rcpt, &class, &err);

	if (rc == 1)
		return SC_DUNNO;
	sc_show_addr(shown, sizeof(shown), env->rcpt);
	if (rc == -1) {
		log_warn("recipient table lookup failed: %s", err);
		return sc_lookup_error(r, shown);
	}
	table = class == SC_CLASS_VIRTUAL ? "virtual mailbox table" :
	    class == SC_CLASS_RELAY ? "relay recipient table" :
	    "local recipient table";
	return sc_reply(r, 550, "5.1.1", "<%s>: Recipient address rejected: "
	    "User unknown in %s", shown, table);
}

static enum sc_verdict
unknown_sender_domain(const struct smtpd_check_env *env,
    struct smtpd_check_reply *r)
{
	char shown[SMTPD_CHECK_TEXT_MAX / 2], *e;
	const char *at = strrchr(env->sender, '@'), *err;
	enum sc_class class;
	int code;

	if (at == NULL || at[1] == '[' || at[1] == '\0')
		return SC_DUNNO;
	if (sc_rcpt_class(env->sender, &class, &err) == -1) {
		log_warn("domain table lookup failed: %s", err);
		sc_show_addr(shown, sizeof(shown), env->sender);
		return sc_lookup_error(r, shown);
	}
	/* Our own domains need no DNS. */
	if (class == SC_CLASS_LOCAL || class == SC_CLASS_VIRTUAL)
		return SC_DUNNO;
	if (!env->sender_domain_done)
		return SC_PENDING;
	if (env->sender_domain_status == DNS_OK)
		return SC_DUNNO;
	sc_show_addr(shown, sizeof(shown), env->sender);
	if (env->sender_domain_status == DNS_TEMPFAIL)
		return sc_reply(r, 450, "4.1.8", "<%s>: Sender address "
		    "rejected: Domain not found", shown);
	if (env->sender_domain_null_mx) {
		e = log_escape_str(at + 1);
		sc_reply(r, 556, "5.7.27", "<%s>: Sender address rejected: "
		    "Domain %s does not accept mail (nullMX)", shown, e);
		free(e);
		return SC_REJECT;
	}
	code = (int)mail_conf_int("unknown_address_reject_code");
	return sc_reply(r, code, "5.1.8", "<%s>: Sender address rejected: "
	    "Domain not found", shown);
}

static enum sc_verdict
login_mismatch(const struct smtpd_check_env *env,
    struct smtpd_check_reply *r)
{
	char shown[SMTPD_CHECK_TEXT_MAX / 2], *e;
	const char *err;
	int rc;

	if (env->sasl_user != NULL)
		rc = sc_sender_owned(env->sender, env->sasl_user, &err);
	else if ((rc = sc_sender_listed(env->sender, &err)) >= 0)
		rc = !rc;	/* listed: only its owners may use it */
	if (rc == 1)
		return SC_DUNNO;
	sc_show_addr(shown, sizeof(shown), env->sender);
	if (rc == -1) {
		log_warn("smtpd_sender_login_maps lookup failed: %s", err);
		return sc_lookup_error(r, shown);
	}
	if (env->sasl_user == NULL)
		return sc_reply(r, 553, "5.7.1", "<%s>: Sender address "
		    "rejected: not logged in", shown);
	e = log_escape_str(env->sasl_user);
	sc_reply(r, 553, "5.7.1", "<%s>: Sender address rejected: not owned "
	    "by user %s", shown, e);
	free(e);
	return SC_REJECT;
}

/* One restriction of list id. */
static enum sc_verdict
eval(const struct restr *x, enum list_id id,
    const struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	char name[SMTPD_CHECK_TEXT_MAX / 2];
	const char *err;
	int rc;

	switch (x->kind) {
	case R_PERMIT:
		return SC_OK;
	case R_REJECT:
	case R_DEFER:
		list_name(id, env, name, sizeof(name));
		return sc_reply(r, x->kind == R_REJECT ? 554 : 450, "5.7.1",
		    "<%s>: %s rejected: Access denied", name,
		    list_defs[id].class);
	case R_PERMIT_MYNETWORKS:
		if (env->client_addr == NULL)
			return SC_DUNNO;
		rc = netmatch_match(sc.mynetworks, env->client_addr, &err);
		if (rc == -1) {
			log_warn("mynetworks lookup failed: %s", err);
			list_name(L_CLIENT, env, name, sizeof(name));
			return sc_lookup_error(r, name);
		}
		return rc == 1 ? SC_OK : SC_DUNNO;
	case R_PERMIT_SASL:
		return env->sasl_user != NULL ? SC_OK : SC_DUNNO;
	case R_PERMIT_AUTH_DEST:
		if (env->rcpt == NULL)
			return SC_DUNNO;
		return unauth_destination(env, false, r) == SC_DUNNO ? SC_OK :
		    SC_DUNNO;
	case R_REJECT_UNAUTH_DEST:
	case R_DEFER_UNAUTH_DEST:
		if (env->rcpt == NULL)
			return SC_DUNNO;
		return unauth_destination(env, x->kind == R_DEFER_UNAUTH_DEST,
		    r);
	case R_REJECT_UNLISTED_RCPT:
		return env->rcpt == NULL ? SC_DUNNO :
		    unlisted_recipient(env, r);
	case R_REJECT_NON_FQDN_SENDER:
		if (env->sender == NULL || env->sender[0] == '\0')
			return SC_DUNNO;
		return non_fqdn_address(env->sender, "Sender address", r);
	case R_REJECT_NON_FQDN_RCPT:
		return env->rcpt == NULL ? SC_DUNNO :
		    non_fqdn_address(env->rcpt, "Recipient address", r);
	case R_REJECT_NON_FQDN_HELO:
	case R_REJECT_INVALID_HELO:
		return env->helo == NULL ? SC_DUNNO : helo_name(env->helo,
		    x->kind == R_REJECT_NON_FQDN_HELO, r);
	case R_REJECT_UNKNOWN_SENDER_DOMAIN:
		if (env->sender == NULL || env->sender[0] == '\0')
			return SC_DUNNO;
		return unknown_sender_domain(env, r);
	case R_REJECT_SENDER_LOGIN_MISMATCH:
		return env->sender == NULL ? SC_DUNNO :
		    login_mismatch(env, r);
	case R_CHECK_CLIENT:
		return sc_access(x->table, SC_ACCESS_CLIENT, env, r);
	case R_CHECK_HELO:
		return env->helo == NULL ? SC_DUNNO :
		    sc_access(x->table, SC_ACCESS_HELO, env, r);
	case R_CHECK_SENDER:
		return env->sender == NULL ? SC_DUNNO :
		    sc_access(x->table, SC_ACCESS_SENDER, env, r);
	case R_CHECK_RCPT:
		return env->rcpt == NULL ? SC_DUNNO :
		    sc_access(x->table, SC_ACCESS_RECIPIENT, env, r);
	}
	return sc_config_error(r);
}

static enum sc_verdict
run_list(enum list_id id, const struct smtpd_check_env *env,
    struct smtpd_check_reply *r)
{
	const struct rlist *l = &sc.lists[id];
	enum sc_verdict v;

	for (size_t i = 0; i < l->n; i++)
		if ((v = eval(&l->v[i], id, env, r)) != SC_DUNNO)
			return v;
	return SC_DUNNO;
}

static enum smtpd_check_result
result(enum sc_verdict v)
{
	if (v == SC_REJECT)
		return SMTPD_CHECK_REJECT;
	if (v == SC_PENDING)
		return SMTPD_CHECK_PENDING;
	return SMTPD_CHECK_PASS;
}

/* True (with the reply) when the configuration cannot be used. */
static bool
unusable(struct smtpd_check_reply *r)
{
	if (sc.ready && !sc.broken)
		return false;
	sc_config_error(r);
	return true;
}

/* Parsing. */

static int
parse_list(enum list_id id, const char **err_r)
{
	const char *param = list_defs[id].param, *err;
	const struct strv *items = mail_conf_list(param);
	struct rlist *l = &sc.lists[id];
	char *e;

	l->v = xcalloc(items->n + 1, sizeof(*l->v));
	for (size_t i = 0; i < items->n; i++) {
		const char *it = items->v[i], *spec = NULL;
		struct restr *x = &l->v[l->n];
		size_t k;

		for (k = 0; k < NELEM(restr_names); k++)
			if (str_eq(it, restr_names[k].name))
				break;
		if (k < NELEM(restr_names)) {
			x->kind = restr_names[k].kind;
			if (x->kind >= R_CHECK_CLIENT) {
				if (i + 1 >= items->n ||
				    !dict_has_type(items->v[i + 1])) {
					*err_r = str_fmt_buf(check_err,
					    sizeof(check_err), "%s: %s needs "
					    "a type:table argument", param,
					    it);
					return -1;
				}
				spec = items->v[++i];
			}
		} else if (dict_has_type(it) &&
		    list_defs[id].bare_table != R_PERMIT) {
			x->kind = list_defs[id].bare_table;
			spec = it;
		} else {
			e = log_escape_str(it);
			*err_r = str_fmt_buf(check_err, sizeof(check_err),
			    "%s: unknown restriction \"%s\"", param, e);
			free(e);
			return -1;
		}
		if (spec != NULL) {
			x->table = dict_open(spec, DICT_FLAG_FOLD, &err);
			if (x->table == NULL) {
				*err_r = str_fmt_buf(check_err,
				    sizeof(check_err), "%s: %s", param, err);
				return -1;
			}
		}
		l->n++;
	}
	return 0;
}

/* SECURITY: Postfix's rule against an accidental open relay. */
static bool
has_relay_guard(void)
{
	static const enum list_id ids[] = { L_RELAY, L_RECIPIENT };

	for (size_t j = 0; j < NELEM(ids); j++) {
		const struct rlist *l = &sc.lists[ids[j]];

		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].kind == R_REJECT_UNAUTH_DEST ||
			    l->v[i].kind == R_DEFER_UNAUTH_DEST ||
			    l->v[i].kind == R_REJECT ||
			    l->v[i].kind == R_DEFER)
				return true;
	}
	return false;
}

static int
open_nets(struct netmatch **nmp, const char *param, const char **err_r)
{
	const char *err;

	*nmp = netmatch_new(mail_conf_list(param), &err);
	if (*nmp == NULL) {
		*err_r = str_fmt_buf(check_err, sizeof(check_err), "%s: %s",
		    param, err);
		return -1;
	}
	return 0;
}

int
smtpd_check_init(const char **err_r)
{
	int rc = 0;

	smtpd_check_deinit();
	sc.delay_reject = mail_conf_bool("smtpd_delay_reject");
	sc.reject_unlisted = mail_conf_bool("smtpd_reject_unlisted_recipient");
	for (int id = 0; id < L_COUNT && rc == 0; id++)
		rc = parse_list((enum list_id)id, err_r);
	if (rc == 0 && !has_relay_guard()) {
		*err_r = "in smtpd_relay_restrictions or "
		    "smtpd_recipient_restrictions, specify at least one of "
		    "reject_unauth_destination, defer_unauth_destination, "
		    "reject or defer";
		rc = -1;
	}
	if (rc == 0)
		rc = open_nets(&sc.mynetworks, "mynetworks", err_r);
	if (rc == 0)
		rc = open_nets(&sc.exceptions,
		    "smtpd_client_event_limit_exceptions", err_r);
	if (rc == 0)
		rc = sc_rcpt_init(err_r);
	sc.ready = true;
	if (rc == -1) {
		sc.broken = true;
		log_warn("%s; SMTP commands that are checked will get 451 "
		    "4.3.5 Server configuration error", *err_r);
	}
	return rc;
}

void
smtpd_check_deinit(void)
{
	for (int id = 0; id < L_COUNT; id++) {
		struct rlist *l = &sc.lists[id];

		for (size_t i = 0; i < l->n; i++)
			dict_free(&l->v[i].table);
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
	netmatch_free(&sc.mynetworks);
	netmatch_free(&sc.exceptions);
	sc_rcpt_deinit();
	sc.ready = sc.broken = false;
}

/* The stages. */

enum smtpd_check_result
smtpd_check_connect(struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	if (unusable(r))
		return SMTPD_CHECK_REJECT;
	if (sc.delay_reject)
		return SMTPD_CHECK_PASS;
	return result(run_list(L_CLIENT, env, r));
}

enum smtpd_check_result
smtpd_check_helo(struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	if (unusable(r))
		return SMTPD_CHECK_REJECT;
	if (sc.delay_reject)
		return SMTPD_CHECK_PASS;
	return result(run_list(L_HELO, env, r));
}

enum smtpd_check_result
smtpd_check_mail(struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	if (unusable(r))
		return SMTPD_CHECK_REJECT;
	if (sc.delay_reject)
		return SMTPD_CHECK_PASS;
	return result(run_list(L_SENDER, env, r));
}

enum smtpd_check_result
smtpd_check_rcpt(struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	static const enum list_id delayed[] = { L_CLIENT, L_HELO, L_SENDER };
	enum sc_verdict v;

	if (unusable(r))
		return SMTPD_CHECK_REJECT;
	if (env->rcpt == NULL)
		panic("smtpd_check_rcpt without a recipient");
	/* RFC 5321 §4.5.1: <postmaster> is always accepted. */
	if (str_eq_ci(env->rcpt, "postmaster"))
		return SMTPD_CHECK_PASS;
	if (sc.delay_reject) {
		for (size_t i = 0; i < NELEM(delayed); i++) {
			v = run_list(delayed[i], env, r);
			if (v == SC_REJECT || v == SC_PENDING)
				return result(v);
		}
	}
	v = run_list(L_RELAY, env, r);
	if (v == SC_REJECT || v == SC_PENDING)
		return result(v);
	v = run_list(L_RECIPIENT, env, r);
	if (v == SC_REJECT || v == SC_PENDING)
		return result(v);
	if (sc.reject_unlisted)
		return result(unlisted_recipient(env, r));
	return SMTPD_CHECK_PASS;
}

enum smtpd_check_result
smtpd_check_data(struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	if (unusable(r))
		return SMTPD_CHECK_REJECT;
	return result(run_list(L_DATA, env, r));
}

int
smtpd_check_rcpt_known(const char *rcpt)
{
	enum sc_class class;
	const char *err;
	int rc;

	if (!sc.ready || sc.broken)
		return -1;
	if ((rc = sc_rcpt_known(rcpt, &class, &err)) == -1)
		log_warn("recipient table lookup failed: %s", err);
	return rc;
}

bool
smtpd_check_limits_exempt(const char *addr)
{
	const char *err;
	int rc;

	if (!sc.ready || sc.broken || addr == NULL)
		return false;
	rc = netmatch_match(sc.exceptions, addr, &err);
	if (rc == -1)
		log_warn("smtpd_client_event_limit_exceptions lookup failed: "
		    "%s", err);
	return rc == 1;
}
