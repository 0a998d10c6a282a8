/*
 * tls.h - TLS for upstream sessions, verified: the chain against the system
 * store or a configured CA file, the host name, SNI set.  A pinned SHA-256 of
 * the server's public key (SPKI) replaces chain verification: it is the only
 * way to trust a self-signed server, and it survives certificate renewal
 * when the key is kept.
 */
#ifndef ROAMSMTP_TLS_H
#define ROAMSMTP_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A client context: TLS 1.2 or later, system store or ca_file (NULL for the
 * system store).  The handshake itself does not abort on a bad certificate;
 * tls_check_peer() decides after it, so that the error can be named.
 * NULL with a reason in err.
 */
SSL_CTX	*tls_client_ctx_new(const char *ca_file, char *err, size_t errlen);

/* A connection object for host: SNI and host name verification set. */
SSL	*tls_client_new(SSL_CTX *, const char *host);

/*
 * After the handshake: with pin (32 bytes) the server's public key must hash
 * to it; without, the chain and host name must have verified.  Returns 0, or
 * -1 with a reason ("certificate verify failed: self-signed certificate;
 * pin it with pin = sha256//...") in err.
 */
int	tls_check_peer(SSL *, const unsigned char *pin, char *err,
	    size_t errlen);

/* "sha256//BASE64" of the peer's public key, for error messages; caller
 * frees.  NULL when there is no peer certificate. */
char	*tls_peer_pin(SSL *);

/* Why a handshake failed, from the OpenSSL error queue (drained). */
void	tls_error_text(char *err, size_t errlen);

#endif
