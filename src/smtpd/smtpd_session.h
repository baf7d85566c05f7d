/* SPDX-License-Identifier: MIT */
/*
 * One SMTP session: its state, its input modes (command lines, DATA
 * text, BDAT chunks, SASL responses), the reply writer, timeouts, the
 * error budget and the log lines about the connection.  The I/O is a
 * libevent bufferevent (a socket one, or an OpenSSL one once TLS is on);
 * the command engine (smtpd_cmd.c), AUTH (smtpd_sasl.c) and TLS
 * (smtpd_tls.c) work on the struct below.
 *
 * Flow control: while a DNS lookup, restriction check, AUTH request or
 * error delay is pending the session is "paused": reading stops, so a
 * pipelined command is never handled before the reply to the one before
 * it (RFC 2920 §3.1), and the input buffer stays bounded.
 */
#ifndef TERN_SMTPD_SESSION_H
#define TERN_SMTPD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#include "smtpd_check.h"
#include "smtpd_data.h"
#include "smtpd_esmtp.h"

struct bufferevent;
struct cleanup;
struct smtpd_commit;
struct dns_query;
struct auth_request;
struct event;

/* Session states: which commands are legal (smtpd_cmd.c's table). */
#define SMTPD_S_INIT	0x01	/* before HELO/EHLO */
#define SMTPD_S_READY	0x02	/* after HELO/EHLO, no transaction */
#define SMTPD_S_MAIL	0x04	/* MAIL accepted, no recipient yet */
#define SMTPD_S_RCPT	0x08	/* at least one recipient accepted */
#define SMTPD_S_BDAT	0x10	/* inside a BDAT sequence (RFC 3030) */
#define SMTPD_S_ANY	0x1f

/* What the next input bytes are. */
enum smtpd_input {
	SMTPD_IN_CMD,		/* command lines */
	SMTPD_IN_SASL,		/* an AUTH response line */
	SMTPD_IN_DATA,		/* DATA text until CRLF.CRLF */
	SMTPD_IN_BDAT,		/* bdat_left bytes of a chunk */
	SMTPD_IN_NONE,		/* greeting not sent, TLS switch, closing */
};

/* Counted commands, for the disconnect line. */
enum smtpd_verb {
	SMTPD_V_HELO, SMTPD_V_EHLO, SMTPD_V_STARTTLS, SMTPD_V_AUTH,
	SMTPD_V_MAIL, SMTPD_V_RCPT, SMTPD_V_DATA, SMTPD_V_BDAT,
	SMTPD_V_RSET, SMTPD_V_NOOP, SMTPD_V_VRFY, SMTPD_V_HELP,
	SMTPD_V_QUIT, SMTPD_V_UNKNOWN, SMTPD_V_COUNT,
};

enum smtpd_sasl_step {
	SMTPD_SASL_NONE,
	SMTPD_SASL_PLAIN,	/* waiting for the PLAIN response */
	SMTPD_SASL_LOGIN_USER,	/* waiting for the LOGIN user name */
	SMTPD_SASL_LOGIN_PASS,	/* waiting for the LOGIN password */
	SMTPD_SASL_WAIT,	/* authd is checking */
};

struct smtpd_session {
	struct smtpd_session *next, *prev;	/* all sessions */
	struct bufferevent *bev;
	int		 fd;
	unsigned	 state;		/* SMTPD_S_* */
	enum smtpd_input input;
	bool		 closing;	/* flush the output, then free */
	bool		 paused;	/* waiting for something; no input */
	struct smtpd_commit *commit;	/* the queue file being synced */
	bool		 skipping;	/* discarding an overlong line */
	bool		 greeted;
	bool		 esmtp;		/* EHLO (not HELO) */
	bool		 tls;		/* TLS established */
	bool		 tls_switch;	/* after "220 Ready to start TLS" */
	bool		 anvil_counted;
	bool		 bev_owns_fd;	/* TLS bufferevent: closes fd */
	bool		 limits_exempt;
	bool		 sleeping;	/* error delay */
	bool		 rcpt_seen;	/* a RCPT was tried in this transaction */

	char		*name;		/* client name or "unknown" */
	char		*addr;		/* numeric address or "unix" */
	char		*helo;
	char		*tls_info;	/* "(using ...)" for Received: */
	char		*sasl_user;
	const char	*sasl_method;
	const char	*where;		/* last command, for log lines */

	/* Restrictions; the strings point into the fields above. */
	struct smtpd_check_env env;
	struct smtpd_check_reply check_reply;
	void		(*check_done)(struct smtpd_session *,
			    enum smtpd_check_result);
	enum smtpd_check_result (*check_stage)(struct smtpd_check_env *,
			    struct smtpd_check_reply *);
	char		*connect_reject;	/* reply of a rejected client */

