/* SPDX-License-Identifier: MIT */
/*
 * Starting one service process the way master_proto.h describes: the
 * argument vector, the environment from import_environment, and a fork
 * whose child sets up exactly the descriptors of the contract, resets
 * its signal mask and dispositions, and execs.
 */
#ifndef TERN_MASTER_SPAWN_H
#define TERN_MASTER_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "str.h"

/* What a service process gets; see master_proto.h. */
struct master_spawn_args {
	const char	*service;
	const char	*type;
	size_t		 count;		/* listening sockets */
	const char	*config_dir;
	bool		 unpriv;
	bool		 chroot;
	const struct strv *command;	/* master.cf command and arguments */
};

/*
 * Builds the argument vector: command[0] -n SERVICE -t TYPE -s COUNT -c
 * CONFIG_DIR [-u] [-j] command[1..].  argv_r is initialised here.
 */
void master_spawn_argv(const struct master_spawn_args *a,
    struct strv *argv_r);

/*
 * Builds the environment from import_environment items: "NAME" copies
 * the variable of master's environment when it is set, "NAME=VALUE" sets
 * it.  env_r is initialised here; env_r->v stays NULL when nothing is
 * set (master_spawn_exec then passes an empty environment).
 */
void master_spawn_env(const struct strv *import, struct strv *env_r);

/* Descriptors and program of one process. */
struct master_spawn {
	const char	*path;
	char *const	*argv;
	char *const	*envp;		/* NULL: empty */
	int		 status_fd;	/* child's end of the status pair */
	const int	*listen_fds;
	size_t		 nlisten;
	int		 null_fd;	/* /dev/null, for 0 (and 1, 2) */
	int		 stderr_fd;	/* -1, or the fd for 1 and 2 */
};

/*
 * Forks; the child gets MASTER_STATUS_FD = status_fd, MASTER_LISTEN_FD..
 * = listen_fds, nothing else, default signal handling, and execs path.
 * If exec fails the child writes "tern/master: fatal: exec PATH: REASON"
 * to its stderr and exits 127.  Returns the pid, or -1 with err_r.
 */
pid_t master_spawn_exec(const struct master_spawn *s, const char **err_r)
    __attribute__((warn_unused_result));

#endif
