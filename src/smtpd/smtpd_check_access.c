/* SPDX-License-Identifier: MIT */
/*
 * check_client_access, check_helo_access, check_sender_access and
 * check_recipient_access: the keys each looks up, in Postfix's access(5)
 * order (see smtpd_check.h), and the actions a table may give.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dict.h"
#include "log.h"
#include "mail_conf.h"
#include "netmatch.h"
#include "qfile.h"
#include "str.h"
#include "xalloc.h"

#include "smtpd_check_priv.h"

/* Most keys one check looks up (a long domain has many parents). */
#define KEYS_MAX	(ADDR_DOMAIN_MAX + 16)

struct keys {
	struct strv	 v;
};

static void
add_key(struct keys *k, const char *key)
{
	if (k->v.n < KEYS_MAX)
		strv_push(&k->v, key);
}

/* d, then each parent domain as "parent" and ".parent". */
static void
add_domain(struct keys *k, const char *d)
{
	const char *p;
	char *dot;

	if (d[0] == '\0')
		return;
	add_key(k, d);
	if (d[0] == '[')
		return;
	for (p = strchr(d, '.'); p != NULL && p[1] != '\0';
	    p = strchr(p + 1, '.')) {
		add_key(k, p + 1);
		dot = xstrdup(p);
		add_key(k, dot);
		free(dot);
	}
}

/* Numeric address, then shorter prefixes: 1.2.3.4 1.2.3 1.2 1. */
static void
add_client_addr(struct keys *k, const char *addr)
{
	unsigned char bytes[16];
	char *copy, *p;
	int af;
	char sep;

	add_key(k, addr);
	if (!netmatch_parse_addr(addr, &af, bytes))
		return;
	sep = strchr(addr, ':') != NULL ? ':' : '.';
	copy = xstrdup(addr);
	while ((p = strrchr(copy, sep)) != NULL) {
		while (p > copy && p[-1] == sep)
			p--;
		*p = '\0';
		if (copy[0] == '\0')
			break;
		add_key(k, copy);
	}
	free(copy);
}

/* An address: full, unextended, domain and parents, local@, base@. */
static void
add_address(struct keys *k, const char *addr)
{
	const char *at = strrchr(addr, '@'), *ext;
	char *local, *key, *d;
	size_t base_len, n;
	bool has_ext;

	if (addr[0] == '\0') {
		add_key(k, "<>");
		return;
	}
	local = at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
	    xstrdup(addr);
	has_ext = addr_split_ext(local, mail_conf_get("recipient_delimiter"),
	    &base_len, &ext);
	add_key(k, addr);
	if (has_ext) {
		key = at != NULL ? xasprintf("%.*s%s", (int)base_len, local,
		    at) : xstrndup(local, base_len);
		add_key(k, key);
		free(key);
	}
	if (at != NULL) {
		n = strlen(at + 1);
		if (n > 1 && at[n] == '.' && at[n - 1] != '.')
			n--;
		d = xstrndup(at + 1, n);
		add_domain(k, d);
		free(d);
	}
	key = xasprintf("%s@", local);
	add_key(k, key);
	free(key);
	if (has_ext) {
		key = xasprintf("%.*s@", (int)base_len, local);
		add_key(k, key);
		free(key);
	}
	free(local);
}

/* Reply text from a table: printable, no control characters. */
static bool
text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

enum sc_verdict
sc_access_action(const char *value, const char *name, const char *class,
    struct smtpd_check_reply *r)
{
	char cmd[16], dsn[16], *e;
	const char *text;
	size_t n, dn;
	int code;

