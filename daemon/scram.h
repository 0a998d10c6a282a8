/*
 * scram.h - the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), without
 * channel binding (gs2 header "n,,": SCRAM-SHA-256-PLUS is not offered).
 * The messages here are the raw SASL messages; SMTP AUTH base64-encodes
 * them (smtp_client.c).
 *
 *   scram_client_start()  ->  client-first   "n,,n=USER,r=NONCE"
 *   server-first          ->  scram_client_final()  ->  client-final
 *   server-final          ->  scram_client_verify(): 0 only when the server
 *                             proved it knows the password (v=)
 *
 * SASLprep (RFC 4013) is done for the ASCII subset only: printable ASCII
 * maps to itself, ASCII control characters are prohibited, and anything
 * with a byte >= 0x80 is refused (scram_prep), since mapping and
 * normalising it needs the Unicode tables.  Such credentials can still log
 * in with PLAIN over TLS.
 *
 * Secrets (salted password, keys) live only in local buffers that are
 * wiped before the functions return; the state keeps the server signature
 * it expects and the messages needed for the AuthMessage.
 */
#ifndef ROAMSMTP_SCRAM_H
#define ROAMSMTP_SCRAM_H

#include <stddef.h>

#include <openssl/sha.h>

/* Random bytes of the client nonce; 18 give 24 base64 characters, 144
 * bits, well past what guessing could reach. */
#define SCRAM_NONCE_BYTES	18
/* RFC 7677 section 4: a server SHOULD announce at least 4096 iterations;
 * fewer would make an eavesdropped exchange cheap to crack offline, so a
 * lower count (perhaps put there by someone in the path) is refused. */
#define SCRAM_ITER_MIN		4096
/* Each iteration costs the event loop time (PBKDF2 runs in the daemon's
 * thread): 600000 is OWASP's 2023 figure for PBKDF2-HMAC-SHA256, more is a
 * server's mistake or an attempt to stall us. */
#define SCRAM_ITER_MAX		600000
/* A user name or password longer than this is not one (and a bound keeps
 * the messages small). */
#define SCRAM_CRED_MAX		1024

enum scram_step {
	SCRAM_INIT = 0,
	SCRAM_SENT_FIRST,	/* client-first sent, waiting for server-first */
	SCRAM_SENT_FINAL,	/* client-final sent, waiting for server-final */
	SCRAM_VERIFIED,		/* the server's signature was right */
};

struct scram_client {
	enum scram_step	 step;
	char		*first_bare;	/* "n=USER,r=NONCE" */
	char		*auth_message;	/* first_bare "," server-first "," ... */
	char		 nonce[64];	/* the client's part */
	unsigned char	 server_sig[SHA256_DIGEST_LENGTH];
};

/*
 * SASLprep, the ASCII subset: 0 when s is printable ASCII or space (it
 * then maps to itself), -1 when it has a control character or a byte >=
 * 0x80, or is empty or longer than SCRAM_CRED_MAX.
 */
int	scram_prep_ok(const char *s);

/*
 * Begin: the client-first message into *out (malloc'ed).  nonce NULL draws
 * a fresh one from RAND_bytes; a test may pass its own (printable, no ',').
 * -1 with a reason in err when user can't be prepared.
 */
int	scram_client_start(struct scram_client *, const char *user,
	    const char *nonce, char **out, char *err, size_t errlen);
/*
 * Answer server-first (len octets, not NUL-terminated necessarily) with the
 * client-final message into *out (malloc'ed; it holds the proof, wipe it).
 * -1 with a reason in err on a malformed message, a nonce that does not
 * extend ours, a mandatory extension, an iteration count out of bounds, or
 * a password that can't be prepared.
 */
int	scram_client_final(struct scram_client *, const char *server_first,
	    size_t len, const char *password, char **out, char *err,
	    size_t errlen);
/*
 * Check server-final: 0 when it is "v=" with the signature expected; -1
 * with a reason otherwise ("e=" errors are quoted in err).
 */
int	scram_client_verify(struct scram_client *, const char *server_final,
	    size_t len, char *err, size_t errlen);
/* Forget everything (safe to call twice, or on a zeroed struct). */
void	scram_client_clear(struct scram_client *);

#endif
