/* SPDX-License-Identifier: MIT */
/*
 * Checks, creates and repairs the queue and data directory tree; see
 * mail_dirs.h.  Each directory is looked at with lstat and then opened
 * with O_DIRECTORY|O_NOFOLLOW, so that owner and mode changes go through
 * a descriptor of the very directory that was checked and never through a
 * symbolic link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"

/* Who owns a directory of the tree. */
enum dirs_owner { OWN_ROOT, OWN_MAIL };

struct dirs_spec {
	const char	*base;	/* parameter: the parent, or itself */
	const char	*sub;	/* below base; NULL: base itself */
	enum dirs_owner	 owner;
	bool		 setgid_group;	/* group too (as root) */
	mode_t		 mode;
};

/*
 * In this order: a parent comes before its children.  A sub of NULL is
 * the parameter's directory itself, whose own parent is never created.
 * process_id_directory is handled apart (it is a parameter itself).
 */
static const struct dirs_spec dirs_specs[] = {
	{ "queue_directory", NULL,	  OWN_ROOT, false, 0755 },
	{ "queue_directory", "private",	  OWN_MAIL, false, 0700 },
	{ "queue_directory", "public",	  OWN_MAIL, true,  0710 },
	{ "queue_directory", NULL,	  OWN_ROOT, false, 0755 }, /* pid */
	{ "queue_directory", "maildrop",  OWN_MAIL, true,  01730 },
	{ "queue_directory", "incoming",  OWN_MAIL, false, 0700 },
	{ "queue_directory", "active",	  OWN_MAIL, false, 0700 },
	{ "queue_directory", "deferred",  OWN_MAIL, false, 0700 },
	{ "queue_directory", "hold",	  OWN_MAIL, false, 0700 },
	{ "queue_directory", "corrupt",	  OWN_MAIL, false, 0700 },
	{ "data_directory", NULL,	  OWN_MAIL, false, 0700 },
};
#define DIRS_PID_INDEX	3

/* What one run knows about the users involved. */
struct dirs_ctx {
	bool		 fix;
	bool		 root;
	struct strv	*report;
	int		 rc;
	uid_t		 mail_uid;	/* root: mail_owner; else self */
	gid_t		 mail_gid;
	char		*mail_name;
	gid_t		 setgid_gid;	/* as root only */
	char		*setgid_name;
};

static void
problem(struct dirs_ctx *c, char *line)
{
	strv_push_owned(c->report, line);
	c->rc = -1;
}

/* A user name for messages (heap): the name, else the number. */
static char *
user_name(uid_t uid)
{
	struct passwd pw, *res;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		return xstrdup(pw.pw_name);
	return xasprintf("%lu", (unsigned long)uid);
}

static char *
group_name(gid_t gid)
{
	struct group gr, *res;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		return xstrdup(gr.gr_name);
	return xasprintf("%lu", (unsigned long)gid);
}

/* Returns 1 with the group's id, 0 when unknown, -1 with errno. */
static int
group_lookup(const char *name, gid_t *gid_r)
{
	struct group gr, *res;
	size_t size = 4096;
	char *buf;
	int err;

	for (;;) {
		buf = xmalloc(size);
		err = getgrnam_r(name, &gr, buf, size, &res);
		if (err != ERANGE || size >= (1U << 20))
			break;
		free(buf);
		size *= 2;
	}
	if (err == 0 && res != NULL)
		*gid_r = gr.gr_gid;
	free(buf);
	if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF ||
	    err == EPERM)
		return err == 0 && res != NULL ? 1 : 0;
	errno = err;
	return -1;
}

/* Looks up the users and groups; false after reporting why not. */
static bool
ctx_users(struct dirs_ctx *c)
{
	const char *owner = mail_conf_get("mail_owner");
	const char *group = mail_conf_get("setgid_group");
	struct priv_user u;
	const char *err;
	int r;

	r = priv_lookup(owner, &u, &err);
	if (r == 0)
		problem(c, xasprintf("mail_owner: unknown user \"%s\"",
		    owner));
	else if (r == -1)
		problem(c, xasprintf("mail_owner: cannot look up user "
		    "\"%s\": %s", owner, err));
	if (!c->root) {
		/* Instance mode: everything belongs to who runs it. */
		c->mail_uid = geteuid();
		c->mail_gid = getegid();
		c->mail_name = user_name(c->mail_uid);
		if (r == 1 && u.uid != c->mail_uid)
			problem(c, xasprintf("mail_owner is %s but this "
			    "instance runs as %s", owner, c->mail_name));
		if (r == 1)
			priv_user_deinit(&u);
		return true;
	}
	if (r != 1)
		return false;
	c->mail_uid = u.uid;
	c->mail_gid = u.gid;
	c->mail_name = xstrdup(u.name);
	priv_user_deinit(&u);
	if (c->mail_uid == 0) {
		problem(c, xasprintf("mail_owner %s has uid 0; it must not "
		    "be root", owner));
		return false;
	}
	r = group_lookup(group, &c->setgid_gid);
	if (r == 0) {
		problem(c, xasprintf("setgid_group: unknown group \"%s\"",
		    group));
		return false;
	}
	if (r == -1) {
		problem(c, xasprintf("setgid_group: cannot look up group "
		    "\"%s\": %s", group, strerror(errno)));
		return false;
	}
	c->setgid_name = xstrdup(group);
	return true;
}

