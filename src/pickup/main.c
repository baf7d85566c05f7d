/* SPDX-License-Identifier: MIT */
/*
 * pickup(8): the maildrop service; see pickup.h.
 */
#include "config.h"

#include "server.h"

#include "pickup.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "pickup",
		.post_jail	= pickup_init,
		.on_connect	= pickup_session_start,
	};

	return server_main(&spec, argc, argv);
}
