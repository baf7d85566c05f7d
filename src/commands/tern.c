/* SPDX-License-Identifier: MIT */
/*
 * tern: start, stop and look after the mail system, as Postfix's
 * postfix(1) does.  "tern [-c DIR] COMMAND": start runs master, which
 * detaches once it is ready; start-fg runs it in the foreground (for
 * systemd Type=simple and containers); stop, abort and reload signal the
 * running master (SIGTERM, SIGQUIT, SIGHUP) that master.pid names;
 * status says whether one runs; check reports what is wrong with the
 * directory tree, the programs master.cf names and, as root, the
 * ownership of the configuration; user keeps authd's users file
 * (tern_user.h).  The configuration is loaded (and,
 * where it matters, master.cf parsed) before anything is done, so a broken
 * configuration never reaches a running master.  Messages go to stderr as
 * "tern: ..."; every error exits 1.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mastercf.h"
#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"
#include "master_pid.h"
#include "master_proto.h"

#include "tern_user.h"

/* How often stop and abort look whether master has gone. */
#define TERN_POLL_MS		100
/* Grace on top of master_stop_timeout, and all abort waits. */
#define TERN_STOP_GRACE		15
/* How long a locked pid file may stay empty (master writes it next). */
#define TERN_PID_WAIT_MS	2000

struct tern_cmd {
	const char	*name;
	bool		 master_cf;	/* parse master.cf first */
	int		(*run)(const struct mastercf *mc);
};

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: tern [-c config_dir] "
	    "start|start-fg|stop|abort|reload|status|check\n"
	    "       tern [-c config_dir] user add|passwd|del|list ...\n");
	exit(1);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Whether a master runs, with its pid; a locked file without a pid yet is
 * given a moment.  Returns 1 (with *pid_r, possibly 0 when master never
 * wrote it) or 0; errors are fatal.
 */
static int
master_running(const char *path, pid_t *pid_r)
{
	const char *err;
	int r;

	for (long waited = 0;; waited += TERN_POLL_MS) {
		r = master_pid_running(path, pid_r, &err);
		if (r == -1)
			fatal("%s", err);
		if (r == 0 || *pid_r > 0 || waited >= TERN_PID_WAIT_MS)
			return r;
		sleep_ms(TERN_POLL_MS);
	}
}

/* The pid of the running master; fatal when none runs. */
static pid_t
running_pid(void)
{
	char *path = master_pid_path();
	pid_t pid;

	if (master_running(path, &pid) == 0)
		fatal("the mail system is not running");
	if (pid <= 0)
		fatal("the mail system is running, but %s holds no pid", path);
	free(path);
	return pid;
}

/* master and every program master.cf names. */
static void
check_programs(const struct mastercf *mc, struct strv *probs)
{
	const char *daemons = mail_conf_get("daemon_directory");
	const char *err;
	char *path;

	if (master_proto_program("master", daemons, &path, &err) == -1)
		strv_push(probs, err);
	free(path);
	for (size_t i = 0; i < mc->n; i++) {
		const struct mastercf_entry *e = &mc->e[i];

		if (e->argv.n == 0)
			continue;
		if (master_proto_program(e->argv.v[0], daemons, &path,
		    &err) == -1)
			strv_push_owned(probs, xasprintf("%s, line %u: "
			    "service %s/%s: %s", e->file, e->line, e->service,
			    e->type, err));
		free(path);
	}
}

/* As root: path must be root's and writable by nobody else. */
static void
check_root_owned(const char *path, struct strv *probs)
{
	struct passwd *pw;
	struct stat st;

	if (stat(path, &st) == -1) {
		strv_push_owned(probs, xasprintf("%s: %s", path,
		    strerror(errno)));
		return;
	}
	if (st.st_uid != 0) {
		pw = getpwuid(st.st_uid);
		if (pw != NULL)
			strv_push_owned(probs, xasprintf("%s: owner %s, "
			    "expected root", path, pw->pw_name));
		else
			strv_push_owned(probs, xasprintf("%s: owner uid %lu, "
			    "expected root", path, (unsigned long)st.st_uid));
	}
	if ((st.st_mode & 022) != 0)
		strv_push_owned(probs, xasprintf("%s: writable by group or "
		    "others (mode %04o)", path,
		    (unsigned)(st.st_mode & 07777)));
}

