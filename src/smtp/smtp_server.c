/* SPDX-License-Identifier: MIT */
/*
 * The server skeleton's hooks for smtp and lmtp; see smtp.h.
 */
#include "config.h"

#include <stdbool.h>

#include "log.h"

#include "deliver.h"
#include "dns.h"
#include "server.h"

#include "smtp.h"
#include "smtp_cache.h"
#include "smtp_deliver.h"

static bool lmtp_mode;

void
smtp_set_lmtp(bool lmtp)
{
	lmtp_mode = lmtp;
}

void
smtp_pre_jail(void)
{
	const char *err;

	if (smtp_conf_load(lmtp_mode ? "lmtp" : "smtp", &err) == -1)
		fatal("%s", err);
	/* Still privileged: the client key may be readable by root only.
	   Without it, opportunistic TLS becomes plaintext and the levels
	   that require TLS defer (smtp_deliver.c). */
	smtp_tls = tls_client_new("smtp", &err);
	if (smtp_tls == NULL)
		log_warn("TLS client disabled: %s", err);
}

void
smtp_post_jail(void)
{
	const char *err;

	if (dns_init(server_event_base(), &err) == -1)
		fatal("%s", err);
	smtp_runtime(server_event_base());
}

void
smtp_on_connect(int fd)
{
	deliver_serve_async(fd, smtp_deliver);
}

void
smtp_on_stop(void)
{
	smtp_cache_close_all();
	deliver_serve_stop_idle();
}
