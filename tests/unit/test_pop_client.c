/*
 * test_pop_client.c - the POP3 client: its pure parts (status words, the
 * APOP timestamp of a greeting, the APOP digest against RFC 1939's worked
 * example) and its decisions on a libevent loop against a scripted peer on
 * 127.0.0.1: APOP chosen without TLS, USER/PASS refused in plain text, an
 * -ERR reported with its text and never the password, only QUIT after the
 * login (no STAT, RETR or DELE), an overlong line ended.  The real server
 * (Dovecot) is met in tests/e2e/pop_*.sh.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "pop_client.h"

/* ---- pure parts ------------------------------------------------------ */

static void
test_status(void **state)
{
	assert_int_equal(pop_status("+OK"), 1);
	assert_int_equal(pop_status("+OK Dovecot ready."), 1);
	assert_int_equal(pop_status("-ERR"), 0);
	assert_int_equal(pop_status("-ERR [AUTH] Authentication failed."), 0);
	assert_int_equal(pop_status("+OKAY"), -1);
	assert_int_equal(pop_status("-ERROR x"), -1);
	assert_int_equal(pop_status("+ok"), -1);
	assert_int_equal(pop_status("220 smtp.example ESMTP"), -1);
	assert_int_equal(pop_status(""), -1);
}

static void
test_apop_timestamp(void **state)
{
	char	buf[128];

	assert_int_equal(pop_apop_timestamp("+OK POP3 server ready "
	    "<1896.697170952@dbc.mtview.ca.us>", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "<1896.697170952@dbc.mtview.ca.us>");
	/* The last one counts; text after it is allowed. */
	assert_int_equal(pop_apop_timestamp("+OK <a@b> and <c.d@e> now", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "<c.d@e>");
	assert_int_equal(pop_apop_timestamp("+OK Dovecot ready.", buf,
	    sizeof(buf)), -1);
	assert_int_equal(pop_apop_timestamp("+OK <>", buf, sizeof(buf)), -1);
	assert_int_equal(pop_apop_timestamp("+OK <no-at-sign>", buf,
	    sizeof(buf)), -1);
	assert_int_equal(pop_apop_timestamp("+OK <a b@c>", buf, sizeof(buf)),
	    -1);
	assert_int_equal(pop_apop_timestamp("+OK a@b>", buf, sizeof(buf)), -1);
	/* Too long for the buffer: refused, not cut. */
	assert_int_equal(pop_apop_timestamp("+OK <1896.697170952@dbc>", buf,
	    8), -1);
}

/* RFC 1939 7, the APOP example. */
static void
test_apop_digest_rfc1939(void **state)
{
	char	out[33];

	assert_int_equal(pop_apop_digest("<1896.697170952@dbc.mtview.ca.us>",
	    "tanstaaf", out), 0);
	assert_string_equal(out, "c4c9334bac560ecc979e58001b3e22fb");
}

/* ---- against a scripted peer -------------------------------------- */

#define SCRIPT_MAX	8

struct peer {
	struct event_base	*base;
	struct evconnlistener	*lis;
	struct bufferevent	*bev;
	const char		*greeting;
	/* Replies to the commands, in order; NULL: close instead. */
	const char		*replies[SCRIPT_MAX];
	char			 got[SCRIPT_MAX][256];
	size_t			 ngot;
	uint16_t		 port;

	int			 done;
	int			 ok;
	enum pop_fail		 class;
	char			 reason[1024];
};

static void
peer_read(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;
	char		*line;
	size_t		 len;

	while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		if (p->ngot < SCRIPT_MAX) {
			snprintf(p->got[p->ngot], sizeof(p->got[0]), "%s",
			    line);
			if (p->replies[p->ngot] == NULL) {
				/* Hang up instead of answering. */
				p->ngot++;
				free(line);
				bufferevent_free(bev);
				p->bev = NULL;
				return;
			}
			evbuffer_add_printf(bufferevent_get_output(bev),
			    "%s\r\n", p->replies[p->ngot]);
			p->ngot++;
		}
		free(line);
	}
}

static void
peer_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;

	bufferevent_free(bev);
	p->bev = NULL;
}

static void
peer_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct peer	*p = arg;

	p->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(p->bev, peer_read, NULL, peer_event, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(p->bev), "%s\r\n",
	    p->greeting);
}

static void
client_done(struct pop_client *c, int ok, enum pop_fail class,
    const char *reason, void *arg)
{
	struct peer	*p = arg;

	p->done++;
	p->ok = ok;
	p->class = class;
	snprintf(p->reason, sizeof(p->reason), "%s", reason ? reason : "");
	pop_client_free(c);
	event_base_loopexit(p->base, NULL);
}