/* The owner and group a spec asks for, and how to name them. */
static void
spec_ids(const struct dirs_ctx *c, const struct dirs_spec *s, uid_t *uid_r,
    gid_t *gid_r, const char **uname_r)
{
	if (!c->root || s->owner == OWN_MAIL) {
		*uid_r = c->mail_uid;
		*gid_r = c->mail_gid;
		*uname_r = c->mail_name;
	} else {
		*uid_r = 0;
		*gid_r = 0;
		*uname_r = "root";
	}
	if (c->root && s->setgid_group)
		*gid_r = c->setgid_gid;
}

/* "tern" or "tern:terndrop", for the "created" line (heap). */
static char *
owner_label(const struct dirs_ctx *c, const struct dirs_spec *s,
    const char *uname)
{
	if (c->root && s->setgid_group)
		return xasprintf("%s:%s", uname, c->setgid_name);
	return xstrdup(uname);
}

/* Creates path (its parent must exist); returns 0 or -1 after a report. */
static int
dir_create(struct dirs_ctx *c, const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		problem(c, xasprintf("mkdir %s: %s", path, strerror(errno)));
		return -1;
	}
	return 0;
}

/*
 * Checks (and with fix, repairs) the owner, group and mode of the
 * directory path, whose status is st, through fd (or by name when fd is
 * -1, in instance mode only).  created: it was just made, so one "created"
 * line replaces the individual repairs.
 */
static void
dir_attrs(struct dirs_ctx *c, const struct dirs_spec *s, const char *path,
    int fd, const struct stat *st, bool created)
{
	const char *uname;
	char *have, *label;
	uid_t uid;
	gid_t gid;
	mode_t mode = st->st_mode & 07777;
	bool bad_owner, bad_group, chowned = false, ok = true;

	spec_ids(c, s, &uid, &gid, &uname);
	bad_owner = st->st_uid != uid;
	bad_group = c->root && s->setgid_group && st->st_gid != gid;
	if (bad_owner && (!c->root || !c->fix)) {
		have = user_name(st->st_uid);
		problem(c, xasprintf("%s: owner %s, expected %s", path, have,
		    uname));
		free(have);
		ok = false;
	}
	if (bad_group && !c->fix) {
		have = group_name(st->st_gid);
		problem(c, xasprintf("%s: group %s, expected %s", path, have,
		    c->setgid_name));
		free(have);
		ok = false;
	}
	if (c->root && c->fix && (bad_owner || bad_group || created)) {
		if (fchown(fd, uid, gid) == -1) {
			problem(c, xasprintf("chown %s: %s", path,
			    strerror(errno)));
			ok = false;
		} else if (!created) {
			chowned = true;
			have = user_name(st->st_uid);
			if (bad_owner)
				strv_push_owned(c->report, xasprintf("%s: "
				    "owner %s, expected %s (fixed)", path,
				    have, uname));
			free(have);
			have = group_name(st->st_gid);
			if (bad_group)
				strv_push_owned(c->report, xasprintf("%s: "
				    "group %s, expected %s (fixed)", path,
				    have, c->setgid_name));
			free(have);
		}
	}
	/* chown may have cleared set-id bits, so set the mode again. */
	if (created || chowned || mode != s->mode) {
		if (!c->fix || (!c->root && bad_owner)) {
			problem(c, xasprintf("%s: mode %04o, expected %04o",
			    path, (unsigned)mode, (unsigned)s->mode));
			ok = false;
		} else if ((fd != -1 ? fchmod(fd, s->mode) :
		    chmod(path, s->mode)) == -1) {
			problem(c, xasprintf("chmod %s: %s", path,
			    strerror(errno)));
			ok = false;
		} else if (!created && mode != s->mode) {
			strv_push_owned(c->report, xasprintf("%s: mode %04o, "
			    "expected %04o (fixed)", path, (unsigned)mode,
			    (unsigned)s->mode));
		}
	}
	if (created && ok) {
		label = owner_label(c, s, uname);
		strv_push_owned(c->report, xasprintf("created %s (%04o %s)",
		    path, (unsigned)s->mode, label));
		free(label);
	}
}

