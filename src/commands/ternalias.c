/* SPDX-License-Identifier: MIT */
/*
 * ternalias: build and query alias tables in aliases(5) format, as
 * postalias(1) does; installed also as newaliases, which rebuilds the
 * tables of alias_database.  With no table named, the configuration is
 * read (-c DIR, else $MAIL_CONFIG, else the default directory) and
 * alias_database names the tables.
 */
#include "config.h"

#include "dict_tool.h"
#include "mail_conf.h"
#include "str.h"

static void
ternalias_load_config(const char *config_dir)
{
	mail_conf_load(config_dir, NULL);
}

static void
ternalias_default_tables(struct strv *tables_r)
{
	strv_split(tables_r, mail_conf_get("alias_database"), NULL);
}

int
main(int argc, char **argv)
{
	static const struct dict_tool_spec spec = {
		.name = "ternalias",
		.alias = true,
		.load_config = ternalias_load_config,
		.default_tables = ternalias_default_tables,
	};

	return dict_tool_main(&spec, argc, argv);
}
