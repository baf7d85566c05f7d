/* SPDX-License-Identifier: MIT */
/*
 * Starting one service process; see master_spawn.h.  The child runs only
 * async-signal-safe calls between fork and exec, on data prepared before
 * the fork.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master_proto.h"
#include "str.h"
#include "xalloc.h"

#include "master_spawn.h"

static char spawn_errbuf[256];

void
master_spawn_argv(const struct master_spawn_args *a, struct strv *argv_r)
{
	char count[32];

	strv_init(argv_r);
	(void)snprintf(count, sizeof(count), "%zu", a->count);
	strv_push(argv_r, a->command->v[0]);
	strv_push(argv_r, "-n");
	strv_push(argv_r, a->service);
	strv_push(argv_r, "-t");
	strv_push(argv_r, a->type);
	strv_push(argv_r, "-s");
	strv_push(argv_r, count);
	strv_push(argv_r, "-c");
	strv_push(argv_r, a->config_dir);
	if (a->unpriv)
		strv_push(argv_r, "-u");
	if (a->chroot)
		strv_push(argv_r, "-j");
	for (size_t i = 1; i < a->command->n; i++)
		strv_push(argv_r, a->command->v[i]);
}

void
master_spawn_env(const struct strv *import, struct strv *env_r)
{
	strv_init(env_r);
	for (size_t i = 0; i < import->n; i++) {
		const char *item = import->v[i], *eq = strchr(item, '=');
		const char *val;

		if (eq != NULL) {
			if (eq != item)
				strv_push(env_r, item);
			continue;
		}
		val = getenv(item);
		if (val != NULL)
			strv_push_owned(env_r, xasprintf("%s=%s", item, val));
	}
}

/* Async-signal-safe: writes the exec failure message and exits. */
static _Noreturn void
child_fail(const char *what, const char *path, int err)
{
	const char *parts[] = {
		"tern/master: fatal: ", what, " ", path, ": ", strerror(err),
		"\n"
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		(void)!write(STDERR_FILENO, parts[i], strlen(parts[i]));
	_exit(127);
}

static void
close_from(int lowfd)
{
	long max;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

static char *const no_env[] = { NULL };

/* The child, between fork and exec: src[i] becomes descriptor i. */
static _Noreturn void
child(const struct master_spawn *s, int *src, int *tmp, int n)
{
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	/* First above every target, so no dup2 overwrites a source. */
	for (int i = 0; i < n; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, n);
		if (tmp[i] == -1)
			child_fail("dup for", s->path, errno);
	}
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], i) == -1)
			child_fail("dup2 for", s->path, errno);
	close_from(n);
	execve(s->path, s->argv, s->envp != NULL ? s->envp : no_env);
	child_fail("exec", s->path, errno);
}

pid_t
master_spawn_exec(const struct master_spawn *s, const char **err_r)
{
	int n = MASTER_LISTEN_FD + (int)s->nlisten;
	int *src = xcalloc((size_t)n, sizeof(*src));
	int *tmp = xcalloc((size_t)n, sizeof(*tmp));
	int out = s->stderr_fd != -1 ? s->stderr_fd : s->null_fd;
	pid_t pid;

	src[0] = s->null_fd;
	src[1] = out;
	src[2] = out;
	src[MASTER_STATUS_FD] = s->status_fd;
	for (size_t i = 0; i < s->nlisten; i++)
		src[MASTER_LISTEN_FD + i] = s->listen_fds[i];
	pid = fork();
	if (pid == 0)
		child(s, src, tmp, n);
	free(src);
	free(tmp);
	if (pid == -1)
		*err_r = str_fmt_buf(spawn_errbuf, sizeof(spawn_errbuf),
		    "fork for %s: %s", s->path, strerror(errno));
	return pid;
}
