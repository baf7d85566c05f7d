/* SPDX-License-Identifier: MIT */
/*
 * sendmail -bs: an RFC 5321 SMTP dialogue on standard input and output,
 * for programs that submit local mail by speaking SMTP to sendmail.
 * Lines may end in CRLF or LF; replies end in CRLF.  Each message accepted
 * with DATA is handed to a delivery callback (sendmail runs terndrop
 * there), and the reply depends on its result: "250 2.0.0 Ok: queued", or
 * "451 4.3.0" with the reason when the hand-off failed.  The envelope
 * sender is whatever MAIL FROM says, as Postfix allows local users.
 */
#ifndef TERN_SENDMAIL_SMTP_H
#define TERN_SENDMAIL_SMTP_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

#include "sendmail_drop.h"

/* RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF. */
#define SENDMAIL_SMTP_CMD_MAX	512

/*
 * Called for each message: env is complete (sender and recipients),
 * content has LF line ends and no dot-stuffing.  Returns 0 when the
 * message was queued, -1 with err_r (a short reason) when not.
 */
typedef int sendmail_smtp_deliver_fn(const struct sendmail_drop_env *env,
    const struct buf *content, void *ctx, const char **err_r);

struct sendmail_smtp_cfg {
	const char	*hostname;	/* for the greeting and EHLO */
	size_t		 size_limit;	/* message_size_limit; 0: none */
	sendmail_smtp_deliver_fn *deliver;
	void		*ctx;
};

/*
 * Runs the dialogue until QUIT or end of input.  Returns 0 after QUIT,
 * 1 when the input ended without QUIT, -1 when the output failed.
 */
int sendmail_smtp_run(FILE *in, FILE *out,
    const struct sendmail_smtp_cfg *cfg);

#endif
