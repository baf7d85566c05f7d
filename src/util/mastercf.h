/* SPDX-License-Identifier: MIT */
/*
 * master.cf syntax, as Postfix's: one service per logical line (a line
 * starting with white space continues the previous one; '#' lines and
 * blank lines are skipped) with the columns service, type (inet, unix,
 * unix-dgram, fifo, pass), private, unpriv, chroot, wakeup (a number,
 * optionally followed by '?'), maxproc, and the command with its
 * arguments.  "-" selects a column's default; tern's defaults are private
 * y, unpriv y, chroot n, wakeup 0, maxproc $default_process_limit.
 * Arguments "-o name=value" and "-o { name = value with spaces }" are
 * checked and collected.  Errors read "FILE, line N: ...".
 */
#ifndef TERN_MASTERCF_H
#define TERN_MASTERCF_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define MASTERCF_COLUMNS	7

struct mastercf_entry {
	char		*col[MASTERCF_COLUMNS];	/* raw columns, "-" kept */
	char		*service;		/* == col[0] */
	char		*type;			/* == col[1] */
	bool		 private_service;
	bool		 unpriv;
	bool		 chroot;
	unsigned	 wakeup;		/* seconds, 0: none */
	bool		 wakeup_if_used;	/* "?" suffix */
	unsigned	 maxproc;		/* 0: no limit */
	struct strv	 argv;			/* command and arguments */
	struct strv	 overrides;		/* "name=value" of -o */
	char		*file;
	unsigned	 line;
};

struct mastercf {
	struct mastercf_entry *e;
	size_t		 n;
	size_t		 cap;
};

/*
 * Parses master.cf text; default_maxproc is what "-" in maxproc means.
 * Returns 0 with *mc_r (free with mastercf_free) or -1 with err_r, which
 * stays valid until the next failing call.
 */
int mastercf_parse_text(const char *file, const char *text, size_t len,
    unsigned default_maxproc, struct mastercf **mc_r, const char **err_r)
    __attribute__((warn_unused_result));
/* As mastercf_parse_text on a file; -1 with "open PATH: ..." too. */
int mastercf_parse_file(const char *path, unsigned default_maxproc,
    struct mastercf **mc_r, const char **err_r)
    __attribute__((warn_unused_result));
void mastercf_free(struct mastercf **mcp);
/* The entry for service/type, or NULL. */
const struct mastercf_entry *mastercf_find(const struct mastercf *mc,
    const char *service, const char *type);
/* A normalized one-line rendering, as "ternconf -M" prints it (heap). */
char *mastercf_format(const struct mastercf_entry *e)
    __attribute__((returns_nonnull));

#endif
