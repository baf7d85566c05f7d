/* SPDX-License-Identifier: MIT */
/*
 * master's lock file, $queue_directory/$process_id_directory/master.pid:
 * master holds an flock(2) on it for as long as it runs (the lock survives
 * master's fork into the background and ends with the process), and writes
 * its pid into it.  "tern status/stop/reload/abort" read it; a file that
 * is not locked means no master runs, whatever pid it holds.
 */
#ifndef TERN_MASTER_PID_H
#define TERN_MASTER_PID_H

#include <sys/types.h>

/* The lock file path of the loaded configuration (heap string). */
char *master_pid_path(void) __attribute__((returns_nonnull));

/*
 * Opens (creating, mode 0644) and locks path without waiting.  Returns the
 * close-on-exec descriptor, or -1 with err_r: "the mail system is already
 * running (pid N)" when another process holds the lock, or a system error.
 */
int master_pid_lock(const char *path, const char **err_r)
    __attribute__((warn_unused_result));

/* Replaces the file's content with pid and a newline; -1 with err_r. */
int master_pid_write(int fd, pid_t pid, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Returns 1 with *pid_r when a master holds the lock of path, 0 when none
 * does (also when the file or its directory does not exist), -1 with err_r
 * on an error.  *pid_r is 0 when the locked file holds no valid pid (yet:
 * master locks before it writes), so check it before signalling.
 */
int master_pid_running(const char *path, pid_t *pid_r, const char **err_r)
    __attribute__((warn_unused_result));

#endif
