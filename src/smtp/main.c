/* SPDX-License-Identifier: MIT */
/*
 * smtp(8) and lmtp(8): the outbound delivery agents, one program that
 * speaks LMTP when invoked as "lmtp"; see smtp.h.
 */
#include "config.h"

#include <string.h>

#include "server.h"

#include "smtp.h"

static void
on_connect(int fd, const struct server_peer *peer)
{
	(void)peer;
	smtp_on_connect(fd);
}

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "smtp",
		.pre_jail	= smtp_pre_jail,	/* still privileged: key */
		.post_jail	= smtp_post_jail,
		.on_connect	= on_connect,
		.sessions_param	= "smtp_sessions_per_process",
		.on_stop	= smtp_on_stop,
	};
	static const struct server_spec lmtp_spec = {
		.name		= "lmtp",
		.pre_jail	= smtp_pre_jail,
		.post_jail	= smtp_post_jail,
		.on_connect	= on_connect,
		.sessions_param	= "smtp_sessions_per_process",
		.on_stop	= smtp_on_stop,
	};
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	bool lmtp;

	base = base != NULL ? base + 1 : argc > 0 ? argv[0] : "smtp";
	lmtp = strcmp(base, "lmtp") == 0;
	smtp_set_lmtp(lmtp);
	return server_main(lmtp ? &lmtp_spec : &spec, argc, argv);
}
