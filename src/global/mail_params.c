/* SPDX-License-Identifier: MIT */
/*
 * The main.cf parameter table and the host-dependent defaults; see
 * mail_params.h.  Keep the table sorted by name; each entry carries a
 * one-line description used by documentation and ternconf.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "param.h"
#include "str.h"
#include "xalloc.h"

#include "mail_params.h"

#ifndef DEF_DAEMON_DIR
#define DEF_DAEMON_DIR	"/usr/libexec/tern"
#endif
#ifndef DEF_COMMAND_DIR
#define DEF_COMMAND_DIR	"/usr/sbin"
#endif
#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR	"/etc/tern"
#endif

#define LOOPBACK_NETS	"127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"

char *
mail_params_hostname(void)
{
	char name[256];
	struct addrinfo hints, *res = NULL;
	char *out = NULL;

	if (gethostname(name, sizeof(name)) == -1 || name[0] == '\0')
		str_copy(name, "localhost", sizeof(name));
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') != NULL)
		return xstrdup(name);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
		out = xstrdup(res->ai_canonname);
	if (res != NULL)
		freeaddrinfo(res);
	return out != NULL ? out : xasprintf("%s.localdomain", name);
}

char *
mail_params_domain_of(const char *hostname)
{
	const char *dot = strchr(hostname, '.');

	if (dot == NULL || dot[1] == '\0')
		return xstrdup("localdomain");
	return xstrdup(dot + 1);
}

/* Applies a prefix mask to len bytes of an address. */
static void
mask_addr(unsigned char *a, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix >= 8 * (i + 1) ? 8 :
		    prefix <= 8 * i ? 0 : prefix - 8 * (unsigned)i;

		a[i] &= (unsigned char)(0xff00u >> bits);
	}
}

static unsigned
prefix_len(const unsigned char *m, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount(m[i]);
	return n;
}

char *
mail_params_mynetworks(const char *style)
{
	struct ifaddrs *ifs = NULL;
	struct strv nets;
	char *out;

	strv_init(&nets);
	strv_split(&nets, LOOPBACK_NETS, " ");
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
			unsigned char a[16], m[16];
			char text[INET6_ADDRSTRLEN], *net;
			size_t len;
			int af;
			unsigned pl;

			if (i->ifa_addr == NULL || i->ifa_netmask == NULL)
				continue;
			af = i->ifa_addr->sa_family;
			if (af == AF_INET) {
				len = 4;
				memcpy(a, &((struct sockaddr_in *)(void *)
				    i->ifa_addr)->sin_addr, len);
				memcpy(m, &((struct sockaddr_in *)(void *)
				    i->ifa_netmask)->sin_addr, len);
				if (a[0] == 127)
					continue;
			} else if (af == AF_INET6) {
				len = 16;
				memcpy(a, &((struct sockaddr_in6 *)(void *)
				    i->ifa_addr)->sin6_addr, len);
				memcpy(m, &((struct sockaddr_in6 *)(void *)
				    i->ifa_netmask)->sin6_addr, len);
				/* Loopback and link-local are not networks. */
				if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)
				    (void *)a) || IN6_IS_ADDR_LINKLOCAL(
				    (struct in6_addr *)(void *)a))
					continue;
			} else {
				continue;
			}
			pl = 8 * (unsigned)len;
			if (!str_eq(style, "host")) {
				pl = prefix_len(m, len);
				/* XXX: "class" uses the class-A/B/C mask. */
				if (str_eq(style, "class") && af == AF_INET)
					pl = a[0] < 128 ? 8 : a[0] < 192 ?
					    16 : 24;
				mask_addr(a, len, pl);
			}
			if (inet_ntop(af, a, text, sizeof(text)) == NULL)
				continue;
			net = af == AF_INET ? xasprintf("%s/%u", text, pl) :
			    xasprintf("[%s]/%u", text, pl);
			if (strv_find(&nets, net) < 0)
				strv_push_owned(&nets, net);
			else
				free(net);
		}
		freeifaddrs(ifs);
	}
	out = strv_join(&nets, " ");
	strv_deinit(&nets);
	return out;
}

static char *
def_myhostname(struct param_set *ps)
{
	(void)ps;
	return mail_params_hostname();
}

