/*
 * queue.c - the durable message queue on disk.  See queue.h for the layout
 * and the commit protocol.
 *
 * The envelope, ID.env, is JSON:
 *
 *   {"version": 1, "id": "0123456789abcdef", "state": "queued",
 *    "from": "alice@example.net", "rcpt": ["bob@example.org"],
 *    "body_8bitmime": false, "smtputf8": false, "size": 2048,
 *    "created": 1700000000, "attempts": 0, "next_attempt": 0,
 *    "last_error": null, "subject": "Lunch"}
 *
 * "state" is "queued" or "failed"; "last_error" and "subject" are strings
 * or null; times are Unix seconds.  A file that does not read back as
 * exactly this is reported and left alone: it may be someone's only copy
 * of a message.
 *
 * Every file is opened relative to the queue directory's descriptor, so a
 * queue that is renamed under a running daemon stays one queue.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "smtp_limits.h"
#include "log.h"
#include "queue.h"
#include "smtp_parse.h"
#include "util.h"

#define QUEUE_ENV_VERSION	1
/* An envelope is a few addresses of SMTP_PATH_MAX octets; even with many
 * thousands of recipients it stays far below this.  Bigger is not ours. */
#define QUEUE_ENV_MAX		(4 * 1024 * 1024)
/* The Subject kept for listings: the tray and roamsmtpctl show one line. */
#define QUEUE_SUBJECT_MAX	200
/* Headers past this are not searched for a Subject: a listing is not worth
 * reading a large message, and real header blocks are a few KiB. */
#define QUEUE_HEADER_SCAN	(64 * 1024)
/* Sanity bounds for envelope numbers; a retry schedule never gets near. */
#define QUEUE_ATTEMPTS_MAX	1000000
/* spool_begin retries this often when a random id is taken. */
#define QUEUE_ID_TRIES		8

/* "ID.msg", "ID.env" */
#define QUEUE_NAME_LEN		(QUEUE_ID_LEN + 4)

struct queue {
	char	*dir;
	int	 dirfd;		/* the queue directory, flock'ed */
	int	 tmpfd;		/* its tmp/ */
};

static int
valid_id(const char *id)
{
	size_t	i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[i] == '\0';
}

static void
file_name(char *buf, const char *id, const char *ext)
{
	snprintf(buf, QUEUE_NAME_LEN + 1, "%.*s%s", QUEUE_ID_LEN, id, ext);
}

