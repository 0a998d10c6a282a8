/*
 * profile_int.h - what profile.c and profile_match.c (the [match] keys)
 * share while parsing one file.  Not for other modules: they use
 * profile.h.
 */
#ifndef ROAMSMTP_PROFILE_INT_H
#define ROAMSMTP_PROFILE_INT_H

#include <glib.h>

#include "diag.h"
#include "profile.h"

/* What is being parsed: the file, its text (for line numbers), its keys. */
struct pctx {
	const char	*path;
	char		*dir;
	const char	*text;
	GKeyFile	*kf;
	struct diag	*d;
};

/* The line of group/key, else of [group], else 0. */
int	 pctx_key_line(struct pctx *, const char *group, const char *key);
/*
 * The value of group/key as written (no GKeyFile escapes), stripped, or
 * NULL when absent or empty (an error).  Caller g_free()s.
 */
char	*pctx_get(struct pctx *, const char *group, const char *key);

/* profile_match.c: parse [match] into p (default, priority and the network
 * keys), adding errors to c->d. */
void	 profile_parse_match(struct pctx *, struct profile *);
void	 profile_match_free(struct profile_match *);

#endif
