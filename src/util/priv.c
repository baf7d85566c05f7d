/* SPDX-License-Identifier: MIT */
/*
 * Verified privilege drop and user lookup; see priv.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"
#include "xalloc.h"

/* More supplementary groups than this after a drop is wrong anyway. */
#define PRIV_GROUPS_MAX	64

int
priv_lookup(const char *name, struct priv_user *u_r, const char **err_r)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		/* Not found shows as errno 0 or one of these (getpwnam(3)). */
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return 0;
		*err_r = strerror(errno);
		return -1;
	}
	u_r->name = xstrdup(pw->pw_name);
	u_r->uid = pw->pw_uid;
	u_r->gid = pw->pw_gid;
	u_r->home = xstrdup(pw->pw_dir);
	return 1;
}

void
priv_lookup_or_die(const char *name, const char *param,
    struct priv_user *u_r)
{
	const char *err;

	switch (priv_lookup(name, u_r, &err)) {
	case 1:
		return;
	case 0:
		fatal("%s: unknown user \"%s\"", param, name);
	default:
		fatal("%s: cannot look up user \"%s\": %s", param, name, err);
	}
}

void
priv_user_deinit(struct priv_user *u)
{
	free(u->name);
	free(u->home);
	u->name = u->home = NULL;
}

bool
priv_is_root(void)
{
	return geteuid() == 0;
}

/* extra: a second allowed supplementary group, or 0 for none. */
static void
verify(const struct priv_user *u, gid_t extra)
{
	gid_t groups[PRIV_GROUPS_MAX];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		panic("getresuid/getresgid: %s", strerror(errno));
	if (ru != u->uid || eu != u->uid || su != u->uid)
		panic("uids are %lu/%lu/%lu after dropping to %s (%lu)",
		    (unsigned long)ru, (unsigned long)eu, (unsigned long)su,
		    u->name, (unsigned long)u->uid);
	if (rg != u->gid || eg != u->gid || sg != u->gid)
		panic("gids are %lu/%lu/%lu after dropping to %s (%lu)",
		    (unsigned long)rg, (unsigned long)eg, (unsigned long)sg,
		    u->name, (unsigned long)u->gid);
	n = getgroups(PRIV_GROUPS_MAX, groups);
	if (n == -1 || n > (extra != 0 ? 2 : 1))
		panic("supplementary groups left after dropping to %s",
		    u->name);
	for (int i = 0; i < n; i++)
		if (groups[i] != u->gid && (extra == 0 || groups[i] != extra))
			panic("supplementary groups left after dropping to %s",
			    u->name);
	if (setuid(0) != -1 || seteuid(0) != -1)
		panic("regained root after dropping to %s", u->name);
	if (setgid(0) != -1 || setegid(0) != -1)
		panic("regained group root after dropping to %s", u->name);
}

void
priv_verify(const struct priv_user *u)
{
	verify(u, 0);
}

void
priv_verify_extra_group(const struct priv_user *u, gid_t extra_gid)
{
	if (extra_gid == 0)
		panic("priv_verify_extra_group: group root");
	verify(u, extra_gid);
}

/* Instance mode: we can only be who we are. */
static void
drop_unprivileged(const struct priv_user *u)
{
	uid_t ru, eu, su;

	if (getresuid(&ru, &eu, &su) == -1)
		panic("getresuid: %s", strerror(errno));
	if (ru != u->uid || eu != u->uid || su != u->uid)
		fatal("cannot run as %s (uid %lu): not started as root, "
		    "running as uid %lu", u->name, (unsigned long)u->uid,
		    (unsigned long)ru);
}

static void
drop(const struct priv_user *u, gid_t extra, const char *jail)
{
	gid_t groups[2] = { u->gid, extra };

	if (u->uid == 0)
		fatal("refusing to run as %s: uid 0", u->name);
	if (u->gid == 0)
		fatal("refusing to run as %s: primary group is root", u->name);
	if (!priv_is_root()) {
		drop_unprivileged(u);
		return;
	}
	if (jail != NULL && (chroot(jail) == -1 || chdir("/") == -1))
		fatal("chroot %s: %s", jail, strerror(errno));
	if (setgroups(extra != 0 && extra != u->gid ? 2 : 1, groups) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 ||
	    setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("cannot become %s: %s", u->name, strerror(errno));
	verify(u, extra);
}

void
priv_drop(const struct priv_user *u, const char *jail)
{
	drop(u, 0, jail);
}

void
priv_drop_extra_group(const struct priv_user *u, gid_t extra_gid,
    const char *jail)
{
	if (extra_gid == 0)
		fatal("refusing to run as %s with group root", u->name);
	drop(u, extra_gid, jail);
}

void
priv_drop_to(const char *name, const char *param, const char *jail)
{
	struct priv_user u;

	priv_lookup_or_die(name, param, &u);
	priv_drop(&u, jail);
	priv_user_deinit(&u);
}
