/*
 * sasl.h - the small SASL encodings SMTP AUTH needs (RFC 4954), both sides:
 * PLAIN and LOGIN for the local listener, PLAIN, LOGIN and CRAM-MD5 for
 * upstreams.  Base64 comes from OpenSSL.  Buffers holding credentials are the
 * caller's to wipe (explicit_bzero).
 */
#ifndef ROAMSMTP_SASL_H
#define ROAMSMTP_SASL_H

#include <stddef.h>

/* Base64 of in[0..len) into a malloc'ed NUL-terminated string. */
char	*sasl_b64_encode(const void *in, size_t len);
/* Decode base64 text (no whitespace); malloc'ed, NUL-terminated, *outlen
 * set.  NULL on bad input. */
char	*sasl_b64_decode(const char *text, size_t *outlen);

/* base64("\0user\0password"), malloc'ed. */
char	*sasl_plain_response(const char *user, const char *password);
/* Answer a base64 CRAM-MD5 challenge: base64("user hexdigest"). NULL on a
 * bad challenge. */
char	*sasl_cram_md5_response(const char *challenge_b64, const char *user,
	    const char *password);
/*
 * Split a decoded PLAIN message "authzid\0authcid\0passwd" (len octets).
 * Pointers go into msg, which must be NUL terminated at msg[len].
 * 0 on success.
 */
int	 sasl_plain_split(char *msg, size_t len, const char **authcid,
	    const char **passwd);

#endif
