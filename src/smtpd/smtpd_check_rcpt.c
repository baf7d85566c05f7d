/* SPDX-License-Identifier: MIT */
/*
 * Which domains are ours and which of their recipients exist, for relay
 * control, reject_unlisted_recipient and VRFY; and which login may use
 * which sender address, for reject_sender_login_mismatch.
 *
 * mydestination and virtual_mailbox_domains take literal domain names
 * only, the same matching qmgr routes by (so smtpd never calls a domain
 * ours that qmgr would send elsewhere); relay_domains also takes
 * ".example.com" (the subdomains of example.com) and type:table (the
 * domain, then ".parent" for each of its parent domains, is looked up).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dict.h"
#include "log.h"
#include "mail_conf.h"
#include "str.h"
#include "xalloc.h"

#include "smtpd_check_priv.h"

static struct sc_domains mydest, vdomains, rdomains;
static struct sc_maps local_maps, virtual_maps, relay_maps, login_maps;
static char *delims;
static char rcpt_err[512];

int
sc_maps_open(struct sc_maps *m, const char *param, const char **err_r)
{
	const struct strv *l = mail_conf_list(param);
	const char *err;

	m->d = xcalloc(l->n + 1, sizeof(*m->d));
	m->n = 0;
	for (size_t i = 0; i < l->n; i++) {
		m->d[i] = dict_open(l->v[i], DICT_FLAG_FOLD, &err);
		if (m->d[i] == NULL) {
			*err_r = str_fmt_buf(rcpt_err, sizeof(rcpt_err),
			    "%s: %s", param, err);
			return -1;
		}
		m->n++;
	}
	return 0;
}

void
sc_maps_close(struct sc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		dict_free(&m->d[i]);
	free(m->d);
	m->d = NULL;
	m->n = 0;
}

int
sc_maps_find(const struct sc_maps *m, const char *key, const char **value_r,
    const char **err_r)
{
	int rc;

	for (size_t i = 0; i < m->n; i++) {
		rc = dict_lookup(m->d[i], key, value_r, err_r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
domains_open(struct sc_domains *l, const char *param, bool relay,
    const char **err_r)
{
	const struct strv *items = mail_conf_list(param);
	const char *err;

	strv_init(&l->names);
	l->tables.d = xcalloc(items->n + 1, sizeof(*l->tables.d));
	l->tables.n = 0;
	for (size_t i = 0; i < items->n; i++) {
		const char *it = items->v[i];
		char *e;

		if (relay && strchr(it, ':') != NULL && dict_has_type(it)) {
			struct dict *d = dict_open(it, DICT_FLAG_FOLD, &err);

			if (d == NULL) {
				*err_r = str_fmt_buf(rcpt_err,
				    sizeof(rcpt_err), "%s: %s", param, err);
				return -1;
			}
			l->tables.d[l->tables.n++] = d;
			continue;
		}
		if (it[0] == '.' && relay && it[1] != '.' && it[1] != '\0' &&
		    addr_valid_domain(it + 1, strlen(it + 1), ADDR_SMTPUTF8,
		    &err)) {
			strv_push(&l->names, it);
			continue;
		}
		if (addr_valid_domain(it, strlen(it), ADDR_SMTPUTF8, &err)) {
			strv_push(&l->names, it);
			continue;
		}
		e = log_escape_str(it);
		*err_r = str_fmt_buf(rcpt_err, sizeof(rcpt_err), "%s: "
		    "unsupported item \"%s\"%s", param, e, relay ? "" :
		    " (only domain names are supported here)");
		free(e);
		return -1;
	}
	return 0;
}

static void
domains_close(struct sc_domains *l)
{
	strv_deinit(&l->names);
	sc_maps_close(&l->tables);
}

/* Does the list hold domain d (no trailing dot)?  1/0/-1. */
static int
domains_match(const struct sc_domains *l, const char *d, const char **err_r)
{
	size_t dn = strlen(d);
	const char *value, *p;
	char *key;
	int rc;

	for (size_t i = 0; i < l->names.n; i++) {
		const char *name = l->names.v[i];
		size_t nn = strlen(name);

		if (name[0] == '.') {
			if (dn > nn && str_eq_ci(d + dn - nn, name))
				return 1;
		} else if (str_eq_ci(name, d)) {
			return 1;
		}
	}
	if (l->tables.n == 0)
		return 0;
	rc = sc_maps_find(&l->tables, d, &value, err_r);
	for (p = strchr(d, '.'); rc == 0 && p != NULL;
	    p = strchr(p + 1, '.')) {
		key = xstrdup(p);
		rc = sc_maps_find(&l->tables, key, &value, err_r);
		free(key);
	}
	return rc;
}

