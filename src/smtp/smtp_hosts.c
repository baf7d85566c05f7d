/* SPDX-License-Identifier: MIT */
/*
 * Dead-host memory; see smtp_hosts.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

#include "smtp_hosts.h"

/* An address, or a socket path (sun_path is 108 bytes). */
#define HOST_KEY_MAX	128

struct host {
	char		 addr[HOST_KEY_MAX];
	unsigned	 port;
	int64_t		 until;		/* 0: free */
};

static struct host hosts[SMTP_HOSTS_MAX];

static struct host *
find(const char *addr, unsigned port)
{
	size_t i;

	for (i = 0; i < SMTP_HOSTS_MAX; i++)
		if (hosts[i].until != 0 && hosts[i].port == port &&
		    strcmp(hosts[i].addr, addr) == 0)
			return &hosts[i];
	return NULL;
}

void
smtp_hosts_mark_dead(const char *addr, unsigned port, int64_t now,
    long long seconds)
{
	struct host *h;
	size_t i;

	if (seconds <= 0 || strlen(addr) >= HOST_KEY_MAX)
		return;
	h = find(addr, port);
	if (h == NULL) {
		/* A free or expired slot, else the one expiring first. */
		h = &hosts[0];
		for (i = 0; i < SMTP_HOSTS_MAX; i++) {
			if (hosts[i].until <= now) {
				h = &hosts[i];
				break;
			}
			if (hosts[i].until < h->until)
				h = &hosts[i];
		}
		(void)str_copy(h->addr, addr, sizeof(h->addr));
		h->port = port;
	}
	h->until = now + seconds;
}

bool
smtp_hosts_dead(const char *addr, unsigned port, int64_t now)
{
	struct host *h = find(addr, port);

	if (h == NULL)
		return false;
	if (h->until <= now) {
		h->until = 0;
		return false;
	}
	return true;
}

void
smtp_hosts_alive(const char *addr, unsigned port)
{
	struct host *h = find(addr, port);

	if (h != NULL)
		h->until = 0;
}

void
smtp_hosts_clear(void)
{
	memset(hosts, 0, sizeof(hosts));
}
