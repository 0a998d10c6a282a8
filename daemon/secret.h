/*
 * secret.h - fetch a profile's password, or its OAuth2 access token.
 * Sources: password-command (run with /bin/sh -c, the first line of its
 * standard output, bounded in size and time), password-secret (the Secret
 * Service through libsecret: the item whose attributes are the profile's
 * "attr=value ..." list, looked up without a schema as secret-tool does;
 * bounded by SECRET_COMMAND_TIMEOUT too), or password-file (must be a
 * regular file owned by the user, mode 0600 or stricter; refused otherwise,
 * with the chmod that fixes it).  For auth = xoauth2 or oauthbearer the
 * secret is the token that token-command prints (the same runner as
 * password-command); calling secret_fetch() again runs it again, which is
 * how an expired token is replaced.
 * The password is never logged; error texts never contain it.
 *
 * All of it blocks the caller (up to SECRET_COMMAND_TIMEOUT seconds).
 * Built without libsecret (no HAVE_LIBSECRET), password-secret is an error
 * that gives the equivalent password-command.
 */
#ifndef ROAMSMTP_SECRET_H
#define ROAMSMTP_SECRET_H

#include <stddef.h>

#include "profile.h"

#define SECRET_MAX		4096	/* longer than any password or token */
#define SECRET_COMMAND_TIMEOUT	10	/* seconds; a keyring prompt may wait */

/*
 * Fetch the password (or the access token) of p into a malloc'ed string
 * (*out).  Returns 0, or -1 with a reason in err ("profile home:
 * password-command exited with status 1; check it in a terminal: ...",
 * "profile home: the Secret Service has no password with service=roamsmtp
 * user=alice ...; store it with: secret-tool store ...").  Free with
 * secret_free().
 */
int	secret_fetch(const struct profile *p, char **out, char *err,
	    size_t errlen);
/* Read a whole secret file (first line), with the 0600 check. */
int	secret_read_file(const char *path, char **out, char *err,
	    size_t errlen);
/* explicit_bzero and free. */
void	secret_free(char *);

#endif
