/* SPDX-License-Identifier: MIT */
/*
 * smtpd(8): the ESMTP server; see smtpd.h and smtpd_session.h.
 */
#include "config.h"

#include "server.h"

#include "smtpd.h"
#include "smtpd_session.h"

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "smtpd",
		.pre_jail	= smtpd_pre_jail,	/* still privileged: keys */
		.post_jail	= smtpd_post_jail,
		.on_connect	= smtpd_session_start,
		.sessions_param	= "smtpd_sessions_per_process",
		.on_stop	= smtpd_on_stop,
	};

	return server_main(&spec, argc, argv);
}
