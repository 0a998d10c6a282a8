/*
 * profile.h - a profile: which upstream to use, and (later) where.  One INI
 * file a profile, named NAME.conf, parsed with GLib's GKeyFile.  Every
 * problem is reported through struct diag with file, line and key.
 *
 *   [match]
 *   default = true            # the profile used when no other matches
 *
 *   [upstream]
 *   host = mail.example.net
 *   port = 587                # default from tls: 465 for tls, 587 else;
 *                             #   25 when tls = none
 *   tls = starttls            # starttls (default) | tls | none
 *   auth = plain              # auto (default when user is set) | plain |
 *                             #   login | cram-md5 | none
 *   user = alice@example.net
 *   password-command = secret-tool lookup service roamsmtp user alice
 *   password-file = /home/alice/.config/roamsmtp/home.pass   # mode 0600
 *   ca-file = /etc/ssl/certs/ca-certificates.crt
 *   pin = sha256//BASE64-OF-SPKI-DIGEST
 *   allow-plaintext-auth = no
 *   helo = alice-laptop       # default: the daemon's hostname
 */
#ifndef ROAMSMTP_PROFILE_H
#define ROAMSMTP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define PROFILE_NAME_MAX	64
#define PROFILE_PIN_LEN		32	/* SHA-256 */

enum tls_mode {
	TLSMODE_STARTTLS = 0,
	TLSMODE_IMPLICIT,		/* "tls": TLS from the first byte (465) */
	TLSMODE_NONE,
};

enum auth_choice {
	AUTHC_NONE = 0,		/* no AUTH (no user set) */
	AUTHC_AUTO,		/* best the server offers: PLAIN, LOGIN, CRAM-MD5 */
	AUTHC_PLAIN,
	AUTHC_LOGIN,
	AUTHC_CRAM_MD5,
};

struct profile {
	char		*name;		/* file name without .conf */
	char		*path;
	int		 is_default;	/* [match] default = true */
	int		 priority;	/* [match] priority, default 0 */

	char		*host;
	uint16_t	 port;
	enum tls_mode	 tls;
	enum auth_choice auth;
	char		*user;
	char		*password_command;
	char		*password_file;
	char		*ca_file;
	int		 has_pin;
	unsigned char	 pin[PROFILE_PIN_LEN];
	int		 allow_plaintext_auth;
	char		*helo;		/* NULL: the daemon's hostname */
};

struct profile_set {
	struct profile	**v;
	size_t		  n;
};

/*
 * Parse one profile file.  Returns the profile, or NULL after adding at
 * least one error to d.  Warnings may be added either way.
 */
struct profile	*profile_load(const char *path, struct diag *d);
void		 profile_free(struct profile *);

/*
 * Load every *.conf in dir, sorted by name.  A missing dir is an empty set
 * (not an error).  Returns 0 when no file had an error; -1 otherwise, and
 * the set then holds only the good profiles.  More than one default profile
 * is an error naming both files.
 */
int		 profile_set_load(const char *dir, struct profile_set *,
		    struct diag *d);
void		 profile_set_free(struct profile_set *);
struct profile	*profile_set_find(const struct profile_set *, const char *name);

const char	*tls_mode_name(enum tls_mode);
const char	*auth_choice_name(enum auth_choice);

/* Parse "sha256//BASE64" (curl's pinnedpubkey form).  0 on success. */
int		 profile_parse_pin(const char *text,
		    unsigned char out[PROFILE_PIN_LEN]);

#endif
