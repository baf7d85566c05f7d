/* SPDX-License-Identifier: MIT */
/*
 * smtp(8) process state: the parameters, read once into smtp_conf; see
 * smtp.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dict.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"

#include "smtp.h"

struct smtp_conf smtp_conf;
struct tls_client *smtp_tls;

static struct event_base *base;
/* Storage behind smtp_conf.mx.local_names. */
static char *local_names[1];
static char conf_err[512];

void
smtp_runtime(struct event_base *b)
{
	base = b;
}

struct event_base *
smtp_base(void)
{
	return base;
}

static int conf_fail(const char **err_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
conf_fail(const char **err_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(conf_err, sizeof(conf_err), fmt, ap);
	va_end(ap);
	*err_r = conf_err;
	return -1;
}

/* A NULL-terminated copy of a list parameter. */
static char **
list_dup(const char *name)
{
	const struct strv *l = mail_conf_list(name);
	char **v = xcalloc(xadd(l->n, 1), sizeof(*v));
	size_t i;

	for (i = 0; i < l->n; i++)
		v[i] = xstrdup(l->v[i]);
	return v;
}

static void
list_free(char ***vp)
{
	char **v = *vp;
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
	*vp = NULL;
}

static int
open_maps(const char *name, struct dict ***maps_r, size_t *n_r,
    const char **err_r)
{
	const struct strv *l = mail_conf_list(name);
	const char *err;
	size_t i;

	*maps_r = xcalloc(xadd(l->n, 1), sizeof(**maps_r));
	*n_r = 0;
	for (i = 0; i < l->n; i++) {
		(*maps_r)[i] = dict_open(l->v[i], DICT_FLAG_FOLD, &err);
		if ((*maps_r)[i] == NULL) {
			*err_r = str_fmt_buf(conf_err, sizeof(conf_err),
			    "%s: %s: %s", name, l->v[i], err);
			return -1;
		}
		*n_r = i + 1;
	}
	return 0;
}

static void
close_maps(struct dict ***mapsp, size_t *np)
{
	size_t i;

	if (*mapsp == NULL)
		return;
	for (i = 0; i < *np; i++)
		dict_free(&(*mapsp)[i]);
	free(*mapsp);
	*mapsp = NULL;
	*np = 0;
}

static int
parse_families(int *families_r, const char **err_r)
{
	const struct strv *l = mail_conf_list("inet_protocols");
	size_t i;

	*families_r = 0;
	for (i = 0; i < l->n; i++) {
		if (str_eq_ci(l->v[i], "all"))
			*families_r |= DNS_MX_IPV4 | DNS_MX_IPV6;
		else if (str_eq_ci(l->v[i], "ipv4"))
			*families_r |= DNS_MX_IPV4;
		else if (str_eq_ci(l->v[i], "ipv6"))
			*families_r |= DNS_MX_IPV6;
		else
			return conf_fail(err_r, "inet_protocols: unknown "
			    "protocol \"%s\"", l->v[i]);
	}
	if (*families_r == 0)
		return conf_fail(err_r, "inet_protocols: empty");
	return 0;
}

/* smtp_sasl_*security_options: true when plaintext mechanisms may be used;
 * unknown options are errors. */
static int
parse_sasl_opts(const char *name, bool *plain_ok_r, const char **err_r)
{
	static const char *const known[] = { "noplaintext", "noanonymous",
	    "noactive", "nodictionary", "mutual_auth", NULL };
	const struct strv *l = mail_conf_list(name);
	size_t i, k;

	*plain_ok_r = true;
	for (i = 0; i < l->n; i++) {
		for (k = 0; known[k] != NULL; k++)
			if (str_eq_ci(l->v[i], known[k]))
				break;
		if (known[k] == NULL)
			return conf_fail(err_r, "%s: unknown option \"%s\"",
			    name, l->v[i]);
		if (k == 0)
			*plain_ok_r = false;
	}
	return 0;
}

static int
check_bind(const char *name, const char *value, int family,
    const char **err_r)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (*value != '\0' && inet_pton(family, value, bin) != 1)
		return conf_fail(err_r, "%s: not a numeric %s address",
		    name, family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

int
smtp_conf_load(const char *service, const char **err_r)
{
	struct smtp_conf *c = &smtp_conf;
	const char *v;

	smtp_conf_unload();
	c->lmtp = str_eq(service, "lmtp");
	c->helo_name = xstrdup(mail_conf_get(c->lmtp ? "lmtp_lhlo_name" :
	    "smtp_helo_name"));
	c->port = (unsigned)mail_conf_int(c->lmtp ? "lmtp_tcp_port" :
	    "smtp_tcp_port");
	c->bind_addr = xstrdup(mail_conf_get("smtp_bind_address"));
	c->bind_addr6 = xstrdup(mail_conf_get("smtp_bind_address6"));
	c->queue_dir = xstrdup(mail_conf_get("queue_directory"));
	if (check_bind("smtp_bind_address", c->bind_addr, AF_INET,
	    err_r) == -1 ||
	    check_bind("smtp_bind_address6", c->bind_addr6, AF_INET6,
	    err_r) == -1)
		return -1;

	if (parse_families(&c->mx.families, err_r) == -1)
		return -1;
	v = mail_conf_get("smtp_address_preference");
	if (str_eq_ci(v, "any"))
		c->mx.prefer = DNS_MX_PREFER_ANY;
	else if (str_eq_ci(v, "ipv4"))
		c->mx.prefer = DNS_MX_PREFER_IPV4;
	else if (str_eq_ci(v, "ipv6"))
		c->mx.prefer = DNS_MX_PREFER_IPV6;
	else
		return conf_fail(err_r, "smtp_address_preference: \"%s\" is "
		    "not any, ipv4 or ipv6", v);
	/* RFC 5321 §5.1: MX hosts at or above our own preference are
	   dropped; like Postfix, "our own" is $myhostname. */
	local_names[0] = xstrdup(mail_conf_get("myhostname"));
	str_lower(local_names[0]);
	c->mx.local_names = (const char *const *)local_names;
	c->mx.nlocal = 1;
	c->mx.max_addrs = (size_t)mail_conf_int("smtp_mx_address_limit");
	c->mx_session_limit = mail_conf_int("smtp_mx_session_limit");

	c->connect_timeout = mail_conf_time("smtp_connect_timeout");
	c->helo_timeout = mail_conf_time("smtp_helo_timeout");
	c->starttls_timeout = mail_conf_time("smtp_starttls_timeout");
	c->mail_timeout = mail_conf_time("smtp_mail_timeout");
	c->rcpt_timeout = mail_conf_time("smtp_rcpt_timeout");
	c->data_init_timeout = mail_conf_time("smtp_data_init_timeout");
	c->data_xfer_timeout = mail_conf_time("smtp_data_xfer_timeout");
	c->data_done_timeout = mail_conf_time("smtp_data_done_timeout");
	c->rset_timeout = mail_conf_time("smtp_rset_timeout");
	c->quit_timeout = mail_conf_time("smtp_quit_timeout");
	c->skip_5xx_greeting = mail_conf_bool("smtp_skip_5xx_greeting");
	c->dead_host_time = mail_conf_time("smtp_dead_host_time");

	c->cache_on_demand = mail_conf_bool("smtp_connection_cache_on_demand");
	c->cache_time_limit = mail_conf_time(
	    "smtp_connection_cache_time_limit");
	c->reuse_count_limit = mail_conf_int(
	    "smtp_connection_reuse_count_limit");
	c->reuse_time_limit = mail_conf_time(
	    "smtp_connection_reuse_time_limit");

	v = mail_conf_get("smtp_tls_security_level");
	if (tls_level_parse(v, &c->tls_level) == -1)
		return conf_fail(err_r, "smtp_tls_security_level: unknown "
		    "level \"%s\"", v);
	c->verify_match = list_dup("smtp_tls_verify_cert_match");
	c->secure_match = list_dup("smtp_tls_secure_cert_match");
	c->servername = xstrdup(mail_conf_get("smtp_tls_servername"));
	if (open_maps("smtp_tls_policy_maps", &c->tls_policy,
	    &c->ntls_policy, err_r) == -1)
		return -1;

	c->sasl_enable = mail_conf_bool("smtp_sasl_auth_enable");
	if (open_maps("smtp_sasl_password_maps", &c->sasl_passwd,
	    &c->nsasl_passwd, err_r) == -1)
		return -1;
	c->sasl_mechs = list_dup("smtp_sasl_mechanism_filter");
	if (parse_sasl_opts("smtp_sasl_security_options", &c->sasl_plain_ok,
	    err_r) == -1 ||
	    parse_sasl_opts("smtp_sasl_tls_security_options",
	    &c->sasl_tls_plain_ok, err_r) == -1)
		return -1;
	c->message_size_limit = mail_conf_size("message_size_limit");
	return 0;
}

void
smtp_conf_unload(void)
{
	struct smtp_conf *c = &smtp_conf;

	free(c->helo_name);
	free(c->bind_addr);
	free(c->bind_addr6);
	free(c->queue_dir);
	free(c->servername);
	list_free(&c->verify_match);
	list_free(&c->secure_match);
	list_free(&c->sasl_mechs);
	close_maps(&c->tls_policy, &c->ntls_policy);
	close_maps(&c->sasl_passwd, &c->nsasl_passwd);
	free(local_names[0]);
	local_names[0] = NULL;
	memset(c, 0, sizeof(*c));
}
