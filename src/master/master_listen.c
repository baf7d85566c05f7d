/* SPDX-License-Identifier: MIT */
/*
 * master's listening sockets; see master_listen.h.  The service column is
 * parsed strictly (every early exit rejects), then expanded with
 * inet_interfaces and inet_protocols the way Postfix's master does it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ipc.h"
#include "log.h"
#include "mastercf.h"
#include "str.h"
#include "xalloc.h"

#include "master_listen.h"

#define PORT_NAME_MAX	64

static char listen_errbuf[1024];

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

#define FAILF(err_r, ...)						\
	fail(err_r, str_fmt_buf(listen_errbuf, sizeof(listen_errbuf),	\
	    __VA_ARGS__))

int
master_net_init(struct master_net *net, const struct strv *protocols,
    const struct strv *interfaces, const char **err_r)
{
	memset(net, 0, sizeof(*net));
	strv_init(&net->interfaces);
	for (size_t i = 0; i < protocols->n; i++) {
		const char *p = protocols->v[i];

		if (str_eq_ci(p, "all")) {
			net->ipv4 = net->ipv6 = net->all_protocols = true;
		} else if (str_eq_ci(p, "ipv4")) {
			net->ipv4 = true;
		} else if (str_eq_ci(p, "ipv6")) {
			net->ipv6 = true;
		} else {
			char *esc = log_escape_str(p);

			(void)FAILF(err_r, "inet_protocols: unknown protocol "
			    "\"%s\" (expected all, ipv4 or ipv6)", esc);
			free(esc);
			return -1;
		}
	}
	if (!net->ipv4 && !net->ipv6)
		return fail(err_r, "inet_protocols: no protocol enabled");
	for (size_t i = 0; i < interfaces->n; i++)
		strv_push(&net->interfaces, interfaces->v[i]);
	if (net->interfaces.n == 0)
		return fail(err_r, "inet_interfaces is empty");
	return 0;
}

void
master_net_deinit(struct master_net *net)
{
	strv_deinit(&net->interfaces);
}

static bool
valid_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool
valid_port_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Parses len bytes of a port: 1-65535 or a tcp service name. */
static int
parse_port(const char *s, size_t len, unsigned *port_r, const char **err_r)
{
	char name[PORT_NAME_MAX + 1];
	struct servent *se;
	bool digits = true;

	if (len == 0)
		return fail(err_r, "missing port");
	if (len > PORT_NAME_MAX)
		return fail(err_r, "port is too long");
	for (size_t i = 0; i < len; i++) {
		if (!valid_port_name_char(s[i]))
			return fail(err_r, "bad character in port");
		if (s[i] < '0' || s[i] > '9')
			digits = false;
	}
	memcpy(name, s, len);
	name[len] = '\0';
	if (digits) {
		long long v;
		const char *err;

		if (len > 5 || str_to_ll(name, 1, 65535, &v, &err) == -1)
			return FAILF(err_r, "bad port \"%s\" (expected "
			    "1-65535)", name);
		*port_r = (unsigned)v;
		return 0;
	}
	se = getservbyname(name, "tcp");
	if (se == NULL)
		return FAILF(err_r, "unknown service name \"%s\"", name);
	*port_r = ntohs((uint16_t)se->s_port);
	return 0;
}

