/* SPDX-License-Identifier: MIT */
/*
 * Delivery to a command ("|command" in an alias, .forward or :include:
 * file, or mailbox_command).  The command text comes from a file the
 * administrator or the user wrote, never from the address; it is split
 * into argv here and executed directly, and only text with shell
 * metacharacters goes to /bin/sh -c.  The environment is built from
 * scratch; the message goes to stdin; the first bytes of stdout and
 * stderr become the diagnostic; exit codes follow sysexits(3) as in
 * Postfix: 0 delivered, 75 (EX_TEMPFAIL) try again, others bounce.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

#define EX_TEMPFAIL_	75

void
local_env_add(struct strv *env, const char *name, const char *value)
{
	strv_push_owned(env, xasprintf("%s=%s", name, value));
}

/* Child side: never returns. */
static _Noreturn void
child(const struct local_cmd *cmd, const struct strv *av, int in, int out)
{
	char *sh[4];

	(void)setpgid(0, 0);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1)
		_exit(EX_TEMPFAIL_);
	for (int fd = 3; fd < 1024; fd++)
		(void)close(fd);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	if (chdir(cmd->cwd) == -1 && chdir("/") == -1)
		_exit(EX_TEMPFAIL_);
	if (av != NULL && strchr(av->v[0], '/') != NULL) {
		execve(av->v[0], av->v, cmd->env.v);
	} else if (av != NULL) {
		/* The PATH of the environment we give: /usr/bin:/bin. */
		char *p1 = xasprintf("/usr/bin/%s", av->v[0]);
		char *p2 = xasprintf("/bin/%s", av->v[0]);

		execve(p1, av->v, cmd->env.v);
		execve(p2, av->v, cmd->env.v);
	} else {
		sh[0] = xstrdup("/bin/sh");
		sh[1] = xstrdup("-c");
		sh[2] = xstrdup(cmd->text);
		sh[3] = NULL;
		execve(sh[0], sh, cmd->env.v);
	}
	dprintf(2, "cannot execute %s: %s\n",
	    av != NULL ? av->v[0] : "/bin/sh", strerror(errno));
	_exit(errno == ENOENT || errno == EACCES ? 127 : EX_TEMPFAIL_);
}

/* The start of the output, one line, escaped for the diagnostic. */
static char *
output_text(const struct buf *out)
{
	const char *p = buf_cstr(out);
	size_t n = strcspn(p, "\n");

	return log_escape(p, n);
}

void
local_command_deliver(const struct local_cmd *cmd,
    const struct local_msg *msg, struct local_status *st)
{
	struct strv av;
	struct buf in, out;
	struct pollfd pfd[2];
	const char *err;
	char chunk[4096], *text;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, e;
	size_t off = 0, total;
	bool timed_out = false, use_av;
	pid_t pid;
	time_t deadline;
	ssize_t n;

	strv_init(&av);
	buf_init(&in, 0);
	buf_init(&out, LOCAL_OUTPUT_MAX);
	use_av = !local_cmd_needs_shell(cmd->text);
	if (use_av && local_cmd_split(cmd->text, &av, &err) == -1) {
		local_status_set(st, DELIVER_BOUNCE, "5.3.5",
		    "bad command \"%s\": %s", cmd->text, err);
		goto done;
	}
	local_msg_prefix(msg, &in);
	total = in.len + msg->len;
	if (pipe2(inp, O_CLOEXEC) == -1 || pipe2(outp, O_CLOEXEC) == -1) {
		e = errno;
		local_status_set(st, DELIVER_DEFER, "4.3.0", "pipe: %s",
		    strerror(e));
		goto done;
	}
	pid = fork();
	if (pid == -1) {
		e = errno;
		local_status_set(st, DELIVER_DEFER, "4.3.0", "fork: %s",
		    strerror(e));
		goto done;
	}
	if (pid == 0)
		child(cmd, use_av ? &av : NULL, inp[0], outp[1]);
	(void)close(inp[0]);
	(void)close(outp[1]);
	inp[0] = outp[1] = -1;
	(void)fcntl(inp[1], F_SETFL, O_NONBLOCK);
	deadline = time(NULL) + cmd->time_limit;
	while (outp[0] != -1) {
		int left = (int)(deadline - time(NULL));

		if (left <= 0) {
			timed_out = true;
			break;
		}
		pfd[0].fd = outp[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = inp[1];
		pfd[1].events = POLLOUT;
		if (poll(pfd, inp[1] != -1 ? 2 : 1, left * 1000) == -1 &&
		    errno != EINTR)
			break;
		if (inp[1] != -1 && (pfd[1].revents & (POLLOUT | POLLERR |
		    POLLHUP)) != 0) {
			if (off < in.len)
				n = write(inp[1], in.data + off, in.len - off);
			else
				n = write(inp[1], msg->data + (off - in.len),
				    total - off);
			if (n > 0)
				off += (size_t)n;
			/* A command need not read all of its input. */
			if (off == total || (n == -1 && errno != EAGAIN &&
			    errno != EINTR)) {
				(void)close(inp[1]);
				inp[1] = -1;
			}
		}
		if ((pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
			n = read(outp[0], chunk, sizeof(chunk));
			if (n > 0) {
				size_t k = (size_t)n;

				if (k > out.max - out.len)
					k = out.max - out.len;
				buf_add(&out, chunk, k);
			} else if (n == 0 || errno != EINTR) {
				(void)close(outp[0]);
				outp[0] = -1;
			}
		}
	}
	if (timed_out) {
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	text = output_text(&out);
	if (timed_out)
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "Command time limit exceeded: \"%s\"", cmd->text);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		local_status_set(st, DELIVER_SENT, "2.0.0",
		    "delivered to command: %s", cmd->text);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == EX_TEMPFAIL_)
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "Command died with status 75: \"%s\"%s%s", cmd->text,
		    text[0] != '\0' ? ". Command output: " : "", text);
	else if (WIFSIGNALED(status))
		local_status_set(st, DELIVER_DEFER, "4.3.0",
		    "Command died with signal %d: \"%s\"%s%s",
		    WTERMSIG(status), cmd->text,
		    text[0] != '\0' ? ". Command output: " : "", text);
	else
		local_status_set(st, DELIVER_BOUNCE, "5.3.0",
		    "Command died with status %d: \"%s\"%s%s",
		    WEXITSTATUS(status), cmd->text,
		    text[0] != '\0' ? ". Command output: " : "", text);
	free(text);
done:
	for (size_t i = 0; i < 2; i++) {
		if (inp[i] != -1)
			(void)close(inp[i]);
		if (outp[i] != -1)
			(void)close(outp[i]);
	}
	buf_deinit(&in);
	buf_deinit(&out);
	strv_deinit(&av);
}
