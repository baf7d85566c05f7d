/* SPDX-License-Identifier: MIT */
/*
 * The users file of authd(8), in Dovecot's passwd-file format, and the
 * password check against the hashes it holds.  One line per account:
 *
 *	user[@domain]:{SCHEME}hash:uid:gid:gecos:home:shell:extra
 *
 * Only the first two fields are required; uid and gid are empty or
 * decimal numbers other than 0; home is empty or an absolute path; gecos,
 * shell and extra are accepted and ignored.  Blank lines and lines whose
 * first non-blank character is '#' are skipped; a CR before the LF is
 * allowed.  Schemes: {SHA512-CRYPT} ($6$), {BLF-CRYPT} ($2y$, $2b$, $2a$),
 * {YESCRYPT} ($y$) and {CRYPT} (anything crypt(3) knows); a hash without
 * a scheme is {CRYPT}, as in Dovecot's passwd-file.  Plain-text and
 * unknown schemes, empty or locked hashes, bad names, bad numbers, NUL
 * bytes and overlong lines make a line bad: it is logged with file:line
 * and skipped (SECURITY: never "repaired" into an account).  A name that
 * occurs twice (compared ASCII case-insensitively, as logins are) keeps
 * its first line.
 *
 * The table is re-read whenever the file's inode, size, mtime or ctime
 * change, so that tern user(1) edits take effect without a reload.
 */
#ifndef TERN_AUTHD_PASSWD_H
#define TERN_AUTHD_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Longest line of the users file, LF excluded. */
#define AUTHD_PASSWD_LINE_MAX	8192
/* Largest users file read (a bigger one is an error, not truncated). */
#define AUTHD_PASSWD_FILE_MAX	((size_t)256 * 1024 * 1024)

/* One parsed line; the strings point into the caller's line copy. */
struct authd_passwd_entry {
	const char	*name;
	const char	*hash;		/* crypt(3) string, scheme removed */
	bool		 has_uid;
	bool		 has_gid;
	uid_t		 uid;
	gid_t		 gid;
	const char	*home;		/* "" when none */
};

/*
 * True for a login name the users file can hold: 1..AUTH_FIELD_MAX bytes,
 * no ':', no white space or control characters, not starting with '#'.
 */
bool authd_passwd_name_valid(const char *name, const char **err_r);

/*
 * Parses one line in place (line is modified: fields are cut at ':').
 * Returns 1 with e_r filled, 0 for a blank or comment line, -1 with
 * err_r for a bad line.  len excludes the LF; a trailing CR is removed.
 */
int authd_passwd_parse_line(char *line, size_t len,
    struct authd_passwd_entry *e_r, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Checks password against a crypt(3) hash (as in an entry) in constant
 * time with respect to the hash's bytes.  False for any error too.
 */
bool authd_passwd_check_hash(const char *hash, const char *password);
/*
 * Spends one hash computation's worth of time on password without
 * looking at any account (unknown users cost what known users do).
 */
void authd_passwd_dummy_check(const char *password);

struct authd_passwd;

/* A table for path (nothing is read until the first lookup). */
struct authd_passwd *authd_passwd_new(const char *path);
/* Wipes and frees; NULL-safe. */
void authd_passwd_free(struct authd_passwd **pp);

/*
 * Parses a whole file's contents (for tests, and used by the loader),
 * replacing the table; bad lines are logged as "fname, line N: ...".
 * Returns the number of accounts loaded.
 */
size_t authd_passwd_load_buf(struct authd_passwd *p, const char *data,
    size_t len, const char *fname);

/*
 * Looks name up (ASCII case-insensitively), re-reading the file first
 * when it changed.  A file that does not exist is an empty table (with
 * a warning once).  Returns 1 with the account (valid until the next
 * call), 0 when there is none, -1 with err_r when the file cannot be
 * read (the previous table is then kept, but the lookup still fails:
 * a stale table must not decide a login the file may now refuse).
 */
int authd_passwd_lookup(struct authd_passwd *p, const char *name,
    const struct authd_passwd_entry **e_r, const char **err_r)
    __attribute__((warn_unused_result));

#endif