int
master_listen_parse_inet(const char *s, size_t len, char **host_r,
    unsigned *port_r, const char **err_r)
{
	const char *colon, *host;
	size_t hlen;
	struct in6_addr a6;
	char tmp[INET6_ADDRSTRLEN + 1];

	*host_r = NULL;
	if (len == 0)
		return fail(err_r, "empty address");
	if (memchr(s, '\0', len) != NULL)
		return fail(err_r, "NUL byte in address");
	if (!str_is_printable(s, len))
		return fail(err_r, "address contains a non-printable or "
		    "non-ASCII character");
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return fail(err_r, "missing ']' after IPv6 address");
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen > INET6_ADDRSTRLEN)
			return fail(err_r, "bad IPv6 address in brackets");
		memcpy(tmp, s + 1, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return fail(err_r, "bad IPv6 address in brackets");
		if ((size_t)(close - s) + 1 >= len || close[1] != ':')
			return fail(err_r, "expected ':PORT' after ']'");
		colon = close + 1;
		if (parse_port(colon + 1, len - (size_t)(colon + 1 - s),
		    port_r, err_r) == -1)
			return -1;
		*host_r = xstrdup(tmp);
		return 0;
	}
	colon = memchr(s, ':', len);
	if (colon == NULL)
		return parse_port(s, len, port_r, err_r);
	if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) != NULL)
		return fail(err_r, "more than one ':' (an IPv6 address needs "
		    "brackets: [ADDRESS]:PORT)");
	host = s;
	hlen = (size_t)(colon - s);
	if (hlen == 0)
		return fail(err_r, "missing host before ':'");
	if (hlen > MASTER_LISTEN_HOST_MAX)
		return fail(err_r, "host name is too long");
	if (!(hlen == 1 && host[0] == '*'))
		for (size_t i = 0; i < hlen; i++)
			if (!valid_host_char(host[i]))
				return fail(err_r, "bad character in host");
	if (parse_port(colon + 1, len - hlen - 1, port_r, err_r) == -1)
		return -1;
	if (!(hlen == 1 && host[0] == '*'))
		*host_r = xstrndup(host, hlen);
	return 0;
}

void
master_addrs_init(struct master_addrs *a)
{
	memset(a, 0, sizeof(*a));
}

void
master_addrs_deinit(struct master_addrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].desc);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

bool
master_addrs_equal(const struct master_addrs *a, const struct master_addrs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!str_eq(a->v[i].desc, b->v[i].desc))
			return false;
	return true;
}

static struct master_addr *
addrs_push(struct master_addrs *a)
{
	struct master_addr *r;

	if (a->n == a->cap) {
		a->cap = a->cap == 0 ? 4 : xadd(a->cap, a->cap);
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	r = &a->v[a->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Appends an IP address (with port set) unless it is already there. */
static void
addrs_push_ip(struct master_addrs *a, const struct sockaddr *sa,
    socklen_t len, bool optional)
{
	char host[INET6_ADDRSTRLEN], *desc;
	struct master_addr *r;
	unsigned port;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		desc = xasprintf("%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		desc = xasprintf("[%s]:%u", host, port);
	}
	for (size_t i = 0; i < a->n; i++) {
		if (str_eq(a->v[i].desc, desc)) {
			free(desc);
			return;
		}
	}
	r = addrs_push(a);
	r->family = sa->sa_family;
	memcpy(&r->ss, sa, len);
	r->len = len;
	r->desc = desc;
	r->optional = optional;
}

static void
push_fixed(struct master_addrs *a, const struct master_net *net,
    const char *v4, const char *v6, unsigned port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (net->ipv4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, v4, &sin.sin_addr);
		addrs_push_ip(a, (struct sockaddr *)&sin, sizeof(sin), false);
	}
	if (net->ipv6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, v6, &sin6.sin6_addr);
		/* With "all", a host without IPv6 still starts. */
		addrs_push_ip(a, (struct sockaddr *)&sin6, sizeof(sin6),
		    net->all_protocols);
	}
}

/* Resolves one host (literal or name) with the enabled families. */
static int
push_host(struct master_addrs *a, const struct master_net *net,
    const char *host, unsigned port, const char **err_r)
{
	struct addrinfo hints, *res = NULL;
	size_t matched = 0;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = net->ipv4 && net->ipv6 ? AF_UNSPEC :
	    net->ipv4 ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		char *esc = log_escape_str(host);

		(void)FAILF(err_r, "%s: %s", esc, rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		free(esc);
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && net->ipv4) {
			struct sockaddr_in sin;

			memcpy(&sin, ai->ai_addr, sizeof(sin));
			sin.sin_port = htons((uint16_t)port);
			addrs_push_ip(a, (struct sockaddr *)&sin, sizeof(sin),
			    false);
			matched++;
		} else if (ai->ai_family == AF_INET6 && net->ipv6) {
			struct sockaddr_in6 sin6;

			memcpy(&sin6, ai->ai_addr, sizeof(sin6));
			sin6.sin6_port = htons((uint16_t)port);
			addrs_push_ip(a, (struct sockaddr *)&sin6,
			    sizeof(sin6), false);
			matched++;
		}
	}
	freeaddrinfo(res);
	if (matched == 0) {
		char *esc = log_escape_str(host);

		(void)FAILF(err_r, "%s: no address of an enabled protocol "
		    "(inet_protocols)", esc);
		free(esc);
		return -1;
	}
	return 0;
}

