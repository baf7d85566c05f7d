/* SPDX-License-Identifier: MIT */
/*
 * The request loop of local(8): for each recipient of a deliver.h
 * request, the message is checked for a Delivered-To: loop, the
 * recipient resolved (local_alias.c, or a virtual mailbox here), each
 * destination delivered as the right user (local_priv.c), each delivery
 * logged in Postfix's shape, and the results folded into one status per
 * recipient: any deferral defers it, else any bounce bounces it.
 * XXX: a recipient that expands to several destinations is retried as a
 * whole when one of them defers, so the others may get a second copy
 * (Postfix has the same property).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "dict.h"
#include "log.h"
#include "mail_conf.h"
#include "priv.h"
#include "server.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

struct dict **local_alias_dicts;
size_t local_alias_ndicts;
static struct dict **vmbox_dicts, **vuid_dicts, **vgid_dicts;
static size_t vmbox_n, vuid_n, vgid_n;

static void
open_maps(const char *param, int flags, struct dict ***maps_r, size_t *n_r)
{
	const struct strv *l = mail_conf_list(param);
	const char *err;

	*maps_r = xcalloc(l->n + 1, sizeof(**maps_r));
	*n_r = l->n;
	for (size_t i = 0; i < l->n; i++) {
		(*maps_r)[i] = dict_open(l->v[i], flags, &err);
		if ((*maps_r)[i] == NULL)
			fatal("%s: %s", param, err);
	}
}

void
local_init(void)
{
	(void)signal(SIGPIPE, SIG_IGN);
	open_maps("alias_maps", DICT_FLAG_FOLD | DICT_FLAG_ALIAS,
	    &local_alias_dicts, &local_alias_ndicts);
	open_maps("virtual_mailbox_maps", DICT_FLAG_FOLD, &vmbox_dicts,
	    &vmbox_n);
	open_maps("virtual_uid_maps", DICT_FLAG_FOLD, &vuid_dicts, &vuid_n);
	open_maps("virtual_gid_maps", DICT_FLAG_FOLD, &vgid_dicts, &vgid_n);
}

void
local_connect(int fd, const struct server_peer *peer)
{
	(void)peer;
	deliver_serve(fd, local_deliver);
}

int
local_maps_lookup(struct dict **maps, size_t n, const char *key,
    const char **value_r, const char **err_r)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = dict_lookup(maps[i], key, value_r, err_r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static bool
in_list(const char *param, const char *domain)
{
	const struct strv *l = mail_conf_list(param);

	for (size_t i = 0; i < l->n; i++)
		if (str_eq_ci(l->v[i], domain))
			return true;
	return false;
}

bool
local_domain_is_local(const char *domain)
{
	return domain[0] == '\0' || in_list("mydestination", domain);
}

bool
local_domain_is_virtual(const char *domain)
{
	return domain[0] != '\0' && in_list("virtual_mailbox_domains",
	    domain);
}

void
local_result(struct local_ctx *ctx, const char *to,
    const struct local_status *st)
{
	/* ctx->msg.rcpt is the request's recipient (orig_to). */
	deliver_log(ctx->req, to, ctx->msg.rcpt, ctx->relay, ctx->start, 0,
	    st->status, st->dsn, st->text);
	switch (st->status) {
	case DELIVER_SENT:
		if (ctx->nsent++ == 0)
			ctx->first_sent = *st;
		break;
	case DELIVER_DEFER:
		if (ctx->ndefer++ == 0)
			ctx->first_defer = *st;
		break;
	case DELIVER_BOUNCE:
		if (ctx->nbounce++ == 0)
			ctx->first_bounce = *st;
		break;
	}
}

/* What a child (or this process) needs for one delivery. */
struct job {
	struct local_ctx *ctx;
	enum local_dest_kind kind;
	const char	*target;
	const char	*to;
	const char	*sender;
	struct local_cmd cmd;
	long long	 limit;
};

