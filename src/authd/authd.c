/* SPDX-License-Identifier: MIT */
/*
 * authd's request handler: read one request frame per connection,
 * check the credentials against the users file or the system's
 * accounts, and answer (failures after the failure delay); see authd.h.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "auth_client.h"
#include "mail_conf.h"

#include "authd.h"
#include "authd_passwd.h"

/* Four fields of at most AUTH_FIELD_MAX bytes and their framing. */
#define AUTHD_REQ_MAX		(4 * AUTH_FIELD_MAX + 512)
/* How long a client may take to send its request or read the reply. */
#define AUTHD_IO_TIMEOUT_MS	10000
#define AUTHD_SERVICE_MAX	32
#define AUTHD_ADDR_MAX		64

enum conn_state {
	CONN_READING,
	CONN_DELAYING,		/* a failure waits for its delay */
	CONN_WRITING,
};

struct authd_conn {
	int		 fd;
	enum conn_state	 state;
	struct event	*io;
	struct event	*timer;
	/* SECURITY: holds the password until it is checked; wiped then. */
	unsigned char	 in[ATTR_HDR_LEN + AUTHD_REQ_MAX];
	size_t		 in_len;
	struct buf	 out;
	size_t		 out_off;
	struct authd_conn *next;
};

/* What a check found out. */
struct authd_result {
	enum auth_status status;
	char		*user;		/* canonical name (OK) */
	bool		 has_uid, has_gid;
	uid_t		 uid;
	gid_t		 gid;
	char		*home;
	const char	*reason;
};

static struct event_base *authd_base;
static struct authd_settings authd_set;
static char *authd_passwd_path;
static struct authd_passwd *authd_users;
static void (*authd_done)(void);
static struct authd_conn *authd_conns;
static authd_anvil_fn *authd_anvil = anvil_client_event;
static bool authd_warned_shadow;

void
authd_settings_from_conf(struct authd_settings *s)
{
	s->passwd_file = mail_conf_get("authd_passwd_file");
	s->system_users = mail_conf_bool("authd_system_users");
	s->failure_delay_ms = (long)mail_conf_time("authd_failure_delay") *
	    1000;
	s->failure_rate_limit = mail_conf_int("authd_failure_rate_limit");
}

void
authd_set_anvil(authd_anvil_fn *fn)
{
	authd_anvil = fn != NULL ? fn : anvil_client_event;
}

void
authd_init(struct event_base *base, const struct authd_settings *s,
    void (*session_done)(void))
{
	authd_base = base;
	authd_set = *s;
	authd_done = session_done;
	authd_passwd_path = xstrdup(s->passwd_file != NULL ?
	    s->passwd_file : "");
	authd_set.passwd_file = authd_passwd_path;
	authd_users = authd_passwd_path[0] != '\0' ?
	    authd_passwd_new(authd_passwd_path) : NULL;
	authd_warned_shadow = false;
	if (authd_users == NULL && !s->system_users)
		log_warn("neither authd_passwd_file nor authd_system_users "
		    "is set: every login will fail");
}

void
authd_deinit(void)
{
	if (authd_conns != NULL)
		panic("authd_deinit with connections left");
	authd_passwd_free(&authd_users);
	free(authd_passwd_path);
	authd_passwd_path = NULL;
	authd_base = NULL;
}

