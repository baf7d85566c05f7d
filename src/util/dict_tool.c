/* SPDX-License-Identifier: MIT */
/*
 * The map commands' engine (see dict_tool.h): postmap/postalias option
 * parsing, building tables from their source files, "-q key" and "-q -"
 * queries, "-d" deletes and "-s" dumps, with postmap's messages and exit
 * codes: 0 when built, found or deleted; 1 when not found, and for every
 * error (which is fatal, as in postmap).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dict.h"
#include "dict_tool.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

enum tool_mode { MODE_BUILD, MODE_QUERY, MODE_DELETE, MODE_DUMP };

struct tool {
	const struct dict_tool_spec	*spec;
	int				 flags;
	struct strv			 tables;	/* "type:name" */
};

static _Noreturn void
usage(const struct dict_tool_spec *spec)
{
	fatal("usage: %s [-finNorsvw] [-c config_dir] [-d key] [-q key] "
	    "[map_type:]file...", spec->name);
}

/* "file" means "hash:file"; "type:name" is kept (an unknown type fails
 * when the table is opened). */
static char *
table_spec(const char *arg)
{
	size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_");

	if (n > 0 && arg[n] == ':')
		return xstrdup(arg);
	return xasprintf("hash:%s", arg);
}

/*
 * Reads one line of keys from stdin into b, without the newline.
 * Returns 1, or 0 at end of input; over-long lines are skipped.
 */
static int
read_key(struct buf *b)
{
	int c;
	bool overlong;

	for (;;) {
		buf_reset(b);
		overlong = false;
		while ((c = getchar()) != EOF && c != '\n')
			if (!overlong && buf_putc(b, (char)c) < 0)
				overlong = true;
		if (c == EOF && b->len == 0 && !overlong)
			return 0;
		if (!overlong && !buf_has_nul(b))
			return 1;
		log_warn("stdin: %s: skipping this key", overlong ?
		    "key too long" : "NUL byte in key");
		if (c == EOF)
			return 0;
	}
}

static void
print_entry(const struct tool *t, const char *key, const char *value)
{
	printf("%s%s\t%s\n", key, t->spec->alias ? ":" : "", value);
}

static struct dict **
open_all(const struct tool *t, int flags)
{
	struct dict **d = xcalloc(t->tables.n + 1, sizeof(*d));
	const char *err;

	for (size_t i = 0; i < t->tables.n; i++)
		if ((d[i] = dict_open(t->tables.v[i], flags, &err)) == NULL)
			fatal("%s", err);
	return d;
}

static void
free_all(const struct tool *t, struct dict **d)
{
	for (size_t i = 0; i < t->tables.n; i++)
		dict_free(&d[i]);
	free(d);
}

/* Looks key up in the tables in order; NULL when none has it. */
static const char *
query_one(const struct tool *t, struct dict **d, const char *key)
{
	const char *value, *err;

	for (size_t i = 0; i < t->tables.n; i++) {
		int rc = dict_lookup(d[i], key, &value, &err);

		if (rc < 0)
			fatal("table %s: query error: %s", t->tables.v[i],
			    err);
		if (rc == 1)
			return value;
	}
	return NULL;
}

static int
do_query(const struct tool *t, const char *key)
{
	struct dict **d = open_all(t, t->flags);
	const char *value;
	int found = 0;

	if (strcmp(key, "-") != 0) {
		if ((value = query_one(t, d, key)) != NULL) {
			printf("%s\n", value);
			found = 1;
		}
	} else {
		struct buf b;

		buf_init(&b, DICT_LINE_MAX);
		while (read_key(&b)) {
			if ((value = query_one(t, d, buf_cstr(&b))) != NULL) {
				print_entry(t, buf_cstr(&b), value);
				found = 1;
			}
		}
		buf_deinit(&b);
	}
	free_all(t, d);
	return found ? 0 : 1;
}

static int
delete_one(const struct tool *t, struct dict **d, const char *key)
{
	const char *err;
	int found = 0;

	for (size_t i = 0; i < t->tables.n; i++) {
		int rc = dict_delete(d[i], key, &err);

		if (rc < 0)
			fatal("table %s: %s", t->tables.v[i], err);
		found |= rc;
	}
	return found;
}