static char *
def_mydomain(struct param_set *ps)
{
	return mail_params_domain_of(param_str(ps, "myhostname"));
}

static char *
def_mynetworks(struct param_set *ps)
{
	return mail_params_mynetworks(param_str(ps, "mynetworks_style"));
}

#define NOLIMIT	0, 0

const struct param_def mail_params[] = {
	{ "2bounce_notice_recipient", PARAM_STR, "postmaster", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "recipient of undeliverable bounces (notify_classes 2bounce)" },
	{ "access_map_defer_code", PARAM_INT, "450", NULL, 400, 499, 0, 0,
	  "SMTP reply code of a DEFER action in an access table" },
	{ "access_map_reject_code", PARAM_INT, "554", NULL, 500, 599, 0, 0,
	  "SMTP reply code of a REJECT action in an access table" },
	{ "alias_database", PARAM_MAP, "hash:/etc/aliases", NULL, NOLIMIT,
	  0, 0, "alias databases that newaliases (ternalias) rebuilds" },
	{ "alias_maps", PARAM_MAP, "hash:/etc/aliases", NULL, NOLIMIT, 0, 0,
	  "alias lookup tables used by local delivery" },
	{ "allow_mail_to_commands", PARAM_LIST, "alias, forward", NULL,
	  NOLIMIT, 0, 0,
	  "where command destinations are allowed: alias, forward, include" },
	{ "allow_mail_to_files", PARAM_LIST, "alias, forward", NULL,
	  NOLIMIT, 0, 0,
	  "where file destinations are allowed: alias, forward, include" },
	{ "anvil_rate_time_unit", PARAM_TIME, "60s", NULL, 1, 86400, 's', 0,
	  "time unit of the smtpd_client_*_rate_limit parameters" },
	{ "authd_failure_delay", PARAM_TIME, "2s", NULL, 0, 60, 's', 0,
	  "how long authd waits before it answers a failed login" },
	{ "authd_failure_rate_limit", PARAM_INT, "10", NULL, 0, 1000000, 0, 0,
	  "failed logins per client address and anvil_rate_time_unit before "
	  "authd refuses to check more (0: no limit)" },
	{ "authd_passwd_file", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "users file in Dovecot passwd-file format (empty: none)" },
	{ "authd_sessions_per_process", PARAM_INT, "100", NULL, 1, 100000,
	  0, 0, "requests one authd process serves at once before master "
	  "starts another" },
	{ "authd_system_users", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "also authenticate system accounts (passwd and shadow)" },
	{ "bounce_notice_recipient", PARAM_STR, "postmaster", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "recipient of postmaster copies of bounces (notify_classes bounce)" },
	{ "bounce_queue_lifetime", PARAM_TIME, "5d", NULL, 0, 8640000, 'd', 0,
	  "how long an undeliverable bounce stays queued" },
	{ "bounce_size_limit", PARAM_SIZE, "50000", NULL, 0, LLONG_MAX, 0, 0,
	  "bytes of the original message returned in a bounce" },
	{ "command_directory", PARAM_STR, DEF_COMMAND_DIR, NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "directory of the administrative commands" },
	{ "command_time_limit", PARAM_TIME, "1000s", NULL, 1, 86400, 's', 0,
	  "time limit of a delivery to a command" },
	{ "config_directory", PARAM_STR, DEF_CONFIG_DIR, NULL, NOLIMIT, 0,
	  PARAM_F_READONLY, "directory of main.cf and master.cf (read-only)" },
	{ "daemon_directory", PARAM_STR, DEF_DAEMON_DIR, NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "directory of the daemon programs" },
	{ "data_directory", PARAM_STR, "/var/lib/tern", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "directory of writable data (maps, caches)" },
	{ "default_destination_concurrency_limit", PARAM_INT, "20", NULL,
	  1, 10000, 0, 0,
	  "parallel deliveries per destination" },
	{ "default_destination_recipient_limit", PARAM_INT, "50", NULL,
	  1, 100000, 0, 0,
	  "recipients per delivery request" },
	{ "default_privs", PARAM_STR, "nobody", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "user for deliveries to files and commands of root-owned aliases" },
	{ "default_process_limit", PARAM_INT, "100", NULL, 1, 100000, 0, 0,
	  "default maxproc of a master.cf service" },
	{ "default_transport", PARAM_STR, "smtp", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "transport[:nexthop] of mail for other domains" },
	{ "delay_warning_time", PARAM_TIME, "0h", NULL, 0, 8640000, 'h', 0,
	  "delay after which the sender is warned (0: never)" },
	{ "disable_vrfy_command", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "answer VRFY with 252 instead of looking the address up" },
	{ "dns_resolver_config", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "unbound.conf-format resolver configuration (empty: resolv.conf)" },
	{ "double_bounce_sender", PARAM_STR, "double-bounce", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "sender of postmaster notifications; their failures are discarded" },
	{ "header_count_limit", PARAM_INT, "1000", NULL, 1, 100000, 0, 0,
	  "most header fields a message may have" },
	{ "header_size_limit", PARAM_SIZE, "102400", NULL, 1, LLONG_MAX, 0, 0,
	  "largest header field, folded lines included" },
	{ "home_mailbox", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "mailbox path relative to home (ending in /: Maildir)" },
	{ "hopcount_limit", PARAM_INT, "50", NULL, 1, 10000, 0, 0,
	  "most Received: headers before a message is bounced as a loop" },
	{ "import_environment", PARAM_LIST, "MAIL_CONFIG TZ LANG=C", NULL,
	  NOLIMIT, 0, 0, "environment that master passes to the services" },
	{ "inet_interfaces", PARAM_LIST, "all", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "network interface addresses to receive mail on" },
	{ "inet_protocols", PARAM_LIST, "all", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "internet protocols to use: ipv4, ipv6 or all" },
	{ "initial_destination_concurrency", PARAM_INT, "5", NULL,
	  1, 10000, 0, 0,
	  "parallel deliveries to a new destination (slow start)" },
	{ "ipc_timeout", PARAM_TIME, "3600s", NULL, 1, 86400, 's', 0,
	  "time limit of one request to a delivery agent" },
	{ "line_length_limit", PARAM_INT, "2048", NULL, 512, 1048576, 0, 0,
	  "longest SMTP command line, in bytes" },
	{ "lmtp_destination_concurrency_limit", PARAM_INT,
	  "$default_destination_concurrency_limit", NULL,
	  1, 10000, 0, 0,
	  "parallel deliveries per LMTP destination" },
	{ "lmtp_destination_recipient_limit", PARAM_INT,
	  "$default_destination_recipient_limit", NULL,
	  1, 100000, 0, 0,
	  "recipients per LMTP delivery request" },
	{ "lmtp_lhlo_name", PARAM_STR, "$myhostname", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "host name the LMTP client sends in LHLO" },
	{ "lmtp_tcp_port", PARAM_INT, "24", NULL, 1, 65535, 0, 0,
	  "port of lmtp:inet:host next hops without one" },
	{ "local_destination_concurrency_limit", PARAM_INT, "2", NULL,
	  1, 10000, 0, 0,
	  "parallel deliveries per local recipient" },
	{ "local_destination_recipient_limit", PARAM_INT, "1", NULL,
	  1, 100000, 0, 0,
	  "recipients per local delivery request" },
	{ "local_recipient_maps", PARAM_MAP,
	  "unix:passwd.byname $alias_maps", NULL, NOLIMIT, 0, 0,
	  "tables of the local recipients smtpd accepts (empty: any)" },
	{ "local_transport", PARAM_STR, "local:$myhostname", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "transport[:nexthop] of mail for mydestination" },
	{ "mail_name", PARAM_STR, "tern", NULL, NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "the mail system's name in the SMTP greeting" },
	{ "mail_owner", PARAM_STR, "tern", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "user that owns the queue and runs the daemons" },
	{ "mail_spool_directory", PARAM_STR, "/var/mail", NULL, NOLIMIT, 0, 0,
	  "directory of mbox mailboxes (ending in /: Maildir)" },
	{ "mailbox_command", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "command that delivers to mailboxes instead of local" },
	{ "mailbox_size_limit", PARAM_SIZE, "51200000", NULL,
	  0, LLONG_MAX, 0, 0,
	  "largest mbox file or message to a Maildir (0: no limit)" },
	{ "maillog_file", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "file to log to instead of syslog (empty: syslog)" },
	{ "master_stop_timeout", PARAM_TIME, "30s", NULL, 0, 86400, 's', 0,
	  "how long tern stop lets sessions finish before killing them" },
	{ "max_idle", PARAM_TIME, "100s", NULL, 1, 86400, 's', 0,
	  "time an idle service process waits for work before it exits" },
	{ "max_use", PARAM_INT, "100", NULL, 1, 1000000, 0, 0,
	  "sessions a service process serves before it exits" },
	{ "maximal_backoff_time", PARAM_TIME, "4000s", NULL,
	  1, 8640000, 's', 0,
	  "longest wait before a deferred message is retried" },
	{ "maximal_queue_lifetime", PARAM_TIME, "5d", NULL, 0, 8640000, 'd', 0,
	  "how long a message stays queued before it bounces" },
	{ "message_size_limit", PARAM_SIZE, "10240000", NULL, 0, LLONG_MAX,
	  0, 0, "largest message accepted, in bytes (0: no limit)" },
	{ "minimal_backoff_time", PARAM_TIME, "300s", NULL, 1, 8640000, 's', 0,
	  "shortest wait before a deferred message is retried" },
	{ "mydestination", PARAM_LIST,
	  "$myhostname, localhost.$mydomain, localhost", NULL, NOLIMIT, 0, 0,
	  "domains delivered locally" },
	{ "mydomain", PARAM_STR, NULL, def_mydomain, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "internet domain of this host" },
	{ "myhostname", PARAM_STR, NULL, def_myhostname, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "fully qualified internet host name of this host" },
	{ "mynetworks", PARAM_LIST, NULL, def_mynetworks, NOLIMIT, 0, 0,
	  "trusted client networks, allowed to relay" },
	{ "mynetworks_style", PARAM_STR, "host", NULL, NOLIMIT, 0, 0,
	  "how mynetworks is computed by default: host, subnet or class" },
	{ "myorigin", PARAM_STR, "$myhostname", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "domain appended to locally posted addresses" },
	{ "notify_classes", PARAM_LIST, "resource, software", NULL,
	  NOLIMIT, 0, 0,
	  "problems reported to the postmaster (bounce, 2bounce, delay, ...)" },
	{ "owner_request_special", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "owner-LIST and LIST-request are special" },
	{ "process_id_directory", PARAM_STR, "pid", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "directory of the master's lock file, relative "
	  "to queue_directory" },
	{ "qmgr_message_active_limit", PARAM_INT, "20000", NULL,
	  1, 10000000, 0, 0,
	  "messages in the active queue at once" },
	{ "qmgr_message_recipient_limit", PARAM_INT, "20000", NULL,
	  1, 10000000, 0, 0,
	  "recipients in memory at once" },
	{ "queue_directory", PARAM_STR, "/var/spool/tern", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "directory of the mail queue" },
	{ "queue_run_delay", PARAM_TIME, "300s", NULL, 1, 8640000, 's', 0,
	  "how often the deferred queue is scanned" },
	{ "recipient_delimiter", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "characters that separate a user name from an address extension" },
	{ "relay_domains", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "domains this host relays mail to (backup MX, gateway)" },
	{ "relay_recipient_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "tables of the recipients valid in relay_domains (empty: any)" },
	{ "relayhost", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "next-hop destination for non-local mail (empty: direct)" },
	{ "service_throttle_time", PARAM_TIME, "60s", NULL, 1, 86400, 's', 0,
	  "pause before a crash-looping service is started again" },
	{ "setgid_group", PARAM_STR, "terndrop", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "group of the setgid mail posting program" },
	{ "smtp_address_preference", PARAM_STR, "any", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "address family tried first: any, ipv4 or ipv6" },
	{ "smtp_bind_address", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "local IPv4 address of outbound connections" },
	{ "smtp_bind_address6", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "local IPv6 address of outbound connections" },
	{ "smtp_connect_timeout", PARAM_TIME, "30s", NULL, 1, 86400, 's', 0,
	  "time limit of a TCP connection attempt" },
	{ "smtp_connection_cache_on_demand", PARAM_BOOL, "yes", NULL,
	  NOLIMIT, 0, 0,
	  "keep a connection open for the next message to the same place" },
	{ "smtp_connection_cache_time_limit", PARAM_TIME, "2s", NULL,
	  1, 3600, 's', 0,
	  "how long an unused cached connection is kept" },
	{ "smtp_connection_reuse_count_limit", PARAM_INT, "0", NULL,
	  0, 100000, 0, 0,
	  "most messages over one connection (0: no limit)" },
	{ "smtp_connection_reuse_time_limit", PARAM_TIME, "300s", NULL,
	  1, 86400, 's', 0,
	  "age after which a connection is no longer reused" },
	{ "smtp_data_done_timeout", PARAM_TIME, "600s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to the end of the message" },
	{ "smtp_data_init_timeout", PARAM_TIME, "120s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to DATA" },
	{ "smtp_data_xfer_timeout", PARAM_TIME, "180s", NULL, 1, 86400, 's', 0,
	  "time limit of each write of message content" },
	{ "smtp_dead_host_time", PARAM_TIME, "60s", NULL, 0, 86400, 's', 0,
	  "how long a host that could not be reached is skipped" },
	{ "smtp_destination_concurrency_limit", PARAM_INT,
	  "$default_destination_concurrency_limit", NULL,
	  1, 10000, 0, 0,
	  "parallel deliveries per SMTP destination" },
	{ "smtp_destination_recipient_limit", PARAM_INT,
	  "$default_destination_recipient_limit", NULL,
	  1, 100000, 0, 0,
	  "recipients per SMTP delivery request" },
	{ "smtp_helo_name", PARAM_STR, "$myhostname", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "host name the SMTP client sends in EHLO and HELO" },
	{ "smtp_helo_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "time limit of the greeting and the EHLO/HELO reply" },
	{ "smtp_mail_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to MAIL FROM" },
	{ "smtp_mx_address_limit", PARAM_INT, "5", NULL, 0, 1000, 0, 0,
	  "most addresses tried per delivery (0: no limit)" },
	{ "smtp_mx_session_limit", PARAM_INT, "2", NULL, 0, 1000, 0, 0,
	  "most SMTP sessions per delivery (0: no limit)" },
	{ "smtp_quit_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to QUIT" },
	{ "smtp_rcpt_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to RCPT TO" },
	{ "smtp_rset_timeout", PARAM_TIME, "20s", NULL, 1, 86400, 's', 0,
	  "time limit of the reply to RSET" },
	{ "smtp_sasl_auth_enable", PARAM_BOOL, "no", NULL, NOLIMIT, 0, 0,
	  "authenticate to servers listed in smtp_sasl_password_maps" },
	{ "smtp_sasl_mechanism_filter", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "SASL mechanisms the client may use (empty: PLAIN and LOGIN)" },
	{ "smtp_sasl_password_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "tables of user:password per next hop or host" },
	{ "smtp_sasl_security_options", PARAM_LIST, "noplaintext, noanonymous", NULL,
	  NOLIMIT, 0, 0,
	  "SASL restrictions without TLS (noplaintext: no PLAIN or LOGIN)" },
	{ "smtp_sasl_tls_security_options", PARAM_LIST, "noanonymous", NULL,
	  NOLIMIT, 0, 0,
	  "SASL restrictions inside TLS" },
	{ "smtp_sessions_per_process", PARAM_INT, "100", NULL, 1, 100000, 0, 0,
	  "deliveries one smtp or lmtp process runs at once" },
	{ "smtp_skip_5xx_greeting", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "try the next host when a server greets with 5xx" },
	{ "smtp_starttls_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "time limit of STARTTLS and the TLS handshake" },
	{ "smtp_tcp_port", PARAM_INT, "25", NULL, 1, 65535, 0, 0,
	  "port of SMTP next hops without one" },
	{ "smtp_tls_CAfile", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "trusted CA certificates for verify and secure (PEM)" },
	{ "smtp_tls_CApath", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "directory of trusted CA certificates (c_rehash form)" },
	{ "smtp_tls_cert_file", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "client certificate (PEM) for servers that ask for one" },
	{ "smtp_tls_chain_files", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "client keys and certificate chains (PEM), instead of cert/key" },
	{ "smtp_tls_ciphers", PARAM_STR, "medium", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "TLS 1.2 cipher grade of opportunistic TLS" },
	{ "smtp_tls_key_file", PARAM_STR, "$smtp_tls_cert_file", NULL,
	  NOLIMIT, 0, 0,
	  "private key of smtp_tls_cert_file (PEM)" },
	{ "smtp_tls_mandatory_ciphers", PARAM_STR, "medium", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "TLS 1.2 cipher grade when TLS is required" },
	{ "smtp_tls_mandatory_protocols", PARAM_STR, ">=TLSv1.2", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "TLS versions used when TLS is required" },
	{ "smtp_tls_policy_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "TLS security level per next-hop destination" },
	{ "smtp_tls_protocols", PARAM_STR, ">=TLSv1.2", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "TLS versions used by opportunistic TLS" },
	{ "smtp_tls_secure_cert_match", PARAM_LIST, "nexthop, dot-nexthop", NULL,
	  NOLIMIT, 0, 0,
	  "names the certificate must match at level secure" },
	{ "smtp_tls_security_level", PARAM_STR, "may", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "none, may, encrypt, dane, verify or secure" },
	{ "smtp_tls_servername", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "SNI sent: empty (none), hostname, nexthop or a name" },
	{ "smtp_tls_verify_cert_match", PARAM_LIST, "hostname", NULL,
	  NOLIMIT, 0, 0,
	  "names the certificate must match at level verify" },
	{ "smtpd_banner", PARAM_STR, "$myhostname ESMTP $mail_name", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY, "text of the 220 greeting" },
	{ "smtpd_client_auth_rate_limit", PARAM_INT, "0", NULL, 0, 1000000,
	  0, 0, "AUTH commands per client address and anvil_rate_time_unit "
	  "(0: no limit)" },
	{ "smtpd_client_connection_count_limit", PARAM_INT, "50", NULL,
	  0, 1000000, 0, 0,
	  "simultaneous connections per client address (0: no limit)" },
	{ "smtpd_client_connection_rate_limit", PARAM_INT, "0", NULL,
	  0, 1000000, 0, 0, "connections per client address and "
	  "anvil_rate_time_unit (0: no limit)" },
	{ "smtpd_client_event_limit_exceptions", PARAM_LIST, "$mynetworks",
	  NULL, NOLIMIT, 0, 0, "clients exempt from the smtpd_client_* "
	  "limits" },
	{ "smtpd_client_message_rate_limit", PARAM_INT, "0", NULL,
	  0, 1000000, 0, 0, "MAIL commands per client address and "
	  "anvil_rate_time_unit (0: no limit)" },
	{ "smtpd_client_restrictions", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "restrictions applied to the client's address and name" },
	{ "smtpd_data_restrictions", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "restrictions applied to the DATA and BDAT commands" },
	{ "smtpd_delay_reject", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "apply client, helo and sender restrictions at RCPT TO" },
	{ "smtpd_error_sleep_time", PARAM_TIME, "1s", NULL, 0, 60, 's', 0,
	  "delay before each error reply once smtpd_soft_error_limit is "
	  "reached" },
	{ "smtpd_forbid_bare_newline", PARAM_STR, "normalize", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "bare LF in commands and DATA: normalize (treat as CRLF) or reject" },
	{ "smtpd_hard_error_limit", PARAM_INT, "20", NULL, 1, 100000, 0, 0,
	  "errors after which the session is ended" },
	{ "smtpd_helo_required", PARAM_BOOL, "no", NULL, NOLIMIT, 0, 0,
	  "require HELO or EHLO before MAIL" },
	{ "smtpd_helo_restrictions", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "restrictions applied to the HELO/EHLO host name" },
	{ "smtpd_junk_command_limit", PARAM_INT, "100", NULL, 1, 100000, 0, 0,
	  "NOOP, VRFY, HELP and RSET commands per session before an error "
	  "is counted for each" },
	{ "smtpd_peername_lookup", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "look up (and confirm) the client's host name in DNS" },
	{ "smtpd_recipient_limit", PARAM_INT, "1000", NULL, 1, 100000, 0, 0,
	  "recipients accepted per message" },
	{ "smtpd_recipient_restrictions", PARAM_LIST, "", NULL,
	  NOLIMIT, 0, 0, "restrictions applied to each RCPT TO, after "
	  "smtpd_relay_restrictions" },
	{ "smtpd_reject_unlisted_recipient", PARAM_BOOL, "yes", NULL,
	  NOLIMIT, 0, 0, "reject recipients of our own domains that no "
	  "table lists" },
	{ "smtpd_relay_restrictions", PARAM_LIST, "permit_mynetworks, "
	  "permit_sasl_authenticated, defer_unauth_destination", NULL,
	  NOLIMIT, 0, 0, "relay control, applied to each RCPT TO" },
	{ "smtpd_sasl_auth_enable", PARAM_BOOL, "no", NULL, NOLIMIT, 0, 0,
	  "offer SMTP AUTH (checked by authd)" },
	{ "smtpd_sender_login_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "tables of the login names allowed to use each sender address" },
	{ "smtpd_sender_restrictions", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "restrictions applied to the MAIL FROM address" },
	{ "smtpd_sessions_per_process", PARAM_INT, "500", NULL, 1, 100000,
	  0, 0, "sessions one smtpd process serves before master starts "
	  "another" },
	{ "smtpd_soft_error_limit", PARAM_INT, "10", NULL, 0, 100000, 0, 0,
	  "errors after which each error reply is delayed" },
	{ "smtpd_timeout", PARAM_TIME, "300s", NULL, 1, 86400, 's', 0,
	  "how long smtpd waits for the client" },
	{ "smtpd_tls_auth_only", PARAM_BOOL, "yes", NULL, NOLIMIT, 0, 0,
	  "offer AUTH only over TLS" },
	{ "smtpd_tls_cert_file", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "server certificate chain (PEM), leaf first" },
	{ "smtpd_tls_chain_files", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "files each holding a key and its certificate chain (PEM); "
	  "replaces cert_file and key_file" },
	{ "smtpd_tls_ciphers", PARAM_STR, "medium", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "TLS 1.2 cipher grade: medium or high" },
	{ "smtpd_tls_key_file", PARAM_STR, "$smtpd_tls_cert_file", NULL,
	  NOLIMIT, 0, 0, "private key of smtpd_tls_cert_file (PEM)" },
	{ "smtpd_tls_protocols", PARAM_STR, ">=TLSv1.2", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "TLS versions accepted, as >=TLSv1.2 or "
	  ">=TLSv1.3" },
	{ "smtpd_tls_security_level", PARAM_STR, "none", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "none, may (offer STARTTLS) or encrypt "
	  "(require it)" },
	{ "smtpd_tls_session_cache_timeout", PARAM_TIME, "3600s", NULL,
	  0, 86400, 's', 0, "lifetime of TLS session tickets (0: no "
	  "resumption)" },
	{ "smtpd_tls_wrappermode", PARAM_BOOL, "no", NULL, NOLIMIT, 0, 0,
	  "TLS from the first byte (port 465) instead of STARTTLS" },
	{ "syslog_facility", PARAM_STR, "mail", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "syslog facility of tern's logging" },
	{ "syslog_name", PARAM_STR, "tern", NULL, NOLIMIT, 0,
	  PARAM_F_NONEMPTY, "prefix of the syslog identity of every program" },
	{ "transport_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "lookup tables mapping recipients to transports" },
	{ "unknown_address_reject_code", PARAM_INT, "450", NULL, 400, 599,
	  0, 0, "reply code when reject_unknown_sender_domain finds no "
	  "such domain" },
	{ "virtual_gid_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "group id of each virtual mailbox (static:N for one owner)" },
	{ "virtual_mailbox_base", PARAM_STR, "", NULL, NOLIMIT, 0, 0,
	  "directory prefixed to virtual_mailbox_maps results" },
	{ "virtual_mailbox_domains", PARAM_LIST, "", NULL, NOLIMIT, 0, 0,
	  "domains whose users have virtual mailboxes" },
	{ "virtual_mailbox_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "address to mailbox path under virtual_mailbox_base (/: Maildir)" },
	{ "virtual_minimum_uid", PARAM_INT, "100", NULL, 0, 2147483647, 0, 0,
	  "smallest uid virtual_uid_maps may give" },
	{ "virtual_transport", PARAM_STR, "virtual", NULL,
	  NOLIMIT, 0, PARAM_F_NONEMPTY,
	  "transport of mail for virtual_mailbox_domains" },
	{ "virtual_uid_maps", PARAM_MAP, "", NULL, NOLIMIT, 0, 0,
	  "user id of each virtual mailbox (static:N for one owner)" },
	{ NULL, PARAM_STR, NULL, NULL, NOLIMIT, 0, 0, NULL },
};
