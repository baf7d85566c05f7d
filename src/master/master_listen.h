/* SPDX-License-Identifier: MIT */
/*
 * master's listening sockets: parsing the service column of an inet
 * service (port, host:port, [ipv6]:port, *:port), expanding it with
 * inet_interfaces and inet_protocols into concrete addresses, the socket
 * path of a unix service, and opening each address as a nonblocking,
 * close-on-exec listener.  Nothing here reads network input.
 */
#ifndef TERN_MASTER_LISTEN_H
#define TERN_MASTER_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "str.h"

struct mastercf_entry;

/* Longest host part accepted in a service column. */
#define MASTER_LISTEN_HOST_MAX	253

/* The protocols and interfaces of the loaded configuration. */
struct master_net {
	bool		 ipv4;
	bool		 ipv6;
	bool		 all_protocols;	/* inet_protocols = all */
	struct strv	 interfaces;	/* inet_interfaces, split */
};

/* One concrete address to listen on. */
struct master_addr {
	int		 family;	/* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage ss;	/* not for AF_UNIX */
	socklen_t	 len;
	char		*desc;		/* "127.0.0.1:25", "[::1]:25", path */
	bool		 optional;	/* IPv6 that may be unavailable */
};

struct master_addrs {
	struct master_addr *v;
	size_t		 n;
	size_t		 cap;
};

/*
 * Parses inet_protocols (items all, ipv4, ipv6) and copies inet_interfaces
 * (all, loopback-only, or addresses and names).  Returns 0, or -1 with
 * err_r naming the bad item.  Free with master_net_deinit.
 */
int master_net_init(struct master_net *net, const struct strv *protocols,
    const struct strv *interfaces, const char **err_r)
    __attribute__((warn_unused_result));
void master_net_deinit(struct master_net *net);

/*
 * Parses the service column of an inet service: len bytes of s (NUL bytes
 * inside are errors).  Returns 0 with *host_r (a heap string, or NULL when
 * no host or "*" was given) and *port_r (1-65535; a name is looked up with
 * getservbyname), or -1 with err_r.  An IPv6 address needs brackets.
 */
int master_listen_parse_inet(const char *s, size_t len, char **host_r,
    unsigned *port_r, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * The addresses of service entry e: for inet, the column expanded with
 * net (names resolved); for unix, queue_dir/private/NAME or
 * queue_dir/public/NAME.  Appends to addrs_r; returns 0, or -1 with err_r
 * (without the file and line).
 */
int master_listen_resolve(const struct mastercf_entry *e,
    const struct master_net *net, const char *queue_dir,
    struct master_addrs *addrs_r, const char **err_r)
    __attribute__((warn_unused_result));

/* True when both lists hold the same addresses in the same order. */
bool master_addrs_equal(const struct master_addrs *a,
    const struct master_addrs *b);
void master_addrs_init(struct master_addrs *a);
void master_addrs_deinit(struct master_addrs *a);

/*
 * Opens a listener (SO_REUSEADDR, IPV6_V6ONLY for IPv6, nonblocking,
 * close-on-exec, backlog SOMAXCONN; unix sockets mode 0666).  Returns 0
 * with *fd_r, 0 with *fd_r == -1 when an optional IPv6 address is not
 * available on this host, or -1 with err_r ("bind ADDR: REASON").
 */
int master_listen_open(const struct master_addr *a, int *fd_r,
    const char **err_r) __attribute__((warn_unused_result));

#endif
