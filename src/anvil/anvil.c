/* SPDX-License-Identifier: MIT */
/*
 * anvil's counting table, peers and request handling; see anvil.h.
 * Addresses are kept in a balanced tree (tsearch), so that no choice of
 * addresses makes a lookup slow, and on a list for the sweep; each peer
 * keeps its own tree of the connections it counted.
 */
#define _GNU_SOURCE	/* tdestroy */
#include "config.h"

#include <inttypes.h>
#include <search.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "anvil_client.h"

#include "anvil.h"

/* Counted event kinds, each with its own rate window. */
enum anvil_kind {
	KIND_CONNECT,
	KIND_MAIL,
	KIND_AUTH,
	KIND_AUTHFAIL,
	KIND_COUNT
};

struct anvil_rate {
	time_t		 start;		/* valid when n > 0 */
	uint64_t	 n;
};

struct anvil_entry {
	char		 addr[ANVIL_ADDR_MAX + 1];
	uint64_t	 conns;		/* open connections, all peers */
	struct anvil_rate rate[KIND_COUNT];
	struct anvil_entry *prev, *next;	/* the sweep's list */
};

/* The maximum of one statistic in the current period. */
struct anvil_max {
	uint64_t	 value;
	time_t		 at;
	char		 addr[ANVIL_ADDR_MAX + 1];
};

struct anvil_table {
	time_t		 unit;
	size_t		 max;
	size_t		 size;
	size_t		 npeers;
	void		*root;		/* tree of entries */
	struct anvil_entry *head;
	/* When "table full" was last logged, and a full table swept. */
	time_t		 full_warned;
	time_t		 full_swept;
	bool		 full_any;	/* the two above are set */
	struct anvil_max max_conns;
	struct anvil_max max_rate[KIND_COUNT];
	struct anvil_max max_size;	/* addr unused */
};

/* One address a peer counted connections for. */
struct anvil_ref {
	struct anvil_entry *entry;
	uint64_t	 n;
};

struct anvil_peer {
	struct anvil_table *table;
	void		*refs;		/* tree of anvil_refs */
};

/* How often a full table is reported, and swept to make room. */
#define ANVIL_FULL_WARN_SECS	60
#define ANVIL_FULL_SWEEP_SECS	1

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct anvil_entry *)a)->addr,
	    ((const struct anvil_entry *)b)->addr);
}

static int
ref_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct anvil_ref *)a)->entry;
	uintptr_t y = (uintptr_t)((const struct anvil_ref *)b)->entry;

	return x < y ? -1 : x > y;
}

struct anvil_table *
anvil_table_new(time_t unit, size_t max)
{
	struct anvil_table *t = xcalloc(1, sizeof(*t));

	ASSERT(unit >= 1 && max >= 1);
	t->unit = unit;
	t->max = max;
	return t;
}

static void
free_nothing(void *p)
{
	(void)p;
}

void
anvil_table_free(struct anvil_table **tp)
{
	struct anvil_table *t = *tp;

	if (t == NULL)
		return;
	ASSERT(t->npeers == 0);
	tdestroy(t->root, free_nothing);
	while (t->head != NULL) {
		struct anvil_entry *e = t->head;

		t->head = e->next;
		free(e);
	}
	free(t);
	*tp = NULL;
}

size_t
anvil_table_size(const struct anvil_table *t)
{
	return t->size;
}

static struct anvil_entry *
entry_find(struct anvil_table *t, const char *addr)
{
	struct anvil_entry key;
	void **node;

	str_copy(key.addr, addr, sizeof(key.addr));
	node = tfind(&key, &t->root, entry_cmp);
	return node != NULL ? *node : NULL;
}

static void
entry_remove(struct anvil_table *t, struct anvil_entry *e)
{
	ASSERT(e->conns == 0);
	if (tdelete(e, &t->root, entry_cmp) == NULL)
		panic("anvil: %s missing from its tree", e->addr);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	t->size--;
	free(e);
}

static bool
window_open(const struct anvil_table *t, const struct anvil_rate *r,
    time_t now)
{
	return r->n > 0 && now >= r->start && now - r->start < t->unit;
}

static bool
entry_idle(const struct anvil_table *t, const struct anvil_entry *e,
    time_t now)
{
	if (e->conns > 0)
		return false;
	for (int k = 0; k < KIND_COUNT; k++)
		if (window_open(t, &e->rate[k], now))
			return false;
	return true;
}

size_t
anvil_table_sweep(struct anvil_table *t, time_t now)
{
	struct anvil_entry *e = t->head, *next;
	size_t removed = 0;

	for (; e != NULL; e = next) {
		next = e->next;
		if (entry_idle(t, e, now)) {
			entry_remove(t, e);
			removed++;
		}
	}
	return removed;
}

static void
note_max(struct anvil_max *m, uint64_t value, const char *addr, time_t now)
{
	if (value <= m->value)
		return;
	m->value = value;
	m->at = now;
	if (addr != NULL)
		str_copy(m->addr, addr, sizeof(m->addr));
}