static int
resolve_inet(const struct mastercf_entry *e, const struct master_net *net,
    struct master_addrs *a, const char **err_r)
{
	char *host = NULL;
	unsigned port = 0;
	int rc = 0;

	if (master_listen_parse_inet(e->service, strlen(e->service), &host,
	    &port, err_r) == -1)
		return -1;
	if (host != NULL) {
		rc = push_host(a, net, host, port, err_r);
		free(host);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < net->interfaces.n; i++) {
		const char *itf = net->interfaces.v[i];

		if (str_eq_ci(itf, "all"))
			push_fixed(a, net, "0.0.0.0", "::", port);
		else if (str_eq_ci(itf, "loopback-only"))
			push_fixed(a, net, "127.0.0.1", "::1", port);
		else
			rc = push_host(a, net, itf, port, err_r);
	}
	return rc;
}

int
master_listen_resolve(const struct mastercf_entry *e,
    const struct master_net *net, const char *queue_dir,
    struct master_addrs *addrs_r, const char **err_r)
{
	struct master_addr *r;
	struct sockaddr_un sun;
	char *path;

	if (str_eq(e->type, "inet"))
		return resolve_inet(e, net, addrs_r, err_r);
	if (!str_eq(e->type, "unix"))
		return FAILF(err_r, "service type %s is not supported",
		    e->type);
	if (strchr(e->service, '/') != NULL || str_eq(e->service, ".") ||
	    str_eq(e->service, "..") ||
	    !str_is_printable(e->service, strlen(e->service)))
		return fail(err_r, "bad unix service name");
	path = xasprintf("%s/%s/%s", queue_dir,
	    e->private_service ? "private" : "public", e->service);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		(void)FAILF(err_r, "socket path %s is too long", path);
		free(path);
		return -1;
	}
	r = addrs_push(addrs_r);
	r->family = AF_UNIX;
	r->desc = path;
	return 0;
}

static int
open_inet(const struct master_addr *a, int *fd_r, const char **err_r)
{
	int fd, on = 1, saved;

	*fd_r = -1;
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		if (a->optional && (errno == EAFNOSUPPORT ||
		    errno == EPROTONOSUPPORT))
			return 0;
		return FAILF(err_r, "socket for %s: %s", a->desc,
		    strerror(errno));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)) {
		saved = errno;
		(void)close(fd);
		return FAILF(err_r, "setsockopt %s: %s", a->desc,
		    strerror(saved));
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		saved = errno;
		(void)close(fd);
		if (a->optional && (saved == EADDRNOTAVAIL ||
		    saved == EAFNOSUPPORT))
			return 0;
		return FAILF(err_r, "bind %s: %s", a->desc, strerror(saved));
	}
	if (listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		(void)close(fd);
		return FAILF(err_r, "listen %s: %s", a->desc,
		    strerror(saved));
	}
	*fd_r = fd;
	return 0;
}

int
master_listen_open(const struct master_addr *a, int *fd_r,
    const char **err_r)
{
	int fd, fl;

	if (a->family != AF_UNIX)
		return open_inet(a, fd_r, err_r);
	*fd_r = -1;
	fd = ipc_listen(a->desc, SOMAXCONN, 0666, err_r);
	if (fd == -1)
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		(void)close(fd);
		return FAILF(err_r, "fcntl %s: %s", a->desc, strerror(errno));
	}
	*fd_r = fd;
	return 0;
}