static void
conn_close(struct authd_conn *c)
{
	for (struct authd_conn **p = &authd_conns; *p != NULL;
	    p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	event_free(c->io);
	event_free(c->timer);
	close(c->fd);
	explicit_bzero(c->in, sizeof(c->in));
	buf_deinit(&c->out);
	free(c);
	authd_done();
}

static void
timer_arm(struct authd_conn *c, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (evtimer_add(c->timer, &tv) == -1)
		fatal("cannot arm a timer");
}

/*
 * The checks.
 */

static void
result_deinit(struct authd_result *r)
{
	free(r->user);
	free(r->home);
	memset(r, 0, sizeof(*r));
}

static void
result_ok(struct authd_result *r, const char *user, bool has_uid, uid_t uid,
    bool has_gid, gid_t gid, const char *home)
{
	r->status = AUTH_OK;
	r->user = xstrdup(user);
	r->has_uid = has_uid;
	r->uid = uid;
	r->has_gid = has_gid;
	r->gid = gid;
	r->home = xstrdup(home);
	r->reason = "ok";
}

/* 1 decided (r set), 0 no such user here. */
static int
check_file(const char *user, const char *password, struct authd_result *r)
{
	const struct authd_passwd_entry *e;
	const char *err;

	switch (authd_passwd_lookup(authd_users, user, &e, &err)) {
	case 1:
		if (!authd_passwd_check_hash(e->hash, password)) {
			r->status = AUTH_FAIL;
			r->reason = "wrong password";
			return 1;
		}
		result_ok(r, e->name, e->has_uid, e->uid, e->has_gid, e->gid,
		    e->home);
		return 1;
	case 0:
		return 0;
	default:
		log_warn("users file: %s", err);
		authd_passwd_dummy_check(password);
		r->status = AUTH_TEMPFAIL;
		r->reason = "cannot read the users file";
		return 1;
	}
}

/* True when a shadow(5) entry has expired. */
static bool
shadow_expired(const struct spwd *sp)
{
	long today = (long)(time(NULL) / 86400);

	return sp->sp_expire > 0 && today >= sp->sp_expire;
}

/*
 * System accounts.  SECURITY: root and accounts without a usable hash
 * (empty, locked "!", disabled "*") never log in.
 */
static void
check_system(const char *user, const char *password, struct authd_result *r)
{
	struct passwd *pw;
	struct spwd *sp = NULL;
	char *hash = NULL, *name, *home;
	uid_t uid;
	gid_t gid;

	r->status = AUTH_FAIL;
	r->reason = "unknown user";
	errno = 0;
	if (strchr(user, '@') != NULL || (pw = getpwnam(user)) == NULL) {
		authd_passwd_dummy_check(password);
		return;
	}
	name = xstrdup(pw->pw_name);
	home = xstrdup(pw->pw_dir);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (str_eq(pw->pw_passwd, "x")) {
		errno = 0;
		sp = getspnam(name);
		if (sp == NULL && (errno == EACCES || errno == EPERM) &&
		    !authd_warned_shadow) {
			log_warn("cannot read the shadow database (%s); "
			    "system accounts cannot log in", strerror(errno));
			authd_warned_shadow = true;
		}
		if (sp != NULL)
			hash = xstrdup(sp->sp_pwdp);
	} else {
		hash = xstrdup(pw->pw_passwd);
	}
	if (uid == 0) {
		authd_passwd_dummy_check(password);
		r->reason = "root may not log in";
	} else if (hash == NULL) {
		authd_passwd_dummy_check(password);
	} else if (hash[0] == '\0' || hash[0] == '!' || hash[0] == '*') {
		authd_passwd_dummy_check(password);
		r->reason = "account locked or without a password";
	} else if (!authd_passwd_check_hash(hash, password)) {
		r->reason = "wrong password";
	} else if (sp != NULL && shadow_expired(sp)) {
		r->reason = "account expired";
	} else {
		result_ok(r, name, true, uid, true, gid, home);
	}
	if (sp != NULL && sp->sp_pwdp != NULL)
		explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp));
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	free(name);
	free(home);
}

static void
check(const char *user, const char *password, struct authd_result *r)
{
	if (authd_users != NULL && check_file(user, password, r) == 1)
		return;
	if (authd_set.system_users) {
		check_system(user, password, r);
		return;
	}
	authd_passwd_dummy_check(password);
	r->status = AUTH_FAIL;
	r->reason = "unknown user";
}

/* The per-client failure limit: true when addr is over it. */
static bool
over_limit(const char *addr)
{
	struct anvil_counts counts;
	const char *err;

	if (authd_set.failure_rate_limit <= 0)
		return false;
	if (authd_anvil(ANVIL_AUTH_FAIL_PEEK, addr, &counts, &err) == -1) {
		log_warn("anvil: %s; failed logins are not limited", err);
		return false;
	}
	return counts.rate >= (uint64_t)authd_set.failure_rate_limit;
}

static void
count_failure(const char *addr)
{
	struct anvil_counts counts;
	const char *err;

	if (authd_set.failure_rate_limit > 0 &&
	    authd_anvil(ANVIL_AUTH_FAIL, addr, &counts, &err) == -1)
		log_warn("anvil: %s; failed logins are not limited", err);
}

/*
 * The connection.
 */

static bool
token_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return false;
	return true;
}

static void conn_write(evutil_socket_t fd, short what, void *arg);

static void
start_write(struct authd_conn *c)
{
	c->state = CONN_WRITING;
	event_free(c->io);
	c->io = event_new(authd_base, c->fd, EV_WRITE | EV_PERSIST,
	    conn_write, c);
	if (c->io == NULL || event_add(c->io, NULL) == -1)
		fatal("cannot watch an authd connection");
	timer_arm(c, AUTHD_IO_TIMEOUT_MS);
}

