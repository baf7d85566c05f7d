/* SPDX-License-Identifier: MIT */
/* The regexp: table (stub until the parser lands). */
#include "config.h"

#include "dict.h"

struct dict *
dict_regexp_open(const char *name, int flags, const char **err_r)
{
	(void)flags;
	dict_open_err(err_r, "regexp:%s: not supported yet", name);
	return NULL;
}
