/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for master_listen.c (the service column of inet services,
 * inet_protocols, address expansion, opening listeners) and for the
 * argument and environment vectors of master_spawn.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mastercf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "master_proto.h"

#include "master_listen.h"
#include "master_spawn.h"

static char long_host[400];

static const struct {
	const char *in;
	size_t	    len;		/* 0: strlen */
	int	    rc;
	const char *host;		/* expected host, NULL: none */
	unsigned    port;
	const char *err;		/* substring of the error */
} parse_cases[] = {
	{ "25", 0, 0, NULL, 25, NULL },
	{ "smtp", 0, 0, NULL, 25, NULL },
	{ "127.0.0.1:10025", 0, 0, "127.0.0.1", 10025, NULL },
	{ "localhost:smtp", 0, 0, "localhost", 25, NULL },
	{ "[::1]:25", 0, 0, "::1", 25, NULL },
	{ "[2001:db8::1]:65535", 0, 0, "2001:db8::1", 65535, NULL },
	{ "*:2525", 0, 0, NULL, 2525, NULL },
	{ "1", 0, 0, NULL, 1, NULL },
	/* Hostile and malformed. */
	{ "", 0, -1, NULL, 0, "empty address" },
	{ ":", 0, -1, NULL, 0, "missing host" },
	{ "host:", 0, -1, NULL, 0, "missing port" },
	{ ":25", 0, -1, NULL, 0, "missing host" },
	{ "0", 0, -1, NULL, 0, "bad port" },
	{ "127.0.0.1:0", 0, -1, NULL, 0, "bad port" },
	{ "65536", 0, -1, NULL, 0, "bad port" },
	{ "99999999999999999999", 0, -1, NULL, 0, "bad port" },
	{ "-25", 0, -1, NULL, 0, "unknown service" },
	{ "+25", 0, -1, NULL, 0, "bad character in port" },
	{ "[::1", 0, -1, NULL, 0, "missing ']'" },
	{ "[::1]25", 0, -1, NULL, 0, "expected ':PORT'" },
	{ "[::1]", 0, -1, NULL, 0, "expected ':PORT'" },
	{ "[::1]:", 0, -1, NULL, 0, "missing port" },
	{ "[]:25", 0, -1, NULL, 0, "bad IPv6" },
	{ "[127.0.0.1]:25", 0, -1, NULL, 0, "bad IPv6" },
	{ "[::1]]:25", 0, -1, NULL, 0, "expected ':PORT'" },
	{ "::1:25", 0, -1, NULL, 0, "brackets" },
	{ "::", 0, -1, NULL, 0, "brackets" },
	{ "a:b:25", 0, -1, NULL, 0, "brackets" },
	{ "nosuchservice-tern", 0, -1, NULL, 0, "unknown service name" },
	{ "host:nosuchservice-tern", 0, -1, NULL, 0, "unknown service" },
	{ "127.0.0.1\0:25", 13, -1, NULL, 0, "NUL" },
	{ "25\0", 3, -1, NULL, 0, "NUL" },
	{ "127.0.0.1:25\r\n", 0, -1, NULL, 0, "non-printable" },
	{ "host\n:25", 0, -1, NULL, 0, "non-printable" },
	{ "h\xc3\xa9te:25", 0, -1, NULL, 0, "non-ASCII" },
	{ "ho st:25", 0, -1, NULL, 0, "bad character in host" },
	{ "host/x:25", 0, -1, NULL, 0, "bad character in host" },
	{ "**:25", 0, -1, NULL, 0, "bad character in host" },
	{ "host:2 5", 0, -1, NULL, 0, "bad character in port" },
	{ "host:25x", 0, -1, NULL, 0, "unknown service" },
	{ "host:0000000000000000000025", 0, -1, NULL, 0, "bad port" },
	{ "host:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa", 0, -1, NULL, 0, "port is too long" },
	{ NULL, 0, -1, NULL, 0, "too long" },	/* long_host */
};

START_TEST(test_parse)
{
	const char *in = parse_cases[_i].in, *err = NULL;
	size_t len = parse_cases[_i].len;
	char *host = (char *)1;
	unsigned port = 0;
	int rc;

	if (in == NULL)
		in = long_host;
	/* Service names need /etc/services (netbase); skip without it. */
	if (strstr(in, "smtp") != NULL && getservbyname("smtp", "tcp") == NULL)
		return;
	if (len == 0)
		len = strlen(in);
	rc = master_listen_parse_inet(in, len, &host, &port, &err);
	ck_assert_msg(rc == parse_cases[_i].rc, "case %d: rc %d (%s)", _i,
	    rc, rc == -1 ? err : "ok");
	if (rc == 0) {
		if (parse_cases[_i].host == NULL)
			ck_assert_ptr_null(host);
		else
			ck_assert_str_eq(host, parse_cases[_i].host);
		ck_assert_uint_eq(port, parse_cases[_i].port);
	} else {
		ck_assert_ptr_null(host);
		ck_assert_msg(strstr(err, parse_cases[_i].err) != NULL,
		    "case %d: error \"%s\", expected \"%s\"", _i, err,
		    parse_cases[_i].err);
	}
	free(host);
}
END_TEST

