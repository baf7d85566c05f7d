/* SPDX-License-Identifier: MIT */
/*
 * sendmail -bs: the SMTP dialogue engine; see sendmail_smtp.h.  A command
 * table names each verb, its handler and the states in which it is legal
 * (RFC 5321 §4.1.4: MAIL starts a transaction, RCPT needs MAIL, DATA
 * needs RCPT; RSET, NOOP, VRFY, HELO/EHLO and QUIT are legal anywhere).
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"

#include "addr.h"

#include "sendmail_drop.h"
#include "sendmail_smtp.h"

enum smtp_state {
	SMTP_IDLE,		/* no transaction */
	SMTP_MAIL,		/* MAIL given */
	SMTP_RCPT,		/* at least one RCPT accepted */
};

#define S(x)	(1u << (x))
#define S_ANY	(S(SMTP_IDLE) | S(SMTP_MAIL) | S(SMTP_RCPT))

struct smtp_sess {
	FILE		*in;
	FILE		*out;
	const struct sendmail_smtp_cfg *cfg;
	enum smtp_state	 state;
	struct sendmail_drop_env env;
	struct buf	 line;
	bool		 quit;
	bool		 eof;		/* input ended */
};

struct smtp_cmd {
	const char	*verb;
	void		(*fn)(struct smtp_sess *s, const char *arg);
	unsigned	 legal;
	const char	*illegal;	/* reply when not legal */
};

static void
reply(struct smtp_sess *s, const char *text)
{
	fprintf(s->out, "%s\r\n", text);
	fflush(s->out);
}

/*
 * Reads one line into s->line without its LF (and CR before it).  Returns
 * 1 for a line, 0 at end of input, -1 for a line longer than max (the
 * rest of it is read and dropped).
 */
static int
read_line(struct smtp_sess *s, size_t max)
{
	bool too_long = false;
	int c;

	buf_reset(&s->line);
	while ((c = getc(s->in)) != EOF && c != '\n') {
		if (too_long)
			continue;
		if (s->line.len >= max || buf_putc(&s->line, (char)c) == -1)
			too_long = true;
	}
	if (c == EOF && s->line.len == 0 && !too_long)
		return 0;
	if (too_long)
		return -1;
	if (s->line.len > 0 && s->line.data[s->line.len - 1] == '\r')
		buf_truncate(&s->line, s->line.len - 1);
	return 1;
}

static void
txn_reset(struct smtp_sess *s)
{
	sendmail_drop_env_deinit(&s->env);
	sendmail_drop_env_init(&s->env);
	s->state = SMTP_IDLE;
}

static void
cmd_helo(struct smtp_sess *s, const char *arg)
{
	char text[300];

	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	txn_reset(s);
	str_fmt_buf(text, sizeof(text), "250 %s", s->cfg->hostname);
	reply(s, text);
}

static void
cmd_ehlo(struct smtp_sess *s, const char *arg)
{
	char text[300];

	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: EHLO hostname");
		return;
	}
	txn_reset(s);
	str_fmt_buf(text, sizeof(text), "250-%s", s->cfg->hostname);
	reply(s, text);
	reply(s, "250-PIPELINING");
	if (s->cfg->size_limit > 0) {
		str_fmt_buf(text, sizeof(text), "250-SIZE %zu",
		    s->cfg->size_limit);
		reply(s, text);
	}
	reply(s, "250-8BITMIME");
	reply(s, "250 ENHANCEDSTATUSCODES");
}

/* "FROM:" / "TO:" prefix, case-insensitive; returns what follows. */
static const char *
after_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(arg, kw, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')	/* Postfix tolerates "FROM: <a>" */
		arg++;
	return arg;
}

/* MAIL parameters (RFC 5321 §4.1.1.11): SIZE= (RFC 1870), BODY= (6152). */
static bool
mail_params(struct smtp_sess *s, const char *p)
{
	char word[SENDMAIL_SMTP_CMD_MAX];
	const char *err;
	long long size;
	size_t n;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return true;
		n = strcspn(p, " ");
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (strncasecmp(word, "SIZE=", 5) == 0) {
			if (str_to_ll(word + 5, 0, LLONG_MAX, &size,
			    &err) == -1 || word[5] == '-' || word[5] == '+') {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				return false;
			}
			if (s->cfg->size_limit > 0 &&
			    (unsigned long long)size > s->cfg->size_limit) {
				reply(s, "552 5.3.4 Message size exceeds "
				    "fixed limit");
				return false;
			}
		} else if (str_eq_ci(word, "BODY=7BIT") ||
		    str_eq_ci(word, "BODY=8BITMIME")) {
			continue;
		} else {
			reply(s, "555 5.5.4 Unsupported option");
			return false;
		}
	}
}

