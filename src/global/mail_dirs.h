/* SPDX-License-Identifier: MIT */
/*
 * The directory tree under queue_directory and data_directory, with the
 * owners and modes every part of tern relies on; master creates and
 * repairs it at start, "tern check" reports (and as root repairs) it.
 *
 *   queue_directory      root                     0755
 *     private/           mail_owner               0700  service sockets
 *     public/            mail_owner:setgid_group  0710  for local users
 *     pid/               root                     0755  master.pid
 *                        (process_id_directory; absolute: itself)
 *     maildrop/          mail_owner:setgid_group  1730
 *     incoming/ active/ deferred/ hold/ corrupt/
 *                        mail_owner               0700
 *   data_directory       mail_owner               0700
 *
 * As root the owners are mail_owner and setgid_group (looked up; mail_owner
 * must not be root) and everything is created and repaired; the group is
 * checked only where it is setgid_group.  queue_directory and
 * data_directory are created, their parents never are.  In instance
 * mode (not root) every directory must be owned by the invoking user, who
 * must also be mail_owner; modes are repaired, owners only reported.
 * A directory of the tree that is a symbolic link or not a directory is
 * never followed or replaced: it is reported, and nothing below it is
 * looked at.  The parents of queue_directory and data_directory are the
 * administrator's to trust.
 */
#ifndef TERN_MAIL_DIRS_H
#define TERN_MAIL_DIRS_H

#include <stdbool.h>

#include "str.h"

/*
 * Checks the tree of the loaded configuration.  With fix, creates what is
 * missing and repairs owners and modes where allowed.  Each problem that
 * remains (or, with fix, each change made) is appended to report as one
 * line of text such as "/var/spool/tern/private: mode 0755, expected 0700".
 * Returns 0 when the tree is as it should be (after fixing), -1 otherwise.
 */
int mail_dirs_check(bool fix, struct strv *report)
    __attribute__((warn_unused_result));

/*
 * True when the real user may change the queue: root, mail_owner, or the
 * owner of the current directory (queue_directory; in instance mode the
 * invoking user).  Listing the queue needs no such right.
 */
bool mail_dirs_queue_admin(void);

#endif