void
queue_new_id(char id[QUEUE_ID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		b[QUEUE_ID_LEN / 2];
	size_t			got = 0, i;
	ssize_t			r;

	while (got < sizeof(b)) {
		if ((r = getrandom(b + got, sizeof(b) - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += r;
	}
	for (i = 0; i < sizeof(b); i++) {
		id[2 * i] = hex[b[i] >> 4];
		id[2 * i + 1] = hex[b[i] & 0x0f];
	}
	id[QUEUE_ID_LEN] = '\0';
}

const char *
qstate_name(enum qstate s)
{
	switch (s) {
	case QSTATE_QUEUED:
		return "queued";
	case QSTATE_FAILED:
		return "failed";
	}
	return "unknown";
}

/*
 * Envelopes
 */

struct qmsg *
qmsg_new(void)
{
	struct qmsg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->state = QSTATE_QUEUED;
	return m;
}

void
qmsg_free(struct qmsg *m)
{
	size_t	i;

	if (m == NULL)
		return;
	free(m->from);
	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->rcpt);
	free(m->last_error);
	free(m->subject);
	free(m);
}

int
qmsg_add_rcpt(struct qmsg *m, const char *rcpt)
{
	char	**r, *s;

	if ((s = strdup(rcpt)) == NULL)
		return -1;
	if ((r = reallocarray(m->rcpt, m->nrcpt + 1, sizeof(*r))) == NULL) {
		free(s);
		return -1;
	}
	m->rcpt = r;
	m->rcpt[m->nrcpt++] = s;
	return 0;
}

/*
 * A copy of s[0..n) fit for a listing and for JSON: at most max octets,
 * control characters as spaces, invalid UTF-8 as '?', a character cut at
 * the end dropped.
 */
static char *
clean_text(const char *s, size_t len, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, l, n;

	n = len < max ? len : max;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			out[o++] = ' ';
			i++;
		} else if ((l = utf8_seqlen(p + i, n - i)) > 0) {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else if ((l = utf8_seqlen(p + i, len - i)) > 0 && i + l > n) {
			break;		/* a character cut by the limit */
		} else {
			out[o++] = '?';
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

/* An address as stored: what smtp_parse_path accepts, as far as we care. */
static int
valid_addr(const char *s, int empty_ok)
{
	size_t	n = strlen(s), i, l;

	if ((n == 0 && !empty_ok) || n > SMTP_PATH_MAX)
		return 0;
	for (i = 0; i < n; i += l) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if ((l = utf8_seqlen((const unsigned char *)s + i, n - i)) == 0)
			return 0;
	}
	return 1;
}

/* Set a key; the value (possibly NULL from a failed constructor) is stolen. */
static int
set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

static json_t *
opt_text(const char *s)
{
	json_t	*v;
	char	*c;

	if (s == NULL)
		return json_null();
	if ((c = clean_text(s, strlen(s), SIZE_MAX)) == NULL)
		return NULL;
	v = json_string(c);
	free(c);
	return v;
}

char *
qmsg_to_json(const struct qmsg *m)
{
	json_t	*o, *rc;
	char	*s;
	size_t	 i;
	int	 bad = 0;

	/* Write nothing that qmsg_from_json would refuse to read back. */
	if (!valid_id(m->id) || m->from == NULL || !valid_addr(m->from, 1) ||
	    m->nrcpt == 0 || m->size > INT64_MAX || m->created < 0 ||
	    m->next_attempt < 0 || m->attempts > QUEUE_ATTEMPTS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((o = json_object()) == NULL || (rc = json_array()) == NULL) {
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < m->nrcpt; i++) {
		if (m->rcpt[i] == NULL || !valid_addr(m->rcpt[i], 0)) {
			json_decref(rc);
			json_decref(o);
			errno = EINVAL;
			return NULL;
		}
		bad |= json_array_append_new(rc, json_string(m->rcpt[i]));
	}
	bad |= set(o, "version", json_integer(QUEUE_ENV_VERSION));
	bad |= set(o, "id", json_string(m->id));
	bad |= set(o, "state", json_string(qstate_name(m->state)));
	bad |= set(o, "from", json_string(m->from));
	bad |= set(o, "rcpt", rc);
	bad |= set(o, "body_8bitmime", json_boolean(m->body_8bitmime));
	bad |= set(o, "smtputf8", json_boolean(m->smtputf8));
	bad |= set(o, "size", json_integer((json_int_t)m->size));
	bad |= set(o, "created", json_integer((json_int_t)m->created));
	bad |= set(o, "attempts", json_integer((json_int_t)m->attempts));
	bad |= set(o, "next_attempt",
	    json_integer((json_int_t)m->next_attempt));
	bad |= set(o, "last_error", opt_text(m->last_error));
	bad |= set(o, "subject", opt_text(m->subject));
	s = bad ? NULL : json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	if (s == NULL)
		errno = ENOMEM;
	return s;
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *const env_keys[] = {
	"version", "id", "state", "from", "rcpt", "body_8bitmime", "smtputf8",
	"size", "created", "attempts", "next_attempt", "last_error", "subject",
};

static int
get_int(json_t *o, const char *key, json_int_t max, json_int_t *out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		seterr(err, errlen, "\"%s\": %s", key,
		    v == NULL ? "missing" : "not an integer");
		return -1;
	}
	*out = json_integer_value(v);
	if (*out < 0 || *out > max) {
		seterr(err, errlen, "\"%s\": %lld out of range", key,
		    (long long)*out);
		return -1;
	}
	return 0;
}

static int
get_bool(json_t *o, const char *key, int *out, char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		seterr(err, errlen, "\"%s\": %s", key,
		    v == NULL ? "missing" : "not true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A string value; with nullable, null gives *out = NULL. */
static int
get_str(json_t *o, const char *key, int nullable, const char **out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		seterr(err, errlen, "\"%s\": %s", key, v == NULL ? "missing" :
		    nullable ? "not a string or null" : "not a string");
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v) ||
	    strpbrk(*out, "\r\n") != NULL) {
		seterr(err, errlen, "\"%s\": line break or NUL in the string",
		    key);
		return -1;
	}
	return 0;
}

static int
parse_env(json_t *root, struct qmsg *m, char *err, size_t errlen)
{
	const char	*key, *s;
	json_t		*v, *rc;
	json_int_t	 x;
	size_t		 i;

	if (!json_is_object(root)) {
		seterr(err, errlen, "not a JSON object");
		return -1;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++)
			if (strcmp(key, env_keys[i]) == 0)
				break;
		if (i == sizeof(env_keys) / sizeof(env_keys[0])) {
			seterr(err, errlen, "unknown key \"%.64s\"", key);
			return -1;
		}
	}

	if (get_int(root, "version", INT32_MAX, &x, err, errlen) == -1)
		return -1;
	if (x != QUEUE_ENV_VERSION) {
		seterr(err, errlen, "\"version\": %lld, this roamsmtpd reads "
		    "version %d", (long long)x, QUEUE_ENV_VERSION);
		return -1;
	}
	if (get_str(root, "id", 0, &s, err, errlen) == -1)
		return -1;
	if (!valid_id(s)) {
		seterr(err, errlen, "\"id\": not %d lowercase hex digits",
		    QUEUE_ID_LEN);
		return -1;
	}
	memcpy(m->id, s, QUEUE_ID_LEN + 1);
	if (get_str(root, "state", 0, &s, err, errlen) == -1)
		return -1;
	if (strcmp(s, "queued") == 0)
		m->state = QSTATE_QUEUED;
	else if (strcmp(s, "failed") == 0)
		m->state = QSTATE_FAILED;
	else {
		seterr(err, errlen, "\"state\": not \"queued\" or \"failed\"");
		return -1;
	}

	if (get_str(root, "from", 0, &s, err, errlen) == -1)
		return -1;
	if (!valid_addr(s, 1)) {
		seterr(err, errlen, "\"from\": not a valid address");
		return -1;
	}
	if ((m->from = strdup(s)) == NULL)
		goto nomem;
	rc = json_object_get(root, "rcpt");
	if (!json_is_array(rc) || json_array_size(rc) == 0) {
		seterr(err, errlen, "\"rcpt\": %s", rc == NULL ? "missing" :
		    "not a non-empty array");
		return -1;
	}
	json_array_foreach(rc, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !valid_addr(json_string_value(v), 0)) {
			seterr(err, errlen,
			    "\"rcpt\"[%zu]: not a valid address", i);
			return -1;
		}
		if (qmsg_add_rcpt(m, json_string_value(v)) == -1)
			goto nomem;
	}

	if (get_bool(root, "body_8bitmime", &m->body_8bitmime, err,
	    errlen) == -1 ||
	    get_bool(root, "smtputf8", &m->smtputf8, err, errlen) == -1)
		return -1;
	if (get_int(root, "size", INT64_MAX, &x, err, errlen) == -1)
		return -1;
	m->size = x;
	if (get_int(root, "created", INT64_MAX, &x, err, errlen) == -1)
		return -1;
	m->created = x;
	if (get_int(root, "attempts", QUEUE_ATTEMPTS_MAX, &x, err,
	    errlen) == -1)
		return -1;
	m->attempts = x;
	if (get_int(root, "next_attempt", INT64_MAX, &x, err, errlen) == -1)
		return -1;
	m->next_attempt = x;

	if (get_str(root, "last_error", 1, &s, err, errlen) == -1)
		return -1;
	if (s != NULL && (m->last_error = strdup(s)) == NULL)
		goto nomem;
	if (get_str(root, "subject", 1, &s, err, errlen) == -1)
		return -1;
	if (s != NULL && (m->subject = strdup(s)) == NULL)
		goto nomem;
	return 0;
nomem:
	seterr(err, errlen, "out of memory");
	return -1;
}

struct qmsg *
qmsg_from_json(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*root;
	struct qmsg	*m;

	seterr(err, errlen, "ok");
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		seterr(err, errlen, "not JSON: %s at line %d", je.text,
		    je.line);
		return NULL;
	}
	if ((m = qmsg_new()) == NULL) {
		seterr(err, errlen, "out of memory");
		json_decref(root);
		return NULL;
	}
	if (parse_env(root, m, err, errlen) == -1) {
		qmsg_free(m);
		m = NULL;
	}
	json_decref(root);
	return m;
}

/*
 * The queue directory
 */

/* tmp/ holds spools that never got their 250: they go. */
static void
clean_tmp(struct queue *q)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = openat(q->tmpfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("queue: %s/tmp", q->dir);
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(q->tmpfd, de->d_name, 0) == -1)
			log_warn("queue: %s/tmp/%s: unlink", q->dir,
			    de->d_name);
		else
			log_info("queue: %s/tmp/%s: removed an unfinished "
			    "message (it was never accepted)", q->dir,
			    de->d_name);
	}
	closedir(d);
}