/* The entry for addr, created when create is set and there is room. */
static struct anvil_entry *
entry_get(struct anvil_table *t, const char *addr, bool create, time_t now)
{
	struct anvil_entry *e = entry_find(t, addr);

	if (e != NULL || !create)
		return e;
	if (t->size >= t->max && (!t->full_any ||
	    now - t->full_swept >= ANVIL_FULL_SWEEP_SECS)) {
		t->full_swept = now;
		anvil_table_sweep(t, now);
	}
	if (t->size >= t->max) {
		if (!t->full_any || now - t->full_warned >=
		    ANVIL_FULL_WARN_SECS) {
			log_warn("table full (%zu addresses): not counting "
			    "%s and other new addresses for now", t->max,
			    addr);
			t->full_warned = now;
		}
		if (!t->full_any)
			t->full_swept = now;
		t->full_any = true;
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	str_copy(e->addr, addr, sizeof(e->addr));
	if (tsearch(e, &t->root, entry_cmp) == NULL)
		fatal("out of memory");
	e->next = t->head;
	if (t->head != NULL)
		t->head->prev = e;
	t->head = e;
	t->size++;
	note_max(&t->max_size, t->size, NULL, now);
	return e;
}

/* Counts one event of kind k; returns the rate in the window. */
static uint64_t
rate_count(struct anvil_table *t, struct anvil_entry *e, enum anvil_kind k,
    time_t now)
{
	struct anvil_rate *r = &e->rate[k];

	if (!window_open(t, r, now)) {
		r->start = now;
		r->n = 0;
	}
	if (r->n < UINT64_MAX)
		r->n++;
	note_max(&t->max_rate[k], r->n, e->addr, now);
	return r->n;
}

static uint64_t
rate_peek(const struct anvil_table *t, const struct anvil_entry *e,
    enum anvil_kind k, time_t now)
{
	return window_open(t, &e->rate[k], now) ? e->rate[k].n : 0;
}

static enum anvil_kind
event_kind(enum anvil_event ev)
{
	switch (ev) {
	case ANVIL_CONNECT:
	case ANVIL_DISCONNECT:
		return KIND_CONNECT;
	case ANVIL_MAIL:
		return KIND_MAIL;
	case ANVIL_AUTH:
		return KIND_AUTH;
	case ANVIL_AUTH_FAIL:
	case ANVIL_AUTH_FAIL_PEEK:
		return KIND_AUTHFAIL;
	}
	panic("anvil: unknown event %d", (int)ev);
}

static struct anvil_ref *
ref_find(struct anvil_peer *p, struct anvil_entry *e)
{
	struct anvil_ref key = { .entry = e };
	void **node = tfind(&key, &p->refs, ref_cmp);

	return node != NULL ? *node : NULL;
}

static void
peer_connect(struct anvil_peer *p, struct anvil_entry *e)
{
	struct anvil_ref *ref = ref_find(p, e);

	if (ref == NULL) {
		ref = xcalloc(1, sizeof(*ref));
		ref->entry = e;
		if (tsearch(ref, &p->refs, ref_cmp) == NULL)
			fatal("out of memory");
	}
	ref->n++;
	e->conns++;
}

static void
peer_disconnect(struct anvil_peer *p, struct anvil_entry *e)
{
	struct anvil_ref *ref = ref_find(p, e);

	if (ref == NULL)
		return;
	ASSERT(ref->n > 0 && e->conns >= ref->n);
	ref->n--;
	e->conns--;
	if (ref->n == 0) {
		if (tdelete(ref, &p->refs, ref_cmp) == NULL)
			panic("anvil: peer reference vanished");
		free(ref);
	}
}

int
anvil_table_event(struct anvil_table *t, struct anvil_peer *p,
    enum anvil_event ev, const char *addr, time_t now,
    struct anvil_counts *r)
{
	enum anvil_kind k = event_kind(ev);
	bool create = ev != ANVIL_DISCONNECT && ev != ANVIL_AUTH_FAIL_PEEK;
	struct anvil_entry *e;

	ASSERT(p->table == t);
	ASSERT(anvil_client_addr_valid(addr));
	memset(r, 0, sizeof(*r));
	if ((e = entry_get(t, addr, create, now)) == NULL)
		return create ? ANVIL_STATUS_FULL : ANVIL_STATUS_OK;
	switch (ev) {
	case ANVIL_CONNECT:
		peer_connect(p, e);
		note_max(&t->max_conns, e->conns, e->addr, now);
		r->rate = rate_count(t, e, k, now);
		break;
	case ANVIL_DISCONNECT:
		peer_disconnect(p, e);
		r->rate = rate_peek(t, e, k, now);
		break;
	case ANVIL_MAIL:
	case ANVIL_AUTH:
	case ANVIL_AUTH_FAIL:
		r->rate = rate_count(t, e, k, now);
		break;
	case ANVIL_AUTH_FAIL_PEEK:
		r->rate = rate_peek(t, e, k, now);
		break;
	}
	r->count = e->conns;
	return ANVIL_STATUS_OK;
}

int
anvil_table_lookup(struct anvil_table *t, enum anvil_event ev,
    const char *addr, time_t now, struct anvil_counts *r)
{
	struct anvil_entry *e;

	memset(r, 0, sizeof(*r));
	if (!anvil_client_addr_valid(addr) ||
	    (e = entry_find(t, addr)) == NULL)
		return 0;
	r->count = e->conns;
	r->rate = rate_peek(t, e, event_kind(ev), now);
	return 1;
}

struct anvil_peer *
anvil_peer_new(struct anvil_table *t)
{
	struct anvil_peer *p = xcalloc(1, sizeof(*p));

	p->table = t;
	t->npeers++;
	return p;
}

static void
ref_release(void *arg)
{
	struct anvil_ref *ref = arg;

	ASSERT(ref->entry->conns >= ref->n);
	ref->entry->conns -= ref->n;
	free(ref);
}

void
anvil_peer_free(struct anvil_peer **pp)
{
	struct anvil_peer *p = *pp;

	if (p == NULL)
		return;
	tdestroy(p->refs, ref_release);
	ASSERT(p->table->npeers > 0);
	p->table->npeers--;
	free(p);
	*pp = NULL;
}

/*
 * Statistics, in the shape of Postfix's anvil lines.
 */

static void
stats_line(struct buf *out, const char *what, const struct anvil_max *m,
    const char *suffix, time_t now, time_t wall_now)
{
	time_t wall = wall_now - (now - m->at);
	char when[32];
	struct tm tm;

	if (m->value == 0)
		return;
	if (localtime_r(&wall, &tm) == NULL ||
	    strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm) == 0)
		str_copy(when, "?", sizeof(when));
	buf_addf(out, "statistics: max %s %" PRIu64 "%s%s%s at %s\n", what,
	    m->value, suffix, m->addr[0] != '\0' ? " for " : "", m->addr,
	    when);
}

