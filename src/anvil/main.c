/* SPDX-License-Identifier: MIT */
/*
 * anvil(8): connection and rate counting for smtpd and authd; see
 * anvil.h and anvil_service.h.
 *
 * The counts live only in this process, so it is resident (server.h):
 * it never exits for being idle (a rate window may outlast max_idle, and
 * its clients hold their connections open anyway), and it ignores
 * max_use as Postfix's anvil does (with maxproc 1, a process that stops
 * accepting would leave new smtpd processes without anvil until the last
 * old one exits).  When master asks it to go, it closes every connection
 * at once, so that the clients reconnect to its successor.
 */
#include "config.h"

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
		.resident	= true,
		.on_stop	= anvil_service_stop,
	};

	return server_main(&spec, argc, argv);
}
