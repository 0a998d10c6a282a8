/*
 * sasl.h - the small SASL encodings SMTP AUTH needs (RFC 4954), both sides:
 * PLAIN and LOGIN for the local listener, PLAIN, LOGIN, CRAM-MD5, XOAUTH2
 * and OAUTHBEARER for upstreams (SCRAM-SHA-256 has its own file, scram.h).
 * Base64 comes from OpenSSL.  Buffers holding credentials are the caller's
 * to wipe (explicit_bzero).
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
 * Google's XOAUTH2: base64("user=" USER "\1auth=Bearer " TOKEN "\1\1"),
 * malloc'ed.
 */
char	*sasl_xoauth2_response(const char *user, const char *token);
/*
 * RFC 7628 OAUTHBEARER: base64("n,a=" USER "," "\1host=" HOST "\1port="
 * PORT "\1auth=Bearer " TOKEN "\1\1"), the user escaped as an RFC 5802
 * saslname (',' and '=' as =2C and =3D); malloc'ed.
 */
char	*sasl_oauthbearer_response(const char *user, const char *host,
	    unsigned port, const char *token);
/*
 * The "status" of an OAuth error challenge (the decoded JSON a server sends
 * in a 334 when it refuses a token: {"status":"401",...} from Gmail's
 * XOAUTH2, {"status":"invalid_token",...} from RFC 7628 7.2) into buf;
 * "?" when it is not such a document.  Only printable ASCII is copied.
 */
void	 sasl_oauth_error_status(const char *json, size_t len, char *buf,
	    size_t buflen);

/*
 * Split a decoded PLAIN message "authzid\0authcid\0passwd" (len octets).
 * Pointers go into msg, which must be NUL terminated at msg[len].
 * 0 on success.
 */
int	 sasl_plain_split(char *msg, size_t len, const char **authcid,
	    const char **passwd);

#endif
