/* SPDX-License-Identifier: MIT */
/*
 * The static: table: every lookup finds the same value, the text after
 * "static:", or the text inside "static:{ ... }" with the white space
 * after "{" and before "}" removed, as Postfix's dict_static does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

static int
static_lookup(struct dict *d, const char *key, const char **value_r)
{
	(void)key;
	*value_r = d->priv;
	return 1;
}

static void
static_close(struct dict *d)
{
	free(d->priv);
}

static const struct dict_ops static_ops = {
	.lookup = static_lookup,
	.close = static_close,
};

struct dict *
dict_static_open(const char *name, int flags, const char **err_r)
{
	struct dict *d;
	char *value;
	size_t n = strlen(name);

	if (name[0] == '{') {
		if (n < 2 || name[n - 1] != '}') {
			char *e = log_escape_str(name);

			dict_open_err(err_r, "bad syntax: \"static:%s\"; need "
			    "\"static:{value}\"", e);
			free(e);
			return NULL;
		}
		value = xstrndup(name + 1, n - 2);
		char *t = str_trim(value);

		memmove(value, t, strlen(t) + 1);
	} else {
		value = xstrdup(name);
	}
	d = dict_alloc("static", name, flags, &static_ops);
	d->priv = value;
	return d;
}
