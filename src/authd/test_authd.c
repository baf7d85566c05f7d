/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of authd's handler (authd.c) and its client stub
 * (auth_client.c) through a real UNIX socket and one event loop: every
 * supported scheme with hashes made here, wrong passwords and unknown
 * users, the failure delay (and that delayed answers do not queue behind
 * each other), the failure limit through a fake anvil (and failing open
 * without one), the log lines (escaped names, no password), hostile
 * request frames that must be dropped without a reply, hostile replies
 * that the stub must turn into AUTH_TEMPFAIL, cancellation, authd not
 * running, and the system-account backend's refusals.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "auth_client.h"
#include "mail_conf.h"

#include "authd.h"

static char tdir[] = "/tmp/test_authd.XXXXXX";
static char users_path[256];
static char *old_cwd;
static struct event_base *base;
static int lfd = -1;
static struct event *lev;
static int sessions;

/* Fake anvil: failed logins per address. */
static struct strv fail_addrs;
static bool anvil_down;
static int anvil_calls;

static int
fake_anvil(enum anvil_event ev, const char *addr, struct anvil_counts *r,
    const char **err_r)
{
	uint64_t n = 0;

	anvil_calls++;
	if (anvil_down) {
		*err_r = "connect to private/anvil: No such file or directory";
		return -1;
	}
	ck_assert(ev == ANVIL_AUTH_FAIL || ev == ANVIL_AUTH_FAIL_PEEK);
	if (ev == ANVIL_AUTH_FAIL)
		strv_push(&fail_addrs, addr);
	for (size_t i = 0; i < fail_addrs.n; i++)
		if (str_eq(fail_addrs.v[i], addr))
			n++;
	r->count = 0;
	r->rate = n;
	return 0;
}

/* Log lines, to look at. */
static struct strv logged;

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	strv_push(&logged, msg);
}

static bool
logged_has(const char *needle)
{
	for (size_t i = 0; i < logged.n; i++)
		if (strstr(logged.v[i], needle) != NULL)
			return true;
	return false;
}

static void
session_done(void)
{
	ck_assert_int_gt(sessions, 0);
	sessions--;
}

static void
accept_cb(evutil_socket_t fd, short what, void *ctx)
{
	int c;

	(void)what;
	(void)ctx;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		sessions++;
		authd_connect(c);
	}
}

static const char *
make_hash(const char *prefix, const char *pw, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, setting,
	    sizeof(setting)));
	ck_assert_ptr_nonnull(crypt_rn(pw, setting, &cd, sizeof(cd)));
	str_copy(out, cd.output, outlen);
	return out;
}

