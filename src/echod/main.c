/* SPDX-License-Identifier: MIT */
/*
 * echod(8): the diagnostic line-echo service; see echod.h.
 */
#include "config.h"

#include "server.h"

#include "echod.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "echod",
		.pre_jail	= NULL,
		.post_jail	= echod_init,
		.on_connect	= echod_session_start,
	};

	return server_main(&spec, argc, argv);
}
