/* SPDX-License-Identifier: MIT */
/*
 * ternmap: build, query, edit and dump lookup tables, as postmap(1) does.
 * The configuration is read only when -c or MAIL_CONFIG names an instance
 * (building or querying a table needs no main.cf); everything else is in
 * dict_tool.c, which ternalias shares.
 */
#include "config.h"

#include "dict_tool.h"
#include "mail_conf.h"

static void
ternmap_load_config(const char *config_dir)
{
	mail_conf_load(config_dir, NULL);
}

int
main(int argc, char **argv)
{
	static const struct dict_tool_spec spec = {
		.name = "ternmap",
		.load_config = ternmap_load_config,
	};

	return dict_tool_main(&spec, argc, argv);
}
