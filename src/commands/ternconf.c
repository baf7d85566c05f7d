/* SPDX-License-Identifier: MIT */
/*
 * ternconf: show and edit the configuration, as Postfix's postconf does.
 * Without arguments it prints every parameter as "name = value" (raw,
 * sorted); -n only those set in main.cf, -d the defaults, -x expanded
 * values, -h values only; "ternconf name ..." selected parameters;
 * -e name=value ... and -X name ... edit main.cf in place; -M prints
 * master.cf entries (-M service/type to select); -c DIR and $MAIL_CONFIG
 * choose the instance; -o name=value overrides.  Exit 0, or 1 on errors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "mastercf.h"
#include "param.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"

struct opts {
	bool	 defaults, nondefault, expand, values_only, edit, remove;
	bool	 master;
};

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: ternconf [-c config_dir] [-o name=value] "
	    "[-dhnx] [name ...]\n"
	    "       ternconf [-c config_dir] -e name=value ...\n"
	    "       ternconf [-c config_dir] -X name ...\n"
	    "       ternconf [-c config_dir] -M [service[/type] ...]\n");
	exit(1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints one parameter; returns 0, or -1 after logging an error. */
static int
show(struct param_set *ps, const struct opts *o, const char *name)
{
	const char *raw, *val, *err;

	raw = o->defaults ? param_default(ps, name) : param_raw(ps, name,
	    NULL);
	if (raw == NULL)
		raw = "";
	val = raw;
	if (o->expand && param_expand(ps, raw, &val, &err) == -1) {
		log_error("%s: %s", name, err);
		return -1;
	}
	if (o->values_only)
		printf("%s\n", val);
	else if (val[0] == '\0')
		printf("%s =\n", name);
	else
		printf("%s = %s\n", name, val);
	return 0;
}

static int
show_params(const struct opts *o, int argc, char **argv)
{
	struct param_set *ps = mail_conf_params();
	const struct cfg *c = param_set_cfg(ps);
	struct strv names, refs, all;
	int rc = 0;

	strv_init(&names);
	strv_init(&all);
	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			if (param_find(ps, argv[i]) == NULL &&
			    (o->defaults || cfg_find(c, argv[i]) == NULL)) {
				log_warn("%s: unknown parameter", argv[i]);
				rc = -1;
				continue;
			}
			if (show(ps, o, argv[i]) == -1)
				rc = -1;
		}
		return rc;
	}
	if (!o->nondefault)
		param_names(ps, &names);
	/* Unknown names are shown only when some value refers to them. */
	strv_init(&refs);
	param_names(ps, &all);
	for (size_t i = 0; i < c->n; i++)
		cfg_refs(c->e[i].value, &refs);
	for (size_t i = 0; i < all.n; i++)
		cfg_refs(param_default(ps, all.v[i]), &refs);
	for (size_t i = 0; !o->defaults && i < c->n; i++) {
		const struct param_def *d = param_find(ps, c->e[i].name);

		if (d == NULL ? strv_find(&refs, c->e[i].name) >= 0 &&
		    strv_find(&names, c->e[i].name) < 0 :
		    o->nondefault && c->e[i].file != NULL &&
		    (d->flags & PARAM_F_READONLY) == 0)
			strv_push(&names, c->e[i].name);
	}
	strv_deinit(&refs);
	strv_deinit(&all);
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++)
		if (show(ps, o, names.v[i]) == -1)
			rc = -1;
	strv_deinit(&names);
	return rc;
}

static int
show_master(int argc, char **argv)
{
	const char *err;
	struct mastercf *mc = mail_conf_master(&err);

	if (mc == NULL) {
		log_error("%s", err);
		return -1;
	}
	for (size_t i = 0; i < mc->n; i++) {
		const struct mastercf_entry *e = &mc->e[i];
		bool want = argc == 0;
		char *line;

		for (int j = 0; j < argc && !want; j++) {
			const char *slash = strchr(argv[j], '/');
			size_t sl = slash == NULL ? strlen(argv[j]) :
			    (size_t)(slash - argv[j]);

			want = strlen(e->service) == sl &&
			    strncmp(e->service, argv[j], sl) == 0 &&
			    (slash == NULL || str_eq(slash + 1, e->type));
		}
		if (!want)
			continue;
		line = mastercf_format(e);
		printf("%s\n", line);
		free(line);
	}
	mastercf_free(&mc);
	return 0;
}

static int
edit(const char *dir, const struct opts *o, int argc, char **argv)
{
	struct strv items;
	const char *err, *d = dir;
	char *path;
	int rc;

	if (d == NULL || d[0] == '\0')
		d = getenv("MAIL_CONFIG");
	if (d == NULL || d[0] == '\0')
		d = DEF_CONFIG_DIR;
	if (argc == 0)
		usage();
	strv_init(&items);
	for (int i = 0; i < argc; i++)
		strv_push(&items, argv[i]);
	path = xasprintf("%s/main.cf", d);
	rc = cfg_edit_file(path, o->edit ? &items : NULL,
	    o->remove ? &items : NULL, &err);
	if (rc == -1)
		log_error("%s: %s", path, err);
	free(path);
	strv_deinit(&items);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct strv overrides;
	const char *dir = NULL, *err;
	int ch, rc;

	log_init("ternconf");
	strv_init(&overrides);
	while ((ch = getopt(argc, argv, "c:dehMno:xX")) != -1) {
		switch (ch) {
		case 'c': dir = optarg; break;
		case 'd': o.defaults = true; break;
		case 'e': o.edit = true; break;
		case 'h': o.values_only = true; break;
		case 'M': o.master = true; break;
		case 'n': o.nondefault = true; break;
		case 'o': strv_push(&overrides, optarg); break;
		case 'x': o.expand = true; break;
		case 'X': o.remove = true; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((o.edit && o.remove) || (o.defaults && o.nondefault) ||
	    ((o.edit || o.remove) && o.master))
		usage();
	if (o.edit || o.remove) {
		rc = edit(dir, &o, argc, argv);
		strv_deinit(&overrides);
		return rc == 0 ? 0 : 1;
	}
	if (mail_conf_try_load(dir, &overrides, o.defaults, &err) == -1) {
		log_error("%s", err);
		strv_deinit(&overrides);
		return 1;
	}
	rc = o.master ? show_master(argc, argv) : show_params(&o, argc, argv);
	strv_deinit(&overrides);
	mail_conf_unload();
	return rc == 0 ? 0 : 1;
}
