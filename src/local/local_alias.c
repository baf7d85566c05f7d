/* SPDX-License-Identifier: MIT */
/*
 * Local recipient resolution, as Postfix's local(8) does it: the
 * address extension is split off (recipient_delimiter), alias_maps are
 * consulted ("user+ext" first, then "user"), alias values, :include:
 * files and ~/.forward files expand recursively into names, addresses,
 * commands and files, and a name that is no alias is a system user whose
 * .forward or mailbox gets the mail.  Loops end because a name already
 * being expanded is not expanded again (it is delivered to the user
 * itself, as Postfix does for "user: user, other"), the depth is bounded,
 * and each destination gets one copy per recipient.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "dict.h"
#include "log.h"
#include "mail_conf.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

enum origin { ORIGIN_ALIAS, ORIGIN_FORWARD, ORIGIN_INCLUDE };
static const char *const origin_names[] = { "alias", "forward", "include" };

static void expand_item(struct local_ctx *ctx, const char *item,
    enum origin origin, const struct local_ident *who, const char *context,
    unsigned depth, const char *sender);

static void __attribute__((format(printf, 5, 6)))
result(struct local_ctx *ctx, const char *to, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
{
	struct local_status st;
	va_list ap;

	local_status_set(&st, status, dsn, "%s", "");
	va_start(ap, fmt);
	(void)vsnprintf(st.text, sizeof(st.text), fmt, ap);
	va_end(ap);
	local_result(ctx, to, &st);
}

static bool
allowed(const char *param, enum origin origin)
{
	const struct strv *l = mail_conf_list(param);

	for (size_t i = 0; i < l->n; i++)
		if (str_eq_ci(l->v[i], origin_names[origin]))
			return true;
	return false;
}

/*
 * Reads a .forward or :include: file into items.  SECURITY: O_NOFOLLOW,
 * a regular file, owned by owner (or root, when root_ok), writable by
 * nobody else; a root-owned file must be world-readable, so that a user
 * cannot have local read a root-only file by hard-linking it.  Returns 1
 * with items and *uid_r, 0 when there is no file, -1 with *err_r.
 */
static int
read_list(const char *path, uid_t owner, bool any_owner,
    struct strv *items, uid_t *uid_r, const char **err_r)
{
	static char errbuf[256];
	struct buf b;
	struct stat sb;
	int fd, rc = 1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*err_r = str_fmt_buf(errbuf, sizeof(errbuf), "open %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (!any_owner && sb.st_uid != owner && sb.st_uid != 0) ||
	    (sb.st_uid == 0 && (sb.st_mode & S_IROTH) == 0)) {
		*err_r = str_fmt_buf(errbuf, sizeof(errbuf), "%s: not a "
		    "regular file of a trusted owner, or writable by others",
		    path);
		(void)close(fd);
		return -1;
	}
	*uid_r = sb.st_uid;
	buf_init(&b, LOCAL_INCLUDE_MAX);
	if (safefile_read_fd(fd, path, &b, err_r) == -1)
		rc = -1;
	(void)close(fd);
	if (rc == 1 && local_alias_parse_file(buf_cstr(&b), b.len, items,
	    err_r) == -1) {
		*err_r = str_fmt_buf(errbuf, sizeof(errbuf), "%s: %s", path,
		    *err_r);
		rc = -1;
	}
	buf_deinit(&b);
	return rc;
}

/* The mailbox of a system user (after aliases and .forward). */
static void
mailbox(struct local_ctx *ctx, const struct local_ident *who,
    const char *to, const char *local, const char *ext, const char *sender)
{
	const char *cmd = mail_conf_get("mailbox_command");
	const char *home = mail_conf_get("home_mailbox");
	const char *spool = mail_conf_get("mail_spool_directory");
	char *path;
	size_t n;

	if (cmd[0] != '\0') {
		local_dest(ctx, LOCAL_DEST_COMMAND, cmd, to, who, local, ext,
		    sender);
		return;
	}
	if (home[0] != '\0') {
		path = xasprintf("%s/%s", who->home, home);
		n = strlen(path);
		local_dest(ctx, path[n - 1] == '/' ? LOCAL_DEST_MAILDIR :
		    LOCAL_DEST_MBOX, path, to, who, local, ext, sender);
		free(path);
		return;
	}
	n = strlen(spool);
	path = n > 0 && spool[n - 1] == '/' ?
	    xasprintf("%s%s/", spool, who->name) :
	    xasprintf("%s/%s", spool, who->name);
	n = strlen(path);
	local_dest(ctx, path[n - 1] == '/' ? LOCAL_DEST_MAILDIR :
	    LOCAL_DEST_MBOX, path, to, who, local, ext, sender);
	free(path);
}

