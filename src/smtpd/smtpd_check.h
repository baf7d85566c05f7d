/* SPDX-License-Identifier: MIT */
/*
 * smtpd's access policy: the smtpd_*_restrictions lists evaluated as
 * Postfix evaluates them, relay control, and the recipient tables that
 * decide whether an address of ours exists.  The session (smtpd_session.c)
 * fills a struct smtpd_check_env and asks at each stage; this module never
 * does I/O with the client.
 *
 * Evaluation: each list is walked in order; the first restriction that
 * gives a verdict ends that list: permit/OK ends it with no objection (the
 * next list is still evaluated), reject/defer ends the whole check with a
 * reply; DUNNO and restrictions that do not apply go on.  With
 * smtpd_delay_reject (the default) the client, helo and sender lists run
 * at each RCPT, before smtpd_relay_restrictions and then
 * smtpd_recipient_restrictions; after those, with
 * smtpd_reject_unlisted_recipient, an unknown recipient of our own
 * domains gets 550 5.1.1.
 *
 * Restrictions: permit, reject, defer, permit_mynetworks,
 * permit_sasl_authenticated, reject_unauth_destination,
 * defer_unauth_destination, reject_unlisted_recipient,
 * reject_non_fqdn_sender, reject_non_fqdn_recipient,
 * reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname,
 * reject_unknown_sender_domain, reject_sender_login_mismatch,
 * check_client_access type:table, check_helo_access type:table,
 * check_sender_access type:table, check_recipient_access type:table.
 * Access table results: OK, REJECT [text], DEFER [text], DUNNO, PERMIT,
 * "4NN text", "5NN text" (Postfix's access(5)); anything else is a
 * configuration error for that lookup (451 4.3.5).
 *
 * "Our destination" (relay control): a domain in mydestination, in
 * virtual_mailbox_domains or in relay_domains (".example.com" entries
 * match subdomains), or a recipient without a domain.  Address literals
 * are never ours.  The recipient's domain is the part after its last '@'
 * in internal form, so "user%other"@ and "a@b"@ quoting tricks stay with
 * the domain that was actually given.
 *
 * mynetworks and smtpd_client_event_limit_exceptions are lists of
 * addresses and networks (192.0.2.0/24, [2001:db8::]/32, a bare address),
 * "!" negated items, /file/name (one item per line) and type:table
 * (the client address is looked up).
 *
 * mydestination and virtual_mailbox_domains take domain names only (as
 * qmgr routes by them; a ".domain" or type:table item there is a
 * configuration error); relay_domains also takes ".example.com" and
 * type:table.  A trailing dot on the recipient's domain is ignored.  A
 * local part holding '@', '%' or '!' is never a known user of
 * mydestination or virtual_mailbox_domains, whatever the tables say, since
 * tern does no percent-hack or bang-path routing.  RCPT TO:<postmaster>
 * without a domain passes every check (RFC 5321 §4.5.1).  As in Postfix,
 * smtpd_relay_restrictions or smtpd_recipient_restrictions must hold
 * reject_unauth_destination, defer_unauth_destination, reject or defer,
 * or the configuration is refused.  A bare type:table in a client, helo,
 * sender, relay or recipient list is the check_*_access of that list.
 *
 * Access table keys, first found wins (tables fold case): for
 * check_sender_access and check_recipient_access the full address, the
 * address without its recipient_delimiter extension, the domain (one
 * trailing dot dropped), each parent domain as "example.com" and then
 * ".example.com", then "user@" and the unextended "user@"; the null
 * sender is looked up as "<>".  check_client_access: the address, then
 * the address with its last parts stripped (1.2.3.4, 1.2.3, 1.2, 1; for
 * IPv6 at ':' boundaries), then the client name and its parent domains
 * as above.  check_helo_access: the name and its parent domains.  A bare
 * "4NN" or "5NN" action means that code with "Access denied"; a table
 * that fails answers 451 4.3.0 "<x>: Temporary lookup failure".
 *
 * reject_sender_login_mismatch: the null sender is always allowed.  With
 * smtpd_sender_login_maps, the sender is looked up (full address, then
 * "@domain") and the value lists the logins (separated by commas or
 * white space) that own it; an authenticated client may use only an
 * address that lists its login ("553 5.7.1 <x>: Sender address rejected:
 * not owned by user LOGIN"), and a client that is not authenticated may
 * not use a listed address ("... not logged in").  Without the maps, a
 * login NAME owns NAME@domain (NAME+extension too) for every domain of
 * mydestination and virtual_mailbox_domains, a login that contains '@'
 * owns exactly that address, and an unauthenticated client is not
 * checked.
 *
 * When smtpd_check_init failed, or was never called, every stage
 * function answers 451 4.3.5, smtpd_check_rcpt_known returns -1 and
 * smtpd_check_limits_exempt returns false.
 */