/* Run one login against the peer's script. */
static void
run(struct peer *p, enum pop_auth auth, int allow_plaintext)
{
	struct sockaddr_in		 sin;
	socklen_t			 slen = sizeof(sin);
	struct evdns_base		*dns;
	struct pop_client		*c;
	struct pop_client_params	 params;
	struct timeval			 limit = { 10, 0 };

	p->base = event_base_new();
	assert_non_null(p->base);
	dns = evdns_base_new(p->base, 0);
	assert_non_null(dns);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lis = evconnlistener_new_bind(p->base, peer_accept, p,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4,
	    (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(p->lis);
	getsockname(evconnlistener_get_fd(p->lis), (struct sockaddr *)&sin,
	    &slen);
	p->port = ntohs(sin.sin_port);

	memset(&params, 0, sizeof(params));
	params.host = "127.0.0.1";
	params.port = p->port;
	params.tls = TLSMODE_NONE;
	params.auth = auth;
	params.user = "mrose";
	params.password = "tanstaaf";
	params.allow_plaintext_auth = allow_plaintext;
	params.tag = "test";
	c = pop_client_new(p->base, dns, &params, client_done, p);
	assert_non_null(c);
	/* done() never runs from within pop_client_new(). */
	assert_int_equal(p->done, 0);
	event_base_loopexit(p->base, &limit);
	event_base_dispatch(p->base);
	assert_int_equal(p->done, 1);
	if (p->bev)
		bufferevent_free(p->bev);
	evconnlistener_free(p->lis);
	evdns_base_free(dns, 0);
	event_base_free(p->base);
}

/* No TLS, a timestamp: auto picks APOP; after the login only QUIT. */
static void
test_auto_apop_then_quit(void **state)
{
	struct peer	p = {
		.greeting = "+OK POP3 server ready "
		    "<1896.697170952@dbc.mtview.ca.us>",
		.replies = { "+OK maildrop has 2 messages (320 octets)",
		    "+OK dewey POP3 server signing off" },
	};

	run(&p, POPAUTH_AUTO, 0);
	assert_int_equal(p.ok, 1);
	assert_int_equal(p.ngot, 2);
	assert_string_equal(p.got[0],
	    "APOP mrose c4c9334bac560ecc979e58001b3e22fb");
	assert_string_equal(p.got[1], "QUIT");
}

/* No TLS, no timestamp, no permission: not a word of the password. */
static void
test_plaintext_refused(void **state)
{
	struct peer	p = {
		.greeting = "+OK POP3 ready",
		.replies = { "+OK", "+OK", "+OK" },
	};

	run(&p, POPAUTH_AUTO, 0);
	assert_int_equal(p.ok, 0);
	assert_int_equal(p.class, POPF_FEATURE);
	assert_int_equal(p.ngot, 0);
	assert_non_null(strstr(p.reason, "allow-plaintext-auth"));
}

/* Allowed in plain text: USER, PASS, QUIT; the -ERR text is reported, the
 * password never. */
static void
test_pass_refused_reports_err(void **state)
{
	struct peer	p = {
		.greeting = "+OK POP3 ready",
		.replies = { "+OK send PASS",
		    "-ERR [AUTH] Authentication failed." },
	};

	run(&p, POPAUTH_USER, 1);
	assert_int_equal(p.ok, 0);
	assert_int_equal(p.class, POPF_REFUSED);
	assert_string_equal(p.got[0], "USER mrose");
	assert_string_equal(p.got[1], "PASS tanstaaf");
	assert_int_equal(p.ngot, 2);
	assert_non_null(strstr(p.reason, "-ERR [AUTH] Authentication "
	    "failed."));
	assert_non_null(strstr(p.reason, "127.0.0.1"));
	assert_null(strstr(p.reason, "tanstaaf"));
}

/* auth = apop without a timestamp: refused before sending anything. */
static void
test_apop_not_offered(void **state)
{
	struct peer	p = {
		.greeting = "+OK POP3 ready",
		.replies = { "+OK" },
	};

	run(&p, POPAUTH_APOP, 1);
	assert_int_equal(p.ok, 0);
	assert_int_equal(p.class, POPF_FEATURE);
	assert_int_equal(p.ngot, 0);
}

/* A server that closes after the login instead of answering QUIT: the
 * login stood. */
static void
test_close_after_quit_is_ok(void **state)
{
	struct peer	p = {
		.greeting = "+OK ready <1.2@x>",
		.replies = { "+OK in", NULL },
	};

	run(&p, POPAUTH_AUTO, 0);
	assert_int_equal(p.ok, 1);
	assert_string_equal(p.got[1], "QUIT");
}

/* Not POP3 at all (an SMTP server on the port). */
static void
test_not_pop3(void **state)
{
	struct peer	p = {
		.greeting = "220 smtp.example ESMTP",
	};

	run(&p, POPAUTH_AUTO, 1);
	assert_int_equal(p.ok, 0);
	assert_int_equal(p.class, POPF_PROTOCOL);
}

/* A greeting longer than POP_LINE_MAX, without an end. */
static void
test_overlong_line(void **state)
{
	static char	greeting[POP_LINE_MAX * 3];
	struct peer	p = { .greeting = greeting };

	memset(greeting, 'x', sizeof(greeting) - 1);
	memcpy(greeting, "+OK ", 4);
	run(&p, POPAUTH_AUTO, 1);
	assert_int_equal(p.ok, 0);
	assert_int_equal(p.class, POPF_PROTOCOL);
	assert_non_null(strstr(p.reason, "over"));
}

/* Params that cannot work are refused at once. */
static void
test_params_checked(void **state)
{
	struct event_base		*base = event_base_new();
	struct pop_client_params	 params;

	memset(&params, 0, sizeof(params));
	params.host = "127.0.0.1";
	params.port = 995;
	params.tls = TLSMODE_IMPLICIT;	/* without an SSL_CTX */
	params.user = "u";
	params.password = "p";
	assert_null(pop_client_new(base, NULL, &params, client_done, NULL));
	params.tls = TLSMODE_NONE;
	params.password = NULL;
	assert_null(pop_client_new(base, NULL, &params, client_done, NULL));
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_apop_timestamp),
		cmocka_unit_test(test_apop_digest_rfc1939),
		cmocka_unit_test(test_auto_apop_then_quit),
		cmocka_unit_test(test_plaintext_refused),
		cmocka_unit_test(test_pass_refused_reports_err),
		cmocka_unit_test(test_apop_not_offered),
		cmocka_unit_test(test_close_after_quit_is_ok),
		cmocka_unit_test(test_not_pop3),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_params_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
