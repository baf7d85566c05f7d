/* SPDX-License-Identifier: MIT */
/*
 * authd's users file: the passwd-file parser, the table that follows the
 * file's changes, and the crypt(3) password check; see authd_passwd.h.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "auth_client.h"

#include "authd_passwd.h"

#define PASSWD_FIELDS	8

struct passwd_slot {
	struct authd_passwd_entry e;
	size_t		 line;
};

struct authd_passwd {
	char		*path;
	char		*data;		/* the file's bytes, cut into fields */
	size_t		 data_len;
	struct passwd_slot *slots;	/* sorted by name, case-folded */
	size_t		 n;
	bool		 loaded;	/* the identity below is valid */
	bool		 warned_missing;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	struct timespec	 ctime;
};

static char passwd_errbuf[256];

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

static unsigned char
fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
name_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x != '\0' && fold(*x) == fold(*y))
		x++, y++;
	return (int)fold(*x) - (int)fold(*y);
}

bool
authd_passwd_name_valid(const char *name, const char **err_r)
{
	size_t len = strlen(name);

	if (len == 0) {
		*err_r = "empty name";
		return false;
	}
	if (len > AUTH_FIELD_MAX) {
		*err_r = "name too long";
		return false;
	}
	if (name[0] == '#') {
		*err_r = "name starts with '#'";
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0';
	    p++) {
		if (*p == ':') {
			*err_r = "':' in name";
			return false;
		}
		if (*p <= ' ' || *p == 0x7f) {
			*err_r = "white space or control character in name";
			return false;
		}
	}
	return true;
}

/* Scheme prefixes and the crypt(3) methods each accepts. */
static const struct {
	const char	*scheme;
	const char	*prefixes[3];	/* NULL: any crypt(3) method */
} passwd_schemes[] = {
	{ "CRYPT",		{ NULL } },
	{ "SHA512-CRYPT",	{ "$6$", NULL } },
	{ "SHA256-CRYPT",	{ "$5$", NULL } },
	{ "BLF-CRYPT",		{ "$2y$", "$2b$", "$2a$" } },
	{ "YESCRYPT",		{ "$y$", NULL } },
};

/* Strips and checks the {SCHEME}; returns the bare hash or NULL. */
static const char *
hash_field(const char *field, const char **err_r)
{
	const char *hash = field, *end;
	size_t slen = 0, k = 0;
	int chk;

	if (field[0] == '{') {
		if ((end = strchr(field, '}')) == NULL) {
			*err_r = "unterminated {SCHEME}";
			return NULL;
		}
		slen = (size_t)(end - field - 1);
		for (k = 0; k < sizeof(passwd_schemes) /
		    sizeof(passwd_schemes[0]); k++)
			if (strlen(passwd_schemes[k].scheme) == slen &&
			    strncasecmp(field + 1, passwd_schemes[k].scheme,
			    slen) == 0)
				break;
		if (k == sizeof(passwd_schemes) / sizeof(passwd_schemes[0])) {
			*err_r = "unsupported password scheme";
			return NULL;
		}
		hash = end + 1;
	}
	if (hash[0] == '\0') {
		*err_r = "empty password hash";
		return NULL;
	}
	if (!str_is_printable(hash, strlen(hash)) || strchr(hash, ' ')) {
		*err_r = "bad character in password hash";
		return NULL;
	}
	if (passwd_schemes[k].prefixes[0] != NULL) {
		bool ok = false;

		for (size_t i = 0; i < 3 && passwd_schemes[k].prefixes[i];
		    i++)
			if (str_has_prefix(hash, passwd_schemes[k].prefixes[i]))
				ok = true;
		if (!ok) {
			*err_r = "hash does not match its {SCHEME}";
			return NULL;
		}
	}
	chk = crypt_checksalt(hash);
	if (chk != CRYPT_SALT_OK && chk != CRYPT_SALT_METHOD_LEGACY) {
		*err_r = "locked, invalid or disabled password hash";
		return NULL;
	}
	return hash;
}