	/* The transaction. */
	char		*sender;	/* internal form; "" for <> */
	struct smtpd_mail_params mail;
	char		*rcpt;		/* the RCPT being checked */
	struct smtpd_rcpt_params rcpt_params;
	unsigned	 rcpts;		/* accepted recipients */
	struct cleanup	*cleanup;
	struct smtpd_data data;
	unsigned long long data_bytes;	/* raw bytes after 354 / in BDAT */
	unsigned long long bdat_left;
	bool		 bdat_last;
	unsigned long long bdat_size;	/* of the current chunk */
	char		*bdat_error;	/* reply after a refused chunk */

	/* Error budget. */
	unsigned	 errors;
	unsigned	 junk;
	int		 cur_verb;	/* counted at its first final reply */
	uint16_t	 verb_total[SMTPD_V_COUNT];
	uint16_t	 verb_ok[SMTPD_V_COUNT];

	/* Pending work. */
	struct dns_query *dnsq;
	struct auth_request *authq;
	struct event	*timer;		/* error delay; created on use */
	enum smtpd_sasl_step sasl_step;
	char		*sasl_login_user;
};

/* server_spec.on_connect. */
void smtpd_session_start(int fd, const struct server_peer *peer);

/*
 * Queues one reply line "CODE TEXT\r\n" (fmt is the text after the code,
 * enhanced status code first).  A 4xx
 * or 5xx reply to a command counts towards the error limits.  The first
 * final reply (not 334 or 354) settles the current command's counters.
 */
void smtpd_reply(struct smtpd_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Counts one error: past smtpd_soft_error_limit the reply is delayed,
 * at smtpd_hard_error_limit the session ends with 421.
 */
void smtpd_session_error(struct smtpd_session *s);
/* A line of a multi-line reply ("250-..."): not counted. */
void smtpd_reply_cont(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends what is queued and ends the session. */
void smtpd_session_close(struct smtpd_session *s);
/* Stops and restarts handling input around asynchronous work. */
void smtpd_session_pause(struct smtpd_session *s);
void smtpd_session_resume(struct smtpd_session *s);
/*
 * Called at the end of every callback that may have changed the
 * session: frees it once it is closing and its output is flushed.
 * Returns false when s is gone.
 */
bool smtpd_session_settle(struct smtpd_session *s);
/* Handles the input already buffered (after a resume or a TLS switch). */
void smtpd_session_input(struct smtpd_session *s);

/* Ends the transaction (aborting its cleanup) and resets its state. */
void smtpd_session_reset(struct smtpd_session *s);
/* Sends the greeting (after the name lookup or the TLS handshake). */
void smtpd_session_greet(struct smtpd_session *s);
/* (Re)installs the callbacks and timeouts on s->bev. */
void smtpd_session_bev_setup(struct smtpd_session *s);
/* "name[addr]" for log lines, escaped; the caller frees it. */
char *smtpd_session_client(const struct smtpd_session *s);
/*
 * The reject log line in Postfix's shape, with qid (NULL: the open
 * cleanup's, else NOQUEUE); reply is the whole "NNN X.Y.Z text".
 */
void smtpd_session_log_reject(struct smtpd_session *s, const char *qid,
    const char *where, const char *reply);

/* on_stop: "421 4.3.2" to every session that is between transactions. */
void smtpd_session_shutdown_idle(void);
/* Number of live sessions (tests). */
size_t smtpd_session_count(void);

/* smtpd_cmd.c */
void smtpd_cmd_line(struct smtpd_session *s, char *line, size_t len);
/*
 * DATA or the last BDAT chunk is complete: commit and reply.  The session
 * is paused until the queue file is durable (a worker thread waits for
 * the disk; SMTPD_COMMIT_THREADS at most per process).
 */
#define SMTPD_COMMIT_THREADS	32
void smtpd_cmd_commit(struct smtpd_session *s);
/* The session is going away during a commit: the commit ends alone. */
void smtpd_cmd_commit_orphan(struct smtpd_session *s);
/* A non-LAST BDAT chunk is complete. */
void smtpd_cmd_bdat_done(struct smtpd_session *s);

/* smtpd_sasl.c */
void smtpd_sasl_cmd(struct smtpd_session *s, char *args);
void smtpd_sasl_line(struct smtpd_session *s, char *line, size_t len);
bool smtpd_sasl_offered(const struct smtpd_session *s);
/* Ends a pending exchange and wipes what it held. */
void smtpd_sasl_reset(struct smtpd_session *s);

/* smtpd_tls.c */
/* Builds the TLS bufferevent over s->fd; -1 when that fails. */
int smtpd_tls_start(struct smtpd_session *s);
/* The STARTTLS command. */
void smtpd_tls_cmd(struct smtpd_session *s, const char *args);
/* STARTTLS offered now? */
bool smtpd_tls_offered(const struct smtpd_session *s);
/* BEV_EVENT_CONNECTED on the TLS bufferevent. */
void smtpd_tls_established(struct smtpd_session *s);
/* The handshake failed: log it. */
void smtpd_tls_failed(struct smtpd_session *s);

#endif
