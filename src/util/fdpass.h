/* SPDX-License-Identifier: MIT */
/*
 * Passing file descriptors over UNIX stream sockets (SCM_RIGHTS), alongside
 * bytes or a whole attribute frame (attr.h).  Descriptors travel with the
 * first byte of what is sent, and the receiver insists on exactly the
 * number it expects: too few, too many, descriptors arriving later than the
 * first byte, foreign control messages or truncated control data
 * (MSG_CTRUNC) are errors, and every descriptor received before the error
 * is closed, so a hostile peer cannot make us leak.  Received descriptors
 * are close-on-exec (MSG_CMSG_CLOEXEC).  Timeouts are in milliseconds; a
 * negative timeout waits forever.  Error messages handed out through err_r
 * are static or live in a module buffer valid until the next call.
 */
#ifndef TERN_FDPASS_H
#define TERN_FDPASS_H

#include <stddef.h>

#include "buf.h"

/* Most descriptors one message may carry. */
#define FDPASS_MAX	8

/*
 * Sends all len bytes of data (len >= 1) with nfds descriptors (at most
 * FDPASS_MAX) attached to the first byte.  The descriptors stay open in
 * the sender.  len == 0 or nfds > FDPASS_MAX is a programming error.
 */
int fdpass_send(int sock, const void *data, size_t len, const int *fds,
    size_t nfds, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Receives exactly len bytes (len >= 1) and exactly nfds descriptors into
 * fds_r, which must come with the first bytes received.  On success the
 * caller owns the descriptors; on failure none are left open.
 */
int fdpass_recv(int sock, void *data, size_t len, int *fds_r, size_t nfds,
    int timeout_ms, const char **err_r) __attribute__((warn_unused_result));

/* Sends one attribute frame (all of frame) with nfds descriptors. */
int fdpass_send_frame(int sock, const struct buf *frame, const int *fds,
    size_t nfds, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Receives one attribute frame into body (its length at most max, 0
 * meaning ATTR_FRAME_MAX) with exactly nfds descriptors.  Errors are those
 * of attr_read_frame plus the descriptor checks above.
 */
int fdpass_recv_frame(int sock, struct buf *body, size_t max, int *fds_r,
    size_t nfds, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

#endif
