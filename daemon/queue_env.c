/*
 * queue_env.c - the envelope of a queued message, ID.env, and its JSON:
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
 * of a message.  The files themselves are queue.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "smtp_limits.h"
#include "queue.h"
#include "queue_private.h"
#include "smtp_parse.h"

#define QUEUE_ENV_VERSION	1
/* Sanity bounds for envelope numbers; a retry schedule never gets near. */
#define QUEUE_ATTEMPTS_MAX	1000000

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
char *
queue_clean_text(const char *s, size_t len, size_t max)
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
	if ((c = queue_clean_text(s, strlen(s), SIZE_MAX)) == NULL)
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
	if (!queue_valid_id(m->id) || m->from == NULL ||
	    !valid_addr(m->from, 1) || m->nrcpt == 0 || m->size > INT64_MAX ||
	    m->created < 0 || m->next_attempt < 0 ||
	    m->attempts > QUEUE_ATTEMPTS_MAX) {
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
	bad |= set(o, "delay_warned", json_boolean(m->delay_warned));
	s = bad ? NULL : json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	if (s == NULL)
		errno = ENOMEM;
	return s;
}

static const char *const env_keys[] = {
	"version", "id", "state", "from", "rcpt", "body_8bitmime", "smtputf8",
	"size", "created", "attempts", "next_attempt", "last_error", "subject",
	"delay_warned",
};

static int
get_int(json_t *o, const char *key, json_int_t max, json_int_t *out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		queue_seterr(err, errlen, "\"%s\": %s", key,
		    v == NULL ? "missing" : "not an integer");
		return -1;
	}
	*out = json_integer_value(v);
	if (*out < 0 || *out > max) {
		queue_seterr(err, errlen, "\"%s\": %lld out of range", key,
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
		queue_seterr(err, errlen, "\"%s\": %s", key,
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
		queue_seterr(err, errlen, "\"%s\": %s", key,
		    v == NULL ? "missing" : nullable ? "not a string or null" :
		    "not a string");
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v) ||
	    strpbrk(*out, "\r\n") != NULL) {
		queue_seterr(err, errlen, "\"%s\": line break or NUL in the "
		    "string", key);
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
		queue_seterr(err, errlen, "not a JSON object");
		return -1;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++)
			if (strcmp(key, env_keys[i]) == 0)
				break;
		if (i == sizeof(env_keys) / sizeof(env_keys[0])) {
			queue_seterr(err, errlen, "unknown key \"%.64s\"", key);
			return -1;
		}
	}

	if (get_int(root, "version", INT32_MAX, &x, err, errlen) == -1)
		return -1;
	if (x != QUEUE_ENV_VERSION) {
		queue_seterr(err, errlen, "\"version\": %lld, this roamsmtpd "
		    "reads version %d", (long long)x, QUEUE_ENV_VERSION);
		return -1;
	}
	if (get_str(root, "id", 0, &s, err, errlen) == -1)
		return -1;
	if (!queue_valid_id(s)) {
		queue_seterr(err, errlen, "\"id\": not %d lowercase hex digits",
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
		queue_seterr(err, errlen,
		    "\"state\": not \"queued\" or \"failed\"");
		return -1;
	}

	if (get_str(root, "from", 0, &s, err, errlen) == -1)
		return -1;
	if (!valid_addr(s, 1)) {
		queue_seterr(err, errlen, "\"from\": not a valid address");
		return -1;
	}
	if ((m->from = strdup(s)) == NULL)
		goto nomem;
	rc = json_object_get(root, "rcpt");
	if (!json_is_array(rc) || json_array_size(rc) == 0) {
		queue_seterr(err, errlen, "\"rcpt\": %s",
		    rc == NULL ? "missing" : "not a non-empty array");
		return -1;
	}
	json_array_foreach(rc, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !valid_addr(json_string_value(v), 0)) {
			queue_seterr(err, errlen,
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
	/* Added later: absent in older envelopes. */
	if (json_object_get(root, "delay_warned") != NULL &&
	    get_bool(root, "delay_warned", &m->delay_warned, err,
	    errlen) == -1)
		return -1;
	return 0;
nomem:
	queue_seterr(err, errlen, "out of memory");
	return -1;
}

struct qmsg *
qmsg_from_json(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*root;
	struct qmsg	*m;

	queue_seterr(err, errlen, "ok");
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		queue_seterr(err, errlen, "not JSON: %s at line %d", je.text,
		    je.line);
		return NULL;
	}
	if ((m = qmsg_new()) == NULL) {
		queue_seterr(err, errlen, "out of memory");
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
