/* SPDX-License-Identifier: MIT */
/*
 * The engine of the map commands: ternmap (postmap(1)) and ternalias
 * (postalias(1), also installed as newaliases).  The commands are thin:
 * they name themselves, say how to load the configuration, and which
 * tables to build when none is given; option parsing, building, queries,
 * deletes, dumps, messages and exit codes (0 success or found, 1 not found
 * or error, as postmap's) live here.
 */
#ifndef TERN_DICT_TOOL_H
#define TERN_DICT_TOOL_H

#include <stdbool.h>

#include "str.h"

struct dict_tool_spec {
	const char	*name;		/* "ternmap" */
	bool		 alias;		/* aliases(5) format, "key: value" */
	/* Loads the configuration (config_dir NULL: the default); NULL
	 * when the command reads none.  Errors are fatal inside. */
	void		(*load_config)(const char *config_dir);
	/* Appends the tables to build when none is named (newaliases);
	 * NULL: at least one table must be named. */
	void		(*default_tables)(struct strv *tables_r);
};

/* Runs the command; returns the exit status. */
int dict_tool_main(const struct dict_tool_spec *spec, int argc,
    char **argv);

#endif