static int
do_delete(const struct tool *t, const char *key)
{
	struct dict **d = open_all(t, t->flags | DICT_FLAG_WRITE);
	int found = 0;

	if (strcmp(key, "-") != 0) {
		found = delete_one(t, d, key);
	} else {
		struct buf b;

		buf_init(&b, DICT_LINE_MAX);
		while (read_key(&b))
			found |= delete_one(t, d, buf_cstr(&b));
		buf_deinit(&b);
	}
	free_all(t, d);
	return found ? 0 : 1;
}

static int
do_dump(const struct tool *t)
{
	struct dict **d = open_all(t, t->flags);
	const char *key, *value, *err;

	for (size_t i = 0; i < t->tables.n; i++) {
		int rc;

		for (rc = dict_iterate(d[i], true, &key, &value, &err);
		    rc == 1; rc = dict_iterate(d[i], false, &key, &value,
		    &err))
			print_entry(t, key, value);
		if (rc < 0)
			fatal("%s", err);
	}
	free_all(t, d);
	return 0;
}

static int
do_build(const struct tool *t)
{
	const char *err;

	for (size_t i = 0; i < t->tables.n; i++) {
		const char *source = (t->flags & DICT_FLAG_INCREMENTAL) != 0 ?
		    "/dev/stdin" : NULL;

		if (dict_build(t->tables.v[i], source, t->flags, &err) < 0)
			fatal("%s", err);
	}
	return 0;
}

int
dict_tool_main(const struct dict_tool_spec *spec, int argc, char **argv)
{
	struct tool t = { .spec = spec, .flags = DICT_FLAG_FOLD };
	enum tool_mode mode = MODE_BUILD;
	const char *key = NULL, *config_dir = NULL;
	struct strv defaults;
	int c, rc;

	log_init(spec->name);
	if (spec->alias)
		t.flags |= DICT_FLAG_ALIAS;
	while ((c = getopt(argc, argv, "c:d:fiNnoq:rsvw")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'd':
		case 'q':
			if (mode != MODE_BUILD)
				usage(spec);
			mode = c == 'd' ? MODE_DELETE : MODE_QUERY;
			key = optarg;
			break;
		case 'f':
			t.flags &= ~DICT_FLAG_FOLD;
			break;
		case 'i':
			t.flags |= DICT_FLAG_INCREMENTAL;
			break;
		case 'N':
			t.flags &= ~DICT_FLAG_NO_NUL;
			break;
		case 'n':
			t.flags |= DICT_FLAG_NO_NUL;
			break;
		case 'o':
		case 'v':
			/* Accepted for postmap compatibility. */
			break;
		case 'r':
			t.flags |= DICT_FLAG_DUP_REPLACE;
			break;
		case 's':
			if (mode != MODE_BUILD)
				usage(spec);
			mode = MODE_DUMP;
			break;
		case 'w':
			t.flags |= DICT_FLAG_DUP_QUIET;
			break;
		default:
			usage(spec);
		}
	}
	strv_init(&t.tables);
	strv_init(&defaults);
	/* An instance named by -c or MAIL_CONFIG is read, as postmap does. */
	if (spec->load_config != NULL && (config_dir != NULL ||
	    getenv("MAIL_CONFIG") != NULL ||
	    (optind == argc && spec->default_tables != NULL)))
		spec->load_config(config_dir);
	if (optind == argc && spec->default_tables != NULL)
		spec->default_tables(&defaults);
	for (int i = optind; i < argc; i++)
		strv_push_owned(&t.tables, table_spec(argv[i]));
	for (size_t i = 0; i < defaults.n; i++)
		strv_push_owned(&t.tables, table_spec(defaults.v[i]));
	strv_deinit(&defaults);
	if (t.tables.n == 0)
		usage(spec);
	switch (mode) {
	case MODE_QUERY:
		rc = do_query(&t, key);
		break;
	case MODE_DELETE:
		rc = do_delete(&t, key);
		break;
	case MODE_DUMP:
		rc = do_dump(&t);
		break;
	default:
		rc = do_build(&t);
		break;
	}
	strv_deinit(&t.tables);
	if (fflush(stdout) == EOF || ferror(stdout))
		fatal("write error on standard output");
	return rc;
}
