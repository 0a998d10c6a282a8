/*
 * secret.h - fetch a profile's password.  Sources: password-command (run
 * with /bin/sh -c, the first line of its standard output, bounded in size
 * and time) or password-file (must be a regular file owned by the user, mode
 * 0600 or stricter; refused otherwise, with the chmod that fixes it).
 * The password is never logged; error texts never contain it.
 */
#ifndef ROAMSMTP_SECRET_H
#define ROAMSMTP_SECRET_H

#include <stddef.h>

#include "profile.h"

#define SECRET_MAX		4096	/* longer than any password or token */
#define SECRET_COMMAND_TIMEOUT	10	/* seconds; a keyring prompt may wait */

/*
 * Fetch the password of p into a malloc'ed string (*out).  Returns 0, or -1
 * with a reason in err ("profile home: password-command exited with status
 * 1; check it in a terminal: ...").  Free with secret_free().
 */
int	secret_fetch(const struct profile *p, char **out, char *err,
	    size_t errlen);
/* Read a whole secret file (first line), with the 0600 check. */
int	secret_read_file(const char *path, char **out, char *err,
	    size_t errlen);
/* explicit_bzero and free. */
void	secret_free(char *);

#endif