	value += strspn(value, " \t");
	n = strcspn(value, " \t");
	text = value + n;
	text += strspn(text, " \t");
	if (n == 0 || n >= sizeof(cmd))
		goto bad;
	memcpy(cmd, value, n);
	cmd[n] = '\0';
	if (str_eq_ci(cmd, "OK") || str_eq_ci(cmd, "PERMIT"))
		return SC_OK;
	if (str_eq_ci(cmd, "DUNNO"))
		return SC_DUNNO;
	if (str_eq_ci(cmd, "REJECT")) {
		code = (int)mail_conf_int("access_map_reject_code");
		str_copy(dsn, "5.7.1", sizeof(dsn));
	} else if (str_eq_ci(cmd, "DEFER")) {
		code = (int)mail_conf_int("access_map_defer_code");
		str_copy(dsn, "4.7.1", sizeof(dsn));
	} else if (n == 3 && (cmd[0] == '4' || cmd[0] == '5') &&
	    cmd[1] >= '0' && cmd[1] <= '9' && cmd[2] >= '0' &&
	    cmd[2] <= '9') {
		code = atoi(cmd);
		str_copy(dsn, cmd[0] == '4' ? "4.7.1" : "5.7.1", sizeof(dsn));
	} else {
		goto bad;
	}
	/* An enhanced status code may lead the text (RFC 2034). */
	dn = strcspn(text, " \t");
	if (dn > 0 && dn < sizeof(dsn) && text[0] >= '2' && text[0] <= '5' &&
	    text[1] == '.') {
		char tmp[16];

		memcpy(tmp, text, dn);
		tmp[dn] = '\0';
		if (qfile_dsn_valid(tmp)) {
			str_copy(dsn, tmp, sizeof(dsn));
			text += dn;
			text += strspn(text, " \t");
		}
	}
	/* Trailing white space is not part of the text. */
	n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (!text_ok(text))
		goto bad;
	if (n == 0)
		return sc_reply(r, code, dsn, "<%s>: %s rejected: "
		    "Access denied", name, class);
	return sc_reply(r, code, dsn, "<%s>: %s rejected: %.*s", name, class,
	    (int)n, text);

bad:
	e = log_escape_str(value);
	log_warn("access table: unsupported action \"%s\" for <%s> (%s)",
	    e, name, class);
	free(e);
	return sc_config_error(r);
}

enum sc_verdict
sc_access(struct dict *table, enum sc_access_kind kind,
    const struct smtpd_check_env *env, struct smtpd_check_reply *r)
{
	char name[ADDR_DOMAIN_MAX * 2 + 64];
	const char *class, *value = NULL, *err = NULL;
	enum sc_verdict v = SC_DUNNO;
	struct keys k;
	int rc = 0;

	strv_init(&k.v);
	switch (kind) {
	case SC_ACCESS_CLIENT: {
		char *e = log_escape_str(env->client_name != NULL ?
		    env->client_name : "unknown");
		char *a = log_escape_str(env->client_addr != NULL ?
		    env->client_addr : "unknown");

		(void)snprintf(name, sizeof(name), "%s[%s]", e, a);
		free(e);
		free(a);
		class = "Client host";
		if (env->client_addr != NULL)
			add_client_addr(&k, env->client_addr);
		if (env->client_name != NULL &&
		    !str_eq_ci(env->client_name, "unknown"))
			add_domain(&k, env->client_name);
		break;
	}
	case SC_ACCESS_HELO: {
		char *e = log_escape_str(env->helo);

		str_copy(name, e, sizeof(name));
		free(e);
		class = "Helo command";
		add_domain(&k, env->helo);
		break;
	}
	case SC_ACCESS_SENDER:
		sc_show_addr(name, sizeof(name), env->sender);
		class = "Sender address";
		add_address(&k, env->sender);
		break;
	case SC_ACCESS_RECIPIENT:
	default:
		sc_show_addr(name, sizeof(name), env->rcpt);
		class = "Recipient address";
		add_address(&k, env->rcpt);
		break;
	}
	for (size_t i = 0; i < k.v.n && rc == 0; i++)
		rc = dict_lookup(table, k.v.v[i], &value, &err);
	if (rc == -1) {
		log_warn("%s:%s: table lookup failed: %s", table->type,
		    table->name, err);
		v = sc_lookup_error(r, name);
	} else if (rc == 1) {
		v = sc_access_action(value, name, class, r);
	}
	strv_deinit(&k.v);
	return v;
}
