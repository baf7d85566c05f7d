/* SPDX-License-Identifier: MIT */
/*
 * master(8), the supervisor: startup checks in the foreground, detaching,
 * the pid lock, the services of master.cf, and the signals that reload
 * (SIGHUP), stop (SIGTERM, SIGINT) and abort (SIGQUIT) the mail system.
 */
#ifndef TERN_MASTER_H
#define TERN_MASTER_H

/* The whole program; returns the exit status. */
int master_main(int argc, char **argv);

#endif