struct queue *
queue_open(const char *dir, char *err, size_t errlen)
{
	struct queue	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->dir = strdup(dir)) == NULL) {
		seterr(err, errlen, "queue: out of memory");
		free(q);
		return NULL;
	}
	q->dirfd = q->tmpfd = -1;
	if (mkdir_p(dir, 0700) == -1) {
		seterr(err, errlen, "queue: cannot create %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		seterr(err, errlen, "queue: %s: %s", dir, strerror(errno));
		goto fail;
	}
	/* Two daemons on one queue would empty each other's tmp/. */
	if (flock(q->dirfd, LOCK_EX | LOCK_NB) == -1) {
		seterr(err, errlen, "queue: %s: %s", dir,
		    errno == EWOULDBLOCK ? "in use by another roamsmtpd; "
		    "stop it or give this one another state-dir" :
		    strerror(errno));
		goto fail;
	}
	if (mkdirat(q->dirfd, "tmp", 0700) == -1 && errno != EEXIST) {
		seterr(err, errlen, "queue: cannot create %s/tmp: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if ((q->tmpfd = openat(q->dirfd, "tmp", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1) {
		seterr(err, errlen, "queue: %s/tmp: %s", dir, strerror(errno));
		goto fail;
	}
	clean_tmp(q);
	return q;
fail:
	queue_close(q);
	return NULL;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->tmpfd != -1)
		close(q->tmpfd);
	if (q->dirfd != -1)
		close(q->dirfd);
	free(q->dir);
	free(q);
}

