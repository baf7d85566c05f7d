/* SPDX-License-Identifier: MIT */
/*
 * smtpd process state: parameters, the TLS context, the loop and the
 * server skeleton hooks; see smtpd.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "dns.h"
#include "mail_conf.h"
#include "server.h"
#include "tls_server.h"

#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_session.h"

struct smtpd_conf smtpd_conf;
struct tls_server *smtpd_tls;

static struct event_base *smtpd_loop;
static void (*smtpd_done_fn)(void);

int
smtpd_conf_load(const char **err_r)
{
	struct smtpd_conf *c = &smtpd_conf;
	const char *v;

	smtpd_conf_unload();
	c->hostname = xstrdup(mail_conf_get("myhostname"));
	c->banner = xstrdup(mail_conf_get("smtpd_banner"));
	c->timeout = mail_conf_time("smtpd_timeout");
	c->line_max = (size_t)mail_conf_int("line_length_limit");
	c->size_limit = mail_conf_size("message_size_limit");
	c->rcpt_limit = mail_conf_int("smtpd_recipient_limit");
	c->soft_errors = mail_conf_int("smtpd_soft_error_limit");
	c->hard_errors = mail_conf_int("smtpd_hard_error_limit");
	c->junk_limit = mail_conf_int("smtpd_junk_command_limit");
	c->error_sleep = mail_conf_time("smtpd_error_sleep_time");
	c->helo_required = mail_conf_bool("smtpd_helo_required");
	c->vrfy_disabled = mail_conf_bool("disable_vrfy_command");
	c->peername_lookup = mail_conf_bool("smtpd_peername_lookup");
	c->sasl_enable = mail_conf_bool("smtpd_sasl_auth_enable");
	c->tls_auth_only = mail_conf_bool("smtpd_tls_auth_only");
	c->wrappermode = mail_conf_bool("smtpd_tls_wrappermode");
	c->conn_count_limit =
	    mail_conf_int("smtpd_client_connection_count_limit");
	c->conn_rate_limit =
	    mail_conf_int("smtpd_client_connection_rate_limit");
	c->msg_rate_limit = mail_conf_int("smtpd_client_message_rate_limit");
	c->auth_rate_limit = mail_conf_int("smtpd_client_auth_rate_limit");

	v = mail_conf_get("smtpd_tls_security_level");
	if (str_eq(v, "none"))
		c->tls_level = SMTPD_TLS_NONE;
	else if (str_eq(v, "may"))
		c->tls_level = SMTPD_TLS_MAY;
	else if (str_eq(v, "encrypt"))
		c->tls_level = SMTPD_TLS_ENCRYPT;
	else {
		*err_r = "smtpd_tls_security_level: expected none, may or "
		    "encrypt";
		return -1;
	}
	v = mail_conf_get("smtpd_forbid_bare_newline");
	if (str_eq(v, "normalize"))
		c->bare = SMTPD_BARE_NORMALIZE;
	else if (str_eq(v, "reject"))
		c->bare = SMTPD_BARE_REJECT;
	else {
		*err_r = "smtpd_forbid_bare_newline: expected normalize or "
		    "reject";
		return -1;
	}
	return 0;
}

void
smtpd_conf_unload(void)
{
	free(smtpd_conf.hostname);
	free(smtpd_conf.banner);
	memset(&smtpd_conf, 0, sizeof(smtpd_conf));
}

void
smtpd_runtime(struct event_base *base, void (*session_done)(void))
{
	smtpd_loop = base;
	smtpd_done_fn = session_done;
}

struct event_base *
smtpd_base(void)
{
	ASSERT(smtpd_loop != NULL);
	return smtpd_loop;
}

void
smtpd_session_ended(void)
{
	if (smtpd_done_fn != NULL)
		smtpd_done_fn();
}

/*
 * Still privileged: the keys may be readable by root only.  Without a
 * usable certificate, "may" degrades to no STARTTLS (as Postfix does);
 * "encrypt" and wrapper mode cannot work at all, so that is fatal.
 */
void
smtpd_pre_jail(void)
{
	const char *err;

	if (smtpd_conf_load(&err) == -1)
		fatal("%s", err);
	if (smtpd_conf.tls_level == SMTPD_TLS_NONE && !smtpd_conf.wrappermode)
		return;
	smtpd_tls = tls_server_new("smtpd", &err);
	if (smtpd_tls != NULL)
		return;
	if (smtpd_conf.tls_level == SMTPD_TLS_ENCRYPT || smtpd_conf.wrappermode)
		fatal("TLS is required but not available: %s", err);
	log_warn("cannot offer STARTTLS: %s", err);
}

void
smtpd_post_jail(void)
{
	const char *err;

	smtpd_runtime(server_event_base(), server_session_done);
	if (dns_init(server_event_base(), &err) == -1)
		log_warn("DNS resolver unavailable, client names will be "
		    "\"unknown\": %s", err);
	/* A configuration error is logged there; every check then says 451. */
	(void)smtpd_check_init(&err);
}

void
smtpd_on_stop(void)
{
	smtpd_session_shutdown_idle();
}
