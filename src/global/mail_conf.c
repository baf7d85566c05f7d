/* SPDX-License-Identifier: MIT */
/*
 * Selecting the configuration directory of an instance and loading main.cf
 * (and master.cf on request) into the process-wide parameter set; see
 * mail_conf.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mastercf.h"
#include "param.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_params.h"

#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR	"/etc/tern"
#endif

static struct param_set *conf_ps;
static char *conf_dir;
static char conf_err[1024];

#define conf_fail(...)	str_fmt_buf(conf_err, sizeof(conf_err), __VA_ARGS__)

static const char *
origin(struct param_set *ps, const char *name)
{
	const struct cfg_entry *e = cfg_find(param_set_cfg(ps), name);

	return e != NULL ? e->origin : "default value";
}

/* Checks of values that the generic types cannot express. */
static int
check_special(struct param_set *ps, const char **err_r)
{
	const char *v = param_str(ps, "syslog_facility");
	const struct strv *l;

	if (!log_facility_valid(v)) {
		char *esc = log_escape_str(v);

		*err_r = conf_fail("%s: syslog_facility: unknown syslog "
		    "facility \"%s\"", origin(ps, "syslog_facility"), esc);
		free(esc);
		return -1;
	}
	v = param_str(ps, "mynetworks_style");
	if (!str_eq(v, "host") && !str_eq(v, "subnet") &&
	    !str_eq(v, "class")) {
		char *esc = log_escape_str(v);

		*err_r = conf_fail("%s: mynetworks_style: expected host, "
		    "subnet or class, got \"%s\"",
		    origin(ps, "mynetworks_style"), esc);
		free(esc);
		return -1;
	}
	l = param_list(ps, "inet_protocols");
	for (size_t i = 0; i < l->n; i++)
		if (!str_eq(l->v[i], "all") && !str_eq(l->v[i], "ipv4") &&
		    !str_eq(l->v[i], "ipv6")) {
			char *esc = log_escape_str(l->v[i]);

			*err_r = conf_fail("%s: inet_protocols: expected "
			    "ipv4, ipv6 or all, got \"%s\"",
			    origin(ps, "inet_protocols"), esc);
			free(esc);
			return -1;
		}
	return 0;
}

int
mail_conf_try_load(const char *config_dir, const struct strv *overrides,
    bool defaults_only, const char **err_r)
{
	struct param_set *ps;
	const char *dir = config_dir;
	char *path;
	int rc;

	if (dir == NULL || dir[0] == '\0')
		dir = getenv("MAIL_CONFIG");
	if (dir == NULL || dir[0] == '\0')
		dir = DEF_CONFIG_DIR;
	ps = param_set_new();
	param_set_add_table(ps, mail_params);
	param_set_fixed(ps, "config_directory", dir);
	rc = 0;
	if (!defaults_only) {
		path = xasprintf("%s/main.cf", dir);
		rc = param_set_load_file(ps, path, false, err_r);
		free(path);
	}
	for (size_t i = 0; rc == 0 && !defaults_only && overrides != NULL &&
	    i < overrides->n; i++)
		rc = param_set_override(ps, overrides->v[i], err_r);
	if (rc == 0)
		rc = param_set_validate(ps, err_r);
	if (rc == 0)
		rc = check_special(ps, err_r);
	if (rc == -1) {
		*err_r = conf_fail("%s", *err_r);
		param_set_free(&ps);
		return -1;
	}
	mail_conf_unload();
	conf_ps = ps;
	conf_dir = xstrdup(dir);
	return 0;
}

void
mail_conf_load(const char *config_dir, const struct strv *overrides)
{
	const char *err;

	if (mail_conf_try_load(config_dir, overrides, false, &err) == -1)
		fatal("%s", err);
}

int
mail_conf_open_log(const char **err_r)
{
	const char *name = mail_conf_get("syslog_name");
	const char *file = mail_conf_get("maillog_file");

	if (file[0] != '\0')
		return log_open_file(name, file, err_r);
	return log_open_syslog(name, mail_conf_get("syslog_facility"), err_r);
}

void
mail_conf_unload(void)
{
	param_set_free(&conf_ps);
	free(conf_dir);
	conf_dir = NULL;
}

struct param_set *
mail_conf_params(void)
{
	if (conf_ps == NULL)
		panic("configuration used before mail_conf_load");
	return conf_ps;
}

const char *
mail_conf_get(const char *name)
{
	return param_str(mail_conf_params(), name);
}

const char *
mail_conf_dir(void)
{
	if (conf_dir == NULL)
		panic("mail_conf_dir before mail_conf_load");
	return conf_dir;
}

long long
mail_conf_int(const char *name)
{
	return param_int(mail_conf_params(), name);
}

bool
mail_conf_bool(const char *name)
{
	return param_bool(mail_conf_params(), name);
}

long long
mail_conf_time(const char *name)
{
	return param_time(mail_conf_params(), name);
}

long long
mail_conf_size(const char *name)
{
	return param_size(mail_conf_params(), name);
}

const struct strv *
mail_conf_list(const char *name)
{
	return param_list(mail_conf_params(), name);
}

struct mastercf *
mail_conf_master(const char **err_r)
{
	struct mastercf *mc;
	char *path = xasprintf("%s/master.cf", mail_conf_dir());
	int rc;

	rc = mastercf_parse_file(path,
	    (unsigned)mail_conf_int("default_process_limit"), &mc, err_r);
	free(path);
	return rc == 0 ? mc : NULL;
}

/*
 * SECURITY: see mail_conf.h.  A directory other than the default is
 * accepted when the program runs without elevated privileges, when the real user is
 * root, or when every component of the directory's real path is owned by
 * root and not writable by others (a sticky directory such as /tmp is
 * fine) and its main.cf is root's and not writable by others: such a
 * configuration was set up by root, like Postfix's
 * alternate_config_directories.
 */
bool
mail_conf_dir_trusted(const char *dir, const char **err_r)
{
	char *real, *p, *cf;
	struct stat st;
	int fd;

	if (getuid() == 0 || (getegid() == getgid() && geteuid() == getuid()))
		return true;
	if (str_eq(dir, DEF_CONFIG_DIR))
		return true;
	real = realpath(dir, NULL);
	if (real == NULL) {
		*err_r = "cannot resolve the directory";
		return false;
	}
	for (p = real + strlen(real); p > real; ) {
		if (stat(real, &st) == -1 || st.st_uid != 0 ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (st.st_mode & S_ISVTX) == 0)) {
			free(real);
			*err_r = "a directory on its path is not root's";
			return false;
		}
		while (p > real && *p != '/')
			p--;
		*p = '\0';
	}
	free(real);
	cf = xasprintf("%s/main.cf", dir);
	fd = safefile_open_trusted(cf, 0, err_r);
	free(cf);
	if (fd == -1)
		return false;
	close(fd);
	return true;
}