/* A system user: .forward (unless self or already expanded), mailbox. */
static void
user(struct local_ctx *ctx, const char *name, const char *ext,
    const char *to, bool self, unsigned depth, const char *sender)
{
	struct local_ident who;
	struct strv items;
	const char *err;
	char *path;
	uid_t uid;
	int rc;

	rc = local_ident_name(name, &who);
	if (rc == -1) {
		result(ctx, to, DELIVER_DEFER, "4.3.0",
		    "user lookup error for \"%s\"", name);
		return;
	}
	if (rc == 0) {
		result(ctx, to, DELIVER_BOUNCE, "5.1.1", "unknown user: \"%s\"",
		    name);
		return;
	}
	if (!self && strv_find(&ctx->forwards, name) < 0) {
		strv_init(&items);
		path = xasprintf("%s/.forward", who.home);
		rc = read_list(path, who.uid, false, &items, &uid, &err);
		free(path);
		if (rc == -1)
			log_qid_warn(ctx->msg.qid, "%s; delivering to the "
			    "mailbox of %s", err, name);
		if (rc == 1) {
			strv_push(&ctx->forwards, name);
			for (size_t i = 0; i < items.n; i++)
				expand_item(ctx, items.v[i], ORIGIN_FORWARD,
				    &who, to, depth + 1, sender);
			strv_deinit(&items);
			return;
		}
		strv_deinit(&items);
	}
	mailbox(ctx, &who, to, name, ext, sender);
}

static void
include(struct local_ctx *ctx, const char *path, const char *context,
    unsigned depth, const char *sender)
{
	struct local_ident who;
	struct strv items;
	const char *err;
	uid_t uid = 0;
	int rc;

	strv_init(&items);
	rc = read_list(path, 0, true, &items, &uid, &err);
	if (rc == 0) {
		result(ctx, context, DELIVER_BOUNCE, "5.3.0",
		    "no such :include: file %s", path);
	} else if (rc == -1) {
		result(ctx, context, DELIVER_DEFER, "4.3.0", "%s", err);
	} else {
		/* Commands and files run as the file's owner. */
		if (uid == 0 || local_ident_uid(uid, &who) != 1)
			local_ident_default(&who);
		for (size_t i = 0; i < items.n; i++)
			expand_item(ctx, items.v[i], ORIGIN_INCLUDE, &who,
			    context, depth + 1, sender);
	}
	strv_deinit(&items);
}

static void
expand_item(struct local_ctx *ctx, const char *item, enum origin origin,
    const struct local_ident *who, const char *context, unsigned depth,
    const char *sender)
{
	enum local_item_kind kind;
	const char *rest, *err;
	char *name;

	if (local_item_kind(item, &kind, &rest, &err) == -1) {
		log_qid_warn(ctx->msg.qid, "%s: bad %s item \"%s\": %s",
		    context, origin_names[origin], item, err);
		return;
	}
	switch (kind) {
	case LOCAL_ITEM_ADDR:
		local_expand(ctx, rest, depth, sender);
		break;
	case LOCAL_ITEM_SELF:
		name = str_lower(xstrdup(rest));
		name[strcspn(name, "@")] = '\0';
		user(ctx, name, "", context, true, depth, sender);
		free(name);
		break;
	case LOCAL_ITEM_COMMAND:
		if (!allowed("allow_mail_to_commands", origin))
			result(ctx, context, DELIVER_BOUNCE, "5.7.1",
			    "mail to command is restricted");
		else
			local_dest(ctx, LOCAL_DEST_COMMAND, rest, context, who,
			    "", "", sender);
		break;
	case LOCAL_ITEM_FILE:
		if (!allowed("allow_mail_to_files", origin))
			result(ctx, context, DELIVER_BOUNCE, "5.7.1",
			    "mail to file is restricted");
		else
			local_dest(ctx, LOCAL_DEST_FILE, rest, context, who,
			    "", "", sender);
		break;
	case LOCAL_ITEM_INCLUDE:
		if (depth >= LOCAL_EXPAND_DEPTH_MAX)
			result(ctx, context, DELIVER_BOUNCE, "5.4.6",
			    "alias expansion too deep at %s", rest);
		else
			include(ctx, rest, context, depth, sender);
		break;
	}
}