static int
id_field(const char *s, bool *has_r, unsigned long long *v_r,
    const char **err_r)
{
	long long v;
	const char *err;

	*has_r = false;
	if (s == NULL || s[0] == '\0')
		return 0;
	/* str_to_ll takes a sign; an ID does not. */
	if (s[0] < '0' || s[0] > '9' ||
	    str_to_ll(s, 1, (long long)UINT32_MAX - 1, &v, &err) == -1)
		return fail(err_r, "uid/gid not a number in 1..4294967294");
	*has_r = true;
	*v_r = (unsigned long long)v;
	return 0;
}

int
authd_passwd_parse_line(char *line, size_t len,
    struct authd_passwd_entry *e_r, const char **err_r)
{
	char *f[PASSWD_FIELDS] = { NULL };
	unsigned long long id = 0;
	const char *p;
	size_t nf = 0;
	char *s;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len) != NULL)
		return fail(err_r, "NUL byte in line");
	line[len] = '\0';
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	if (memchr(line, '\r', len) != NULL)
		return fail(err_r, "CR in line");
	/* The last field (extra) keeps any further ':'. */
	for (s = line; nf < PASSWD_FIELDS; nf++) {
		f[nf] = s;
		if (nf == PASSWD_FIELDS - 1 || (s = strchr(s, ':')) == NULL) {
			nf++;
			break;
		}
		*s++ = '\0';
	}
	if (!authd_passwd_name_valid(f[0], err_r))
		return -1;
	if (nf < 2)
		return fail(err_r, "missing password field");
	memset(e_r, 0, sizeof(*e_r));
	e_r->name = f[0];
	if ((e_r->hash = hash_field(f[1], err_r)) == NULL)
		return -1;
	if (id_field(f[2], &e_r->has_uid, &id, err_r) == -1)
		return -1;
	e_r->uid = (uid_t)id;
	if (id_field(f[3], &e_r->has_gid, &id, err_r) == -1)
		return -1;
	e_r->gid = (gid_t)id;
	e_r->home = f[5] != NULL ? f[5] : "";
	if (e_r->home[0] != '\0' && e_r->home[0] != '/')
		return fail(err_r, "home is not an absolute path");
	return 1;
}

/*
 * Checking passwords.
 */

static struct crypt_data *passwd_cd;

bool
authd_passwd_check_hash(const char *hash, const char *password)
{
	size_t hlen = strlen(hash);
	const char *out;
	bool ok;

	if (passwd_cd == NULL)
		passwd_cd = xcalloc(1, sizeof(*passwd_cd));
	out = crypt_rn(password, hash, passwd_cd, sizeof(*passwd_cd));
	ok = out != NULL && out[0] != '*' && strlen(out) == hlen &&
	    CRYPTO_memcmp(out, hash, hlen) == 0;
	/* SECURITY: the work area holds the password and its hash. */
	explicit_bzero(passwd_cd, sizeof(*passwd_cd));
	return ok;
}

void
authd_passwd_dummy_check(const char *password)
{
	static char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	/* What tern user writes, so both cost the same. */
	if (setting[0] == '\0' &&
	    crypt_gensalt_rn("$y$", 0, NULL, 0, setting,
	    sizeof(setting)) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, setting,
	    sizeof(setting)) == NULL)
		fatal("crypt_gensalt: %s", strerror(errno));
	(void)authd_passwd_check_hash(setting, password);
}

/*
 * The table.
 */

struct authd_passwd *
authd_passwd_new(const char *path)
{
	struct authd_passwd *p = xcalloc(1, sizeof(*p));

	p->path = xstrdup(path);
	return p;
}

static void
table_clear(struct authd_passwd *p)
{
	if (p->data != NULL) {
		explicit_bzero(p->data, p->data_len);
		free(p->data);
	}
	free(p->slots);
	p->data = NULL;
	p->data_len = 0;
	p->slots = NULL;
	p->n = 0;
}

