/* SPDX-License-Identifier: MIT */
/*
 * The sendmail-to-terndrop envelope stream: writer, strict reader and the
 * validators both sides share; see sendmail_drop.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

#include "addr.h"

#include "sendmail_drop.h"
#include "sendmail_opts.h"

static char sendmail_drop_err[160];

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

void
sendmail_drop_env_init(struct sendmail_drop_env *env)
{
	memset(env, 0, sizeof(*env));
	strv_init(&env->rcpts);
	strv_init(&env->notify);
}

void
sendmail_drop_env_deinit(struct sendmail_drop_env *env)
{
	free(env->sender);
	free(env->fullname);
	free(env->ret);
	free(env->envid);
	strv_deinit(&env->rcpts);
	strv_deinit(&env->notify);
	memset(env, 0, sizeof(*env));
}

bool
sendmail_drop_valid_text(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return addr_utf8_valid(s, n);
}

static bool
xdigit_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 §4: xchar is "!" to "~" except "+" and "="; hexchar "+XX". */
bool
sendmail_drop_valid_xtext(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '+') {
			if (!xdigit_upper(s[1]) || !xdigit_upper(s[2]))
				return false;
			s += 2;
		} else if (c < '!' || c > '~' || c == '=') {
			return false;
		}
	}
	return true;
}

void
sendmail_drop_xtext(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < '!' || c > '~' || c == '+' || c == '=')
			buf_addf(out, "+%02X", c);
		else
			buf_addc(out, (char)c);
	}
}

static int
valid_addr(const char *s, bool empty_ok, const char **err_r)
{
	size_t n = strlen(s);

	if (n == 0 && !empty_ok)
		return fail(err_r, "empty address");
	if (n > SENDMAIL_DROP_ADDR_MAX)
		return fail(err_r, "address too long");
	if (!sendmail_drop_valid_text(s, n))
		return fail(err_r, "bad characters in address");
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return fail(err_r, "blank around address");
	return 0;
}

int
sendmail_drop_set_sender(struct sendmail_drop_env *env, const char *s,
    const char **err_r)
{
	if (env->sender != NULL)
		return fail(err_r, "sender given twice");
	if (valid_addr(s, true, err_r) == -1)
		return -1;
	env->sender = xstrdup(s);
	return 0;
}

int
sendmail_drop_set_fullname(struct sendmail_drop_env *env, const char *s,
    const char **err_r)
{
	size_t n = strlen(s);

	if (env->fullname != NULL)
		return fail(err_r, "full name given twice");
	if (n > SENDMAIL_DROP_NAME_MAX)
		return fail(err_r, "full name too long");
	if (!sendmail_drop_valid_text(s, n))
		return fail(err_r, "bad characters in full name");
	env->fullname = xstrdup(s);
	return 0;
}

int
sendmail_drop_set_ret(struct sendmail_drop_env *env, const char *s,
    const char **err_r)
{
	if (env->ret != NULL)
		return fail(err_r, "ret given twice");
	if (!str_eq(s, "FULL") && !str_eq(s, "HDRS"))
		return fail(err_r, "bad ret value");
	env->ret = xstrdup(s);
	return 0;
}

int
sendmail_drop_set_envid(struct sendmail_drop_env *env, const char *s,
    const char **err_r)
{
	if (env->envid != NULL)
		return fail(err_r, "envid given twice");
	if (*s == '\0' || strlen(s) > SENDMAIL_DROP_ENVID_MAX ||
	    !sendmail_drop_valid_xtext(s))
		return fail(err_r, "bad envid value");
	env->envid = xstrdup(s);
	return 0;
}

int
sendmail_drop_add_rcpt(struct sendmail_drop_env *env, const char *addr,
    const char *notify, const char **err_r)
{
	char norm[32];

	if (env->rcpts.n >= SENDMAIL_DROP_RCPT_MAX)
		return fail(err_r, "too many recipients");
	if (valid_addr(addr, false, err_r) == -1)
		return -1;
	if (notify == NULL || *notify == '\0')
		notify = "-";
	if (!str_eq(notify, "-") &&
	    (sendmail_opts_notify(notify, norm, sizeof(norm), err_r) == -1 ||
	    !str_eq(norm, notify)))
		return fail(err_r, "bad notify value");
	strv_push(&env->rcpts, addr);
	strv_push(&env->notify, notify);
	return 0;
}

