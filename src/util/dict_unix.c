/* SPDX-License-Identifier: MIT */
/*
 * The unix: table: "unix:passwd.byname" looks a login name up with
 * getpwnam(3) and returns the passwd(5) line "name:passwd:uid:gid:gecos:
 * dir:shell", as Postfix's dict_unix does.  Keys are not folded: login
 * names are case-sensitive.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "xalloc.h"

static int
unix_lookup(struct dict *d, const char *key, const char **value_r)
{
	struct passwd *pw;

	if (*key == '\0' || strlen(key) > DICT_KEY_MAX)
		return 0;
	errno = 0;
	pw = getpwnam(key);
	if (pw == NULL) {
		/* Not found is not an error, whatever errno says. */
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return 0;
		return dict_set_err(d, "unix:%s: getpwnam: %s", d->name,
		    strerror(errno));
	}
	free(d->priv);
	d->priv = xasprintf("%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name,
	    pw->pw_passwd, (long)pw->pw_uid, (long)pw->pw_gid, pw->pw_gecos,
	    pw->pw_dir, pw->pw_shell);
	*value_r = d->priv;
	return 1;
}

static void
unix_close(struct dict *d)
{
	free(d->priv);
}

static const struct dict_ops unix_ops = {
	.lookup = unix_lookup,
	.close = unix_close,
};

struct dict *
dict_unix_open(const char *name, int flags, const char **err_r)
{
	if (strcmp(name, "passwd.byname") != 0) {
		char *e = log_escape_str(name);

		dict_open_err(err_r, "unknown table: unix:%s", e);
		free(e);
		return NULL;
	}
	/* Login names are case-sensitive: never fold. */
	return dict_alloc("unix", name, flags & ~DICT_FLAG_FOLD, &unix_ops);
}
