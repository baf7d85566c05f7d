/* SPDX-License-Identifier: MIT */
/*
 * local(8), the local and virtual delivery agent, as Postfix's local(8)
 * and virtual(8) in one program: qmgr hands it a request (deliver.h), and
 * for each recipient it resolves aliases, :include: files and ~/.forward,
 * then appends to an mbox, writes into a Maildir, pipes to a command or
 * appends to a file, as the recipient (when it runs as root) or as itself
 * (an unprivileged instance).  The pieces are pure functions where they
 * can be, so that the unit tests exercise them without a running system:
 * parsing (local_parse.c), mailbox writers (local_mbox.c,
 * local_maildir.c), commands (local_command.c), virtual mailbox paths
 * (local_virtual.c); resolution and the request loop live in local.c and
 * local_alias.c.
 */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "deliver.h"
#include "str.h"

/* Hard limits on what aliases, .forward and :include: files may hold. */
#define LOCAL_ALIAS_VALUE_MAX	(64 * 1024)	/* bytes of one value */
#define LOCAL_ALIAS_ITEMS_MAX	1000		/* items in one value */
#define LOCAL_EXPAND_DEPTH_MAX	20		/* nested expansions */
#define LOCAL_DELIVERIES_MAX	1000		/* leaves per recipient */
#define LOCAL_CMD_ARGS_MAX	256		/* argv entries */
#define LOCAL_TEXT_MAX		512		/* diagnostic text */
#define LOCAL_OUTPUT_MAX	400		/* command output kept */
#define LOCAL_INCLUDE_MAX	(1024 * 1024)	/* :include: and .forward */
#define LOCAL_LOCK_WAIT		30		/* seconds for a lock */
#define LOCAL_LOCK_STALE	300		/* seconds: stale dotlock */

/* The outcome of one delivery. */
struct local_status {
	enum deliver_status status;
	char		dsn[16];
	char		text[LOCAL_TEXT_MAX];
};

