/*
 * diag.h - problems found in configuration files, each naming the file, the
 * line and the key, and saying what to do:
 *   "/home/a/.config/roamsmtp/profiles/home.conf:7: [upstream] port: 'abc' is
 *    not a port number; write a number from 1 to 65535"
 * Collected rather than printed, so that --check-config can list them all and
 * a reload can refuse a bad set and still say why.
 */
#ifndef ROAMSMTP_DIAG_H
#define ROAMSMTP_DIAG_H

#include <stddef.h>

struct diag {
	char	**msgs;
	size_t	 n;
	int	 nerrors;	/* warnings don't count */
};

void	diag_init(struct diag *);
void	diag_free(struct diag *);
/* line 0 = the whole file; group/key may be NULL. */
void	diag_error(struct diag *, const char *file, int line, const char *group,
	    const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	diag_warning(struct diag *, const char *file, int line,
	    const char *group, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/*
 * The line a key is on: GKeyFile does not keep line numbers, so the file's
 * text is scanned for "[group]" and then "key =".  Returns 0 when unknown.
 */
int	conf_key_line(const char *text, const char *group, const char *key);
/* The line "[group]" is on, or 0. */
int	conf_group_line(const char *text, const char *group);

/*
 * Helpers shared by the daemon's config and the profiles.
 */

/* The known word within edit distance 2 of word (the closest), or NULL:
 * for "did you mean" hints.  known ends with NULL. */
const char	*conf_suggest(const char *word, const char *const *known);
/* true/false/yes/no (any case).  0 on success. */
int		 conf_parse_bool(const char *text, int *out);
/* The user's home: $HOME, else the password database.  Caller frees. */
char		*conf_home_dir(void);
/*
 * A path as written in a config file: a leading "~/" is the home, a
 * relative path is taken from dir (the config file's folder).  Caller
 * frees.
 */
char		*conf_path_resolve(const char *dir, const char *value);

#endif
