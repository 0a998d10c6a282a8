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

#endif
