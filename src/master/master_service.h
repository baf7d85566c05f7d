/* SPDX-License-Identifier: MIT */
/*
 * master's services and processes: per-service state built from one
 * master.cf entry (program, addresses, listeners), the pool of processes
 * with their status channels, growth on demand up to maxproc, reaping
 * with crash back-off and throttling, and wakeup timers.  Processes of a
 * retired service (after a reload or at stop) stay known until reaped.
 */
#ifndef TERN_MASTER_SERVICE_H
#define TERN_MASTER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "str.h"

#include "master_listen.h"

struct event;
struct event_base;
struct mastercf_entry;

/* What master itself uses of one configuration generation. */
struct master_conf {
	char		*config_dir;
	char		*queue_dir;
	char		*daemon_dir;
	struct master_net net;
	struct strv	 env;		/* from import_environment */
	long long	 throttle_time;	/* service_throttle_time */
	long long	 stop_timeout;	/* master_stop_timeout */
};

struct master_service {
	char		*name;
	char		*type;
	char		*file;		/* master.cf */
	unsigned	 line;
	char		*path;		/* program */
	struct strv	 command;	/* master.cf command and arguments */
	bool		 is_unix;
	bool		 private_service;
	bool		 unpriv;
	bool		 chroot;
	unsigned	 wakeup;
	bool		 wakeup_if_used;
	unsigned	 maxproc;	/* 0: no limit */
	const struct master_conf *conf;

	struct master_addrs addrs;
	int		*fds;		/* per address; -1: not open */
	bool		 opened;
	int		*open_fds;	/* the open ones, in order */
	size_t		 nopen;
	struct event	**listen_ev;	/* per open fd */
	bool		 watching;
	struct strv	 argv;		/* exec arguments */

	unsigned	 nproc;
	unsigned	 navail;
	unsigned	 crashes;	/* consecutive, never busy */
	struct event	*restart_ev;
	bool		 restart_pending;
	struct event	*wakeup_ev;
	bool		 used;		/* some process has been busy */
};

/*
 * Sets the event base and the descriptors children get for 0, 1 and 2
 * (stderr_fd -1: null_fd for all three).
 */
void master_service_init(struct event_base *base, int null_fd, int stderr_fd);

/*
 * Builds the service of entry e (type inet or unix).  Returns 0 with
 * *svc_r; 1 when the program is missing or not executable, -1 when the
 * addresses are bad, both with err_r (without file and line).
 */
int master_service_new(const struct mastercf_entry *e,
    const struct master_conf *conf, struct master_service **svc_r,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Takes old's open listeners when both have the same addresses (reload
 * keeps those sockets open throughout); true when it did.
 */
bool master_service_adopt(struct master_service *svc,
    struct master_service *old);

/* Opens the listeners not opened yet; -1 with err_r ("bind ADDR: ..."). */
int master_service_open(struct master_service *svc, const char **err_r)
    __attribute__((warn_unused_result));

/* Starts the first process, the listener watch and the wakeup timer. */
void master_service_start(struct master_service *svc);

/*
 * Closes the status channel of every process (they finish their sessions
 * and exit; they are reaped but not replaced), closes the listeners not
 * adopted, and frees the service.
 */
void master_service_retire(struct master_service **svcp);

/* Frees a service that was never started. */
void master_service_free(struct master_service **svcp);

/* Stops all restarts and growth for good (graceful stop). */
void master_service_stopping(void);

/* Reaps every exited child (SIGCHLD); with wait, blocks until none left. */
void master_service_reap(bool wait);

/* Processes not reaped yet, of every generation. */
size_t master_service_nprocs(void);

/* Sends sig to every process. */
void master_service_kill_all(int sig);

/* Frees a configuration snapshot. */
void master_conf_free(struct master_conf **confp);

#endif