static void
check_config_files(struct strv *probs)
{
	const char *dir = mail_conf_dir();
	char *path;

	check_root_owned(dir, probs);
	path = xasprintf("%s/main.cf", dir);
	check_root_owned(path, probs);
	free(path);
	path = xasprintf("%s/master.cf", dir);
	check_root_owned(path, probs);
	free(path);
}

/* A mail_dirs report line that tells of a change rather than a problem. */
static bool
is_change(const char *line)
{
	size_t n = strlen(line);

	return str_has_prefix(line, "created ") ||
	    (n > 8 && str_eq(line + n - 8, " (fixed)"));
}

/*
 * Runs every check; changes made (with fix) are logged as they are,
 * problems are appended to probs.
 */
static void
run_checks(bool fix, const struct mastercf *mc, struct strv *probs)
{
	struct strv report;

	strv_init(&report);
	/* The report says what is wrong; the result adds nothing to it. */
	if (mail_dirs_check(fix, &report) == -1 && report.n == 0)
		panic("mail_dirs_check failed without saying why");
	for (size_t i = 0; i < report.n; i++) {
		if (is_change(report.v[i]))
			log_info("%s", report.v[i]);
		else
			strv_push(probs, report.v[i]);
	}
	strv_deinit(&report);
	check_programs(mc, probs);
	if (priv_is_root())
		check_config_files(probs);
}

/* The checks before a start: any problem left is fatal. */
static void
start_checks(const struct mastercf *mc)
{
	struct strv probs;
	char *path = master_pid_path();
	pid_t pid;

	if (master_running(path, &pid) == 1) {
		if (pid > 0)
			fatal("the mail system is already running (pid %ld)",
			    (long)pid);
		fatal("the mail system is already running");
	}
	free(path);
	strv_init(&probs);
	run_checks(true, mc, &probs);
	for (size_t i = 0; i + 1 < probs.n; i++)
		log_warn("%s", probs.v[i]);
	if (probs.n > 0)
		fatal("%s", probs.v[probs.n - 1]);
	strv_deinit(&probs);
}

/* argv for master: "master -c DIR" and optionally "-d". */
static void
master_argv(struct strv *av, bool foreground)
{
	strv_init(av);
	strv_push_owned(av, xasprintf("%s/master",
	    mail_conf_get("daemon_directory")));
	strv_push(av, "-c");
	strv_push(av, mail_conf_dir());
	if (foreground)
		strv_push(av, "-d");
}

static int
cmd_start(const struct mastercf *mc)
{
	struct strv av;
	pid_t pid;
	int status;

	start_checks(mc);
	master_argv(&av, false);
	log_info("starting the mail system");
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		execv(av.v[0], av.v);
		fatal("execute %s: %s", av.v[0], strerror(errno));
	}
	strv_deinit(&av);
	/* master exits once it runs in the background, or with its error. */
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		fatal("master was killed by signal %d", WTERMSIG(status));
	return 1;
}

static int
cmd_start_fg(const struct mastercf *mc)
{
	struct strv av;

	start_checks(mc);
	master_argv(&av, true);
	log_info("starting the mail system");
	execv(av.v[0], av.v);
	fatal("execute %s: %s", av.v[0], strerror(errno));
}

/* Signals master and waits up to timeout seconds until it has gone. */
static int
stop_master(int sig, const char *what, long long timeout)
{
	char *path = master_pid_path();
	pid_t pid = running_pid(), now;

	log_info("%s the mail system", what);
	if (kill(pid, sig) == -1 && errno != ESRCH)
		fatal("cannot signal master (pid %ld): %s", (long)pid,
		    strerror(errno));
	for (long long waited = 0; waited <= timeout * 1000;
	    waited += TERN_POLL_MS) {
		if (master_running(path, &now) == 0) {
			free(path);
			return 0;
		}
		sleep_ms(TERN_POLL_MS);
	}
	fatal("the mail system did not stop (pid %ld)", (long)pid);
}