static void
setup_long(void)
{
	memset(long_host, 'a', sizeof(long_host) - 4);
	memcpy(long_host + sizeof(long_host) - 4, ":25", 4);
}

static int
net_from(struct master_net *net, const char *protocols, const char *itfs,
    const char **err_r)
{
	struct strv p, i;
	int rc;

	strv_init(&p);
	strv_init(&i);
	strv_split(&p, protocols, NULL);
	strv_split(&i, itfs, NULL);
	rc = master_net_init(net, &p, &i, err_r);
	strv_deinit(&p);
	strv_deinit(&i);
	return rc;
}

static const struct {
	const char *protocols;
	const char *interfaces;
	int	    rc;
} net_cases[] = {
	{ "all", "all", 0 },
	{ "ipv4", "loopback-only", 0 },
	{ "ipv4, ipv6", "127.0.0.1", 0 },
	{ "IPv6", "::1", 0 },
	{ "ipv5", "all", -1 },
	{ "", "all", -1 },
	{ "ipv4", "", -1 },
	{ "ipv4\n", "all", 0 },		/* split at white space */
	{ "ipv4\xff", "all", -1 },
};

START_TEST(test_net)
{
	struct master_net net;
	const char *err = "";
	int rc;

	rc = net_from(&net, net_cases[_i].protocols, net_cases[_i].interfaces,
	    &err);
	ck_assert_msg(rc == net_cases[_i].rc, "case %d: %s", _i, err);
	master_net_deinit(&net);
}
END_TEST

/* Resolves service column s of type with the given protocols/interfaces. */
static int
resolve(const char *s, const char *type, bool private_service,
    const char *protocols, const char *itfs, struct master_addrs *a,
    const char **err_r)
{
	struct mastercf_entry e;
	struct master_net net;
	int rc;

	memset(&e, 0, sizeof(e));
	e.service = xstrdup(s);
	e.type = xstrdup(type);
	e.private_service = private_service;
	ck_assert_int_eq(net_from(&net, protocols, itfs, err_r), 0);
	master_addrs_init(a);
	rc = master_listen_resolve(&e, &net, "/q", a, err_r);
	master_net_deinit(&net);
	free(e.service);
	free(e.type);
	return rc;
}

static const struct {
	const char *service;
	const char *type;
	const char *protocols;
	const char *interfaces;
	int	    rc;
	const char *descs;		/* joined with " " */
} resolve_cases[] = {
	{ "25", "inet", "all", "all", 0, "0.0.0.0:25 [::]:25" },
	{ "25", "inet", "ipv4", "all", 0, "0.0.0.0:25" },
	{ "25", "inet", "ipv6", "all", 0, "[::]:25" },
	{ "2525", "inet", "all", "loopback-only", 0,
	    "127.0.0.1:2525 [::1]:2525" },
	{ "2525", "inet", "all", "127.0.0.1, 127.0.0.1 ::1", 0,
	    "127.0.0.1:2525 [::1]:2525" },
	{ "127.0.0.2:2525", "inet", "all", "all", 0, "127.0.0.2:2525" },
	{ "[::1]:2525", "inet", "ipv4", "all", -1, NULL },
	{ "127.0.0.1:2525", "inet", "ipv6", "all", -1, NULL },
	{ "2525", "inet", "ipv4", "not.a.valid.name.invalid", -1, NULL },
	{ "::1:25", "inet", "all", "all", -1, NULL },
	{ "pickup", "unix", "all", "all", 0, "/q/private/pickup" },
	{ "pickup", "unix", "all", "all", 0, "/q/private/pickup" },
	{ "../x", "unix", "all", "all", -1, NULL },
	{ "..", "unix", "all", "all", -1, NULL },
	{ "a\nb", "unix", "all", "all", -1, NULL },
	{ "x", "fifo", "all", "all", -1, NULL },
};

START_TEST(test_resolve)
{
	struct master_addrs a;
	struct strv descs;
	const char *err = "";
	char *joined;
	int rc;

	rc = resolve(resolve_cases[_i].service, resolve_cases[_i].type, true,
	    resolve_cases[_i].protocols, resolve_cases[_i].interfaces, &a,
	    &err);
	ck_assert_msg(rc == resolve_cases[_i].rc, "case %d: %s", _i, err);
	if (rc == 0) {
		strv_init(&descs);
		for (size_t i = 0; i < a.n; i++)
			strv_push(&descs, a.v[i].desc);
		joined = strv_join(&descs, " ");
		ck_assert_str_eq(joined, resolve_cases[_i].descs);
		free(joined);
		strv_deinit(&descs);
	}
	master_addrs_deinit(&a);
}
END_TEST

