/* SPDX-License-Identifier: MIT */
/*
 * Recipient routing for qmgr(8): which transport (a delivery agent's
 * service name in private/) and which next hop a recipient goes to, as
 * Postfix's trivial-rewrite resolves it: transport_maps first (the full
 * address, then its domain), then mydestination (and addresses without a
 * domain) to local_transport, virtual_mailbox_domains to
 * virtual_transport, everything else to default_transport with relayhost
 * (or the recipient domain) as next hop.  Pure apart from the table
 * lookups, so the unit test drives it with inline: tables.
 */
#ifndef TERN_QMGR_ROUTE_H
#define TERN_QMGR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "dict.h"
#include "str.h"

/* Longest transport name and next hop we accept. */
#define QMGR_ROUTE_TRANSPORT_MAX	64
#define QMGR_ROUTE_NEXTHOP_MAX		1024

/* The transport that bounces inside qmgr (no agent). */
#define QMGR_ROUTE_ERROR	"error"

struct qmgr_route_conf {
	const struct strv *mydestination;	/* domains, any case */
	const struct strv *virtual_domains;
	const char	*local_transport;	/* "local:$myhostname" */
	const char	*virtual_transport;	/* "virtual" */
	const char	*default_transport;	/* "smtp" */
	const char	*relayhost;		/* "" for none */
	struct dict	**maps;			/* transport_maps, in order */
	size_t		 nmaps;
};

struct qmgr_route {
	char	*transport;	/* heap */
	char	*nexthop;	/* heap; for "error" the bounce text */
};

/*
 * Routes rcpt (internal form, "local@domain" or a bare "local").  Returns
 * 0 with *r filled (the caller deinits it); -1 with err_r when a table
 * lookup fails (try again later) or when a table or parameter gives a
 * transport that is not a valid service name (a configuration error).
 */
int qmgr_route_lookup(const struct qmgr_route_conf *conf, const char *rcpt,
    struct qmgr_route *r, const char **err_r)
    __attribute__((warn_unused_result));
void qmgr_route_deinit(struct qmgr_route *r);

/*
 * Splits "transport:nexthop": an empty transport takes def_transport, an
 * empty or missing nexthop def_nexthop.  -1 with err_r when the transport
 * name is not [A-Za-z0-9_.-]{1,64} (not starting with a dot) or the next
 * hop holds control characters or is too long.
 */
int qmgr_route_split(const char *spec, const char *def_transport,
    const char *def_nexthop, struct qmgr_route *r, const char **err_r)
    __attribute__((warn_unused_result));

/* The domain of rcpt (after the last '@'), or NULL when there is none. */
const char *qmgr_route_domain(const char *rcpt);

/* True when name is a valid transport (service) name. */
bool qmgr_route_transport_valid(const char *name);

#endif