void
authd_passwd_free(struct authd_passwd **pp)
{
	struct authd_passwd *p = *pp;

	if (p == NULL)
		return;
	table_clear(p);
	free(p->path);
	free(p);
	*pp = NULL;
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct passwd_slot *x = a, *y = b;
	int c = name_cmp(x->e.name, y->e.name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Takes ownership of data (len bytes, with room for one more). */
static size_t
load_owned(struct authd_passwd *p, char *data, size_t len, const char *fname)
{
	size_t cap = 0, n = 0, lineno = 0, keep;
	struct passwd_slot *slots = NULL;
	char *line = data, *end = data + len, *nl;
	const char *err;
	char *esc;

	table_clear(p);
	p->data = data;
	p->data_len = len + 1;
	data[len] = '\0';
	while (line < end) {
		struct authd_passwd_entry e;
		size_t llen;
		int rc;

		lineno++;
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = (nl != NULL ? nl : end) - line;
		if (llen > AUTHD_PASSWD_LINE_MAX) {
			rc = -1;
			err = "line too long";
		} else {
			rc = authd_passwd_parse_line(line, llen, &e, &err);
		}
		if (rc == -1) {
			esc = log_escape_str(fname);
			log_warn("%s, line %zu: %s; line ignored", esc, lineno,
			    err);
			free(esc);
		} else if (rc == 1) {
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				slots = xreallocarray(slots, cap,
				    sizeof(*slots));
			}
			slots[n].e = e;
			slots[n].line = lineno;
			n++;
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (n > 1)
		qsort(slots, n, sizeof(*slots), slot_cmp);
	/* Duplicates: the first line wins. */
	for (size_t i = keep = 0; i < n; i++) {
		if (keep > 0 && name_cmp(slots[keep - 1].e.name,
		    slots[i].e.name) == 0) {
			esc = log_escape_str(fname);
			log_warn("%s, line %zu: user already defined on line "
			    "%zu; line ignored", esc, slots[i].line,
			    slots[keep - 1].line);
			free(esc);
			continue;
		}
		slots[keep++] = slots[i];
	}
	p->slots = slots;
	p->n = keep;
	return keep;
}

size_t
authd_passwd_load_buf(struct authd_passwd *p, const char *data, size_t len,
    const char *fname)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	p->loaded = false;
	return load_owned(p, copy, len, fname);
}

static bool
same_file(const struct authd_passwd *p, const struct stat *st)
{
	return p->loaded && p->dev == st->st_dev && p->ino == st->st_ino &&
	    p->size == st->st_size &&
	    p->mtime.tv_sec == st->st_mtim.tv_sec &&
	    p->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	    p->ctime.tv_sec == st->st_ctim.tv_sec &&
	    p->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static int
load_file(struct authd_passwd *p, const char **err_r)
{
	struct stat st;
	size_t got = 0;
	char *data;
	ssize_t r = 0;
	int fd;

	/* O_NONBLOCK: a FIFO in its place must not hang the daemon. */
	fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT) {
			if (!p->warned_missing)
				log_warn("users file %s does not exist",
				    p->path);
			p->warned_missing = true;
			table_clear(p);
			p->loaded = false;
			return 0;
		}
		return fail(err_r, str_fmt_buf(passwd_errbuf,
		    sizeof(passwd_errbuf), "open %s: %s", p->path,
		    strerror(errno)));
	}
	p->warned_missing = false;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > AUTHD_PASSWD_FILE_MAX) {
		close(fd);
		return fail(err_r, str_fmt_buf(passwd_errbuf,
		    sizeof(passwd_errbuf), "%s: not a regular file of at "
		    "most %zu bytes", p->path, AUTHD_PASSWD_FILE_MAX));
	}
	if (same_file(p, &st)) {
		close(fd);
		return 0;
	}
	/* Exactly sized, so that no stray copy of a hash is left behind. */
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		explicit_bzero(data, got);
		free(data);
		return fail(err_r, str_fmt_buf(passwd_errbuf,
		    sizeof(passwd_errbuf), "read %s: %s", p->path,
		    r == -1 ? strerror(errno) : "file changed while read"));
	}
	(void)load_owned(p, data, got, p->path);
	p->loaded = true;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	p->mtime = st.st_mtim;
	p->ctime = st.st_ctim;
	return 0;
}

int
authd_passwd_lookup(struct authd_passwd *p, const char *name,
    const struct authd_passwd_entry **e_r, const char **err_r)
{
	struct stat st;
	size_t lo = 0, hi;

	/* Cheap enough per login; the file is re-read only on change. */
	if (p->path[0] != '\0' &&
	    (stat(p->path, &st) == -1 || !same_file(p, &st)) &&
	    load_file(p, err_r) == -1)
		return -1;
	hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(name, p->slots[mid].e.name);

		if (c == 0) {
			*e_r = &p->slots[mid].e;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}
