/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the parts of smtpd's restrictions engine:
 * smtpd_check.c (lists and their evaluation), smtpd_check_access.c
 * (access tables) and smtpd_check_rcpt.c (our domains, known recipients,
 * sender ownership).
 */
#ifndef TERN_SMTPD_CHECK_PRIV_H
#define TERN_SMTPD_CHECK_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "dict.h"
#include "str.h"

#include "smtpd_check.h"

/* A restriction's verdict inside one list. */
enum sc_verdict {
	SC_DUNNO = 0,	/* no verdict: go on */
	SC_OK,		/* permit: this list ends without objection */
	SC_REJECT,	/* r holds the reply */
	SC_PENDING,	/* the sender's domain must be looked up first */
};

/* Several tables searched in order as one (a PARAM_MAP parameter). */
struct sc_maps {
	struct dict	**d;
	size_t		  n;
};

/* A domain list: literal names, ".parent" names and tables. */
struct sc_domains {
	struct strv	 names;
	struct sc_maps	 tables;
};

/* Which recipient table decides a domain. */
enum sc_class {
	SC_CLASS_REMOTE = 0,
	SC_CLASS_LOCAL,		/* mydestination, or no domain */
	SC_CLASS_VIRTUAL,	/* virtual_mailbox_domains */
	SC_CLASS_RELAY,		/* relay_domains */
};

/* Fills r with code and "dsn text"; the dsn's class follows the code. */
enum sc_verdict sc_reply(struct smtpd_check_reply *r, int code,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 451 4.3.5 Server configuration error. */
enum sc_verdict sc_config_error(struct smtpd_check_reply *r);
/* 451 4.3.0 <what>: Temporary lookup failure. */
enum sc_verdict sc_lookup_error(struct smtpd_check_reply *r,
    const char *what);
/* The external (quoted) form of an internal address, for replies. */
void sc_show_addr(char *out, size_t size, const char *addr);

/* Opens every table of a PARAM_MAP parameter; -1 with err_r. */
int sc_maps_open(struct sc_maps *m, const char *param, const char **err_r);
void sc_maps_close(struct sc_maps *m);
/* 1 found (value_r) / 0 / -1 (err_r). */
int sc_maps_find(const struct sc_maps *m, const char *key,
    const char **value_r, const char **err_r);

/* smtpd_check_rcpt.c */
int sc_rcpt_init(const char **err_r);
void sc_rcpt_deinit(void);
/*
 * The class of the domain of addr (after its last '@'); 1 with class_r,
 * -1 when a table failed (err_r).
 */
int sc_rcpt_class(const char *addr, enum sc_class *class_r,
    const char **err_r);
/* As smtpd_check_rcpt_known, with the class that decided. */
int sc_rcpt_known(const char *rcpt, enum sc_class *class_r,
    const char **err_r);
/* Does login own sender?  1 yes, 0 no, -1 table error. */
int sc_sender_owned(const char *sender, const char *login,
    const char **err_r);
/* Does smtpd_sender_login_maps list sender?  1/0/-1. */
int sc_sender_listed(const char *sender, const char **err_r);

/* smtpd_check_access.c */
enum sc_access_kind {
	SC_ACCESS_CLIENT,
	SC_ACCESS_HELO,
	SC_ACCESS_SENDER,
	SC_ACCESS_RECIPIENT,
};
/*
 * Looks the data of env that kind names up in table, in access(5) order,
 * and turns the first result found into a verdict.
 */
enum sc_verdict sc_access(struct dict *table, enum sc_access_kind kind,
    const struct smtpd_check_env *env, struct smtpd_check_reply *r);
/*
 * Applies one access(5) action value to the object shown as "<name>: class
 * rejected: ..." ; exported for the tests of the action syntax.
 */
enum sc_verdict sc_access_action(const char *value, const char *name,
    const char *class, struct smtpd_check_reply *r);

#endif
