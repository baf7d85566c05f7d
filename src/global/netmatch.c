/* SPDX-License-Identifier: MIT */
/*
 * Client network lists (mynetworks and the like); see netmatch.h.  Items
 * are parsed once into address/prefix pairs and open tables; a match is
 * a walk over them in order.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dict.h"
#include "log.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "netmatch.h"

struct nm_item {
	bool		 neg;
	struct dict	*table;		/* NULL: a network */
	int		 family;
	unsigned char	 addr[16];
	unsigned	 plen;
};

struct netmatch {
	struct nm_item	*items;
	size_t		 n;
	size_t		 cap;
};

static char nm_err[NETMATCH_ITEM_MAX + 256];

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Sets err_r to: what "item"; returns -1. */
static int
fail(const char **err_r, const char *what, const char *item)
{
	char *e = log_escape_str(item);

	*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "%s \"%s\"", what, e);
	free(e);
	return -1;
}

bool
netmatch_parse_addr(const char *s, int *family_r, unsigned char bytes_r[16])
{
	memset(bytes_r, 0, 16);
	if (strlen(s) >= INET6_ADDRSTRLEN)
		return false;
	if (inet_pton(AF_INET, s, bytes_r) == 1) {
		*family_r = AF_INET;
		return true;
	}
	if (strchr(s, ':') == NULL || inet_pton(AF_INET6, s, bytes_r) != 1)
		return false;
	if (memcmp(bytes_r, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(bytes_r, bytes_r + 12, 4);
		memset(bytes_r + 4, 0, 12);
		*family_r = AF_INET;
		return true;
	}
	*family_r = AF_INET6;
	return true;
}

/* Strict decimal 0..max without sign or leading zeros; -1 if not. */
static int
parse_plen(const char *s, unsigned max)
{
	unsigned v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	return v <= max ? (int)v : -1;
}

/* True when the bits of a beyond plen are all zero. */
static bool
host_bits_clear(const unsigned char *a, unsigned plen, unsigned bits)
{
	for (unsigned i = plen; i < bits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static void
mask(unsigned char *a, unsigned plen, unsigned bits)
{
	for (unsigned i = plen; i < bits; i++)
		a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
}

static struct nm_item *
push(struct netmatch *nm)
{
	if (nm->n == nm->cap) {
		nm->cap = nm->cap == 0 ? 8 : nm->cap * 2;
		nm->items = xreallocarray(nm->items, nm->cap,
		    sizeof(*nm->items));
	}
	memset(&nm->items[nm->n], 0, sizeof(nm->items[0]));
	return &nm->items[nm->n++];
}

/* Parses an address or network item (no "!"); -1 with err_r. */
static int
parse_net(const char *item, struct nm_item *it, const char **err_r)
{
	char text[NETMATCH_ITEM_MAX + 1], *slash, *addr = text;
	unsigned bits;
	int plen, af;

	str_copy(text, item, sizeof(text));
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	if (addr[0] == '[') {
		size_t n = strlen(addr);

		/* Only an IPv6 address may be bracketed. */
		if (n < 3 || addr[n - 1] != ']')
			return fail(err_r, "bad address", item);
		addr[n - 1] = '\0';
		addr++;
		if (strchr(addr, ':') == NULL)
			return fail(err_r, "bad address", item);
	}
	if (strchr(addr, '%') != NULL || strlen(addr) >= INET6_ADDRSTRLEN)
		return fail(err_r, "bad address", item);
	memset(it->addr, 0, sizeof(it->addr));
	if (inet_pton(AF_INET, addr, it->addr) == 1) {
		af = AF_INET;
		bits = 32;
	} else if (strchr(addr, ':') != NULL &&
	    inet_pton(AF_INET6, addr, it->addr) == 1) {
		af = AF_INET6;
		bits = 128;
	} else {
		return fail(err_r, "bad address", item);
	}
	plen = (int)bits;
	if (slash != NULL && (plen = parse_plen(slash + 1, bits)) < 0)
		return fail(err_r, "bad net/mask", item);
	if (!host_bits_clear(it->addr, (unsigned)plen, bits)) {
		unsigned char net[16];
		char ntext[INET6_ADDRSTRLEN];
		char *e = log_escape_str(item);

		memcpy(net, it->addr, sizeof(net));
		mask(net, (unsigned)plen, bits);
		if (inet_ntop(af, net, ntext, sizeof(ntext)) == NULL)
			ntext[0] = '\0';
		*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "non-null host "
		    "address bits in \"%s\", perhaps use \"%s%s%s/%d\" "
		    "instead", e, af == AF_INET6 ? "[" : "", ntext,
		    af == AF_INET6 ? "]" : "", plen);
		free(e);
		return -1;
	}
	/* An IPv4-mapped net of /96 or longer is an IPv4 net. */
	if (af == AF_INET6 && plen >= 96 &&
	    memcmp(it->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(it->addr, it->addr + 12, 4);
		memset(it->addr + 4, 0, 12);
		af = AF_INET;
		plen -= 96;
	}
	it->family = af;
	it->plen = (unsigned)plen;
	return 0;
}

/* True when item looks like "type:name" with a letter-first type. */
static bool
looks_like_table(const char *item)
{
	size_t n = strspn(item, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && item[n] == ':' &&
	    ((item[0] >= 'a' && item[0] <= 'z') ||
	    (item[0] >= 'A' && item[0] <= 'Z'));
}

static int add_items(struct netmatch *nm, const struct strv *items,
    bool neg, int depth, const char **err_r);

/* Reads the items of a /file/name item; -1 with err_r. */
static int
add_file(struct netmatch *nm, const char *path, bool neg, int depth,
    const char **err_r)
{
	struct strv items;
	struct buf b;
	struct stat sb;
	char *p, *line, *next;
	int fd, rc;

	if (depth >= NETMATCH_DEPTH_MAX)
		return fail(err_r, "files nested too deep at", path);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "open %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return fail(err_r, "not a regular file:", path);
	}
	buf_init(&b, NETMATCH_FILE_MAX);
	rc = safefile_read_fd(fd, path, &b, err_r);
	(void)close(fd);
	if (rc == 0 && memchr(buf_cstr(&b), '\0', b.len) != NULL)
		rc = fail(err_r, "NUL byte in file", path);
	strv_init(&items);
	for (p = b.data; rc == 0 && p != NULL && *p != '\0'; p = next) {
		line = p;
		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		strv_split(&items, line, ", \t\r\f\v");
	}
	if (rc == 0 && add_items(nm, &items, neg, depth + 1, err_r) == -1) {
		*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "%s: %s", path,
		    *err_r);
		rc = -1;
	}
	strv_deinit(&items);
	buf_deinit(&b);
	return rc;
}

static int
add_items(struct netmatch *nm, const struct strv *items, bool neg,
    int depth, const char **err_r)
{
	for (size_t i = 0; i < items->n; i++) {
		const char *item = items->v[i];
		bool item_neg = neg;
		struct nm_item *it;
		const char *err;

		if (strlen(item) > NETMATCH_ITEM_MAX) {
			char *e = log_escape_str(item);

			*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "item "
			    "too long (%zu bytes): \"%.40s...\"",
			    strlen(item), e);
			free(e);
			return -1;
		}
		if (item[0] == '!') {
			if (neg || item[1] == '\0' || item[1] == '!')
				return fail(err_r, "bad negation",
				    item);
			item_neg = true;
			item++;
		}
		if (item[0] == '/') {
			if (add_file(nm, item, item_neg, depth, err_r) == -1)
				return -1;
			continue;
		}
		if (nm->n >= NETMATCH_ITEMS_MAX)
			return fail(err_r, "too many items at", item);
		it = push(nm);
		it->neg = item_neg;
		if (parse_net(item, it, &err) == 0)
			continue;
		if (!looks_like_table(item) || !dict_has_type(item)) {
			nm->n--;
			*err_r = err;
			return -1;
		}
		it->table = dict_open(item, DICT_FLAG_FOLD, &err);
		if (it->table == NULL) {
			nm->n--;
			*err_r = str_fmt_buf(nm_err, sizeof(nm_err), "%s", err);
			return -1;
		}
	}
	return 0;
}

struct netmatch *
netmatch_new(const struct strv *items, const char **err_r)
{
	struct netmatch *nm = xcalloc(1, sizeof(*nm));

	if (add_items(nm, items, false, 0, err_r) == -1) {
		netmatch_free(&nm);
		return NULL;
	}
	return nm;
}

void
netmatch_free(struct netmatch **nmp)
{
	struct netmatch *nm = *nmp;

	if (nm == NULL)
		return;
	for (size_t i = 0; i < nm->n; i++)
		dict_free(&nm->items[i].table);
	free(nm->items);
	free(nm);
	*nmp = NULL;
}

static bool
net_contains(const struct nm_item *it, int af, const unsigned char *a)
{
	unsigned full = it->plen / 8, rest = it->plen % 8;

	if (it->family != af)
		return false;
	if (memcmp(it->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((it->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
netmatch_match(struct netmatch *nm, const char *addr, const char **err_r)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	int af, rc;

	if (nm == NULL || !netmatch_parse_addr(addr, &af, a))
		return 0;
	if (inet_ntop(af, a, text, sizeof(text)) == NULL)
		return 0;
	for (size_t i = 0; i < nm->n; i++) {
		const struct nm_item *it = &nm->items[i];
		const char *value;

		if (it->table != NULL) {
			rc = dict_lookup(it->table, text, &value, err_r);
			if (rc == -1)
				return -1;
		} else {
			rc = net_contains(it, af, a);
		}
		if (rc == 1)
			return it->neg ? 0 : 1;
	}
	return 0;
}
