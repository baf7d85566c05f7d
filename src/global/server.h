/* SPDX-License-Identifier: MIT */
/*
 * The server skeleton every daemon's main() goes through.  A daemon
 * declares a struct server_spec and calls server_main(), which takes the
 * process from master(8)'s exec to a running libevent loop and back to
 * exit: it parses master's argv (master_proto.h), loads main.cf with the
 * -o overrides, opens the log, checks the descriptors master passed, runs
 * the daemon's hooks around the privilege drop, accepts connections and
 * hands each one to on_connect, keeps master told whether the process is
 * busy or available, and exits after max_use sessions, after max_idle
 * seconds without a session, or when master closes the status channel
 * (reload, stop, or master died) or sends SIGTERM.
 *
 * Parameters: every parameter a daemon reads lives in the one global
 * table, mail_params[] (mail_params.c), so that ternconf(1) knows all of
 * them; there is no per-daemon table.  A daemon reads its parameters with
 * mail_conf_get() and friends, from pre_jail on.
 */
#ifndef TERN_SERVER_H
#define TERN_SERVER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "str.h"

struct event_base;

/* Room for a numeric IPv6 address with scope, NUL included. */
#define SERVER_ADDR_MAX	64

/*
 * Who is on the other end of a new session.  For an AF_INET or AF_INET6
 * connection, addr and local_addr are the numeric addresses without
 * brackets (an IPv4-mapped IPv6 address is shown as plain IPv4, as Postfix
 * does) and port and local_port the ports; sa and local_sa hold the
 * addresses as the kernel gave them.  For an AF_UNIX connection, addr and
 * local_addr are "unix", the ports are 0 and the sockaddrs are zeroed.
 * The structure is only valid during the on_connect call: copy what the
 * session needs.
 */
struct server_peer {
	const char	*service;	/* master.cf service name (-n) */
	const char	*type;		/* master.cf type (-t) */
	int		 family;	/* AF_INET, AF_INET6, AF_UNIX */
	char		 addr[SERVER_ADDR_MAX];
	unsigned	 port;
	char		 local_addr[SERVER_ADDR_MAX];
	unsigned	 local_port;
	struct sockaddr_storage sa;
	socklen_t	 sa_len;
	struct sockaddr_storage local_sa;
	socklen_t	 local_sa_len;
};

/*
 * What a daemon plugs in.  Only name and on_connect are required.
 *
 * pre_jail runs with the configuration loaded and logging open, before
 * the privilege drop and chroot (to read keys only root may read).
 * post_jail runs after them, before the first connection is accepted.
 *
 * on_connect receives each accepted connection: fd is nonblocking and
 * close-on-exec, and belongs to the daemon from then on.  The daemon calls
 * server_session_done() exactly once when that session is over (it may do
 * so from within on_connect).
 *
 * sessions_param: the name of an integer parameter (e.g.
 * "smtpd_sessions_per_process"): the process tells master it is busy, so
 * that master starts another for new connections, only once it serves
 * that many sessions.  NULL: busy from the first session, as one process
 * per client would be.  Such a process also counts max_use in those
 * units (it exits after max_use times that many sessions), and raises its
 * descriptor limit to the hard limit.
 *
 * resident: the process never leaves on its own: neither max_idle nor
 * max_use apply (for a process of which exactly one must always run, such
 * as qmgr, whose successor would otherwise take over the active queue
 * while its deliveries are still out, and anvil).
 *
 * on_stop is called once, when master asks the process to go away (it
 * closed the status channel, or SIGTERM): the process no longer accepts
 * and exits as soon as its last session ends, and on_stop lets the daemon
 * end sessions early where that is harmless (e.g. idle IMAP sessions).
 * Sessions it leaves alone are allowed to finish.  Reaching max_use is not
 * a stop request: the sessions simply run to their end.
 *
 * extra_group: the name of a group the process keeps as a supplementary
 * group when -u drops it to mail_owner as root (authd: "shadow", to read
 * /etc/shadow).  A group that does not exist is warned about and not
 * kept; without root it does not matter.  NULL: none.
 */
struct server_spec {
	const char	*name;
	void		(*pre_jail)(void);
	void		(*post_jail)(void);
	void		(*on_connect)(int fd, const struct server_peer *peer);
	const char	*sessions_param;
	bool		 resident;
	void		(*on_stop)(void);
	const char	*extra_group;
};

/*
 * Runs the daemon as described above and returns its exit status (0 after
 * an orderly exit), for main() to return.  argv is master's:
 *
 *	PROGRAM -n SERVICE -t TYPE -s COUNT [-c DIR] [-u] [-j]
 *	    [-o name=value]... [argument...]
 *
 * -s COUNT (1..64) is the number of listening sockets from
 * MASTER_LISTEN_FD on.  -u drops privileges to mail_owner; -j chroots to
 * queue_directory (root only; ignored otherwise).  Without -u a process
 * started as root stays root.  Every process changes to queue_directory
 * (or "/" inside the chroot).  Bad usage and an environment that does not
 * match the contract are fatal (exit 1).
 */
int server_main(const struct server_spec *spec, int argc, char **argv);

/* Ends one session started by on_connect; see server_spec. */
void server_session_done(void);
/*
 * Work that is not a session but must end before the process does, once
 * asked to stop (qmgr's deliveries out): each server_hold keeps the
 * process alive until its server_release.
 */
void server_hold(void);
void server_release(void);

/* The loop the daemon's events belong to (valid from pre_jail on). */
struct event_base *server_event_base(void);
/* The master.cf service name (-n) and type (-t). */
const char *server_service_name(void);
const char *server_service_type(void);
/* The arguments after the options (empty when there are none). */
const struct strv *server_args(void);
/* True once the process no longer accepts connections. */
bool server_stopping(void);

#endif