static void
forward(struct job *j, struct local_status *st)
{
	static const struct cleanup_origin origin = {
		.protocol = "local",
		.uid = -1,
	};
	struct cleanup *c;
	struct buf b;
	char qid[QID_SIZE];
	const char *err;
	enum cleanup_status cs;

	if (cleanup_open(0, &origin, &c, &err) == -1) {
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "cannot forward: %s", err);
		return;
	}
	cleanup_sender(c, j->sender);
	cleanup_rcpt(c, j->target, NULL, NULL);
	buf_init(&b, 0);
	buf_addf(&b, "Delivered-To: %s\n", j->ctx->msg.rcpt);
	cleanup_write(c, b.data, b.len);
	buf_deinit(&b);
	cleanup_write(c, j->ctx->msg.data, j->ctx->msg.len);
	cs = cleanup_finish(&c, qid, &err);
	if (cs == CLEANUP_OK)
		local_status_set(st, DELIVER_SENT, "2.0.0", "forwarded as %s",
		    qid);
	else if (cs == CLEANUP_TEMP)
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "cannot forward: %s", err);
	else
		local_status_set(st, DELIVER_BOUNCE, "5.3.0",
		    "cannot forward: %s", err);
}

static void
run_job(void *arg, struct local_status *st)
{
	struct job *j = arg;
	struct local_msg msg = j->ctx->msg;

	msg.sender = j->sender;
	switch (j->kind) {
	case LOCAL_DEST_MBOX:
		local_mbox_deliver(j->target, &msg,
		    mail_conf_size("mailbox_size_limit"), st);
		break;
	case LOCAL_DEST_FILE:
		local_mbox_deliver(j->target, &msg,
		    mail_conf_size("mailbox_size_limit"), st);
		if (st->status == DELIVER_SENT)
			local_status_set(st, DELIVER_SENT, "2.0.0",
			    "delivered to file: %s", j->target);
		break;
	case LOCAL_DEST_MAILDIR:
		local_maildir_deliver(j->target, &msg,
		    mail_conf_size("mailbox_size_limit"), st);
		break;
	case LOCAL_DEST_COMMAND:
		local_command_deliver(&j->cmd, &msg, st);
		break;
	case LOCAL_DEST_FORWARD:
		forward(j, st);
		break;
	case LOCAL_DEST_DISCARD:
		local_status_set(st, DELIVER_SENT, "2.0.0", "discarded");
		break;
	}
}

/*
 * As root, a missing spool mbox is created for the user first: the
 * spool directory is root's and the user cannot create files in it.
 */
static void
precreate(const char *path, const struct local_ident *who)
{
	int fd;

	if (!priv_is_root())
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return;
	if (fchown(fd, who->uid, who->gid) == -1) {
		log_warn("chown %s: %s", path, strerror(errno));
		(void)unlink(path);
	}
	(void)close(fd);
}

void
local_dest(struct local_ctx *ctx, enum local_dest_kind kind,
    const char *target, const char *to, const struct local_ident *who,
    const char *env_local, const char *env_ext, const char *sender)
{
	static const char *const kinds[] = { "mbox", "maildir", "cmd",
	    "file", "fwd", "discard" };
	struct local_ident mail_owner;
	struct local_status st;
	struct job j = { .ctx = ctx, .kind = kind, .target = target,
	    .to = to, .sender = sender, .limit = 600 };
	char *key;
	const char *at;

	if (ctx->leaves >= LOCAL_DELIVERIES_MAX) {
		local_status_set(&st, DELIVER_BOUNCE, "5.4.6",
		    "too many deliveries for %s", ctx->msg.rcpt);
		local_result(ctx, to, &st);
		return;
	}
	key = xasprintf("%s:%ld:%s", kinds[kind],
	    who != NULL ? (long)who->uid : -1L, target);
	if (strv_find(&ctx->done, key) >= 0) {
		free(key);
		return;
	}
	strv_push_owned(&ctx->done, key);
	ctx->leaves++;
	if (kind == LOCAL_DEST_COMMAND) {
		at = strrchr(to, '@');
		j.cmd.text = target;
		j.cmd.cwd = who->home;
		j.cmd.time_limit = mail_conf_time("command_time_limit");
		j.limit = j.cmd.time_limit;
		strv_init(&j.cmd.env);
		local_env_add(&j.cmd.env, "PATH", "/usr/bin:/bin");
		local_env_add(&j.cmd.env, "SHELL", "/bin/sh");
		local_env_add(&j.cmd.env, "HOME", who->home);
		local_env_add(&j.cmd.env, "USER", who->name);
		local_env_add(&j.cmd.env, "LOGNAME", who->name);
		local_env_add(&j.cmd.env, "SENDER", sender);
		local_env_add(&j.cmd.env, "RECIPIENT", to);
		local_env_add(&j.cmd.env, "LOCAL", env_local[0] != '\0' ?
		    env_local : to);
		local_env_add(&j.cmd.env, "DOMAIN", at != NULL ? at + 1 : "");
		local_env_add(&j.cmd.env, "EXTENSION", env_ext);
		local_env_add(&j.cmd.env, "ORIGINAL_RECIPIENT",
		    ctx->msg.rcpt);
	}
	if (kind == LOCAL_DEST_MBOX && who != NULL)
		precreate(target, who);
	if (kind == LOCAL_DEST_DISCARD) {
		run_job(&j, &st);
	} else if (kind == LOCAL_DEST_FORWARD) {
		/* Queue files belong to mail_owner. */
		if (priv_is_root() && local_ident_name(
		    mail_conf_get("mail_owner"), &mail_owner) != 1)
			local_status_set(&st, DELIVER_DEFER, "4.3.0",
			    "no mail_owner user");
		else
			local_run_as(&mail_owner, j.limit, run_job, &j, &st);
	} else {
		local_run_as(who, j.limit, run_job, &j, &st);
	}
	if (kind == LOCAL_DEST_COMMAND)
		strv_deinit(&j.cmd.env);
	local_result(ctx, to, &st);
}