START_TEST(test_public_and_equal)
{
	struct master_addrs a, b;
	const char *err;

	ck_assert_int_eq(resolve("showq", "unix", false, "all", "all", &a,
	    &err), 0);
	ck_assert_str_eq(a.v[0].desc, "/q/public/showq");
	ck_assert_int_eq(resolve("showq", "unix", false, "all", "all", &b,
	    &err), 0);
	ck_assert(master_addrs_equal(&a, &b));
	master_addrs_deinit(&b);
	ck_assert_int_eq(resolve("showq", "unix", true, "all", "all", &b,
	    &err), 0);
	ck_assert(!master_addrs_equal(&a, &b));
	master_addrs_deinit(&a);
	master_addrs_deinit(&b);
}
END_TEST

START_TEST(test_open)
{
	struct master_addrs a;
	const char *err = "";
	int fd, fd2, fl;

	/* Port 0 is refused by the parser; bind an ephemeral port by hand. */
	ck_assert_int_eq(resolve("127.0.0.1:65000", "inet", false, "ipv4",
	    "all", &a, &err), 0);
	((struct sockaddr_in *)&a.v[0].ss)->sin_port = 0;
	ck_assert_msg(master_listen_open(&a.v[0], &fd, &err) == 0, "%s", err);
	ck_assert_int_ne(fd, -1);
	fl = fcntl(fd, F_GETFL);
	ck_assert(fl & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss,
		    &len), 0);
		memcpy(&a.v[0].ss, &ss, len);
	}
	/* The same address again: bind fails and names it. */
	ck_assert_int_eq(master_listen_open(&a.v[0], &fd2, &err), -1);
	ck_assert_msg(strstr(err, "bind 127.0.0.1:65000: ") != NULL, "%s",
	    err);
	(void)close(fd);
	master_addrs_deinit(&a);
}
END_TEST

START_TEST(test_open_unix)
{
	char dir[] = "/tmp/test_master_listen.XXXXXX";
	struct master_addr a;
	struct stat st;
	const char *err = "";
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
	a.desc = xasprintf("%s/sock", dir);
	ck_assert_msg(master_listen_open(&a, &fd, &err) == 0, "%s", err);
	ck_assert_int_eq(stat(a.desc, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0666);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	(void)close(fd);
	(void)unlink(a.desc);
	(void)rmdir(dir);
	free(a.desc);
}
END_TEST

START_TEST(test_argv_env)
{
	struct master_spawn_args args;
	struct strv cmd, argv, imp, env;
	char *joined;

	strv_init(&cmd);
	strv_split(&cmd, "smtpd -o x=y -v", " ");
	memset(&args, 0, sizeof(args));
	args.service = "smtp";
	args.type = "inet";
	args.count = 2;
	args.config_dir = "/etc/tern";
	args.unpriv = true;
	args.chroot = true;
	args.command = &cmd;
	master_spawn_argv(&args, &argv);
	joined = strv_join(&argv, " ");
	ck_assert_str_eq(joined, "smtpd -n smtp -t inet -s 2 -c /etc/tern -u "
	    "-j -o x=y -v");
	free(joined);
	strv_deinit(&argv);
	args.unpriv = args.chroot = false;
	master_spawn_argv(&args, &argv);
	ck_assert_uint_eq(argv.n, 12);
	strv_deinit(&argv);
	strv_deinit(&cmd);

	ck_assert_int_eq(setenv("TERN_TEST_SET", "v a", 1), 0);
	ck_assert_int_eq(unsetenv("TERN_TEST_UNSET"), 0);
	strv_init(&imp);
	strv_split(&imp, "TERN_TEST_SET TERN_TEST_UNSET LANG=C =x A==b", NULL);
	master_spawn_env(&imp, &env);
	joined = strv_join(&env, "|");
	ck_assert_str_eq(joined, "TERN_TEST_SET=v a|LANG=C|A==b");
	free(joined);
	strv_deinit(&env);
	strv_deinit(&imp);
	strv_init(&imp);
	master_spawn_env(&imp, &env);
	ck_assert_uint_eq(env.n, 0);
	strv_deinit(&env);
	strv_deinit(&imp);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("master_listen");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup_long, NULL);
	tcase_add_loop_test(tc, test_parse, 0, (int)ARRAY_LEN(parse_cases));
	tcase_add_loop_test(tc, test_net, 0, (int)ARRAY_LEN(net_cases));
	tcase_add_loop_test(tc, test_resolve, 0,
	    (int)ARRAY_LEN(resolve_cases));
	tcase_add_test(tc, test_public_and_equal);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_open_unix);
	tcase_add_test(tc, test_argv_env);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
