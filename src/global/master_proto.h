/* SPDX-License-Identifier: MIT */
/*
 * The contract between master(8) and the service processes it starts,
 * shared by src/master and the server skeleton (server.c), so that neither
 * side builds or parses these frames by hand.
 *
 * Starting a process.  master forks, and the child execs the master.cf
 * command (a name without '/' is looked up in daemon_directory) as
 *
 *	PROGRAM -n SERVICE -t TYPE -s COUNT -c CONFIG_DIR [-u] [-j]
 *	    [master.cf arguments, including their -o name=value items]
 *
 * with -u when the unpriv column is y (drop to mail_owner) and -j when the
 * chroot column is y (chroot to queue_directory).  The environment is the
 * one import_environment describes.  Descriptors: 0, 1 and 2 are
 * /dev/null (or master's own stderr when it runs in the foreground),
 * MASTER_STATUS_FD is the child's end of a private AF_UNIX stream
 * socketpair, and the COUNT listening sockets follow from MASTER_LISTEN_FD
 * on, in the order of the service's addresses.  Nothing else is open.
 *
 * The status channel.  The child writes one attr frame (attr.h) each time
 * its state changes: status=busy when it takes its first session (or stops
 * accepting because it reached max_use), status=avail when it has no
 * session left.  A new process counts as available until it says
 * otherwise.  master never writes on the channel; it closes its end to
 * tell the process to stop accepting, finish its sessions and exit (reload
 * and graceful stop).  The child sees end-of-file on MASTER_STATUS_FD then,
 * and also when master dies.  A frame that does not parse makes master
 * kill that process: a broken peer is dropped, never trusted.
 *
 * Wakeup.  For a unix service with a wakeup time, master connects to the
 * service's socket every so often and writes one frame with
 * request=wakeup, then closes the connection; the service receives it as
 * an ordinary session.
 */
#ifndef TERN_MASTER_PROTO_H
#define TERN_MASTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define MASTER_STATUS_FD	3
#define MASTER_LISTEN_FD	4

/* Most frames a status channel carries at once; frames are tiny. */
#define MASTER_STATUS_MAX	64

/*
 * Child side: writes status=busy or status=avail to fd (blocking, with a
 * short timeout).  Returns 0, or -1 with err_r (master went away).
 */
int master_proto_send_status(int fd, bool busy, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Master side: parses one status frame body.  Returns 0 with *busy_r, or
 * -1 with err_r when the frame is anything but exactly one status field
 * whose value is "busy" or "avail".
 */
int master_proto_parse_status(const void *body, size_t len, bool *busy_r,
    const char **err_r) __attribute__((warn_unused_result));

/* Appends the wakeup request frame to b. */
void master_proto_wakeup_frame(struct buf *b);

/*
 * Service side: true when body (one frame read from a session) is the
 * wakeup request.
 */
bool master_proto_is_wakeup(const void *body, size_t len);

/*
 * The program of a master.cf command (master runs it, tern check looks
 * for it): command itself when it contains a '/', else
 * daemon_dir/command.  Returns 0 with *path_r (heap) when it is
 * an executable regular file, or -1 with err_r ("PATH: REASON"); *path_r
 * is set in both cases and the caller frees it.
 */
int master_proto_program(const char *command, const char *daemon_dir,
    char **path_r, const char **err_r) __attribute__((warn_unused_result));

#endif