const char *
queue_dir(const struct queue *q)
{
	return q->dir;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Write m's envelope: tmp/ID.env, fsync, rename to ID.env, fsync the queue
 * directory.  Once the rename is done the new envelope is in place even if
 * the directory fsync fails; the caller decides what that means.
 */
static int
write_env(struct queue *q, const struct qmsg *m)
{
	char	 name[QUEUE_NAME_LEN + 1];
	char	*json;
	int	 fd, saved;

	if ((json = qmsg_to_json(m)) == NULL)
		return -1;
	file_name(name, m->id, ".env");
	if ((fd = openat(q->tmpfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		free(json);
		return -1;
	}
	if (write_all(fd, json, strlen(json)) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(q->tmpfd, name, 0);
		free(json);
		errno = saved;
		return -1;
	}
	free(json);
	if (close(fd) == -1 ||
	    renameat(q->tmpfd, name, q->dirfd, name) == -1) {
		saved = errno;
		unlinkat(q->tmpfd, name, 0);
		errno = saved;
		return -1;
	}
	return fsync(q->dirfd);
}

int
queue_update(struct queue *q, const struct qmsg *m)
{
	char	name[QUEUE_NAME_LEN + 1];

	if (!valid_id(m->id)) {
		errno = EINVAL;
		return -1;
	}
	/* An update must not make an envelope without a body. */
	file_name(name, m->id, ".msg");
	if (faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return write_env(q, m);
}

int
queue_remove(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];
	int	no_env = 0;

	if (!valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	/* The envelope first: a .msg alone is cleaned up at the next start. */
	file_name(name, id, ".env");
	if (unlinkat(q->dirfd, name, 0) == -1) {
		if (errno != ENOENT)
			return -1;
		no_env = 1;
	}
	file_name(name, id, ".msg");
	if (unlinkat(q->dirfd, name, 0) == -1 && (errno != ENOENT || no_env))
		return -1;	/* ENOENT when neither existed */
	return fsync(q->dirfd);
}

int
queue_open_body(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];

	if (!valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	file_name(name, id, ".msg");
	return openat(q->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/*
 * The spool
 */

static int
id_taken(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];

	file_name(name, id, ".msg");
	if (faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	file_name(name, id, ".env");
	return faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
spool_begin(struct queue *q, struct spool *sp)
{
	int	i, fd;

	sp->fd = -1;
	sp->size = 0;
	for (i = 0; i < QUEUE_ID_TRIES; i++) {
		queue_new_id(sp->id);
		if (id_taken(q, sp->id))
			continue;
		/* O_RDWR: spool_commit reads the headers back for Subject. */
		fd = openat(q->tmpfd, sp->id, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return -1;
		sp->fd = fd;
		return 0;
	}
	errno = EEXIST;
	return -1;
}

int
spool_write(struct spool *sp, const void *buf, size_t len)
{
	if (sp->fd == -1) {
		errno = EBADF;
		return -1;
	}
	if (write_all(sp->fd, buf, len) == -1)
		return -1;
	sp->size += len;
	return 0;
}

/*
 * The Subject header from the first QUEUE_HEADER_SCAN octets of the body:
 * unfolded (RFC 5322 2.2.3), trimmed, cut at QUEUE_SUBJECT_MAX octets.
 * NULL when there is none.
 */
static char *
read_subject(int fd)
{
	char	*buf, *val, *subject = NULL;
	char	*p, *end, *nl, *le;
	ssize_t	 n;
	size_t	 vlen = 0;

	if ((buf = malloc(QUEUE_HEADER_SCAN)) == NULL)
		return NULL;
	if ((n = pread(fd, buf, QUEUE_HEADER_SCAN, 0)) <= 0) {
		free(buf);
		return NULL;
	}
	val = buf;	/* the value is compacted in place, behind p */
	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (le == p)
			break;	/* the empty line ends the headers */
		if (le - p < 8 || strncasecmp(p, "Subject:", 8) != 0)
			continue;
		/* The value, then every continuation line, CRLFs removed. */
		for (p += 8; ; ) {
			memmove(val + vlen, p, le - p);
			vlen += le - p;
			if (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
				break;
			p = nl + 1;
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				nl = end;
			le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		}
		while (vlen > 0 && (*val == ' ' || *val == '\t')) {
			val++;
			vlen--;
		}
		while (vlen > 0 && (val[vlen - 1] == ' ' ||
		    val[vlen - 1] == '\t'))
			vlen--;
		subject = clean_text(val, vlen, QUEUE_SUBJECT_MAX);
		break;
	}
	free(buf);
	return subject;
}

int
spool_commit(struct queue *q, struct spool *sp, struct qmsg *m)
{
	char	msgname[QUEUE_NAME_LEN + 1], envname[QUEUE_NAME_LEN + 1];
	int	saved, renamed = 0;

	if (sp->fd == -1) {
		errno = EBADF;
		return -1;
	}
	file_name(msgname, sp->id, ".msg");
	file_name(envname, sp->id, ".env");
	if (fsync(sp->fd) == -1)
		goto fail;
	if (m->subject == NULL)
		m->subject = read_subject(sp->fd);
	saved = close(sp->fd);
	sp->fd = -1;
	if (saved == -1)
		goto fail;

	memcpy(m->id, sp->id, sizeof(m->id));
	m->size = sp->size;
	if (m->created == 0)
		m->created = time(NULL);
	if (renameat(q->tmpfd, sp->id, q->dirfd, msgname) == -1)
		goto fail;
	renamed = 1;
	if (write_env(q, m) == -1)
		goto fail;
	return 0;
fail:
	/* No 250 will be given: leave nothing behind. */
	saved = errno;
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
	unlinkat(q->tmpfd, sp->id, 0);
	if (renamed) {
		unlinkat(q->dirfd, envname, 0);
		unlinkat(q->dirfd, msgname, 0);
	}
	errno = saved;
	return -1;
}

void
spool_abort(struct queue *q, struct spool *sp)
{
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
	if (valid_id(sp->id) && unlinkat(q->tmpfd, sp->id, 0) == -1 &&
	    errno != ENOENT)
		log_warn("queue: %s/tmp/%s: unlink", q->dir, sp->id);
}

/*
 * Scanning
 */

/* Read and check one envelope; err says what is wrong with it. */
static struct qmsg *
load_env(struct queue *q, const char *id, char *err, size_t errlen)
{
	char		 name[QUEUE_NAME_LEN + 1], *buf;
	struct stat	 st, mst;
	struct qmsg	*m;
	ssize_t		 n;
	int		 fd;

	file_name(name, id, ".env");
	if ((fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > QUEUE_ENV_MAX) {
		seterr(err, errlen, "not a regular file of at most %d octets",
		    QUEUE_ENV_MAX);
		close(fd);
		return NULL;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		seterr(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		seterr(err, errlen, "short read: %s",
		    n == -1 ? strerror(errno) : "file changed");
		free(buf);
		return NULL;
	}
	m = qmsg_from_json(buf, n, err, errlen);
	free(buf);
	if (m == NULL)
		return NULL;

	if (strncmp(m->id, id, QUEUE_ID_LEN) != 0) {
		seterr(err, errlen, "id %s does not match the file name",
		    m->id);
		goto bad;
	}
	file_name(name, id, ".msg");
	if (fstatat(q->dirfd, name, &mst, AT_SYMLINK_NOFOLLOW) == -1) {
		seterr(err, errlen, "no %s beside it (%s)", name,
		    strerror(errno));
		goto bad;
	}
	if (!S_ISREG(mst.st_mode) || (uint64_t)mst.st_size != m->size) {
		seterr(err, errlen, "%s has %lld octets, the envelope says "
		    "%llu", name, (long long)mst.st_size,
		    (unsigned long long)m->size);
		goto bad;
	}
	return m;
bad:
	qmsg_free(m);
	return NULL;
}

static int
qmsg_cmp(const void *a, const void *b)
{
	const struct qmsg	*x = *(const struct qmsg *const *)a;
	const struct qmsg	*y = *(const struct qmsg *const *)b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * Called at startup, and whenever the caller knows no spool_commit() is
 * half done (the daemon is single-threaded): a .msg without .env is taken
 * for a commit that died before its 250, and removed.
 */
int
queue_scan(struct queue *q, struct qmsg ***out, size_t *n)
{
	struct qmsg	**v = NULL, **nv, *m;
	struct dirent	*de;
	DIR		*d;
	char		 id[QUEUE_ID_LEN + 1], other[QUEUE_NAME_LEN + 1];
	char		 err[256];
	size_t		 nv_len = 0, cap = 0;
	int		 fd, saved;

	*out = NULL;
	*n = 0;
	if ((fd = openat(q->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != QUEUE_NAME_LEN)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (!valid_id(id))
			continue;
		if (strcmp(de->d_name + QUEUE_ID_LEN, ".msg") == 0) {
			file_name(other, id, ".env");
			if (faccessat(q->dirfd, other, F_OK,
			    AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
				continue;
			if (unlinkat(q->dirfd, de->d_name, 0) == -1)
				log_warn("queue: %s/%s: unlink", q->dir,
				    de->d_name);
			else
				log_info("queue: %s/%s: removed, its envelope "
				    "was never written (the message was not "
				    "accepted)", q->dir, de->d_name);
			continue;
		}
		if (strcmp(de->d_name + QUEUE_ID_LEN, ".env") != 0)
			continue;
		if ((m = load_env(q, id, err, sizeof(err))) == NULL) {
			log_warnx("queue: %s/%s: %s; move it away or delete it",
			    q->dir, de->d_name, err);
			continue;
		}
		if (nv_len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				qmsg_free(m);
				goto fail;
			}
			v = nv;
		}
		v[nv_len++] = m;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (nv_len > 1)
		qsort(v, nv_len, sizeof(*v), qmsg_cmp);
	*out = v;
	*n = nv_len;
	return 0;
fail:
	saved = errno;
	closedir(d);
	while (nv_len > 0)
		qmsg_free(v[--nv_len]);
	free(v);
	errno = saved;
	return -1;
}
