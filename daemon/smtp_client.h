/*
 * smtp_client.h - one upstream SMTP session, policy-free (like OpenSMTPD's
 * smtp_client.c): resolve, connect (each address in turn, IPv6 and IPv4),
 * implicit TLS or STARTTLS, EHLO, AUTH, and then whatever commands its owner
 * sends.  It knows nothing of profiles, queues or retries: the owner gives it
 * a params struct and hears back through callbacks.
 *
 * Lifecycle:
 *   smtp_client_new()  ->  ...  ->  cb.ready()     the session may be used:
 *                                                   smtp_client_cmd() etc.
 *   any time:                         cb.failed()  the session is dead; the
 *                                                   owner must free it (not
 *                                                   from within the callback
 *                                                   is fine too: it is inert)
 * Replies to commands arrive in order through each command's reply callback.
 *
 * AUTH: auth = auto takes the best the server offers: SCRAM-SHA-256 (when
 * user and password are printable ASCII, see scram.h), then PLAIN, LOGIN,
 * CRAM-MD5.  SCRAM-SHA-256 fails the login when the server's signature is
 * wrong.  XOAUTH2 and OAUTHBEARER send params.password as the bearer token;
 * when the server refuses it (5xx, after the JSON error challenge or not)
 * the client asks cb.refresh for a fresh token and logs in again on the
 * same connection, once.
 */
#ifndef ROAMSMTP_SMTP_CLIENT_H
#define ROAMSMTP_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/dns.h>
#include <openssl/ssl.h>

#include "profile.h"
#include "smtp_reply.h"

enum smtp_client_fail {
	SCF_CONNECT,	/* DNS, TCP connect, connection lost */
	SCF_TLS,	/* handshake failed or the peer did not verify */
	SCF_PROTOCOL,	/* malformed or unexpected reply */
	SCF_FEATURE,	/* STARTTLS or the AUTH mechanism not offered, or
			 * AUTH would go over plaintext */
	SCF_REFUSED,	/* the server said no: greeting, EHLO or AUTH 4xx/5xx */
	SCF_TIMEOUT,	/* no reply within the RFC 5321 4.5.3.2 timeout */
};

struct smtp_client_params {
	const char		*host;
	uint16_t		 port;
	enum tls_mode		 tls;
	SSL_CTX			*ssl_ctx;	/* needed unless TLSMODE_NONE */
	const unsigned char	*pin;		/* NULL or PROFILE_PIN_LEN bytes */
	const char		*helo;
	enum auth_choice	 auth;
	const char		*user;
	const char		*password;	/* copied; wiped when freed; the
						 * access token for xoauth2 and
						 * oauthbearer */
	int			 allow_plaintext_auth;
	const char		*tag;		/* for logs, e.g. the profile */
};

struct smtp_client;

struct smtp_client_cb {
	void	(*ready)(struct smtp_client *, void *arg);
	void	(*failed)(struct smtp_client *, enum smtp_client_fail,
		    const char *reason, void *arg);
	/* Output fell below RELAY_LOW_WATER (for streaming DATA); may be NULL */
	void	(*drained)(struct smtp_client *, void *arg);
	/*
	 * The server refused the OAuth2 token (expired, most often): put a
	 * fresh one in *token (malloc'ed; the client wipes and frees it) and
	 * return 0 to log in again on this connection; or -1 with a reason in
	 * err to give up (the session then fails, SCF_REFUSED, with err in
	 * the reason).  Called at most once a session, from within the
	 * client, and may block.  NULL: no second try.
	 */
	int	(*refresh)(struct smtp_client *, char **token, char *err,
		    size_t errlen, void *arg);
};

typedef void (*smtp_client_reply_cb)(struct smtp_client *,
    const struct smtp_reply *, void *arg);

struct smtp_client *smtp_client_new(struct event_base *, struct evdns_base *,
		    const struct smtp_client_params *,
		    const struct smtp_client_cb *, void *arg);
/* Close (QUIT when the session is idle and usable) and free. */
void		 smtp_client_free(struct smtp_client *);

/* Hand the session to another owner. */
void		 smtp_client_set_cb(struct smtp_client *,
		    const struct smtp_client_cb *, void *arg);

/*
 * Send one command line (CRLF added) and wait up to timeout seconds for its
 * reply, which goes to cb.  Commands may be pipelined: replies come in order.
 * Must only be called after ready().
 */
void		 smtp_client_cmd(struct smtp_client *, int timeout,
		    smtp_client_reply_cb, void *arg, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/* Wait for a reply to bytes the owner wrote itself (the end of DATA). */
void		 smtp_client_expect(struct smtp_client *, int timeout,
		    smtp_client_reply_cb, void *arg);

/* The output buffer, for streaming message data; its length is the
 * backpressure signal. */
struct evbuffer	*smtp_client_output(struct smtp_client *);

const struct smtp_caps *smtp_client_caps(const struct smtp_client *);
/* "TLSv1.3" or "none". */
const char	*smtp_client_tls_version(const struct smtp_client *);
/* "host:port" as configured. */
const char	*smtp_client_peer(const struct smtp_client *);
/* Is the session idle (no reply pending) and usable for a transaction? */
int		 smtp_client_idle(const struct smtp_client *);
/* Number of transactions started on this session (reuse count). */
unsigned	 smtp_client_uses(const struct smtp_client *);
void		 smtp_client_count_use(struct smtp_client *);

const char	*smtp_client_fail_name(enum smtp_client_fail);

#endif