static int
cmd_stop(const struct mastercf *mc)
{
	(void)mc;
	return stop_master(SIGTERM, "stopping",
	    mail_conf_time("master_stop_timeout") + TERN_STOP_GRACE);
}

static int
cmd_abort(const struct mastercf *mc)
{
	(void)mc;
	return stop_master(SIGQUIT, "aborting", TERN_STOP_GRACE);
}

static int
cmd_reload(const struct mastercf *mc)
{
	pid_t pid = running_pid();

	(void)mc;
	log_info("refreshing the mail system");
	if (kill(pid, SIGHUP) == -1)
		fatal("cannot signal master (pid %ld): %s", (long)pid,
		    strerror(errno));
	return 0;
}

static int
cmd_status(const struct mastercf *mc)
{
	char *path = master_pid_path();
	pid_t pid;
	int r;

	(void)mc;
	r = master_running(path, &pid);
	free(path);
	if (r == 0) {
		log_info("the mail system is not running");
		return 1;
	}
	if (pid > 0)
		log_info("the mail system is running: PID: %ld", (long)pid);
	else
		log_info("the mail system is running");
	return 0;
}

static int
cmd_check(const struct mastercf *mc)
{
	struct strv probs;
	int rc;

	strv_init(&probs);
	run_checks(priv_is_root(), mc, &probs);
	for (size_t i = 0; i < probs.n; i++)
		log_warn("%s", probs.v[i]);
	rc = probs.n == 0 ? 0 : 1;
	strv_deinit(&probs);
	return rc;
}

static const struct tern_cmd tern_cmds[] = {
	/* name		master.cf	run		*/
	{ "start",	true,		cmd_start	},
	{ "start-fg",	true,		cmd_start_fg	},
	{ "stop",	false,		cmd_stop	},
	{ "abort",	false,		cmd_abort	},
	{ "reload",	true,		cmd_reload	},
	{ "status",	false,		cmd_status	},
	{ "check",	true,		cmd_check	},
};

/* The configuration directory to use, made absolute for master (heap). */
static char *
config_dir(const char *opt)
{
	char resolved[PATH_MAX];

	if (opt == NULL)
		opt = getenv("MAIL_CONFIG");
	if (opt == NULL || opt[0] == '\0')
		return NULL;
	/* master chdirs to /; a relative name would then mean another. */
	if (opt[0] != '/' && realpath(opt, resolved) != NULL)
		return xstrdup(resolved);
	return xstrdup(opt);
}

int
main(int argc, char **argv)
{
	const struct tern_cmd *cmd = NULL;
	struct mastercf *mc = NULL;
	const char *opt_dir = NULL, *err;
	char *dir;
	int ch, rc;

	log_init("tern");
	log_use_stderr();
	/* '+': the options of "user add" are its own. */
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		switch (ch) {
		case 'c': opt_dir = optarg; break;
		default: usage();
		}
	}
	if (argc - optind >= 1 && str_eq(argv[optind], "user")) {
		dir = config_dir(opt_dir);
		if (mail_conf_try_load(dir, NULL, false, &err) == -1)
			fatal("%s", err);
		free(dir);
		rc = tern_user_main(argc - optind - 1, argv + optind + 1);
		mail_conf_unload();
		return rc;
	}
	if (argc - optind != 1)
		usage();
	for (size_t i = 0; i < sizeof(tern_cmds) / sizeof(tern_cmds[0]); i++)
		if (str_eq(argv[optind], tern_cmds[i].name))
			cmd = &tern_cmds[i];
	if (cmd == NULL)
		usage();

	dir = config_dir(opt_dir);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		fatal("%s", err);
	free(dir);
	/* What tern runs reads the same instance. */
	if (setenv("MAIL_CONFIG", mail_conf_dir(), 1) == -1)
		fatal("setenv: %s", strerror(errno));
	if (cmd->master_cf && (mc = mail_conf_master(&err)) == NULL)
		fatal("%s", err);
	rc = cmd->run(mc);
	if (mc != NULL)
		mastercf_free(&mc);
	mail_conf_unload();
	return rc;
}
