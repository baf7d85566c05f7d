/* SPDX-License-Identifier: MIT */
/*
 * "tern user": keeps authd(8)'s users file (authd_passwd_file), so that
 * administrators never write password hashes by hand.
 *
 *	tern user add [-d home] [-u uid] [-g gid] NAME
 *	tern user passwd NAME
 *	tern user del NAME
 *	tern user list
 *
 * The password is asked for twice without echo when standard input is a
 * terminal, and otherwise read as one line from it.  It is hashed with
 * yescrypt (or, where libxcrypt lacks it, bcrypt or SHA-512 crypt) and
 * written as {CRYPT}hash.  Every change takes a lock (FILE.lock), writes
 * a temporary file in the same directory, fsyncs and renames it over the
 * old one, keeping the old file's mode and owner; a new file gets mode
 * 0640 and mail_owner's group as root (authd must read it), 0600
 * otherwise.  Lines it does not change, comments and lines authd would
 * refuse included, are kept byte for byte.
 */
#ifndef TERN_TERN_USER_H
#define TERN_TERN_USER_H

/*
 * Runs one subcommand; argv[0] is "add", "passwd", "del" or "list".  The
 * configuration must be loaded.  Errors are logged; returns the exit
 * status (0, or 1 on any error).
 */
int tern_user_main(int argc, char **argv);

#endif