void
anvil_table_stats(struct anvil_table *t, time_t now, time_t wall_now,
    struct buf *out)
{
	char unit[32];

	str_fmt_buf(unit, sizeof(unit), "/%llds", (long long)t->unit);
	stats_line(out, "connection rate", &t->max_rate[KIND_CONNECT], unit,
	    now, wall_now);
	stats_line(out, "connection count", &t->max_conns, "", now,
	    wall_now);
	stats_line(out, "message rate", &t->max_rate[KIND_MAIL], unit, now,
	    wall_now);
	stats_line(out, "auth rate", &t->max_rate[KIND_AUTH], unit, now,
	    wall_now);
	stats_line(out, "auth failure rate", &t->max_rate[KIND_AUTHFAIL],
	    unit, now, wall_now);
	stats_line(out, "cache size", &t->max_size, "", now, wall_now);
	memset(&t->max_conns, 0, sizeof(t->max_conns));
	memset(t->max_rate, 0, sizeof(t->max_rate));
	memset(&t->max_size, 0, sizeof(t->max_size));
}

/*
 * The protocol.
 */

static const struct {
	const char	*name;
	enum anvil_event ev;
} anvil_ops[] = {
	{ "connect",	ANVIL_CONNECT },
	{ "disconnect",	ANVIL_DISCONNECT },
	{ "mail",	ANVIL_MAIL },
	{ "auth",	ANVIL_AUTH },
	{ "authfail",	ANVIL_AUTH_FAIL },
	{ "peekfail",	ANVIL_AUTH_FAIL_PEEK },
};

static int
fail(const char **err_r, const char *msg)
{
	if (err_r != NULL)
		*err_r = msg;
	return -1;
}

int
anvil_request(struct anvil_table *t, struct anvil_peer *p,
    const void *body, size_t len, time_t now, struct buf *out,
    const char **err_r)
{
	const char *op = NULL, *addr = NULL;
	struct attr_spec spec[] = {
		ATTR_STR("op", &op),
		ATTR_STR("addr", &addr),
		ATTR_END
	};
	struct anvil_counts c;
	struct attr_writer w;
	size_t i;
	int status;

	if (attr_parse(body, len, spec, ATTR_PARSE_STRICT, err_r) == -1)
		return -1;
	for (i = 0; i < sizeof(anvil_ops) / sizeof(anvil_ops[0]); i++)
		if (str_eq(op, anvil_ops[i].name))
			break;
	if (i == sizeof(anvil_ops) / sizeof(anvil_ops[0]))
		return fail(err_r, "unknown op");
	if (!anvil_client_addr_valid(addr))
		return fail(err_r, "invalid address");
	status = anvil_table_event(t, p, anvil_ops[i].ev, addr, now, &c);
	attr_frame_begin(&w, out);
	attr_put_u64(&w, "status", (uint64_t)status);
	attr_put_u64(&w, "count", c.count);
	attr_put_u64(&w, "rate", c.rate);
	return attr_frame_end(&w, err_r);
}