int
sc_rcpt_init(const char **err_r)
{
	delims = xstrdup(mail_conf_get("recipient_delimiter"));
	if (domains_open(&mydest, "mydestination", false, err_r) == -1 ||
	    domains_open(&vdomains, "virtual_mailbox_domains", false,
	    err_r) == -1 ||
	    domains_open(&rdomains, "relay_domains", true, err_r) == -1 ||
	    sc_maps_open(&local_maps, "local_recipient_maps", err_r) == -1 ||
	    sc_maps_open(&virtual_maps, "virtual_mailbox_maps", err_r) ==
	    -1 ||
	    sc_maps_open(&relay_maps, "relay_recipient_maps", err_r) == -1 ||
	    sc_maps_open(&login_maps, "smtpd_sender_login_maps", err_r) ==
	    -1)
		return -1;
	return 0;
}

void
sc_rcpt_deinit(void)
{
	domains_close(&mydest);
	domains_close(&vdomains);
	domains_close(&rdomains);
	sc_maps_close(&local_maps);
	sc_maps_close(&virtual_maps);
	sc_maps_close(&relay_maps);
	sc_maps_close(&login_maps);
	free(delims);
	delims = NULL;
}

/*
 * The domain of addr, folded, without one trailing dot, in a heap copy;
 * NULL when addr has no '@'.  An empty domain, "..", or an over-long one
 * comes back as "" (never ours).
 */
static char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n;

	if (at == NULL)
		return NULL;
	n = strlen(at + 1);
	if (n > 0 && at[n] == '.')
		n--;
	if (n == 0 || n > ADDR_DOMAIN_MAX || at[n] == '.')
		return xstrdup("");
	return addr_domain_fold(xstrndup(at + 1, n));
}

static int
class_of_domain(const char *d, enum sc_class *class_r, const char **err_r)
{
	int rc;

	*class_r = SC_CLASS_REMOTE;
	/* SECURITY: an address literal, even one of our own addresses,
	 * is never ours; nor is a malformed domain. */
	if (d[0] == '\0' || d[0] == '[')
		return 1;
	if ((rc = domains_match(&mydest, d, err_r)) != 0) {
		*class_r = SC_CLASS_LOCAL;
		return rc < 0 ? -1 : 1;
	}
	if ((rc = domains_match(&vdomains, d, err_r)) != 0) {
		*class_r = SC_CLASS_VIRTUAL;
		return rc < 0 ? -1 : 1;
	}
	if ((rc = domains_match(&rdomains, d, err_r)) != 0) {
		*class_r = SC_CLASS_RELAY;
		return rc < 0 ? -1 : 1;
	}
	return 1;
}

int
sc_rcpt_class(const char *addr, enum sc_class *class_r, const char **err_r)
{
	char *d = domain_of(addr);
	int rc;

	if (d == NULL) {
		*class_r = SC_CLASS_LOCAL;
		return 1;
	}
	rc = class_of_domain(d, class_r, err_r);
	free(d);
	return rc;
}

/* Looks up each of the n keys in turn (NULLs skipped); 1/0/-1. */
static int
find_any(const struct sc_maps *m, char *const *keys, size_t n,
    const char **err_r)
{
	const char *value;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (keys[i] == NULL)
			continue;
		if ((rc = sc_maps_find(m, keys[i], &value, err_r)) != 0)
			return rc;
	}
	return 0;
}

