/* SPDX-License-Identifier: MIT */
/*
 * local(8): the local and virtual delivery agent; see local.h.
 */
#include "config.h"

#include "deliver.h"
#include "server.h"

#include "local.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "local",
		.post_jail	= local_init,
		.on_connect	= local_connect,
		.on_stop	= deliver_serve_stop_idle,
	};

	return server_main(&spec, argc, argv);
}
