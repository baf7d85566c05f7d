/* SPDX-License-Identifier: MIT */
/*
 * Next-hop parsing for smtp and lmtp; see smtp_nexthop.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "str.h"

#include "dns.h"

#include "smtp_nexthop.h"

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

/* "" or ":PORT" with PORT 1..65535 in decimal digits only. */
static int
parse_port(const char *s, unsigned default_port, unsigned *port_r,
    const char **err_r)
{
	unsigned v = 0;
	size_t i;

	if (*s == '\0') {
		*port_r = default_port;
		return 0;
	}
	if (*s != ':' || s[1] == '\0')
		return fail(err_r, "bad port in next hop");
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i > 5)
			return fail(err_r, "bad port in next hop");
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(err_r, "port out of range in next hop");
	*port_r = v;
	return 0;
}

/* A numeric address into nh (canonical text); false when it is not one. */
static bool
parse_addr(const char *s, int family, struct smtp_nexthop *nh)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (inet_pton(family, s, bin) != 1)
		return false;
	if (inet_ntop(family, bin, nh->host, sizeof(nh->host)) == NULL)
		return false;
	nh->family = family;
	nh->kind = SMTP_NH_ADDR;
	return true;
}

/* RFC 3696 §2: a top-level domain is never all-numeric, so such a name
 * is a broken address ("192.0.2.256"), not something to look up. */
static bool
numeric_tld(const char *name)
{
	size_t len = strlen(name);
	const char *p;

	if (len > 0 && name[len - 1] == '.')
		len--;
	p = name + len;
	while (p > name && p[-1] != '.')
		p--;
	if (p == name + len)
		return false;
	for (; p < name + len; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int
parse_name(const char *name, size_t len, struct smtp_nexthop *nh,
    const char **err_r)
{
	if (len == 0 || len > DNS_NAME_MAX)
		return fail(err_r, "bad host name in next hop");
	memcpy(nh->host, name, len);
	nh->host[len] = '\0';
	str_lower(nh->host);
	if (!dns_name_valid(nh->host) || numeric_tld(nh->host))
		return fail(err_r, "bad host name in next hop");
	return 0;
}

/* host[:port] or [host][:port]. */
static int
parse_inet(const char *s, bool use_mx, unsigned default_port,
    struct smtp_nexthop *nh, const char **err_r)
{
	char inner[SMTP_NEXTHOP_MAX + 1];
	const char *end;
	size_t len;

	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL)
			return fail(err_r, "missing ']' in next hop");
		len = (size_t)(end - s - 1);
		if (len == 0)
			return fail(err_r, "empty [] in next hop");
		memcpy(inner, s + 1, len);
		inner[len] = '\0';
		if (parse_port(end + 1, default_port, &nh->port, err_r) == -1)
			return -1;
		/* RFC 5321 §4.1.3: "IPv6:" tags an IPv6 address literal. */
		if (strncasecmp(inner, "ipv6:", 5) == 0) {
			if (!parse_addr(inner + 5, AF_INET6, nh))
				return fail(err_r,
				    "bad IPv6 address literal in next hop");
			return 0;
		}
		if (parse_addr(inner, AF_INET, nh) ||
		    parse_addr(inner, AF_INET6, nh))
			return 0;
		if (strchr(inner, ':') != NULL)
			return fail(err_r, "bad address literal in next hop");
		if (parse_name(inner, len, nh, err_r) == -1)
			return -1;
		nh->kind = SMTP_NH_HOST;
		return 0;
	}
	end = strchr(s, ':');
	len = end == NULL ? strlen(s) : (size_t)(end - s);
	if (parse_port(s + len, default_port, &nh->port, err_r) == -1)
		return -1;
	if (len == 0)
		return fail(err_r, "empty host in next hop");
	memcpy(inner, s, len);
	inner[len] = '\0';
	if (parse_addr(inner, AF_INET, nh))
		return 0;
	if (parse_name(inner, len, nh, err_r) == -1)
		return -1;
	nh->kind = use_mx ? SMTP_NH_MX : SMTP_NH_HOST;
	return 0;
}

static int
parse_unix(const char *path, const char *queue_dir, struct smtp_nexthop *nh,
    const char **err_r)
{
	size_t n;

	if (*path == '\0')
		return fail(err_r, "empty socket path in next hop");
	nh->kind = SMTP_NH_UNIX;
	nh->port = 0;
	if (*path == '/') {
		n = str_copy(nh->path, path, sizeof(nh->path));
	} else {
		if (queue_dir == NULL || *queue_dir != '/')
			return fail(err_r, "relative socket path in next hop "
			    "without an absolute queue_directory");
		n = strlen(queue_dir) + 1 + strlen(path);
		if (n >= sizeof(nh->path))
			return fail(err_r, "socket path too long in next hop");
		(void)str_fmt_buf(nh->path, sizeof(nh->path), "%s/%s",
		    queue_dir, path);
	}
	if (n >= sizeof(nh->path) ||
	    n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(err_r, "socket path too long in next hop");
	return 0;
}

int
smtp_nexthop_parse(const char *s, bool lmtp, unsigned default_port,
    const char *queue_dir, struct smtp_nexthop *nh_r, const char **err_r)
{
	size_t i, len;

	memset(nh_r, 0, sizeof(*nh_r));
	if (s == NULL || *s == '\0')
		return fail(err_r, "empty next hop");
	len = strlen(s);
	if (len > SMTP_NEXTHOP_MAX)
		return fail(err_r, "next hop too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(err_r, "control, space or non-ASCII "
			    "character in next hop");
	}
	if (lmtp && strncasecmp(s, "unix:", 5) == 0) {
		(void)str_copy(nh_r->key, s, sizeof(nh_r->key));
		return parse_unix(s + 5, queue_dir, nh_r, err_r);
	}
	(void)str_copy(nh_r->key, s, sizeof(nh_r->key));
	str_lower(nh_r->key);
	if (lmtp && strncmp(nh_r->key, "inet:", 5) == 0)
		s += 5;
	return parse_inet(s, !lmtp, default_port, nh_r, err_r);
}
