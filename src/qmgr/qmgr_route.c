/* SPDX-License-Identifier: MIT */
/*
 * Recipient routing (transport and next hop) for qmgr; see qmgr_route.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "str.h"
#include "xalloc.h"

#include "qmgr_route.h"

static char route_err[512];

bool
qmgr_route_transport_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > QMGR_ROUTE_TRANSPORT_MAX || name[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.'))
			return false;
	}
	return true;
}

static bool
nexthop_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > QMGR_ROUTE_NEXTHOP_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int
qmgr_route_split(const char *spec, const char *def_transport,
    const char *def_nexthop, struct qmgr_route *r, const char **err_r)
{
	const char *colon = strchr(spec, ':');
	char *transport, *nexthop;

	r->transport = r->nexthop = NULL;
	if (colon == NULL) {
		transport = xstrdup(spec);
		nexthop = xstrdup("");
	} else {
		transport = xstrndup(spec, (size_t)(colon - spec));
		nexthop = xstrdup(colon + 1);
	}
	if (transport[0] == '\0') {
		free(transport);
		transport = xstrdup(def_transport != NULL ? def_transport : "");
	}
	if (nexthop[0] == '\0') {
		free(nexthop);
		nexthop = xstrdup(def_nexthop != NULL ? def_nexthop : "");
	}
	if (!qmgr_route_transport_valid(transport)) {
		*err_r = "bad transport name";
		goto bad;
	}
	if (!nexthop_valid(nexthop)) {
		*err_r = "bad next hop";
		goto bad;
	}
	r->transport = transport;
	r->nexthop = nexthop;
	return 0;

bad:
	free(transport);
	free(nexthop);
	return -1;
}

void
qmgr_route_deinit(struct qmgr_route *r)
{
	free(r->transport);
	free(r->nexthop);
	r->transport = r->nexthop = NULL;
}

const char *
qmgr_route_domain(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	if (at == NULL || at[1] == '\0')
		return NULL;
	return at + 1;
}

/* Case-insensitive domain match; one trailing dot on d is ignored. */
static bool
domain_in(const struct strv *list, const char *d)
{
	size_t i, n = strlen(d);

	if (list == NULL)
		return false;
	if (n > 0 && d[n - 1] == '.')
		n--;
	for (i = 0; i < list->n; i++) {
		const char *e = list->v[i];

		/* XXX: type:table entries of mydestination are not looked
		 * up; only literal domains match. */
		if (strlen(e) == n && strncasecmp(e, d, n) == 0)
			return true;
	}
	return false;
}

/* The route without transport_maps: local, virtual or default. */
static int
route_default(const struct qmgr_route_conf *conf, const char *domain,
    struct qmgr_route *r, const char **err_r)
{
	const char *spec, *err;
	const char *nexthop = domain != NULL ? domain : "";

	if (domain == NULL || domain_in(conf->mydestination, domain))
		spec = conf->local_transport;
	else if (domain_in(conf->virtual_domains, domain))
		spec = conf->virtual_transport;
	else {
		spec = conf->default_transport;
		if (conf->relayhost != NULL && conf->relayhost[0] != '\0')
			nexthop = conf->relayhost;
	}
	if (qmgr_route_split(spec, NULL, nexthop, r, &err) == -1) {
		*err_r = str_fmt_buf(route_err, sizeof(route_err),
		    "transport \"%s\": %s", spec, err);
		return -1;
	}
	return 0;
}

/* 1 found, 0 not, -1 error: looks key up in every table in order. */
static int
maps_find(const struct qmgr_route_conf *conf, const char *key,
    const char **value_r, const char **err_r)
{
	size_t i;
	int rc;

	for (i = 0; i < conf->nmaps; i++) {
		rc = dict_lookup(conf->maps[i], key, value_r, err_r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
qmgr_route_lookup(const struct qmgr_route_conf *conf, const char *rcpt,
    struct qmgr_route *r, const char **err_r)
{
	const char *domain = qmgr_route_domain(rcpt);
	const char *value, *err;
	struct qmgr_route def;
	int rc;

	r->transport = r->nexthop = NULL;
	if (route_default(conf, domain, &def, err_r) == -1)
		return -1;
	if (conf->nmaps == 0)
		goto done;
	/* Full address first, then the domain (transport(5)). */
	rc = maps_find(conf, rcpt, &value, &err);
	if (rc == 0 && domain != NULL)
		rc = maps_find(conf, domain, &value, &err);
	if (rc == -1) {
		*err_r = str_fmt_buf(route_err, sizeof(route_err),
		    "transport_maps lookup of %s: %s", rcpt, err);
		qmgr_route_deinit(&def);
		return -1;
	}
	if (rc == 1) {
		if (qmgr_route_split(value, def.transport, def.nexthop, r,
		    &err) == -1) {
			*err_r = str_fmt_buf(route_err, sizeof(route_err),
			    "transport_maps result for %s: %s", rcpt, err);
			qmgr_route_deinit(&def);
			return -1;
		}
		qmgr_route_deinit(&def);
		return 0;
	}
done:
	*r = def;
	return 0;
}
