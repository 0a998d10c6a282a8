/*
 * pop_client.h - one POP3 login, policy-free, for POP-before-SMTP: resolve,
 * connect (each address in turn, IPv6 and IPv4), POP3S (implicit TLS, 995)
 * or STLS (RFC 2595) or plain text when the owner allows it, then USER/PASS
 * or APOP (RFC 1939), then QUIT.  Nothing else: never STAT, RETR or DELE,
 * so the mailbox is left as it was.  Like smtp_client.h it knows nothing of
 * profiles or windows: the owner gives it a params struct and hears back
 * once through a callback.
 *
 * Lifecycle:
 *   pop_client_new()  ->  ...  ->  done(ok = 1)   logged in and out cleanly
 *                                  done(ok = 0)   failed, with a class and a
 *                                                 reason naming the server
 *                                                 (and its -ERR text; never
 *                                                 the password)
 * done() runs once, from the loop, never from within pop_client_new().  The
 * owner frees the client with pop_client_free(), from within done() or
 * later, or at any time before to abandon the login.
 */
#ifndef ROAMSMTP_POP_CLIENT_H
#define ROAMSMTP_POP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "profile.h"

/* RFC 2449 4: a response line is at most 512 octets with its CRLF; allow a
 * generous server more, but never an endless line. */
#define POP_LINE_MAX		1024
/* Seconds for a reply (and for each connect).  RFC 1939 gives servers 10
 * minutes of patience; a laptop about to send mail has less. */
#define POP_TIMEOUT		60
/* An APOP timestamp is a msg-id (RFC 1939 7, RFC 822): bounded by the line. */
#define POP_TIMESTAMP_MAX	POP_LINE_MAX

enum pop_fail {
	POPF_CONNECT,	/* DNS, TCP connect, connection lost */
	POPF_TLS,	/* handshake failed or the peer did not verify */
	POPF_PROTOCOL,	/* not POP3: no +OK/-ERR, an overlong line */
	POPF_FEATURE,	/* STLS or APOP not offered, or the password would
			 * cross the network unencrypted */
	POPF_REFUSED,	/* -ERR to the greeting, USER, PASS or APOP */
	POPF_TIMEOUT,	/* no reply within POP_TIMEOUT */
};

struct pop_client_params {
	const char		*host;
	uint16_t		 port;
	enum tls_mode		 tls;		/* implicit, STLS, none */
	SSL_CTX			*ssl_ctx;	/* needed unless TLSMODE_NONE */
	const unsigned char	*pin;		/* NULL or PROFILE_PIN_LEN bytes */
	/*
	 * auto: USER/PASS over TLS; else APOP when the greeting offers a
	 * timestamp; else USER/PASS only with allow_plaintext_auth.
	 * user: USER/PASS, over TLS unless allow_plaintext_auth.
	 * apop: APOP; the greeting must carry a timestamp.
	 */
	enum pop_auth		 auth;
	const char		*user;
	const char		*password;	/* copied; wiped when freed */
	int			 allow_plaintext_auth;
	const char		*tag;		/* for logs, e.g. the profile */
};

struct pop_client;

typedef void (*pop_client_done_cb)(struct pop_client *, int ok,
    enum pop_fail, const char *reason, void *arg);

/* NULL when out of memory or the params are incomplete. */
struct pop_client *pop_client_new(struct event_base *, struct evdns_base *,
		    const struct pop_client_params *, pop_client_done_cb,
		    void *arg);
/* Abandon or finish: closes the connection (no QUIT) and wipes the
 * password. */
void		 pop_client_free(struct pop_client *);

/* "host:port" as configured. */
const char	*pop_client_peer(const struct pop_client *);
/* The mechanism that was used: "user", "apop", or "-" before the login. */
const char	*pop_client_auth_used(const struct pop_client *);
const char	*pop_fail_name(enum pop_fail);

/*
 * The pure parts, unit-tested.
 *
 * pop_apop_timestamp: the timestamp "<...>" of a greeting line into buf
 * (with its angle brackets).  0, or -1 when the greeting has none (or it
 * does not fit).
 */
int		 pop_apop_timestamp(const char *greeting, char *buf,
		    size_t len);
/* The APOP digest: lower-case hex MD5 of timestamp + password, into out
 * (33 bytes).  0, or -1 when MD5 is not available. */
int		 pop_apop_digest(const char *timestamp, const char *password,
		    char out[33]);
/* A response line's status: 1 for "+OK", 0 for "-ERR", -1 for neither. */
int		 pop_status(const char *line);

#endif