int
sendmail_drop_encode(const struct sendmail_drop_env *env, struct buf *out,
    const char **err_r)
{
	size_t i;
	int rc = 0;

	if (env->sender == NULL)
		return fail(err_r, "no sender");
	if (env->rcpts.n == 0 && !env->extract)
		return fail(err_r, "no recipients specified");
	rc |= buf_printf(out, "S %s\n", env->sender);
	if (env->fullname != NULL)
		rc |= buf_printf(out, "A fullname=%s\n", env->fullname);
	if (env->ret != NULL)
		rc |= buf_printf(out, "A ret=%s\n", env->ret);
	if (env->envid != NULL)
		rc |= buf_printf(out, "A envid=%s\n", env->envid);
	if (env->extract)
		rc |= buf_puts(out, "A flags=extract\n");
	for (i = 0; i < env->rcpts.n; i++)
		rc |= buf_printf(out, "R %s %s\n", env->notify.v[i],
		    env->rcpts.v[i]);
	rc |= buf_puts(out, "E\n");
	if (rc != 0)
		return fail(err_r, "envelope too large");
	return 0;
}

static int
parse_attr(struct sendmail_drop_env *env, const char *nv, const char **err_r)
{
	const char *eq = strchr(nv, '=');
	char name[16];
	size_t n;

	if (eq == NULL)
		return fail(err_r, "attribute without '='");
	n = (size_t)(eq - nv);
	if (n == 0 || n >= sizeof(name))
		return fail(err_r, "unknown attribute");
	memcpy(name, nv, n);
	name[n] = '\0';
	if (str_eq(name, "fullname"))
		return sendmail_drop_set_fullname(env, eq + 1, err_r);
	if (str_eq(name, "ret"))
		return sendmail_drop_set_ret(env, eq + 1, err_r);
	if (str_eq(name, "envid"))
		return sendmail_drop_set_envid(env, eq + 1, err_r);
	if (str_eq(name, "flags")) {
		if (env->extract)
			return fail(err_r, "flags given twice");
		if (!str_eq(eq + 1, "extract"))
			return fail(err_r, "bad flags value");
		env->extract = true;
		return 0;
	}
	return fail(err_r, "unknown attribute");
}

int
sendmail_drop_parse_line(struct sendmail_drop_env *env, const char *line,
    size_t len, const char **err_r)
{
	const char *sp;
	char *notify;
	int rc;

	if (env->ended)
		return fail(err_r, "envelope record after end");
	if (len > SENDMAIL_DROP_LINE_MAX)
		return fail(err_r, "envelope line too long");
	if (memchr(line, '\0', len) != NULL)
		return fail(err_r, "NUL in envelope");
	if (len == 1 && line[0] == 'E') {
		if (env->sender == NULL)
			return fail(err_r, "no sender");
		if (env->rcpts.n == 0 && !env->extract)
			return fail(err_r, "no recipients specified");
		env->ended = true;
		return 0;
	}
	if (len < 2 || line[1] != ' ')
		return fail(err_r, "bad envelope record");
	if (line[0] != 'S' && env->sender == NULL)
		return fail(err_r, "envelope does not start with the sender");
	switch (line[0]) {
	case 'S':
		return sendmail_drop_set_sender(env, line + 2, err_r);
	case 'A':
		if (env->rcpts.n > 0)
			return fail(err_r, "attribute after recipients");
		return parse_attr(env, line + 2, err_r);
	case 'R':
		sp = strchr(line + 2, ' ');
		if (sp == NULL || sp == line + 2)
			return fail(err_r, "recipient without notify field");
		notify = xstrndup(line + 2, (size_t)(sp - (line + 2)));
		rc = sendmail_drop_add_rcpt(env, sp + 1, notify, err_r);
		free(notify);
		if (rc == -1 && *err_r == NULL)
			*err_r = "bad recipient";
		return rc;
	}
	*err_r = str_fmt_buf(sendmail_drop_err, sizeof(sendmail_drop_err),
	    "unknown envelope record '%c'", line[0] >= 0x21 &&
	    line[0] < 0x7f ? line[0] : '?');
	return -1;
}