int
sc_rcpt_known(const char *rcpt, enum sc_class *class_r, const char **err_r)
{
	const char *at = strrchr(rcpt, '@'), *ext;
	char *local, *domain, *keys[5] = { NULL };
	size_t base_len;
	bool has_ext;
	int rc;

	if (sc_rcpt_class(rcpt, class_r, err_r) == -1)
		return -1;
	if (*class_r == SC_CLASS_REMOTE)
		return 1;
	local = str_lower(at != NULL ? xstrndup(rcpt, (size_t)(at - rcpt)) :
	    xstrdup(rcpt));
	domain = domain_of(rcpt);
	/*
	 * SECURITY: tern does no percent-hack or bang-path routing, so a
	 * local part that still holds one ("user%remote"@, "remote!user"@,
	 * "user@remote"@) can never name a mailbox of ours.
	 */
	if (local[0] == '\0' || ((*class_r == SC_CLASS_LOCAL ||
	    *class_r == SC_CLASS_VIRTUAL) && strpbrk(local, "@%!") != NULL)) {
		rc = 0;
		goto done;
	}
	has_ext = addr_split_ext(local, delims, &base_len, &ext);
	switch (*class_r) {
	case SC_CLASS_LOCAL:
		if (local_maps.n == 0) {
			rc = 1;
			goto done;
		}
		keys[0] = xstrdup(local);
		if (has_ext)
			keys[1] = xstrndup(local, base_len);
		if (domain != NULL) {
			keys[2] = xasprintf("%s@%s", local, domain);
			if (has_ext)
				keys[3] = xasprintf("%.*s@%s",
				    (int)base_len, local, domain);
		}
		rc = find_any(&local_maps, keys, 4, err_r);
		break;
	case SC_CLASS_VIRTUAL:
	case SC_CLASS_RELAY: {
		const struct sc_maps *m = *class_r == SC_CLASS_VIRTUAL ?
		    &virtual_maps : &relay_maps;

		if (m->n == 0) {
			rc = 1;
			goto done;
		}
		keys[0] = xasprintf("%s@%s", local, domain);
		if (has_ext)
			keys[1] = xasprintf("%.*s@%s", (int)base_len, local,
			    domain);
		keys[2] = xasprintf("@%s", domain);
		rc = find_any(m, keys, 3, err_r);
		break;
	}
	default:
		rc = 1;
		break;
	}
done:
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		free(keys[i]);
	free(local);
	free(domain);
	return rc;
}

/* 1 with value_r when smtpd_sender_login_maps lists sender; 0; -1. */
static int
login_lookup(const char *sender, const char **value_r, const char **err_r)
{
	char *d = domain_of(sender), *key;
	int rc;

	rc = sc_maps_find(&login_maps, sender, value_r, err_r);
	if (rc == 0 && d != NULL && d[0] != '\0') {
		key = xasprintf("@%s", d);
		rc = sc_maps_find(&login_maps, key, value_r, err_r);
		free(key);
	}
	free(d);
	return rc;
}

int
sc_sender_listed(const char *sender, const char **err_r)
{
	const char *value;

	if (sender[0] == '\0' || login_maps.n == 0)
		return 0;
	return login_lookup(sender, &value, err_r);
}

int
sc_sender_owned(const char *sender, const char *login, const char **err_r)
{
	const char *at = strrchr(sender, '@'), *lat, *value, *ext;
	struct strv owners;
	enum sc_class class;
	size_t base_len, llen;
	char *local;
	int rc = 0;

	if (sender[0] == '\0')
		return 1;
	if (login_maps.n > 0) {
		if ((rc = login_lookup(sender, &value, err_r)) != 1)
			return rc;
		strv_init(&owners);
		strv_split(&owners, value, ", \t");
		rc = 0;
		for (size_t i = 0; i < owners.n && rc == 0; i++)
			rc = str_eq_ci(owners.v[i], login);
		strv_deinit(&owners);
		return rc;
	}
	/* Without maps: see smtpd_check.h. */
	local = at != NULL ? xstrndup(sender, (size_t)(at - sender)) :
	    xstrdup(sender);
	if (addr_split_ext(local, delims, &base_len, &ext))
		local[base_len] = '\0';
	llen = strlen(local);
	if ((lat = strrchr(login, '@')) != NULL) {
		/* Exactly that address (extensions aside). */
		rc = at != NULL && (size_t)(lat - login) == llen &&
		    strncasecmp(login, local, llen) == 0 &&
		    str_eq_ci(lat + 1, at + 1);
	} else if (!str_eq_ci(login, local)) {
		rc = 0;
	} else if (at == NULL) {
		rc = 1;
	} else if ((rc = sc_rcpt_class(sender, &class, err_r)) == 1) {
		rc = class == SC_CLASS_LOCAL || class == SC_CLASS_VIRTUAL;
	}
	free(local);
	return rc;
}
