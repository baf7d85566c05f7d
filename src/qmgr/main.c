/* SPDX-License-Identifier: MIT */
/*
 * qmgr(8): the queue manager; see qmgr.h.
 */
#include "config.h"

#include "server.h"

#include "qmgr.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "qmgr",
		.post_jail	= qmgr_init,
		.on_connect	= qmgr_session_start,
		.resident	= true,
		.on_stop	= qmgr_stop,
	};

	return server_main(&spec, argc, argv);
}