static void
cmd_mail(struct smtp_sess *s, const char *arg)
{
	struct addr_path path;
	const char *p, *err;
	char text[320];
	size_t end;
	struct buf addr;

	p = after_keyword(arg, "FROM:");
	if (p == NULL) {
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (addr_parse_path(p, strlen(p), ADDR_MAIL_FROM | ADDR_SMTPUTF8,
	    &path, &end, &err) == -1) {
		str_fmt_buf(text, sizeof(text), "501 5.1.7 Bad sender "
		    "address syntax: %s", err);
		reply(s, text);
		return;
	}
	if (p[end] != '\0' && p[end] != ' ') {
		addr_path_deinit(&path);
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (!mail_params(s, p + end)) {
		addr_path_deinit(&path);
		return;
	}
	buf_init(&addr, SENDMAIL_DROP_LINE_MAX);
	if (!path.null)
		buf_addf(&addr, "%s@%s", path.local, path.domain);
	addr_path_deinit(&path);
	if (sendmail_drop_set_sender(&s->env, buf_cstr(&addr), &err) == -1) {
		str_fmt_buf(text, sizeof(text), "501 5.1.7 Bad sender "
		    "address: %s", err);
		reply(s, text);
	} else {
		s->state = SMTP_MAIL;
		reply(s, "250 2.1.0 Ok");
	}
	buf_deinit(&addr);
}

static void
cmd_rcpt(struct smtp_sess *s, const char *arg)
{
	struct addr_path path;
	const char *p, *err;
	char text[320];
	size_t end;
	struct buf addr;

	p = after_keyword(arg, "TO:");
	if (p == NULL) {
		reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (addr_parse_path(p, strlen(p), ADDR_RCPT_TO | ADDR_SMTPUTF8,
	    &path, &end, &err) == -1) {
		str_fmt_buf(text, sizeof(text), "501 5.1.3 Bad recipient "
		    "address syntax: %s", err);
		reply(s, text);
		return;
	}
	buf_init(&addr, SENDMAIL_DROP_LINE_MAX);
	if (*path.domain != '\0')
		buf_addf(&addr, "%s@%s", path.local, path.domain);
	else
		buf_adds(&addr, path.local);
	addr_path_deinit(&path);
	while (p[end] == ' ')
		end++;
	if (p[end] != '\0') {
		reply(s, "555 5.5.4 Unsupported option");
	} else if (s->env.rcpts.n >= SENDMAIL_DROP_RCPT_MAX) {
		reply(s, "452 4.5.3 Error: too many recipients");
	} else if (sendmail_drop_add_rcpt(&s->env, buf_cstr(&addr), NULL,
	    &err) == -1) {
		str_fmt_buf(text, sizeof(text), "501 5.1.3 Bad recipient "
		    "address: %s", err);
		reply(s, text);
	} else {
		s->state = SMTP_RCPT;
		reply(s, "250 2.1.5 Ok");
	}
	buf_deinit(&addr);
}

/* RFC 5321 §4.5.2: a leading dot is removed; "." alone ends the data. */
static void
cmd_data(struct smtp_sess *s, const char *arg)
{
	size_t limit = s->cfg->size_limit;
	struct buf content;
	const char *line, *err;
	char text[320];
	bool too_big = false;
	size_t len;
	int rc;

	if (*arg != '\0') {
		reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	buf_init(&content, limit > 0 ? limit : 0);
	for (;;) {
		rc = read_line(s, limit > 0 ? limit + 2 : BUF_MAX_DEFAULT);
		if (rc == 0) {
			/* No end of data: nothing is queued (§4.1.1.4). */
			s->eof = true;
			buf_deinit(&content);
			return;
		}
		if (rc == -1) {
			too_big = true;
			continue;
		}
		line = buf_cstr(&s->line);
		len = s->line.len;
		if (len == 1 && line[0] == '.')
			break;
		if (len > 0 && line[0] == '.') {
			line++;
			len--;
		}
		if (too_big)
			continue;
		if (buf_append(&content, line, len) == -1 ||
		    buf_putc(&content, '\n') == -1)
			too_big = true;
	}
	if (too_big) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
	} else if (s->cfg->deliver(&s->env, &content, s->cfg->ctx,
	    &err) == -1) {
		str_fmt_buf(text, sizeof(text), "451 4.3.0 Error: %s", err);
		reply(s, text);
	} else {
		reply(s, "250 2.0.0 Ok: queued");
	}
	buf_deinit(&content);
	txn_reset(s);
}

static void
cmd_rset(struct smtp_sess *s, const char *arg)
{
	(void)arg;
	txn_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct smtp_sess *s, const char *arg)
{
	(void)arg;
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_vrfy(struct smtp_sess *s, const char *arg)
{
	if (*arg == '\0')
		reply(s, "501 5.5.4 Syntax: VRFY address");
	else
		reply(s, "252 2.0.0 Cannot VRFY user, but will accept "
		    "message");
}

static void
cmd_quit(struct smtp_sess *s, const char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	s->quit = true;
}

static const struct smtp_cmd smtp_cmds[] = {
	/* verb		handler		legal in		*/
	{ "HELO",	cmd_helo,	S_ANY,	NULL },
	{ "EHLO",	cmd_ehlo,	S_ANY,	NULL },
	{ "MAIL",	cmd_mail,	S(SMTP_IDLE),
	    "503 5.5.1 Error: nested MAIL command" },
	{ "RCPT",	cmd_rcpt,	S(SMTP_MAIL) | S(SMTP_RCPT),
	    "503 5.5.1 Error: need MAIL command" },
	{ "DATA",	cmd_data,	S(SMTP_RCPT),
	    NULL },
	{ "RSET",	cmd_rset,	S_ANY,	NULL },
	{ "NOOP",	cmd_noop,	S_ANY,	NULL },
	{ "VRFY",	cmd_vrfy,	S_ANY,	NULL },
	{ "QUIT",	cmd_quit,	S_ANY,	NULL },
	{ NULL,		NULL,		0,	NULL },
};

static void
command(struct smtp_sess *s)
{
	const struct smtp_cmd *c;
	const char *line = buf_cstr(&s->line), *arg;
	size_t n;

	if (buf_has_nul(&s->line) ||
	    !sendmail_drop_valid_text(line, s->line.len)) {
		reply(s, "500 5.5.2 Error: bad characters in command");
		return;
	}
	n = strcspn(line, " ");
	arg = line + n;
	while (*arg == ' ')
		arg++;
	for (c = smtp_cmds; c->verb != NULL; c++) {
		if (n != strlen(c->verb) || strncasecmp(line, c->verb, n) != 0)
			continue;
		if ((c->legal & S(s->state)) == 0) {
			if (c->illegal != NULL)
				reply(s, c->illegal);
			else if (s->state == SMTP_IDLE)
				reply(s, "503 5.5.1 Error: need MAIL command");
			else
				reply(s, "503 5.5.1 Error: need RCPT command");
			return;
		}
		c->fn(s, arg);
		return;
	}
	if (n == 0)
		reply(s, "500 5.5.2 Error: bad syntax");
	else
		reply(s, "502 5.5.2 Error: command not recognized");
}

int
sendmail_smtp_run(FILE *in, FILE *out, const struct sendmail_smtp_cfg *cfg)
{
	struct smtp_sess s = { .in = in, .out = out, .cfg = cfg };
	char text[300];
	int rc;

	sendmail_drop_env_init(&s.env);
	buf_init(&s.line, SENDMAIL_SMTP_CMD_MAX);
	str_fmt_buf(text, sizeof(text), "220 %s ESMTP tern", cfg->hostname);
	reply(&s, text);
	while (!s.quit && !s.eof && !ferror(out)) {
		rc = read_line(&s, SENDMAIL_SMTP_CMD_MAX - 2);
		if (rc == 0) {
			s.eof = true;
			break;
		}
		if (rc == -1) {
			reply(&s, "500 5.5.2 Error: line too long");
			continue;
		}
		command(&s);
	}
	rc = ferror(out) ? -1 : s.quit ? 0 : 1;
	sendmail_drop_env_deinit(&s.env);
	buf_deinit(&s.line);
	return rc;
}
