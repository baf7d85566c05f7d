/* SPDX-License-Identifier: MIT */
/*
 * Virtual mailbox paths, as Postfix's virtual(8) builds them: a
 * virtual_mailbox_maps result is a path relative to virtual_mailbox_base,
 * ending in "/" for a Maildir.  The result comes from a table the
 * administrator wrote, but it is still checked so that no entry can point
 * outside the base: no absolute path, no "." or ".." component, no
 * control characters.  The same goes for the uid and gid maps, whose
 * results must be plain numbers.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "xalloc.h"

#include "local.h"

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

int
local_virtual_path(const char *base, const char *result, char **path_r,
    bool *maildir_r, const char **err_r)
{
	const char *p, *seg;
	size_t n, blen;

	if (base[0] != '/')
		return fail(err_r, "virtual_mailbox_base is not absolute");
	if (result[0] == '\0')
		return fail(err_r, "empty mailbox path");
	if (result[0] == '/')
		return fail(err_r, "mailbox path is absolute");
	if (strlen(result) > PATH_MAX)
		return fail(err_r, "mailbox path too long");
	for (p = result; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(err_r, "control character in mailbox path");
	for (seg = result; *seg != '\0'; seg += n + (seg[n] == '/')) {
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return fail(err_r, "\".\" or \"..\" in mailbox path");
	}
	blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	*maildir_r = result[strlen(result) - 1] == '/';
	*path_r = xasprintf("%.*s/%s", (int)blen, base, result);
	/* Drop the trailing slash of a Maildir path. */
	n = strlen(*path_r);
	while (n > 1 && (*path_r)[n - 1] == '/')
		(*path_r)[--n] = '\0';
	return 0;
}

int
local_virtual_id(const char *s, long long *id_r, const char **err_r)
{
	const char *err;

	if (s[0] < '0' || s[0] > '9')
		return fail(err_r, "not a number");
	if (str_to_ll(s, 0, INT_MAX, id_r, &err) == -1)
		return fail(err_r, err);
	return 0;
}
