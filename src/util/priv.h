/* SPDX-License-Identifier: MIT */
/*
 * Privilege drop, done one way everywhere and verified after the fact
 * (STYLE.md, "Privileges").  As root, priv_drop optionally chroots, then
 * sets the supplementary groups to just the user's group, then the real,
 * effective and saved group and user IDs, and finally checks that the
 * kernel reports exactly those IDs and that root cannot be regained.
 *
 * Instance mode (not started as root): no identity can be changed, so
 * priv_drop only verifies that the process already is the target user
 * (real, effective and saved uid equal the user's uid) and fails fatally
 * otherwise; the chroot jail is ignored, because an unprivileged instance
 * cannot chroot and its directories are the user's own anyway.  Dropping
 * "to" root, or to a user whose primary group is root, is refused in both
 * modes.  Failures are fatal (environment) or panics (a drop that did not
 * take); there is no error return to forget to check.
 */
#ifndef TERN_PRIV_H
#define TERN_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

struct priv_user {
	char	*name;
	uid_t	 uid;
	gid_t	 gid;
	char	*home;
};

/*
 * Looks name up in the password database.  Returns 1 and fills u_r (free
 * with priv_user_deinit), 0 when there is no such user, -1 with err_r set
 * on a lookup error.
 */
int priv_lookup(const char *name, struct priv_user *u_r, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * As priv_lookup, but a missing user is fatal, naming the parameter that
 * asked for it (e.g. "mail_owner").
 */
void priv_lookup_or_die(const char *name, const char *param,
    struct priv_user *u_r);
void priv_user_deinit(struct priv_user *u);

/* True when running with effective uid 0. */
bool priv_is_root(void);

/*
 * Becomes u for good, as described above; jail (or NULL) is a directory
 * to chroot into first (root only).  Returns only on success.
 */
void priv_drop(const struct priv_user *u, const char *jail);
/*
 * As priv_drop, but the process keeps one supplementary group besides
 * u's own (e.g. "shadow", for authd to read /etc/shadow).  extra_gid 0
 * is refused.  Unprivileged, it only verifies, as priv_drop does.
 */
void priv_drop_extra_group(const struct priv_user *u, gid_t extra_gid,
    const char *jail);
/* priv_lookup_or_die(name, param) then priv_drop. */
void priv_drop_to(const char *name, const char *param, const char *jail);

/*
 * Panics unless the real, effective and saved uid and gid are u's, the
 * supplementary groups are at most u's group, and setuid(0) fails.
 */
void priv_verify(const struct priv_user *u);
/* As priv_verify, but extra_gid may be a supplementary group too. */
void priv_verify_extra_group(const struct priv_user *u, gid_t extra_gid);

#endif
