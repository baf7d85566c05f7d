/* SPDX-License-Identifier: MIT */
/*
 * showq(8), the queue listing service: for each connection it reads the
 * queue directories and writes the listing as showq frames (the protocol
 * and the scan are in showq_client.h), then closes the connection.  It
 * runs as mail_owner, so that users who may not read the queue can still
 * list it through public/showq (ternqueue -p, mailq).
 */
#ifndef TERN_SHOWQ_H
#define TERN_SHOWQ_H

#include "buf.h"
#include "server.h"

/* server_spec.on_connect: answers one connection and closes it. */
void showq_session_start(int fd, const struct server_peer *peer);

/*
 * Writes the whole listing to fd (each write within timeout_ms).
 * Returns 0, or -1 with err_r when the scan or a write failed (the end
 * frame is then never sent, so the client sees the listing as failed).
 */
int showq_send_listing(int fd, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

#endif
