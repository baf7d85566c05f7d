/* SPDX-License-Identifier: MIT */
/*
 * The envelope stream from sendmail(1) to terndrop(1), and its validation.
 * sendmail runs terndrop and writes to its standard input:
 *
 *	S <sender>		exactly once, first; "S " is the null sender
 *	A <name>=<value>	zero or more: fullname, ret (FULL or HDRS),
 *				envid (RFC 3461 xtext), flags ("extract")
 *	R <notify> <address>	zero or more (one or more unless
 *				flags=extract); <notify> is "-" or an
 *				upper-case RFC 3461 NOTIFY list
 *	E			end of the envelope
 *	<message bytes until end of file>
 *
 * Every envelope line ends in LF and is at most SENDMAIL_DROP_LINE_MAX
 * bytes.  Values carry no control characters (CR, LF, NUL, DEL, ...) and
 * non-ASCII text must be well-formed UTF-8.  Addresses are at most
 * SENDMAIL_DROP_ADDR_MAX bytes (RFC 5321 §4.5.3.1.3: a path, with its
 * brackets, is at most 256 octets); an envelope has at most
 * SENDMAIL_DROP_RCPT_MAX recipients.  The reader rejects anything else:
 * a missing or repeated S, an unknown or repeated attribute, records out
 * of order, or end of input before E.  man/terndrop.1 documents the
 * format for administrators.
 */
#ifndef TERN_SENDMAIL_DROP_H
#define TERN_SENDMAIL_DROP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "str.h"

#define SENDMAIL_DROP_LINE_MAX	1024
#define SENDMAIL_DROP_ADDR_MAX	254
#define SENDMAIL_DROP_RCPT_MAX	1000
#define SENDMAIL_DROP_NAME_MAX	256	/* fullname */
#define SENDMAIL_DROP_ENVID_MAX	300	/* xtext of 100 characters */

struct sendmail_drop_env {
	char		*sender;	/* NULL until S; "" for <> */
	char		*fullname;	/* NULL: none */
	char		*ret;		/* NULL, "FULL" or "HDRS" */
	char		*envid;		/* xtext, or NULL */
	bool		 extract;	/* flags=extract (sendmail -t) */
	struct strv	 rcpts;
	struct strv	 notify;	/* parallel to rcpts: "-" or a list */
	bool		 ended;		/* E was read */
};

void sendmail_drop_env_init(struct sendmail_drop_env *env);
void sendmail_drop_env_deinit(struct sendmail_drop_env *env);

/* Setters that validate as the reader does; -1 with err_r. */
int sendmail_drop_set_sender(struct sendmail_drop_env *env, const char *s,
    const char **err_r) __attribute__((warn_unused_result));
int sendmail_drop_set_fullname(struct sendmail_drop_env *env, const char *s,
    const char **err_r) __attribute__((warn_unused_result));
int sendmail_drop_set_ret(struct sendmail_drop_env *env, const char *s,
    const char **err_r) __attribute__((warn_unused_result));
/* Takes the xtext form (see sendmail_drop_xtext). */
int sendmail_drop_set_envid(struct sendmail_drop_env *env, const char *s,
    const char **err_r) __attribute__((warn_unused_result));
/* notify NULL or "" means "-". */
int sendmail_drop_add_rcpt(struct sendmail_drop_env *env, const char *addr,
    const char *notify, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Writes the envelope, E line included, to out.  -1 with err_r when it is
 * incomplete (no sender; no recipient without extract) or out is full.
 */
int sendmail_drop_encode(const struct sendmail_drop_env *env, struct buf *out,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Reads one envelope line (len bytes without its LF, with line[len] a
 * NUL terminator; a NUL inside is an error) into env.  Sets env->ended at E, after which the caller reads
 * content.  Returns -1 with err_r on any violation of the format above.
 */
int sendmail_drop_parse_line(struct sendmail_drop_env *env, const char *line,
    size_t len, const char **err_r) __attribute__((warn_unused_result));

/* True for n bytes of text without control characters, valid UTF-8. */
bool sendmail_drop_valid_text(const char *s, size_t n);
/* True for a syntactically valid RFC 3461 §4 xtext string. */
bool sendmail_drop_valid_xtext(const char *s);
/* Appends the RFC 3461 §4 xtext encoding of s to out (panics if full). */
void sendmail_drop_xtext(struct buf *out, const char *s);

#endif
