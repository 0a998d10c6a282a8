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

/* profile.c helpers shared with profile_pop.c */
char	*pctx_get_path(struct pctx *, const char *group, const char *key);
void	 pctx_get_bool(struct pctx *, const char *group, const char *key,
	    int *out);
/* Check a password-secret value ("attr=value ..."); 0 when good. */
int	 pctx_check_secret_attrs(struct pctx *, const char *group,
	    const char *value);
/* A tls = value of group into *out (errors named). */
void	 pctx_parse_tls(struct pctx *, const char *group, enum tls_mode *out);
void	 pctx_parse_pin(struct pctx *, const char *group, int *has_pin,
	    unsigned char *pin);

/* profile_pop.c: [pop-before-smtp] into p->pop (after [upstream]). */
extern const char *const profile_pop_keys[];
void	 profile_parse_pop(struct pctx *, struct profile *);
void	 profile_pop_free(struct profile_pop *);

#endif