static void
write_users(const char *text)
{
	FILE *fp = fopen(users_path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Starts authd in this process; the cwd is the "queue directory". */
static void
start(long delay_ms, long long limit, bool system_users)
{
	struct authd_settings s = {
		.passwd_file = users_path,
		.system_users = system_users,
		.failure_delay_ms = delay_ms,
		.failure_rate_limit = limit,
	};
	const char *err = NULL;

	ck_assert_ptr_nonnull(mkdtemp(tdir));
	old_cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tdir), 0);
	ck_assert_int_eq(mkdir("private", 0700), 0);
	str_fmt_buf(users_path, sizeof(users_path), "%s/users", tdir);
	lfd = ipc_listen(AUTH_SERVICE_PATH, 16, 0600, &err);
	ck_assert_msg(lfd >= 0, "listen: %s", err);
	ck_assert_int_eq(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	lev = event_new(base, lfd, EV_READ | EV_PERSIST, accept_cb, NULL);
	ck_assert_int_eq(event_add(lev, NULL), 0);
	strv_init(&fail_addrs);
	strv_init(&logged);
	anvil_down = false;
	anvil_calls = 0;
	authd_set_anvil(fake_anvil);
	log_set_hook(log_hook, NULL);
	authd_init(base, &s, session_done);
}

static void
stop(void)
{
	/* Let authd finish what it started (replies, closes). */
	for (int i = 0; sessions > 0 && i < 1000; i++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(sessions, 0);
	log_set_hook(NULL, NULL);
	authd_deinit();
	authd_set_anvil(NULL);
	event_free(lev);
	close(lfd);
	event_base_free(base);
	unlink(AUTH_SERVICE_PATH);
	rmdir("private");
	unlink(users_path);
	ck_assert_int_eq(chdir(old_cwd), 0);
	free(old_cwd);
	ck_assert_int_eq(rmdir(tdir), 0);
	memcpy(tdir + strlen(tdir) - 6, "XXXXXX", 6);
	strv_deinit(&fail_addrs);
	strv_deinit(&logged);
}

/* A copy of what the callback got. */
struct outcome {
	bool		 done;
	int		 status;
	char		 user[256];
	long		 uid, gid;
	char		 home[256];
	char		 reason[256];
	double		 ms;
	struct timespec	 t0;
	int		*pending;
};

static double
since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1000.0 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
auth_cb(void *ctx, const struct auth_result *res)
{
	struct outcome *o = ctx;

	ck_assert(!o->done);
	o->done = true;
	o->status = res->status;
	o->ms = since_ms(&o->t0);
	ck_assert_ptr_nonnull(res->reason);
	str_copy(o->reason, res->reason, sizeof(o->reason));
	if (res->status == AUTH_OK) {
		str_copy(o->user, res->user, sizeof(o->user));
		str_copy(o->home, res->home, sizeof(o->home));
		o->uid = res->uid == (uid_t)-1 ? -1 : (long)res->uid;
		o->gid = res->gid == (gid_t)-1 ? -1 : (long)res->gid;
	}
	if (--*o->pending == 0)
		event_base_loopbreak(base);
}

static void
begin(struct outcome *o, int *pending, const char *user, const char *pw,
    const char *addr)
{
	const char *err = NULL;
	struct auth_request *r;

	memset(o, 0, sizeof(*o));
	o->pending = pending;
	clock_gettime(CLOCK_MONOTONIC, &o->t0);
	r = auth_client_start(base, "smtp", user, pw, addr, true, auth_cb, o,
	    &err);
	ck_assert_msg(r != NULL, "auth_client_start: %s", err);
	(*pending)++;
}

static void
run(int *pending)
{
	while (*pending > 0)
		ck_assert_int_ne(event_base_dispatch(base), -1);
}

static void
auth(struct outcome *o, const char *user, const char *pw, const char *addr)
{
	int pending = 0;

	begin(o, &pending, user, pw, addr);
	run(&pending);
	ck_assert(o->done);
}

/* Every scheme, verified against a hash made here. */
static const struct {
	const char	*prefix;
	const char	*scheme;
} scheme_cases[] = {
	{ "$6$", "{SHA512-CRYPT}" },
	{ "$2b$", "{BLF-CRYPT}" },
	{ "$2y$", "{BLF-CRYPT}" },
	{ "$y$", "{YESCRYPT}" },
	{ "$y$", "{CRYPT}" },
	{ "$5$", "{SHA256-CRYPT}" },
};

START_TEST(test_schemes)
{
	char hash[CRYPT_OUTPUT_SIZE], *text;
	struct outcome o;

	start(0, 0, false);
	make_hash(scheme_cases[_i].prefix, "s3cret pass", hash, sizeof(hash));
	text = xasprintf("# test\nAlice@Example.COM:%s%s:1001:1002::"
	    "/var/vmail/alice::\nbob:%s%s\n", scheme_cases[_i].scheme, hash,
	    scheme_cases[_i].scheme, hash);
	write_users(text);
	free(text);

	auth(&o, "alice@example.com", "s3cret pass", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	ck_assert_str_eq(o.user, "Alice@Example.COM");
	ck_assert_int_eq(o.uid, 1001);
	ck_assert_int_eq(o.gid, 1002);
	ck_assert_str_eq(o.home, "/var/vmail/alice");
	ck_assert(logged_has("smtp login ok: user=<alice@example.com> "
	    "client=192.0.2.1"));

	/* No uid, gid or home in the file: none in the answer. */
	auth(&o, "bob", "s3cret pass", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	ck_assert_int_eq(o.uid, -1);
	ck_assert_int_eq(o.gid, -1);
	ck_assert_str_eq(o.home, "");

	auth(&o, "alice@example.com", "s3cret pasS", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "wrong password");
	auth(&o, "carol", "s3cret pass", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "unknown user");
	ck_assert(logged_has("smtp login failed: user=<carol> "
	    "client=192.0.2.1 reason=unknown user"));
	for (size_t i = 0; i < logged.n; i++)
		ck_assert_ptr_null(strstr(logged.v[i], "s3cret"));
	stop();
}
END_TEST

START_TEST(test_empty_and_hostile_names)
{
	char hash[CRYPT_OUTPUT_SIZE], *text, big[AUTH_FIELD_MAX + 2];
	struct outcome o;
	const char *err = NULL;

	start(0, 0, false);
	make_hash("$6$", "pw", hash, sizeof(hash));
	text = xasprintf("alice:%s\n", hash);
	write_users(text);
	free(text);
	auth(&o, "", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	auth(&o, "alice", "", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "empty password");
	auth(&o, "al\x01ice\n", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert(logged_has("user=<al\\x01ice\\n>"));
	auth(&o, "alice:x", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);

	/* Too long for the contract: refused before anything is sent. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(auth_client_start(base, "smtp", big, "pw",
	    "192.0.2.1", false, auth_cb, &o, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(auth_client_start(base, "smtp", "alice", big,
	    "192.0.2.1", false, auth_cb, &o, &err));
	big[AUTH_FIELD_MAX] = '\0';
	auth(&o, big, big, "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	stop();
}
END_TEST

START_TEST(test_delay)
{
	char hash[CRYPT_OUTPUT_SIZE], *text;
	struct outcome o, many[5];
	int pending = 0;

	start(400, 0, false);
	make_hash("$6$", "pw", hash, sizeof(hash));
	text = xasprintf("alice:%s\n", hash);
	write_users(text);
	free(text);
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	ck_assert_msg(o.ms < 300, "success took %.0f ms", o.ms);
	auth(&o, "alice", "wrong", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_msg(o.ms >= 390, "failure took only %.0f ms", o.ms);
	auth(&o, "nobody", "wrong", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_msg(o.ms >= 390, "failure took only %.0f ms", o.ms);

	/* Delayed answers wait side by side, not one after the other. */
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		begin(&many[i], &pending, "alice", "wrong", "192.0.2.9");
	run(&pending);
	for (size_t i = 0; i < ARRAY_LEN(many); i++) {
		ck_assert_int_eq(many[i].status, AUTH_FAIL);
		ck_assert_msg(many[i].ms >= 390 && many[i].ms < 1500,
		    "request %zu took %.0f ms", i, many[i].ms);
	}
	stop();
}
END_TEST

START_TEST(test_rate_limit)
{
	char hash[CRYPT_OUTPUT_SIZE], *text;
	struct outcome o;

	start(0, 3, false);
	make_hash("$6$", "pw", hash, sizeof(hash));
	text = xasprintf("alice:%s\n", hash);
	write_users(text);
	free(text);
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	for (int i = 0; i < 3; i++) {
		auth(&o, "alice", "bad", "192.0.2.1");
		ck_assert_int_eq(o.status, AUTH_FAIL);
	}
	ck_assert_uint_eq(fail_addrs.n, 3);
	/* Over the limit: refused even with the right password. */
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_TEMPFAIL);
	ck_assert_str_eq(o.reason, "too many failed logins");
	ck_assert(logged_has("reason=too many failed logins"));
	ck_assert_uint_eq(fail_addrs.n, 3);
	/* Another client is not affected. */
	auth(&o, "alice", "pw", "2001:db8::1");
	ck_assert_int_eq(o.status, AUTH_OK);

	/* anvil unreachable: fail open, with a warning. */
	anvil_down = true;
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	ck_assert(logged_has("anvil: connect to private/anvil"));
	stop();
}
END_TEST

START_TEST(test_no_limit_no_anvil)
{
	struct outcome o;

	start(0, 0, false);
	write_users("");
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_int_eq(anvil_calls, 0);
	stop();
}
END_TEST

START_TEST(test_users_file_changes)
{
	char hash[CRYPT_OUTPUT_SIZE], *text;
	struct outcome o;

	start(0, 0, false);
	/* No file yet: nobody, but no error either. */
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "unknown user");
	make_hash("$y$", "pw", hash, sizeof(hash));
	text = xasprintf("alice:{CRYPT}%s\n", hash);
	write_users(text);
	free(text);
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_OK);
	/* A directory in its place: try later, never "no such user". */
	ck_assert_int_eq(unlink(users_path), 0);
	ck_assert_int_eq(mkdir(users_path, 0700), 0);
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_TEMPFAIL);
	ck_assert_int_eq(rmdir(users_path), 0);
	stop();
}
END_TEST

START_TEST(test_system_users)
{
	struct outcome o;

	start(0, 0, true);
	auth(&o, "root", "anything", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "root may not log in");
	auth(&o, "no-such-user-tern-test", "anything", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_eq(o.reason, "unknown user");
	/* Accounts without a password hash (daemon, bin) never log in. */
	auth(&o, "daemon", "", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	auth(&o, "daemon", "x", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	ck_assert_str_ne(o.reason, "ok");
	stop();
}
END_TEST

/* Raw frames sent to authd: each must be dropped without a reply. */
static void
put_hdr(struct buf *b, size_t len)
{
	unsigned char h[4] = { (unsigned char)(len >> 24),
	    (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	    (unsigned char)len };

	buf_add(b, h, 4);
}

static void
good_frame(struct buf *b, const char *service, const char *addr,
    bool extra)
{
	struct attr_writer w;
	const char *err;

	attr_frame_begin(&w, b);
	attr_put_str(&w, "service", service);
	attr_put_str(&w, "user", "alice");
	attr_put_str(&w, "password", "pw");
	attr_put_str(&w, "client_addr", addr);
	attr_put_bool(&w, "secured", false);
	if (extra)
		attr_put_str(&w, "realm", "x");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
}

enum hostile { H_TOO_LONG, H_TRAILING, H_UNKNOWN_FIELD, H_SHORT, H_GARBAGE,
	H_BAD_SERVICE, H_BAD_ADDR, H_MISSING, H_EMPTY_ADDR, H_COUNT };

START_TEST(test_hostile_requests)
{
	struct buf b;
	struct attr_writer w;
	const char *err = NULL;
	struct outcome o;
	ssize_t n = -1;
	char c;
	int fd;

	start(0, 0, false);
	write_users("");
	buf_init(&b, 0);
	switch ((enum hostile)_i) {
	case H_TOO_LONG:
		put_hdr(&b, 1 << 20);
		buf_add(&b, "xxxx", 4);
		break;
	case H_TRAILING:
		good_frame(&b, "smtp", "192.0.2.1", false);
		buf_add(&b, "x", 1);
		break;
	case H_UNKNOWN_FIELD:
		good_frame(&b, "smtp", "192.0.2.1", true);
		break;
	case H_SHORT:
		good_frame(&b, "smtp", "192.0.2.1", false);
		buf_truncate(&b, b.len - 3);
		break;
	case H_GARBAGE:
		put_hdr(&b, 6);
		buf_add(&b, "\x09\x01xabc", 6);
		break;
	case H_BAD_SERVICE:
		good_frame(&b, "SMTP\n", "192.0.2.1", false);
		break;
	case H_BAD_ADDR:
		good_frame(&b, "smtp", "192.0.2.1\r\nX", false);
		break;
	case H_EMPTY_ADDR:
		good_frame(&b, "smtp", "", false);
		break;
	case H_MISSING:
		attr_frame_begin(&w, &b);
		attr_put_str(&w, "service", "smtp");
		attr_put_str(&w, "user", "alice");
		ck_assert_int_eq(attr_frame_end(&w, &err), 0);
		break;
	case H_COUNT:
		break;
	}
	fd = ipc_connect(AUTH_SERVICE_PATH, 1000, &err);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	if (_i == H_SHORT)
		shutdown(fd, SHUT_WR);
	/* authd drops the connection: end of file, no reply. */
	for (int i = 0; i < 2000; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		usleep(1000);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sessions, 0);
	close(fd);
	ck_assert(logged_has("bad request"));
	/* And it still serves. */
	auth(&o, "alice", "pw", "192.0.2.1");
	ck_assert_int_eq(o.status, AUTH_FAIL);
	buf_deinit(&b);
	stop();
}
END_TEST

/*
 * The stub against a fake authd that answers with reply (raw bytes),
 * then closes.
 */
struct fake {
	int		 lfd;
	struct buf	 reply;
	struct event	*ev;
};

/* One connection to the fake: read the request, answer, close. */
struct fake_conn {
	struct fake	*f;
	int		 fd;
	struct attr_reader rd;
	struct event	*ev;
};

static void
fake_read(evutil_socket_t fd, short what, void *ctx)
{
	struct fake_conn *fc = ctx;
	const void *body;
	const char *err;
	size_t len;
	int rc;

	(void)what;
	rc = attr_reader_fill(&fc->rd, fd, &err);
	ck_assert_int_ne(rc, -1);
	if (rc == 1 && attr_reader_next(&fc->rd, &body, &len, &err) == 0)
		return;
	ck_assert_int_eq(rc, 1);
	/* The password arrived as sent. */
	ck_assert_ptr_nonnull(memmem(body, len, "pw", 3));
	if (fc->f->reply.len > 0)
		ck_assert_int_eq(write(fd, fc->f->reply.data,
		    fc->f->reply.len), (ssize_t)fc->f->reply.len);
	event_free(fc->ev);
	close(fc->fd);
	attr_reader_deinit(&fc->rd);
	free(fc);
}

static void
fake_accept(evutil_socket_t fd, short what, void *ctx)
{
	struct fake_conn *fc = xcalloc(1, sizeof(*fc));

	(void)what;
	fc->f = ctx;
	fc->fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ck_assert_int_ge(fc->fd, 0);
	attr_reader_init(&fc->rd, 0);
	fc->ev = event_new(base, fc->fd, EV_READ | EV_PERSIST, fake_read, fc);
	ck_assert_int_eq(event_add(fc->ev, NULL), 0);
}

enum bad_reply { R_STATUS_RANGE, R_OK_NO_USER, R_TRAILING, R_TOO_LONG,
	R_NOTHING, R_SHORT, R_UNKNOWN, R_UID_RANGE, R_GOOD, R_COUNT };

START_TEST(test_hostile_replies)
{
	struct fake f;
	struct attr_writer w;
	struct outcome o;
	const char *err = NULL;
	int pending = 0;

	ck_assert_ptr_nonnull(mkdtemp(tdir));
	old_cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tdir), 0);
	ck_assert_int_eq(mkdir("private", 0700), 0);
	base = event_base_new();
	f.lfd = ipc_listen(AUTH_SERVICE_PATH, 4, 0600, &err);
	ck_assert_int_ge(f.lfd, 0);
	f.ev = event_new(base, f.lfd, EV_READ | EV_PERSIST, fake_accept, &f);
	ck_assert_int_eq(event_add(f.ev, NULL), 0);
	buf_init(&f.reply, 0);
	attr_frame_begin(&w, &f.reply);
	switch ((enum bad_reply)_i) {
	case R_STATUS_RANGE:
		attr_put_u64(&w, "status", 3);
		break;
	case R_OK_NO_USER:
		attr_put_u64(&w, "status", AUTH_OK);
		break;
	case R_TRAILING:
	case R_SHORT:
	case R_GOOD:
		attr_put_u64(&w, "status", AUTH_OK);
		attr_put_str(&w, "user", "alice");
		attr_put_u64(&w, "uid", 5);
		attr_put_str(&w, "home", "/h");
		attr_put_str(&w, "reason", "ok");
		break;
	case R_TOO_LONG:
	case R_NOTHING:
		break;
	case R_UNKNOWN:
		attr_put_u64(&w, "status", AUTH_FAIL);
		attr_put_str(&w, "secret_hash", "$6$x");
		break;
	case R_UID_RANGE:
		attr_put_u64(&w, "status", AUTH_OK);
		attr_put_str(&w, "user", "alice");
		attr_put_u64(&w, "uid", 1ull << 40);
		break;
	case R_COUNT:
		break;
	}
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	if (_i == R_TRAILING)
		buf_add(&f.reply, "\0", 1);
	if (_i == R_SHORT)
		buf_truncate(&f.reply, f.reply.len - 1);
	if (_i == R_NOTHING)
		buf_reset(&f.reply);
	if (_i == R_TOO_LONG) {
		buf_reset(&f.reply);
		put_hdr(&f.reply, 1 << 24);
	}
	begin(&o, &pending, "alice", "pw", "unix");
	run(&pending);
	if (_i == R_GOOD) {
		ck_assert_int_eq(o.status, AUTH_OK);
		ck_assert_str_eq(o.user, "alice");
		ck_assert_int_eq(o.uid, 5);
		ck_assert_int_eq(o.gid, -1);
		ck_assert_str_eq(o.home, "/h");
	} else {
		ck_assert_int_eq(o.status, AUTH_TEMPFAIL);
		ck_assert_msg(strstr(o.reason, "authd") != NULL,
		    "reason: %s", o.reason);
	}
	event_free(f.ev);
	close(f.lfd);
	buf_deinit(&f.reply);
	event_base_free(base);
	unlink(AUTH_SERVICE_PATH);
	rmdir("private");
	ck_assert_int_eq(chdir(old_cwd), 0);
	free(old_cwd);
	ck_assert_int_eq(rmdir(tdir), 0);
	memcpy(tdir + strlen(tdir) - 6, "XXXXXX", 6);
}
END_TEST

static void
never_cb(void *ctx, const struct auth_result *res)
{
	(void)ctx;
	(void)res;
	ck_abort_msg("callback after cancel");
}

START_TEST(test_cancel_and_not_running)
{
	struct auth_request *r;
	const char *err = NULL;
	struct timeval tv = { 0, 600000 };

	start(200, 0, false);
	write_users("");
	r = auth_client_start(base, "smtp", "alice", "pw", "192.0.2.1", false,
	    never_cb, NULL, &err);
	ck_assert_ptr_nonnull(r);
	auth_client_cancel(&r);
	ck_assert_ptr_null(r);
	auth_client_cancel(&r);
	/* authd still answers into a closed socket, harmlessly. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	ck_assert_int_eq(sessions, 0);
	stop();

	/* No authd at all: NULL, never a callback. */
	base = event_base_new();
	r = auth_client_start(base, "smtp", "alice", "pw", "192.0.2.1", false,
	    never_cb, NULL, &err);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(err, "private/authd"));
	event_base_free(base);
}
END_TEST

START_TEST(test_settings_from_conf)
{
	char dir[] = "/tmp/test_authd_conf.XXXXXX", *path;
	struct authd_settings s;
	const char *err = NULL;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/main.cf", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "authd_passwd_file = /etc/tern/users\n"
	    "authd_system_users = no\nauthd_failure_delay = 3s\n"
	    "authd_failure_rate_limit = 7\n");
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	authd_settings_from_conf(&s);
	ck_assert_str_eq(s.passwd_file, "/etc/tern/users");
	ck_assert(!s.system_users);
	ck_assert_int_eq(s.failure_delay_ms, 3000);
	ck_assert_int_eq(s.failure_rate_limit, 7);
	mail_conf_unload();
	unlink(path);
	free(path);
	rmdir(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("authd");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_schemes, 0, ARRAY_LEN(scheme_cases));
	tcase_add_test(tc, test_empty_and_hostile_names);
	tcase_add_test(tc, test_delay);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_no_limit_no_anvil);
	tcase_add_test(tc, test_users_file_changes);
	tcase_add_test(tc, test_system_users);
	tcase_add_loop_test(tc, test_hostile_requests, 0, H_COUNT);
	tcase_add_loop_test(tc, test_hostile_replies, 0, R_COUNT);
	tcase_add_test(tc, test_cancel_and_not_running);
	tcase_add_test(tc, test_settings_from_conf);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