#ifndef TERN_SMTPD_CHECK_H
#define TERN_SMTPD_CHECK_H

#include <stdbool.h>

#include "dns.h"

/* Longest reply text (after the code), enhanced status included. */
#define SMTPD_CHECK_TEXT_MAX	512

/* What the session knows; strings are owned by the session. */
struct smtpd_check_env {
	const char	*client_addr;	/* numeric, or "unix" */
	const char	*client_name;	/* verified name or "unknown" */
	const char	*helo;		/* NULL: none given */
	const char	*sender;	/* NULL before MAIL; "" for <> */
	const char	*rcpt;		/* NULL outside RCPT; internal form */
	const char	*sasl_user;	/* NULL: not authenticated */
	bool		 tls;
	/*
	 * reject_unknown_sender_domain: filled in by the session after a
	 * dns_lookup_mail_domain of the sender's domain (see PENDING).
	 */
	bool		 sender_domain_done;
	enum dns_status	 sender_domain_status;
	bool		 sender_domain_null_mx;
};

enum smtpd_check_result {
	SMTPD_CHECK_PASS = 0,	/* no objection: go on */
	SMTPD_CHECK_REJECT,	/* a 4xx or 5xx reply is in the reply */
	/*
	 * The sender's domain must be looked up first: the session calls
	 * dns_lookup_mail_domain(domain of env->sender), fills the
	 * sender_domain_* fields and calls the same function again.
	 */
	SMTPD_CHECK_PENDING,
};

struct smtpd_check_reply {
	int	code;				/* 421..554 */
	char	text[SMTPD_CHECK_TEXT_MAX];	/* "5.7.1 <a@b>: Relay access
						   denied" */
};

/*
 * Parses the restriction lists and opens the tables named by the loaded
 * main.cf (post_jail: the tables are read as mail_owner).  A
 * configuration error (unknown restriction, restriction in the wrong
 * list, a table that cannot be opened) is logged as a warning here, and
 * every check then answers 451 4.3.5 "Server configuration error", as
 * Postfix does, instead of letting mail through.  Returns -1 in that case
 * (with err_r), 0 otherwise.
 */
int smtpd_check_init(const char **err_r);
void smtpd_check_deinit(void);

/*
 * The checks of each stage.  connect: smtpd_client_restrictions when
 * smtpd_delay_reject is off (else nothing).  helo: smtpd_helo_restrictions
 * likewise.  mail: smtpd_sender_restrictions likewise.  rcpt: (delayed
 * lists), relay, recipient, unlisted recipient.  data:
 * smtpd_data_restrictions.
 */
enum smtpd_check_result smtpd_check_connect(struct smtpd_check_env *env,
    struct smtpd_check_reply *r);
enum smtpd_check_result smtpd_check_helo(struct smtpd_check_env *env,
    struct smtpd_check_reply *r);
enum smtpd_check_result smtpd_check_mail(struct smtpd_check_env *env,
    struct smtpd_check_reply *r);
enum smtpd_check_result smtpd_check_rcpt(struct smtpd_check_env *env,
    struct smtpd_check_reply *r);
enum smtpd_check_result smtpd_check_data(struct smtpd_check_env *env,
    struct smtpd_check_reply *r);

/*
 * Does rcpt (internal form) exist here?  1 yes (or it is not ours to
 * know: a remote domain, or a table said any is fine), 0 no, -1 a table
 * failed.  For VRFY and reject_unlisted_recipient.
 */
int smtpd_check_rcpt_known(const char *rcpt);

/* True when addr is in smtpd_client_event_limit_exceptions. */
bool smtpd_check_limits_exempt(const char *addr);

#endif