static void
conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct authd_conn *c = arg;
	ssize_t n;

	(void)what;
	while (c->out_off < c->out.len) {
		n = send(fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			/* The client gave up (smtpd session ended). */
			if (errno != EPIPE && errno != ECONNRESET)
				log_warn("write to client: %s",
				    strerror(errno));
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_close(c);
}

static void
reply(struct authd_conn *c, const struct authd_result *r)
{
	struct attr_writer w;
	const char *err;

	attr_frame_begin(&w, &c->out);
	attr_put_u64(&w, "status", (uint64_t)r->status);
	if (r->status == AUTH_OK) {
		attr_put_str(&w, "user", r->user);
		if (r->has_uid)
			attr_put_u64(&w, "uid", (uint64_t)r->uid);
		if (r->has_gid)
			attr_put_u64(&w, "gid", (uint64_t)r->gid);
		attr_put_str(&w, "home", r->home);
	}
	attr_put_str(&w, "reason", r->reason);
	if (attr_frame_end(&w, &err) == -1)
		panic("authd reply: %s", err);
}

static void
log_result(const char *service, const char *user, const char *addr,
    const struct authd_result *r)
{
	char *u = log_escape_str(user), *a = log_escape_str(addr);

	if (r->status == AUTH_OK)
		log_info("%s login ok: user=<%s> client=%s", service, u, a);
	else
		log_info("%s login failed: user=<%s> client=%s reason=%s",
		    service, u, a, r->reason);
	free(u);
	free(a);
}

/* NULL for a request authd can answer, else why not. */
static const char *
request_invalid(const char *service, const char *user, const char *password,
    const char *addr)
{
	size_t alen = strlen(addr);

	if (!token_valid(service, AUTHD_SERVICE_MAX))
		return "bad service name";
	if (alen == 0 || alen > AUTHD_ADDR_MAX || !str_is_printable(addr, alen))
		return "bad client address";
	if (strlen(user) > AUTH_FIELD_MAX || strlen(password) > AUTH_FIELD_MAX)
		return "user name or password too long";
	return NULL;
}

static void
handle(struct authd_conn *c, const void *body, size_t len)
{
	const char *service = NULL, *user = NULL, *password = NULL;
	const char *addr = NULL, *err;
	bool secured = false;
	struct attr_spec spec[] = {
		ATTR_STR("service", &service),
		ATTR_STR("user", &user),
		ATTR_STR("password", &password),
		ATTR_STR("client_addr", &addr),
		ATTR_BOOL("secured", &secured),
		ATTR_END
	};
	struct authd_result r;
	enum auth_status status;

	memset(&r, 0, sizeof(r));
	if (attr_parse(body, len, spec, ATTR_PARSE_STRICT, &err) == -1 ||
	    (err = request_invalid(service, user, password, addr)) != NULL) {
		/* A broken or hostile peer: drop it, never guess. */
		log_warn("bad request: %s", err);
		conn_close(c);
		return;
	}
	event_del(c->io);
	evtimer_del(c->timer);
	if (over_limit(addr)) {
		r.status = AUTH_TEMPFAIL;
		r.reason = "too many failed logins";
	} else if (user[0] == '\0' || password[0] == '\0') {
		authd_passwd_dummy_check("");
		r.status = AUTH_FAIL;
		r.reason = user[0] == '\0' ? "empty user name" :
		    "empty password";
	} else {
		check(user, password, &r);
	}
	log_result(service, user, addr, &r);
	if (r.status == AUTH_FAIL)
		count_failure(addr);
	reply(c, &r);
	status = r.status;
	result_deinit(&r);
	/* SECURITY: the request (password included) is no longer needed. */
	explicit_bzero(c->in, sizeof(c->in));
	if (status == AUTH_OK || authd_set.failure_delay_ms <= 0) {
		start_write(c);
		return;
	}
	c->state = CONN_DELAYING;
	timer_arm(c, authd_set.failure_delay_ms);
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct authd_conn *c = arg;
	size_t need;
	ssize_t n;

	(void)what;
	n = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == -1)
			log_warn("read from client: %s", strerror(errno));
		else if (c->in_len > 0)
			log_warn("bad request: short frame");
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	if (c->in_len < ATTR_HDR_LEN)
		return;
	need = attr_hdr_decode(c->in);
	if (need > AUTHD_REQ_MAX) {
		log_warn("bad request: frame too long");
		conn_close(c);
		return;
	}
	if (c->in_len < ATTR_HDR_LEN + need)
		return;
	if (c->in_len > ATTR_HDR_LEN + need) {
		log_warn("bad request: data after the request");
		conn_close(c);
		return;
	}
	handle(c, c->in + ATTR_HDR_LEN, need);
}

static void
conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct authd_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_DELAYING) {
		start_write(c);
		return;
	}
	log_warn("%s client timed out", c->state == CONN_READING ?
	    "request from" : "reply to");
	conn_close(c);
}

void
authd_connect(int fd)
{
	struct authd_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->state = CONN_READING;
	buf_init(&c->out, 0);
	c->io = event_new(authd_base, fd, EV_READ | EV_PERSIST, conn_read, c);
	c->timer = evtimer_new(authd_base, conn_timer, c);
	if (c->io == NULL || c->timer == NULL || event_add(c->io, NULL) == -1)
		fatal("cannot watch an authd connection");
	c->next = authd_conns;
	authd_conns = c;
	timer_arm(c, AUTHD_IO_TIMEOUT_MS);
}