/* virtual(8): a mailbox path and owner from the virtual_* tables. */
void
local_virtual(struct local_ctx *ctx, const char *addr)
{
	struct local_status st;
	struct local_ident who;
	const char *at = strrchr(addr, '@'), *value, *err;
	char *key, *path;
	long long uid, gid;
	bool maildir;
	int rc;

	key = xasprintf("@%s", at != NULL ? at + 1 : "");
	rc = local_maps_lookup(vmbox_dicts, vmbox_n, addr, &value, &err);
	if (rc == 0)
		rc = local_maps_lookup(vmbox_dicts, vmbox_n, key, &value,
		    &err);
	if (rc != 1) {
		if (rc == 0)
			local_status_set(&st, DELIVER_BOUNCE, "5.1.1",
			    "unknown user: \"%s\"", addr);
		else
			local_status_set(&st, DELIVER_DEFER, "4.3.0",
			    "virtual_mailbox_maps lookup error: %s", err);
		goto result;
	}
	if (local_virtual_path(mail_conf_get("virtual_mailbox_base"), value,
	    &path, &maildir, &err) == -1) {
		log_qid_warn(ctx->msg.qid, "virtual_mailbox_maps: bad result "
		    "for %s: %s", addr, err);
		local_status_set(&st, DELIVER_DEFER, "4.3.0",
		    "mailbox configuration error: %s", err);
		goto result;
	}
	memset(&who, 0, sizeof(who));
	str_copy(who.name, addr, sizeof(who.name));
	str_copy(who.home, "/", sizeof(who.home));
	uid = gid = -1;
	if (priv_is_root()) {
		rc = local_maps_lookup(vuid_dicts, vuid_n, addr, &value, &err);
		if (rc == 0)
			rc = local_maps_lookup(vuid_dicts, vuid_n, key,
			    &value, &err);
		if (rc == 1 && local_virtual_id(value, &uid, &err) == -1)
			rc = -1;
		if (rc == 1)
			rc = local_maps_lookup(vgid_dicts, vgid_n, addr,
			    &value, &err);
		if (rc == 0)
			rc = local_maps_lookup(vgid_dicts, vgid_n, key,
			    &value, &err);
		if (rc == 1 && local_virtual_id(value, &gid, &err) == -1)
			rc = -1;
		if (rc != 1 || uid < mail_conf_int("virtual_minimum_uid") ||
		    gid <= 0) {
			log_qid_warn(ctx->msg.qid, "virtual uid/gid for %s "
			    "missing, bad or below virtual_minimum_uid",
			    addr);
			local_status_set(&st, DELIVER_DEFER, "4.3.0",
			    "mailbox owner configuration error");
			free(path);
			goto result;
		}
		who.uid = (uid_t)uid;
		who.gid = (gid_t)gid;
	}
	local_dest(ctx, maildir ? LOCAL_DEST_MAILDIR : LOCAL_DEST_MBOX, path,
	    addr, &who, "", "", ctx->req->sender);
	free(path);
	free(key);
	return;
result:
	free(key);
	local_result(ctx, addr, &st);
}

