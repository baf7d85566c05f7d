/* SPDX-License-Identifier: MIT */
/*
 * showq(8): the queue listing service; see showq.h.
 */
#include "config.h"

#include "server.h"

#include "showq.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "showq",
		.on_connect	= showq_session_start,
	};

	return server_main(&spec, argc, argv);
}