/* owner-NAME when owner_request_special and the alias exists. */
static char *
owner_sender(const char *base)
{
	const char *value, *err;
	char *key;
	int rc;

	if (!mail_conf_bool("owner_request_special") ||
	    str_has_prefix(base, "owner-"))
		return NULL;
	key = xasprintf("owner-%s", base);
	rc = local_maps_lookup(local_alias_dicts, local_alias_ndicts, key,
	    &value, &err);
	if (rc != 1) {
		free(key);
		return NULL;
	}
	value = mail_conf_get("myorigin");
	char *s = xasprintf("%s@%s", key, value);
	free(key);
	return s;
}

void
local_expand(struct local_ctx *ctx, const char *addr, unsigned depth,
    const char *sender)
{
	const char *at = strrchr(addr, '@'), *ext = "", *value, *err;
	const char *delims = mail_conf_get("recipient_delimiter");
	char *local, *base, *key = NULL, *to, *owner;
	struct strv items;
	size_t base_len;
	int rc = 0;

	if (depth > LOCAL_EXPAND_DEPTH_MAX) {
		result(ctx, addr, DELIVER_BOUNCE, "5.4.6",
		    "alias expansion too deep at %s", addr);
		return;
	}
	if (at != NULL && local_domain_is_virtual(at + 1)) {
		local_virtual(ctx, addr);
		return;
	}
	if (at != NULL && !local_domain_is_local(at + 1)) {
		local_dest(ctx, LOCAL_DEST_FORWARD, addr, addr, NULL, "", "",
		    sender);
		return;
	}
	local = str_lower(at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
	    xstrdup(addr));
	to = at != NULL ? xstrdup(addr) :
	    xasprintf("%s@%s", addr, mail_conf_get("myorigin"));
	if (addr_split_ext(local, delims, &base_len, &ext)) {
		base = xstrndup(local, base_len);
	} else {
		base = xstrdup(local);
		ext = "";
	}
	if (str_eq_ci(local, mail_conf_get("double_bounce_sender")) ||
	    str_eq_ci(base, mail_conf_get("double_bounce_sender"))) {
		local_dest(ctx, LOCAL_DEST_DISCARD, "", to, NULL, "", "",
		    sender);
		goto out;
	}
	/* Aliases: "user+ext", then "user" (aliases(5)). */
	if (strv_find(&ctx->aliases, base) < 0) {
		key = local;
		rc = local_maps_lookup(local_alias_dicts, local_alias_ndicts,
		    key, &value, &err);
		if (rc == 0 && ext[0] != '\0') {
			key = base;
			rc = local_maps_lookup(local_alias_dicts,
			    local_alias_ndicts, key, &value, &err);
		}
	}
	if (rc == -1) {
		result(ctx, to, DELIVER_DEFER, "4.3.0",
		    "alias lookup error: %s", err);
		goto out;
	}
	if (rc == 1) {
		struct local_ident who;

		strv_init(&items);
		if (local_alias_parse(value, strlen(value), &items, &err)
		    == -1) {
			result(ctx, to, DELIVER_DEFER, "4.3.0",
			    "bad alias value: %s", err);
			strv_deinit(&items);
			goto out;
		}
		owner = owner_sender(base);
		strv_push(&ctx->aliases, base);
		local_ident_default(&who);
		for (size_t i = 0; i < items.n; i++)
			expand_item(ctx, items.v[i], ORIGIN_ALIAS, &who, to,
			    depth + 1, owner != NULL ? owner : sender);
		free(owner);
		strv_deinit(&items);
		goto out;
	}
	user(ctx, base, ext, to, false, depth, sender);
out:
	free(local);
	free(base);
	free(to);
}
