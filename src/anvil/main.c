/* SPDX-License-Identifier: MIT */
/*
 * anvil(8): connection and rate counting for smtpd and authd; see
 * anvil.h and anvil_service.h.
 *
 * The counts live only in this process, so it is meant to live long:
 * it never exits for being idle (a rate window may outlast max_idle, and
 * its clients hold their connections open anyway), and it serves any
 * number of connections (max_use is raised to its maximum ahead of
 * master's options, as Postfix's anvil ignores its use limit: with
 * maxproc 1, a process that stops accepting would leave new smtpd
 * processes without anvil until the last old one exits).  When it does
 * stop accepting, or master asks it to go, it closes every connection at
 * once, so that the clients reconnect to its successor.
 */
#include "config.h"

#include <stdlib.h>

#include "xalloc.h"

#include "mail_conf.h"
#include "server.h"

#include "anvil.h"
#include "anvil_service.h"

static void
anvil_post_jail(void)
{
	anvil_service_init(server_event_base(),
	    (time_t)mail_conf_time("anvil_rate_time_unit"), ANVIL_TABLE_MAX,
	    server_session_done);
}

static void
anvil_connect(int fd, const struct server_peer *peer)
{
	(void)peer;
	anvil_service_attach(fd);
	if (server_stopping())
		anvil_service_stop();
}

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "anvil",
		.post_jail	= anvil_post_jail,
		.on_connect	= anvil_connect,
		.no_idle_exit	= true,
		.on_stop	= anvil_service_stop,
	};
	static char opt_o[] = "-o", opt_use[] = "max_use=1000000";
	char **args = xreallocarray(NULL, (size_t)argc + 3, sizeof(*args));
	int rc;

	/* Ours first: an -o max_use from master.cf still wins. */
	args[0] = argv[0];
	args[1] = opt_o;
	args[2] = opt_use;
	for (int i = 1; i <= argc; i++)
		args[i + 2] = argv[i];
	rc = server_main(&spec, argc + 2, args);
	free(args);
	return rc;
}
