/* SPDX-License-Identifier: MIT */
/*
 * Safe file handling for queue files, maps, indexes and configuration:
 * creating a new file that cannot be a symlink or an existing file, with
 * exactly the mode asked for whatever the umask; opening a file to trust
 * its contents only when it is a regular file with the expected owner and
 * nobody else can write it; replacing a file atomically (temporary file,
 * fsync, rename, fsync of the directory), so that readers see the old or
 * the new contents and a crash leaves one of them.
 *
 * XXX: O_NOFOLLOW guards the last path component only; the directories on
 * the way are the caller's to trust (they are root's or the mail owner's).
 * Error messages handed out through err_r name the path and live in a
 * module buffer valid until the next call.
 */
#ifndef TERN_SAFEFILE_H
#define TERN_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/*
 * Creates path, which must not exist (not even as a dangling symlink),
 * for writing: O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, then the mode is set
 * to exactly mode (permission bits only), independent of the umask.
 * Returns the descriptor, or -1 with err_r set and errno preserved.
 */
int safefile_create(const char *path, mode_t mode, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Opens path read-only (O_NOFOLLOW|O_CLOEXEC, never blocking on a FIFO)
 * and accepts it only when it is a regular file owned by uid owner and not
 * writable by group or other.  Returns the descriptor (blocking mode) or
 * -1 with err_r set.
 */
int safefile_open_trusted(const char *path, uid_t owner, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Reads fd to its end into out (reset first; fd stays open); a file
 * larger than out's maximum is an error ("PATH: file too large"), as is
 * a read error ("read PATH: ...").
 */
int safefile_read_fd(int fd, const char *path, struct buf *out,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * safefile_open_trusted, then reads the whole file into out (reset
 * first); a file larger than out's maximum is an error.
 */
int safefile_read_trusted(const char *path, uid_t owner, struct buf *out,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Atomically replaces (or creates) path with len bytes of data and the
 * given mode: writes "path.tmp.PID.N" with safefile_create, fsyncs it,
 * renames it over path, fsyncs the directory.  If path is a symlink, the
 * link itself is replaced, never its target.  On failure path is
 * untouched and the temporary file is removed.
 */
int safefile_replace(const char *path, const void *data, size_t len,
    mode_t mode, const char **err_r) __attribute__((warn_unused_result));

/*
 * Writes all len bytes at the file offset (or at off), retrying after
 * EINTR and short writes.  -1 with errno set (EIO for a write of 0 bytes).
 */
int safefile_write_all(int fd, const void *data, size_t len)
    __attribute__((warn_unused_result));
int safefile_pwrite_all(int fd, const void *data, size_t len, off_t off)
    __attribute__((warn_unused_result));

/* fsyncs directory dir (after a create, rename or unlink in it). */
int safefile_fsync_dir(const char *dir, const char **err_r)
    __attribute__((warn_unused_result));

#endif
