/* SPDX-License-Identifier: MIT */
/*
 * authd(8): the credential checker of smtpd, imapd and pop3d; see
 * authd.h.
 */
#include "config.h"

#include "server.h"

#include "authd.h"

static void
authd_post_jail(void)
{
	struct authd_settings s;

	authd_settings_from_conf(&s);
	authd_init(server_event_base(), &s, server_session_done);
}

static void
authd_on_connect(int fd, const struct server_peer *peer)
{
	(void)peer;
	authd_connect(fd);
}

int
main(int argc, char **argv)
{
	static const struct server_spec spec = {
		.name		= "authd",
		.post_jail	= authd_post_jail,
		.on_connect	= authd_on_connect,
		/* SECURITY: read /etc/shadow as mail_owner, nothing more. */
		.extra_group	= "shadow",
		.sessions_param	= "authd_sessions_per_process",
	};

	return server_main(&spec, argc, argv);
}
