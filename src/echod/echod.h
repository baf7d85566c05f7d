/* SPDX-License-Identifier: MIT */
/*
 * echod sessions: a line-echo service with no mail knowledge, used to show
 * that a master.cf service is reachable and that master starts, reloads
 * and stops its processes as it should (man/echod.8 has the protocol).
 * Sessions run on the server skeleton's event loop.
 */
#ifndef TERN_ECHOD_H
#define TERN_ECHOD_H

#include "server.h"

/* Longest line accepted, without its line ending. */
#define ECHOD_LINE_MAX		1000
/* Seconds a session may wait for the client. */
#define ECHOD_IDLE_TIMEOUT	300
/* A master wakeup frame: largest body, seconds to receive it. */
#define ECHOD_FRAME_MAX		1024
#define ECHOD_FRAME_TIMEOUT	5

/* post_jail hook: remembers myhostname for the greeting. */
void echod_init(void);
/* on_connect hook: starts one session on fd. */
void echod_session_start(int fd, const struct server_peer *peer);

#endif
