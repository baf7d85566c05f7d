/* SPDX-License-Identifier: MIT */
/*
 * Instance selection and configuration loading for every command and
 * daemon.  The configuration directory is the one given to mail_conf_load,
 * else $MAIL_CONFIG, else DEF_CONFIG_DIR.  main.cf is read from it (a
 * missing main.cf is fatal, as in Postfix), "name=value" overrides are
 * applied on top, every value set is validated against the parameter table
 * in mail_params.c, unknown names are warned about, and any error is fatal
 * with the file and line.  Values are $-expanded when read.
 */
#ifndef TERN_MAIL_CONF_H
#define TERN_MAIL_CONF_H

#include <stdbool.h>

#include "str.h"

struct param_set;
struct mastercf;

/*
 * Loads DIR/main.cf (config_dir NULL: $MAIL_CONFIG or DEF_CONFIG_DIR) and
 * applies overrides ("name=value" items; may be NULL).  Errors are fatal;
 * warnings are logged.  May be called again to reload (replaces the old
 * configuration; strings returned before then become invalid).
 */
void mail_conf_load(const char *config_dir, const struct strv *overrides);

/*
 * As mail_conf_load, but returns -1 with err_r ("FILE, line N: ...") instead
 * of exiting; with defaults_only, neither main.cf nor the overrides are
 * read, so every parameter has its default (as postconf -d shows).  The
 * returned error string is valid until the next call.
 */
int mail_conf_try_load(const char *config_dir, const struct strv *overrides,
    bool defaults_only, const char **err_r) __attribute__((warn_unused_result));

/*
 * Effective $-expanded value of a parameter of the table; panics on a name
 * not in the table, or when nothing was loaded.  Valid until the next load.
 */
const char *mail_conf_get(const char *name);
/* The configuration directory in use (after mail_conf_load). */
const char *mail_conf_dir(void);

/* Typed getters; panic on a name not in the table or of another type. */
long long mail_conf_int(const char *name);
bool mail_conf_bool(const char *name);
/* Time parameters in seconds. */
long long mail_conf_time(const char *name);
/* Size parameters in bytes. */
long long mail_conf_size(const char *name);
/* List and map parameters split at commas and white space. */
const struct strv *mail_conf_list(const char *name);

/* The loaded parameter set itself (for ternconf and daemons' own tables). */
struct param_set *mail_conf_params(void);

/*
 * Reads DIR/master.cf of the loaded configuration.  Returns NULL with err_r
 * set ("FILE, line N: ...") on error; the caller frees with mastercf_free.
 */
struct mastercf *mail_conf_master(const char **err_r);

/*
 * Sends this program's log lines where the loaded configuration says: to
 * maillog_file when it is set, otherwise to syslog with facility
 * syslog_facility and ident "syslog_name/service" (log_init names the
 * service).  Returns -1 with err_r set when that cannot be done.
 */
int mail_conf_open_log(const char **err_r)
    __attribute__((warn_unused_result));

/*
 * SECURITY: whether a set-group-id program (terndrop, ternqueue) may use
 * the configuration directory dir chosen by its caller (-c or
 * MAIL_CONFIG), since that configuration names the queue directory and
 * sockets it then uses with the group's rights.  True without elevated
 * privileges, for the real user root, for the default directory, and for
 * a directory set up by root: every component of its real path owned by
 * root and not writable by others (sticky directories such as /tmp
 * excepted) and its main.cf root's and not writable by others (like
 * Postfix's alternate_config_directories).  False with err_r otherwise.
 */
bool mail_conf_dir_trusted(const char *dir, const char **err_r);
/* Frees everything loaded (for tests and leak checkers). */
void mail_conf_unload(void);

#endif
