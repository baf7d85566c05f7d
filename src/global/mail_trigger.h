/* SPDX-License-Identifier: MIT */
/*
 * Waking a service: writes one frame to the service's UNIX socket
 * (public/NAME or private/NAME under queue_directory, which is the
 * current directory of every tern process and command) without waiting
 * for a reply.  qmgr is woken this way after a queue file appears in
 * incoming/, pickup after a maildrop file appears.  A failed trigger is
 * harmless (the service scans periodically anyway) and is only reported.
 */
#ifndef TERN_MAIL_TRIGGER_H
#define TERN_MAIL_TRIGGER_H

#include "buf.h"

/* "public/qmgr" etc.; relative to queue_directory. */
#define MAIL_TRIGGER_QMGR	"public/qmgr"
#define MAIL_TRIGGER_PICKUP	"public/pickup"

/* Sends master_proto's wakeup frame to path; -1 with err_r. */
int mail_trigger_wakeup(const char *path, const char **err_r)
    __attribute__((warn_unused_result));
/* Sends an arbitrary request frame (e.g. qmgr's flush); -1 with err_r. */
int mail_trigger_send(const char *path, const struct buf *frame,
    const char **err_r) __attribute__((warn_unused_result));

#endif
