/* SPDX-License-Identifier: MIT */
/*
 * Who deliveries run as.  local runs as root (master.cf unprivileged=n)
 * only so that it can become the recipient: every delivery then runs in
 * a child that drops to the recipient's (or default_privs', or the
 * :include: file owner's) uid and gid for good (priv_drop, verified), and
 * sends its result back over a pipe; nothing is ever delivered as root.
 * An unprivileged instance cannot switch users and delivers as itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mail_conf.h"
#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

static void
fill(const struct passwd *pw, struct local_ident *who)
{
	who->uid = pw->pw_uid;
	who->gid = pw->pw_gid;
	str_copy(who->name, pw->pw_name, sizeof(who->name));
	str_copy(who->home, pw->pw_dir != NULL && pw->pw_dir[0] == '/' ?
	    pw->pw_dir : "/", sizeof(who->home));
}

int
local_ident_name(const char *name, struct local_ident *who)
{
	struct passwd *pw;

	if (name[0] == '\0' || strlen(name) >= sizeof(who->name))
		return 0;
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL)
		return errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM ? 0 : -1;
	fill(pw, who);
	return 1;
}

int
local_ident_uid(uid_t uid, struct local_ident *who)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwuid(uid);
	if (pw == NULL)
		return errno == 0 || errno == ENOENT ? 0 : -1;
	fill(pw, who);
	return 1;
}

void
local_ident_default(struct local_ident *who)
{
	const char *name = mail_conf_get("default_privs");

	if (local_ident_name(name, who) != 1) {
		/* Checked at start-up; a vanished user is not root either. */
		who->uid = 65534;
		who->gid = 65534;
		str_copy(who->name, name, sizeof(who->name));
		str_copy(who->home, "/", sizeof(who->home));
	}
}

void
local_run_as(const struct local_ident *who, long long limit, local_run_fn *fn,
    void *arg, struct local_status *st)
{
	struct local_status cst;
	struct priv_user u;
	struct pollfd pfd;
	int p[2], status;
	pid_t pid;
	ssize_t n;
	size_t got = 0;
	time_t deadline;

	if (!priv_is_root()) {
		fn(arg, st);
		return;
	}
	if (who->uid == 0 || who->gid == 0) {
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "refusing to deliver as root (%s)", who->name);
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		local_status_set(st, DELIVER_DEFER, "4.3.0", "pipe: %s",
		    strerror(errno));
		return;
	}
	pid = fork();
	if (pid == -1) {
		local_status_set(st, DELIVER_DEFER, "4.3.0", "fork: %s",
		    strerror(errno));
		(void)close(p[0]);
		(void)close(p[1]);
		return;
	}
	if (pid == 0) {
		(void)close(p[0]);
		u.name = xstrdup(who->name);
		u.uid = who->uid;
		u.gid = who->gid;
		u.home = xstrdup(who->home);
		priv_drop(&u, NULL);
		memset(&cst, 0, sizeof(cst));
		fn(arg, &cst);
		if (write(p[1], &cst, sizeof(cst)) != sizeof(cst))
			_exit(1);
		_exit(0);
	}
	(void)close(p[1]);
	deadline = time(NULL) + limit + 60;
	memset(&cst, 0, sizeof(cst));
	while (got < sizeof(cst)) {
		int left = (int)(deadline - time(NULL));

		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (left <= 0 || (poll(&pfd, 1, left * 1000) == -1 &&
		    errno != EINTR))
			break;
		n = read(p[0], (char *)&cst + got, sizeof(cst) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(p[0]);
	if (got < sizeof(cst))
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	if (got < sizeof(cst)) {
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "delivery process as %s failed", who->name);
		return;
	}
	cst.dsn[sizeof(cst.dsn) - 1] = '\0';
	cst.text[sizeof(cst.text) - 1] = '\0';
	*st = cst;
}