/* Reads the message content; -1 with err_r. */
static int
read_content(const struct deliver_request *req, struct buf *b,
    const char **err_r)
{
	static char errbuf[128];
	char chunk[65536];
	uint64_t off = 0;
	ssize_t n;

	if (req->fd < 0)
		return (*err_r = "no queue file", -1);
	buf_reset(b);
	while (off < req->content_size) {
		size_t want = req->content_size - off > sizeof(chunk) ?
		    sizeof(chunk) : (size_t)(req->content_size - off);

		n = pread(req->fd, chunk, want, (off_t)(req->content_off +
		    off));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || buf_append(b, chunk, (size_t)n) == -1) {
			*err_r = str_fmt_buf(errbuf, sizeof(errbuf),
			    "queue file read error: %s", n == -1 ?
			    strerror(errno) : n == 0 ? "short file" :
			    "message too large");
			return -1;
		}
		off += (uint64_t)n;
	}
	return 0;
}

static void
one(const struct deliver_request *req, const struct buf *content,
    size_t i, struct local_status *st)
{
	struct local_ctx ctx;
	const char *rcpt = req->rcpt.v[i], *at = strrchr(rcpt, '@');

	memset(&ctx, 0, sizeof(ctx));
	ctx.req = req;
	ctx.start = deliver_now_us();
	ctx.msg.qid = req->queue_id;
	ctx.msg.sender = req->sender;
	ctx.msg.rcpt = rcpt;
	ctx.msg.data = buf_cstr(content);
	ctx.msg.len = content->len;
	ctx.relay = at != NULL && local_domain_is_virtual(at + 1) ?
	    "virtual" : "local";
	strv_init(&ctx.done);
	strv_init(&ctx.aliases);
	strv_init(&ctx.forwards);
	if (local_msg_has_delivered_to(&ctx.msg, rcpt)) {
		local_status_set(st, DELIVER_BOUNCE, "5.4.6",
		    "mail forwarding loop for %s", rcpt);
		local_result(&ctx, rcpt, st);
	} else if (str_eq(ctx.relay, "virtual")) {
		local_virtual(&ctx, rcpt);
	} else {
		local_expand(&ctx, rcpt, 0, req->sender);
	}
	if (ctx.ndefer > 0)
		*st = ctx.first_defer;
	else if (ctx.nbounce > 0)
		*st = ctx.first_bounce;
	else if (ctx.nsent == 1)
		*st = ctx.first_sent;
	else if (ctx.nsent > 1)
		local_status_set(st, DELIVER_SENT, "2.0.0",
		    "delivered to %u destinations", ctx.nsent);
	else
		/* Every item was a duplicate or bad: nothing to deliver. */
		local_status_set(st, DELIVER_SENT, "2.0.0", "discarded");
	strv_deinit(&ctx.done);
	strv_deinit(&ctx.aliases);
	strv_deinit(&ctx.forwards);
}

void
local_deliver(const struct deliver_request *req, struct deliver_reply *reply)
{
	struct local_status st;
	struct buf content;
	const char *err, *at;
	bool virt;

	at = req->rcpt.n > 0 ? strrchr(req->rcpt.v[0], '@') : NULL;
	virt = at != NULL && local_domain_is_virtual(at + 1);
	deliver_reply_alloc(reply, req->rcpt.n, virt ? "virtual" : "local");
	buf_init(&content, req->content_size + 1 > BUF_MAX_DEFAULT ?
	    (size_t)req->content_size + 1 : 0);
	if (read_content(req, &content, &err) == -1) {
		log_qid_warn(req->queue_id, "%s", err);
		for (size_t i = 0; i < req->rcpt.n; i++)
			deliver_reply_set(reply, i, DELIVER_DEFER, "4.3.0",
			    err);
		buf_deinit(&content);
		return;
	}
	for (size_t i = 0; i < req->rcpt.n; i++) {
		one(req, &content, i, &st);
		deliver_reply_set(reply, i, st.status, st.dsn, st.text);
	}
	buf_deinit(&content);
}
