/* diag.c - see diag.h. */
#include <sys/types.h>

#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "diag.h"

/* "did you mean" only for near misses: a typo or two, not another word. */
#define SUGGEST_DISTANCE_MAX	2
/* Longest word compared; config keys are short. */
#define SUGGEST_WORD_MAX	64

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
diag_free(struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

static void
diag_add(struct diag *, int, const char *, int, const char *, const char *,
    const char *, va_list) __attribute__((format(printf, 7, 0)));

static void
diag_add(struct diag *d, int is_error, const char *file, int line,
    const char *group, const char *key, const char *fmt, va_list ap)
{
	char	 where[64], what[1024], scope[256];
	char	*msg, **v;

	where[0] = '\0';
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	scope[0] = '\0';
	if (group != NULL && key != NULL)
		snprintf(scope, sizeof(scope), "[%s] %s: ", group, key);
	else if (group != NULL)
		snprintf(scope, sizeof(scope), "[%s]: ", group);
	else if (key != NULL)
		snprintf(scope, sizeof(scope), "%s: ", key);
	vsnprintf(what, sizeof(what), fmt, ap);

	if (asprintf(&msg, "%s%s: %s%s%s", file != NULL ? file : "(config)",
	    where, is_error ? "" : "warning: ", scope, what) == -1)
		abort();
	v = reallocarray(d->msgs, d->n + 1, sizeof(*v));
	if (v == NULL)
		abort();
	d->msgs = v;
	d->msgs[d->n++] = msg;
	if (is_error)
		d->nerrors++;
}

void
diag_error(struct diag *d, const char *file, int line, const char *group,
    const char *key, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_add(d, 1, file, line, group, key, fmt, ap);
	va_end(ap);
}

void
diag_warning(struct diag *d, const char *file, int line, const char *group,
    const char *key, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_add(d, 0, file, line, group, key, fmt, ap);
	va_end(ap);
}

/*
 * One logical line of a key file, without leading blanks: [s, e).  GKeyFile
 * has no continuation lines, so a physical line is a logical one.
 */
static int
line_is_group(const char *s, const char *e, const char *group)
{
	size_t	glen = strlen(group);

	if (s == e || *s != '[')
		return 0;
	s++;
	if ((size_t)(e - s) < glen + 1 || strncmp(s, group, glen) != 0)
		return 0;
	return s[glen] == ']';
}

static int
line_is_any_group(const char *s, const char *e)
{
	return s < e && *s == '[';
}

static int
line_is_key(const char *s, const char *e, const char *key)
{
	size_t	klen = strlen(key);

	if ((size_t)(e - s) < klen || strncmp(s, key, klen) != 0)
		return 0;
	s += klen;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s < e && *s == '=';
}

/*
 * GKeyFile merges a group written twice and keeps the last value of a key
 * written twice, so the line that counts is the last one.
 */
static int
scan(const char *text, const char *group, const char *key)
{
	const char	*s, *e, *nl;
	int		 lineno = 0, found = 0, in_group = 0;

	if (text == NULL)
		return 0;
	for (s = text; *s != '\0'; s = nl + 1) {
		lineno++;
		nl = strchr(s, '\n');
		if (nl == NULL)
			nl = s + strlen(s);
		e = nl;
		if (e > s && e[-1] == '\r')
			e--;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (line_is_any_group(s, e)) {
			in_group = line_is_group(s, e, group);
			if (in_group && key == NULL)
				return lineno;
		} else if (in_group && key != NULL && line_is_key(s, e, key))
			found = lineno;
		if (*nl == '\0')
			break;
	}
	return found;
}

int
conf_key_line(const char *text, const char *group, const char *key)
{
	return scan(text, group, key);
}

int
conf_group_line(const char *text, const char *group)
{
	return scan(text, group, NULL);
}

static int
edit_distance(const char *a, const char *b)
{
	int	 row[SUGGEST_WORD_MAX + 1];
	size_t	 la = strlen(a), lb = strlen(b), i, j;
	int	 diag, up, cost;

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return SUGGEST_DISTANCE_MAX + 1;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			row[j] = diag + cost;
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

const char *
conf_suggest(const char *word, const char *const *known)
{
	const char	*best = NULL;
	int		 bestd = SUGGEST_DISTANCE_MAX + 1, dist;

	for (; *known != NULL; known++) {
		dist = edit_distance(word, *known);
		if (dist < bestd) {
			bestd = dist;
			best = *known;
		}
	}
	return best;
}

int
conf_parse_bool(const char *text, int *out)
{
	if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0)
		*out = 1;
	else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

char *
conf_home_dir(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;
	char		*s;

	if (home == NULL || *home != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
	}
	if ((s = strdup(home)) == NULL)
		abort();
	return s;
}

char *
conf_path_resolve(const char *dir, const char *value)
{
	char	*home, *s;
	int	 r;

	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0')) {
		home = conf_home_dir();
		r = asprintf(&s, "%s%s", home, value + 1);
		free(home);
	} else if (value[0] == '/' || dir == NULL)
		r = asprintf(&s, "%s", value);
	else
		r = asprintf(&s, "%s/%s", dir, value);
	if (r == -1)
		abort();
	return s;
}
