/* SPDX-License-Identifier: MIT */
/*
 * pickup: moves the files that terndrop(1) leaves in maildrop/ into the
 * queue through cleanup (cleanup.h), as Postfix's pickup does.  A maildrop
 * file is untrusted: it is a queue file (qfile.h) written by any local
 * user, whose owner uid is taken as the submitting user.  A file that is
 * not a regular file with one link, or that does not parse, is moved to
 * corrupt/ and never delivered.  A message that cleanup refuses for good
 * (no recipients, too big, header limits) is returned to its sender with
 * a failure notice (dsn_report.h); one refused for now stays for the next
 * scan.  master wakes pickup through its public socket (every 60 seconds,
 * and terndrop after each file); man/pickup.8 has the log lines.
 */
#ifndef TERN_PICKUP_H
#define TERN_PICKUP_H

#include "server.h"

/* Seconds a waking client may take to send its frame. */
#define PICKUP_FRAME_TIMEOUT	5
#define PICKUP_FRAME_MAX	1024

enum pickup_result {
	PICKUP_QUEUED,		/* in incoming/, maildrop file removed */
	PICKUP_BOUNCED,		/* refused; notice sent, file removed */
	PICKUP_QUARANTINED,	/* moved to corrupt/ */
	PICKUP_DEFERRED,	/* left for the next scan */
	PICKUP_GONE,		/* another pickup took it */
};

/* on_connect hook: reads wakeup frames, then scans maildrop/. */
void pickup_session_start(int fd, const struct server_peer *peer);
/* post_jail hook: the first scan, for files left while pickup was down. */
void pickup_init(void);
/* Handles every maildrop file; returns how many were handled. */
size_t pickup_scan(void);
/* Handles maildrop/NAME (the current directory is queue_directory). */
enum pickup_result pickup_file(const char *name);

#endif