/*
 * Checks one directory; returns true when it is a real directory (so its
 * children may be looked at), false after reporting why not.
 */
static bool
dir_check(struct dirs_ctx *c, const struct dirs_spec *s, const char *path)
{
	struct stat st, fst;
	bool created = false;
	int fd;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT) {
			problem(c, xasprintf("%s: %s", path, strerror(errno)));
			return false;
		}
		if (!c->fix) {
			problem(c, xasprintf("%s: No such file or directory",
			    path));
			return false;
		}
		if (dir_create(c, path) == -1)
			return false;
		if (lstat(path, &st) == -1) {
			problem(c, xasprintf("%s: %s", path, strerror(errno)));
			return false;
		}
		created = true;
	}
	if (S_ISLNK(st.st_mode)) {
		problem(c, xasprintf("%s: is a symbolic link, expected a "
		    "directory", path));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem(c, xasprintf("%s: not a directory", path));
		return false;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		/*
		 * Instance mode, no read permission: only the owner can
		 * change the mode, and the directories above belong to
		 * the same user, so going by name gains nobody anything.
		 */
		if (errno == EACCES && !c->root) {
			dir_attrs(c, s, path, -1, &st, created);
			return true;
		}
		problem(c, xasprintf("open %s: %s", path, strerror(errno)));
		return false;
	}
	if (fstat(fd, &fst) == -1 || fst.st_dev != st.st_dev ||
	    fst.st_ino != st.st_ino) {
		problem(c, xasprintf("%s: changed while being checked", path));
		(void)close(fd);
		return false;
	}
	dir_attrs(c, s, path, fd, &st, created);
	(void)close(fd);
	return true;
}

/* The absolute directory a parameter names; NULL after a report. */
static const char *
dir_param(struct dirs_ctx *c, const char *name)
{
	const char *v = mail_conf_get(name);

	if (v[0] != '/') {
		problem(c, xasprintf("%s: not an absolute path: \"%s\"", name,
		    v));
		return NULL;
	}
	return v;
}

/* queue_directory/process_id_directory, or it alone when absolute. */
static char *
pid_dir(struct dirs_ctx *c, const char *queue)
{
	const char *v = mail_conf_get("process_id_directory");

	if (v[0] == '\0' || str_eq(v, ".") || strstr(v, "..") != NULL) {
		problem(c, xasprintf("process_id_directory: bad value \"%s\"",
		    v));
		return NULL;
	}
	if (v[0] == '/')
		return xstrdup(v);
	return xasprintf("%s/%s", queue, v);
}

int
mail_dirs_check(bool fix, struct strv *report)
{
	struct dirs_ctx c = { .fix = fix, .root = priv_is_root(),
	    .report = report, .rc = 0 };
	const char *queue, *data;
	bool queue_ok = false;
	char *path;

	if (!ctx_users(&c))
		goto out;
	queue = dir_param(&c, "queue_directory");
	data = dir_param(&c, "data_directory");
	for (size_t i = 0; i < sizeof(dirs_specs) / sizeof(dirs_specs[0]);
	    i++) {
		const struct dirs_spec *s = &dirs_specs[i];

		if (i == DIRS_PID_INDEX) {
			if (!queue_ok || (path = pid_dir(&c, queue)) == NULL)
				continue;
		} else if (str_eq(s->base, "data_directory")) {
			if (data == NULL)
				continue;
			path = xstrdup(data);
		} else if (s->sub == NULL) {
			if (queue == NULL)
				continue;
			path = xstrdup(queue);
		} else {
			/* Never below a symlink or a missing queue. */
			if (!queue_ok)
				continue;
			path = xasprintf("%s/%s", queue, s->sub);
		}
		if (dir_check(&c, s, path) && i == 0)
			queue_ok = true;
		free(path);
	}
out:
	free(c.mail_name);
	free(c.setgid_name);
	return c.rc;
}

bool
mail_dirs_queue_admin(void)
{
	uid_t uid = getuid();
	struct passwd *pw;
	struct stat st;

	if (uid == 0)
		return true;
	if ((pw = getpwnam(mail_conf_get("mail_owner"))) != NULL &&
	    pw->pw_uid == uid)
		return true;
	return stat(".", &st) == 0 && st.st_uid == uid;
}