/* Sets *st; text is printf-formatted. */
/* The DSN code of a local write error (RFC 3463: 4.2.2 mailbox full). */
const char *local_errno_dsn(int e);
void local_status_set(struct local_status *st, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The message as the agent writes it out. */
struct local_msg {
	const char	*qid;
	const char	*sender;	/* "" for <> */
	const char	*rcpt;		/* for Delivered-To: */
	const char	*data;		/* the queue file's content, LF ends */
	size_t		 len;
};

/*
 * Appends "Return-Path: <sender>\nDelivered-To: rcpt\n" to out (the
 * header lines local prepends, as Postfix's local does).
 */
void local_msg_prefix(const struct local_msg *msg, struct buf *out);
/*
 * True when the header of msg already has "Delivered-To: addr" (ASCII
 * case ignored, angle brackets optional): a forwarding loop.
 */
bool local_msg_has_delivered_to(const struct local_msg *msg,
    const char *addr);

/* --- local_parse.c: aliases(5) values and command lines --- */

/*
 * Splits an alias value (also a .forward or :include: file, with newlines
 * between items) of len bytes into items: comma- or newline-separated,
 * trimmed; an item in double quotes keeps its commas, and the quotes are
 * removed; empty items are skipped.  Refused: NUL bytes, control
 * characters other than TAB/CR/LF, CR/LF inside quotes, an unterminated
 * quote, more than LOCAL_ALIAS_VALUE_MAX bytes or LOCAL_ALIAS_ITEMS_MAX
 * items, and a value with no item.  -1 with err_r; items_r then holds
 * what it held before.
 */
int local_alias_parse(const char *value, size_t len, struct strv *items_r,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Same for a .forward or :include: file: lines starting with '#' are
 * comments.
 */
int local_alias_parse_file(const char *text, size_t len,
    struct strv *items_r, const char **err_r)
    __attribute__((warn_unused_result));

enum local_item_kind {
	LOCAL_ITEM_ADDR,	/* a name or an address */
	LOCAL_ITEM_SELF,	/* "\name": the user's own mailbox */
	LOCAL_ITEM_COMMAND,	/* "|command" */
	LOCAL_ITEM_FILE,	/* "/path" */
	LOCAL_ITEM_INCLUDE,	/* ":include:/path" */
};
/*
 * Classifies an item and returns in *rest_r what follows its marker (the
 * command text, the path, the name).  -1 with err_r for an empty command,
 * an :include: path that is not absolute, or an empty name.
 */
int local_item_kind(const char *item, enum local_item_kind *kind_r,
    const char **rest_r, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Splits a command line into argv the way a shell would for plain words:
 * white space separates, '...' is literal, "..." allows \" \\ \$ \`
 * escapes, a backslash outside quotes escapes the next character.  -1
 * with err_r for an unterminated quote, a trailing backslash, no words,
 * control characters, or more than LOCAL_CMD_ARGS_MAX words.
 */
int local_cmd_split(const char *text, struct strv *argv_r,
    const char **err_r) __attribute__((warn_unused_result));
/* True when text holds a shell metacharacter (then run as sh -c). */
bool local_cmd_needs_shell(const char *text);

/* --- local_mbox.c: mbox files (also file destinations) --- */

/*
 * Size in bytes of msg written as one mbox entry: From_ line, the prefix
 * header lines, the content with ">" added to lines matching "^>*From "
 * (mboxrd), a final newline when the content lacks one, and one empty
 * line.  now is the delivery time for the From_ line.
 */
size_t local_mbox_entry_size(const struct local_msg *msg, time_t now);
/*
 * Writes the mbox entry of msg to fd at its current end (the caller
 * holds the locks); -1 with errno set.
 */
int local_mbox_write(int fd, const struct local_msg *msg, time_t now)
    __attribute__((warn_unused_result));
/*
 * Appends msg to the mbox file path: opens it O_APPEND|O_NOFOLLOW
 * (created 0600 when missing), insists on a regular file with one link
 * owned by the effective uid, takes a dotlock (when the directory is
 * writable) and an fcntl write lock, checks size_limit (0: none), writes,
 * fsyncs, and on any error truncates the file back to its old size.
 * Fills st: sent "2.0.0", deferred "4.2.0"/"4.3.0"/"4.2.2", or bounced
 * "5.2.2 mailbox full".
 */
void local_mbox_deliver(const char *path, const struct local_msg *msg,
    long long size_limit, struct local_status *st);

/* --- local_maildir.c: Maildir --- */

/*
 * Formats the unique file name "SECS.M<usec>P<pid>Q<n>.HOST,S=SIZE"
 * (Maildir and Dovecot's S= size) into out; '/' and ':' in the host
 * name are written as \057 and \072.  -1 when out is too small.
 */
int local_maildir_name(char *out, size_t size, const struct timeval *tv,
    pid_t pid, unsigned n, const char *host, size_t msg_size)
    __attribute__((warn_unused_result));
/*
 * Delivers msg into the Maildir dir (created with tmp/, new/, cur/,
 * mode 0700, when missing): tmp/NAME, fsync, link to new/NAME, unlink the
 * temporary file, fsync new/.  Fills st like local_mbox_deliver.
 */
void local_maildir_deliver(const char *dir, const struct local_msg *msg,
    long long size_limit, struct local_status *st);
/* mkdir -p with mode for every missing directory; -1 with errno. */
int local_mkdirs(const char *path, mode_t mode)
    __attribute__((warn_unused_result));

/* --- local_command.c: pipes to commands --- */

struct local_cmd {
	const char	*text;		/* from an alias/.forward/include */
	const char	*cwd;		/* home, or "/" */
	struct strv	 env;		/* "NAME=value", built by caller */
	long long	 time_limit;	/* seconds */
};
/*
 * Runs cmd->text (argv or /bin/sh -c, see local_cmd_needs_shell) with
 * exactly cmd->env, stdin the prefix and message, stdout and stderr
 * captured (the start goes into the diagnostic).  Exit 0 → sent 2.0.0;
 * 75 or a signal → deferred 4.3.0; time limit → killed, deferred 4.3.0
 * "Command time limit exceeded"; other status → bounced 5.3.0.
 * The caller ignores SIGPIPE (local_init does): a command need not read
 * all of its input.
 */
void local_command_deliver(const struct local_cmd *cmd,
    const struct local_msg *msg, struct local_status *st);
/* Adds NAME=value to an environment. */
void local_env_add(struct strv *env, const char *name, const char *value);

/* --- local_virtual.c: virtual mailbox paths --- */

/*
 * Joins base and a virtual_mailbox_maps result into *path_r (heap):
 * base must be absolute, result relative, with no "." or ".." component
 * and no control characters; *maildir_r tells whether result ends in
 * "/".  -1 with err_r.
 */
int local_virtual_path(const char *base, const char *result,
    char **path_r, bool *maildir_r, const char **err_r)
    __attribute__((warn_unused_result));
/* Parses a uid/gid map result ("1000"); -1 with err_r. */
int local_virtual_id(const char *s, long long *id_r, const char **err_r)
    __attribute__((warn_unused_result));

/* --- local.c / local_alias.c: the agent --- */

/* Opens the tables (post_jail); fatal on a configuration error. */
void local_init(void);
/* deliver.h handler: delivers each recipient of req. */
void local_deliver(const struct deliver_request *req,
    struct deliver_reply *reply);
/* server_spec on_connect. */
struct server_peer;
void local_connect(int fd, const struct server_peer *peer);


/* --- internal: shared by local.c and local_alias.c --- */

/* Who a delivery runs as (when local runs as root). */
struct local_ident {
	uid_t	uid;
	gid_t	gid;
	char	name[64];
	char	home[512];
};

enum local_dest_kind {
	LOCAL_DEST_MBOX,	/* a user's mbox or a virtual mbox */
	LOCAL_DEST_MAILDIR,
	LOCAL_DEST_COMMAND,
	LOCAL_DEST_FILE,
	LOCAL_DEST_FORWARD,	/* to another address, via cleanup */
	LOCAL_DEST_DISCARD,
};

/* One recipient of a request on its way through resolution. */
struct local_ctx {
	const struct deliver_request *req;
	struct local_msg msg;
	const char	*relay;		/* "local" or "virtual" */
	int64_t		 start;
	struct strv	 done;		/* destinations already delivered */
	struct strv	 aliases;	/* alias names being expanded */
	struct strv	 forwards;	/* users whose .forward is expanded */
	unsigned	 leaves;
	unsigned	 nsent, ndefer, nbounce;
	struct local_status first_sent, first_defer, first_bounce;
};

/* Delivers one destination as who (see local_run in local.c). */
void local_dest(struct local_ctx *ctx, enum local_dest_kind kind,
    const char *target, const char *to, const struct local_ident *who,
    const char *env_local, const char *env_ext, const char *sender);
/* Records a result that needs no delivery (bounce for unknown user...). */
void local_result(struct local_ctx *ctx, const char *to,
    const struct local_status *st);
/* Resolves a local address (name or name@domain); local_alias.c. */
void local_expand(struct local_ctx *ctx, const char *addr, unsigned depth,
    const char *sender);
/* Delivers to a virtual mailbox domain address; local.c. */
void local_virtual(struct local_ctx *ctx, const char *addr);
/* True when domain (may be "") is delivered by this local/virtual. */
bool local_domain_is_local(const char *domain);
bool local_domain_is_virtual(const char *domain);
struct dict;
/* Lookup in a list of tables: 1 found / 0 not / -1 error (err_r). */
int local_maps_lookup(struct dict **maps, size_t n, const char *key,
    const char **value_r, const char **err_r)
    __attribute__((warn_unused_result));
/* The alias tables (opened by local_init). */
extern struct dict **local_alias_dicts;
extern size_t local_alias_ndicts;
/* Fills who from the password entry of name / uid: 1, 0 none, -1 err. */
int local_ident_name(const char *name, struct local_ident *who);
int local_ident_uid(uid_t uid, struct local_ident *who);
/*
 * Runs fn as who: directly when not root, else in a child that becomes
 * who first (priv_drop); the parent waits at most limit + 60 seconds.
 */
typedef void local_run_fn(void *arg, struct local_status *st);
void local_run_as(const struct local_ident *who, long long limit,
    local_run_fn *fn, void *arg, struct local_status *st);
/* default_privs (who alias commands and files run as). */
void local_ident_default(struct local_ident *who);

#endif
