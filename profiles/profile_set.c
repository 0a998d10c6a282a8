/*
 * profile_set.c - the profiles folder as a whole: every NAME.conf loaded,
 * then what only the whole set can tell (one default, fallbacks that
 * exist and do not loop, profiles never chosen).  See profile.h.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "diag.h"
#include "profile.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_profile_file(const char *name)
{
	size_t	len = strlen(name), slen = strlen(PROFILE_SUFFIX);

	return name[0] != '.' && len > slen &&
	    strcmp(name + len - slen, PROFILE_SUFFIX) == 0;
}

static void
set_add(struct profile_set *set, struct profile *p)
{
	struct profile	**v;

	v = reallocarray(set->v, set->n + 1, sizeof(*v));
	if (v == NULL)
		abort();
	set->v = v;
	set->v[set->n++] = p;
}

/* Drop the profiles marked in drop[], keeping the order of the rest. */
static void
set_drop(struct profile_set *set, const char *drop)
{
	size_t	i, k;

	for (i = k = 0; i < set->n; i++) {
		if (drop[i])
			profile_free(set->v[i]);
		else
			set->v[k++] = set->v[i];
	}
	set->n = k;
}

/* Where name is in the set, or -1. */
static ssize_t
set_index(const struct profile_set *set, const char *name)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* The line of group/key in the file at path; 0 when unknown. */
static int
file_key_line(const char *path, const char *group, const char *key)
{
	gchar	*text = NULL;
	int	 line;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	line = key != NULL ? conf_key_line(text, group, key) :
	    conf_group_line(text, group);
	g_free(text);
	return line;
}

static void
fallback_unknown(const struct profile_set *set, const struct profile *p,
    struct diag *d)
{
	const char	**known, *hint;
	char		 *all;
	size_t		  i;

	known = g_new0(const char *, set->n + 1);
	for (i = 0; i < set->n; i++)
		known[i] = set->v[i]->name;
	hint = conf_suggest(p->fallback, known);
	all = g_strjoinv(", ", (gchar **)known);
	if (hint != NULL)
		diag_error(d, p->path, file_key_line(p->path, "upstream",
		    "fallback"), "upstream", "fallback", "no profile '%s'; did "
		    "you mean %s?", p->fallback, hint);
	else
		diag_error(d, p->path, file_key_line(p->path, "upstream",
		    "fallback"), "upstream", "fallback", "no profile '%s'; the "
		    "profiles are %s", p->fallback, all);
	g_free(all);
	g_free(known);
}

/*
 * If following fallbacks from set->v[start] comes back to it, say so with
 * the chain and mark every profile of the circle in drop[].  Each profile
 * has one fallback at most, so a walk of n steps finds any circle.
 */
static void
fallback_circle(const struct profile_set *set, size_t start, char *drop,
    struct diag *d)
{
	GString	*chain;
	ssize_t	 j = (ssize_t)start;
	size_t	 steps;

	for (steps = 0; steps < set->n; steps++) {
		if (set->v[j]->fallback == NULL ||
		    (j = set_index(set, set->v[j]->fallback)) == -1 || drop[j])
			return;
		if ((size_t)j == start)
			break;
	}
	if ((size_t)j != start)
		return;		/* leads into a circle it is not part of */
	chain = g_string_new(set->v[start]->name);
	do {
		drop[j] = 1;
		j = set_index(set, set->v[j]->fallback);
		g_string_append_printf(chain, " -> %s", set->v[j]->name);
	} while ((size_t)j != start);
	diag_error(d, set->v[start]->path, file_key_line(set->v[start]->path,
	    "upstream", "fallback"), "upstream", "fallback", "fallbacks go "
	    "round in a circle: %s; end the chain with a profile that has no "
	    "fallback", chain->str);
	g_string_free(chain, TRUE);
}

/*
 * After this, every fallback names a profile of the set and no chain of
 * fallbacks loops.  names: every profile file of the folder, loaded or not,
 * to tell a profile that failed to load from one that does not exist.
 */
static void
check_fallbacks(struct profile_set *set, GPtrArray *names, struct diag *d)
{
	struct profile	*p;
	char		*drop, *file;
	size_t		 i;

	drop = g_malloc0(set->n + 1);
	for (i = 0; i < set->n; i++) {
		p = set->v[i];
		if (p->fallback == NULL || set_index(set, p->fallback) != -1)
			continue;
		file = g_strconcat(p->fallback, PROFILE_SUFFIX, NULL);
		if (!g_ptr_array_find_with_equal_func(names, file, g_str_equal,
		    NULL)) {
			fallback_unknown(set, p, d);
			drop[i] = 1;
		}
		g_free(file);
	}
	for (i = 0; i < set->n; i++)
		if (!drop[i])
			fallback_circle(set, i, drop, d);
	set_drop(set, drop);
	g_free(drop);

	for (i = 0; i < set->n; i++) {
		p = set->v[i];
		if (p->fallback == NULL || set_index(set, p->fallback) != -1)
			continue;
		diag_warning(d, p->path, file_key_line(p->path, "upstream",
		    "fallback"), "upstream", "fallback", "'%s' is not loaded "
		    "(its errors are above); '%s' has no fallback until it is "
		    "fixed", p->fallback, p->name);
		g_free(p->fallback);
		p->fallback = NULL;
	}
}

/* A profile without network keys is only ever chosen by hand: say so. */
static void
check_reachable(const struct profile_set *set, struct diag *d)
{
	const struct profile	*p;
	size_t			 i, j;

	for (i = 0; i < set->n; i++) {
		p = set->v[i];
		if (p->is_default || profile_has_match(p))
			continue;
		for (j = 0; j < set->n; j++)
			if (set->v[j]->fallback != NULL &&
			    strcmp(set->v[j]->fallback, p->name) == 0)
				break;
		if (j < set->n)
			continue;
		diag_warning(d, p->path, file_key_line(p->path, "match", NULL),
		    "match", NULL, "no network keys and not the default, so "
		    "'%s' is never chosen automatically; add keys such as "
		    "ssid = or subnet =, or default = true, or choose it by "
		    "hand with roamsmtpctl use %s", p->name, p->name);
	}
}

int
profile_set_load(const char *dir, struct profile_set *set, struct diag *d)
{
	DIR		 *dp;
	struct dirent	 *de;
	GPtrArray	 *names;
	struct profile	 *p, *def = NULL;
	gchar		 *path;
	int		  nerrors = d->nerrors;
	guint		  i;

	memset(set, 0, sizeof(*set));
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		diag_error(d, dir, 0, NULL, NULL, "cannot read the profiles "
		    "folder: %s", strerror(errno));
		return -1;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((de = readdir(dp)) != NULL)
		if (is_profile_file(de->d_name))
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(dp);
	g_ptr_array_sort(names, cmp_str);

	for (i = 0; i < names->len; i++) {
		path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
		p = profile_load(path, d);
		g_free(path);
		if (p == NULL)
			continue;
		if (p->is_default && def != NULL) {
			diag_error(d, p->path, file_key_line(p->path, "match",
			    "default"), "match", "default", "'%s' (%s) is "
			    "already the default profile; set default = true "
			    "in one file only", def->name, def->path);
			profile_free(p);
			continue;
		}
		if (p->is_default)
			def = p;
		set_add(set, p);
	}
	check_fallbacks(set, names, d);
	check_reachable(set, d);
	g_ptr_array_free(names, TRUE);
	return d->nerrors == nerrors ? 0 : -1;
}

void
profile_set_free(struct profile_set *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		profile_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

struct profile *
profile_set_find(const struct profile_set *set, const char *name)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}
