/* SPDX-License-Identifier: MIT */
/*
 * The table of main.cf parameters that tern honours, with Postfix's names
 * and defaults where the meaning is the same, and the functions that
 * compute the defaults which depend on the host (myhostname, mydomain,
 * mynetworks).  New parameters go into the table in mail_params.c.
 */
#ifndef TERN_MAIL_PARAMS_H
#define TERN_MAIL_PARAMS_H

#include "param.h"

/* Closed by an entry whose name is NULL. */
extern const struct param_def mail_params[];

/*
 * Postfix's myhostname default: gethostname(); if that is not a fully
 * qualified name, the canonical name from getaddrinfo(AI_CANONNAME) when
 * that is one, else the name with ".localdomain" appended.  Heap string.
 */
char *mail_params_hostname(void) __attribute__((returns_nonnull));
/* $myhostname minus its first label, "localdomain" when none. */
char *mail_params_domain_of(const char *hostname)
    __attribute__((returns_nonnull));
/*
 * mynetworks for a mynetworks_style ("host", "subnet" or "class"): the
 * loopback networks, then the addresses (host) or networks (subnet, class)
 * of this machine's interfaces.  Heap string.
 */
char *mail_params_mynetworks(const char *style)
    __attribute__((returns_nonnull));

#endif
