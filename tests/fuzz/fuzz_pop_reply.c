/*
 * fuzz_pop_reply.c - what a POP3 server sends: a real pop_client.c login
 * (tls none, auth auto) against the input played as the server's bytes on
 * a loopback TCP connection, on a libevent loop.  The client can only be
 * pointed at a host and port, so the target listens on 127.0.0.1 (an
 * ephemeral port, once per process) and accepts the one connection each
 * login makes.  Every input runs three times: played as a server that
 * waits for each command before it sends its next line (the login can
 * succeed), with allow-plaintext-auth and without; and sent whole at once
 * (a server answering what it was not yet asked).  The server's side is
 * then shut.
 *
 * Each line of the input also goes through the pure parts directly
 * (pop_status, pop_apop_timestamp).
 *
 * Properties:
 *   - done() runs exactly once and the client then closes the connection
 *     (no hang);
 *   - what the client sends is CRLF lines, in login order: USER then PASS,
 *     or APOP with a 32 hex digit digest, then QUIT; nothing else (no
 *     server byte is echoed into a command);
 *   - without allow-plaintext-auth the password is never sent;
 *   - success says "user" or "apop" and came after QUIT was sent; a failure
 *     has a reason with no control characters, which names the password
 *     only when the server itself sent it;
 *   - an APOP timestamp is "<...>" with an '@' and no space, and fits.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "pop_client.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* What the server side keeps of the commands: the client sends at most
 * four short lines. */
#define SENT_MAX	4096
enum feed {
	FEED_CONVERSE,	/* a line, then wait for a command or the end */
	FEED_WHOLE,	/* everything at once */
};

/* Loop turns before the login counts as hung (each turn is an event). */
#define TURNS_MAX	100000

#define FUZZ_USER	"fuzzuser"
#define FUZZ_PASSWORD	"fuzz-secret"

struct server {
	int	 fd;
	int	 eof;
	char	 buf[SENT_MAX];
	size_t	 len;
};

struct outcome {
	int		 calls;
	int		 ok;
	enum pop_fail	 class;
	char		 reason[2048];
	char		 auth_used[8];
};

static int	listen_fd = -1;
static uint16_t	listen_port;

static void
listen_once(void)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);

	if (listen_fd != -1)
		return;
	/* syslog, not stderr: libFuzzer's output stays readable. */
	log_init(0, 0);
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	CHECK(bind(listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(listen_fd, 16) == 0);
	CHECK(getsockname(listen_fd, (struct sockaddr *)&sin, &slen) == 0);
	CHECK(fcntl(listen_fd, F_SETFL, O_NONBLOCK) == 0);
	listen_port = ntohs(sin.sin_port);
}

/* Close whatever an earlier input's client left in the backlog. */
static void
drain_backlog(void)
{
	int	fd;

	while ((fd = accept(listen_fd, NULL, NULL)) != -1)
		close(fd);
}

static void
server_read(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	char		 tmp[4096];
	ssize_t		 n;

	(void)what;
	n = read(fd, tmp, sizeof(tmp));
	if (n > 0) {
		/* More than fits is a property failure found later. */
		if (s->len + (size_t)n <= sizeof(s->buf)) {
			memcpy(s->buf + s->len, tmp, (size_t)n);
			s->len += (size_t)n;
		} else
			s->len = sizeof(s->buf) + 1;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	s->eof = 1;
}

static void
login_done(struct pop_client *c, int ok, enum pop_fail class,
    const char *reason, void *arg)
{
	struct outcome	*o = arg;

	o->calls++;
	o->ok = ok;
	o->class = class;
	if (ok)
		CHECK(reason == NULL);
	else {
		CHECK(reason != NULL);
		CHECK(strlen(reason) < sizeof(o->reason));
		snprintf(o->reason, sizeof(o->reason), "%s", reason);
	}
	snprintf(o->auth_used, sizeof(o->auth_used), "%s",
	    pop_client_auth_used(c));
	/* From within done(), as the owner may. */
	pop_client_free(c);
}

static int
is_hex32(const char *p)
{
	int	i;

	for (i = 0; i < 32; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* The commands sent, in order; returns whether QUIT was among them. */
static int
check_sent(const struct server *s, int allow_plaintext)
{
	const char	*p = s->buf, *end = s->buf + s->len, *eol;
	size_t		 n;
	int		 step = 0, quit = 0;

	CHECK(s->len <= sizeof(s->buf));
	while (p < end) {
		CHECK((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL);
		n = (size_t)(eol - p);
		CHECK(memchr(p, '\n', n) == NULL);
		CHECK(memchr(p, '\r', n) == NULL);
		CHECK(!quit);			/* nothing after QUIT */
		if (n == 4 && memcmp(p, "QUIT", 4) == 0) {
			CHECK(step == 2 || step == 3);
			quit = 1;
		} else if (n == sizeof("USER " FUZZ_USER) - 1 &&
		    memcmp(p, "USER " FUZZ_USER, n) == 0) {
			CHECK(step == 0);
			step = 1;
		} else if (n == sizeof("PASS " FUZZ_PASSWORD) - 1 &&
		    memcmp(p, "PASS " FUZZ_PASSWORD, n) == 0) {
			CHECK(step == 1);
			CHECK(allow_plaintext);
			step = 2;
		} else {
			CHECK(step == 0);
			CHECK(n == sizeof("APOP " FUZZ_USER " ") - 1 + 32);
			CHECK(memcmp(p, "APOP " FUZZ_USER " ", n - 32) == 0);
			CHECK(is_hex32(p + n - 32));
			step = 3;
		}
		p = eol + 2;
	}
	return quit;
}

static void
check_outcome(const struct outcome *o, int quit, const uint8_t *data,
    size_t size)
{
	const char	*r;

	CHECK(o->calls == 1);
	if (o->ok) {
		CHECK(quit);
		CHECK(strcmp(o->auth_used, "user") == 0 ||
		    strcmp(o->auth_used, "apop") == 0);
		return;
	}
	for (r = o->reason; *r != '\0'; r++)
		CHECK((unsigned char)*r >= 0x20 && *r != 0x7f);
	if (strstr(o->reason, FUZZ_PASSWORD) != NULL)
		CHECK(memmem(data, size, FUZZ_PASSWORD,
		    sizeof(FUZZ_PASSWORD) - 1) != NULL);
}

/* The CRLF-terminated lines the client sent so far. */
static size_t
sent_lines(const struct server *s)
{
	const char	*p = s->buf, *end, *eol;
	size_t		 n = 0;

	end = s->buf + (s->len > sizeof(s->buf) ? sizeof(s->buf) : s->len);
	while ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		n++;
		p = eol + 2;
	}
	return n;
}

static void
login(const uint8_t *data, size_t size, enum feed feed, int allow_plaintext)
{
	struct pop_client_params	 p;
	struct outcome			 o;
	struct server			*s;
	struct event_base		*base;
	struct evdns_base		*dns;
	struct pop_client		*c;
	struct event			*ev = NULL;
	unsigned			 turns = 0;
	size_t				 off = 0, upto, asked;
	const uint8_t			*nl;
	ssize_t				 n;

	CHECK((s = calloc(1, sizeof(*s))) != NULL);
	s->fd = -1;
	memset(&o, 0, sizeof(o));
	drain_backlog();
	CHECK((base = event_base_new()) != NULL);
	/* No nameservers: the host is numeric. */
	CHECK((dns = evdns_base_new(base, 0)) != NULL);
	memset(&p, 0, sizeof(p));
	p.host = "127.0.0.1";
	p.port = listen_port;
	p.tls = TLSMODE_NONE;
	p.auth = POPAUTH_AUTO;
	p.user = FUZZ_USER;
	p.password = FUZZ_PASSWORD;
	p.allow_plaintext_auth = allow_plaintext;
	p.tag = "fuzz";
	CHECK((c = pop_client_new(base, dns, &p, login_done, &o)) != NULL);

	/* Until the client connects (or gives up). */
	while (s->fd == -1 && o.calls == 0) {
		if ((s->fd = accept(listen_fd, NULL, NULL)) == -1) {
			CHECK(errno == EAGAIN || errno == EINTR);
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		}
		CHECK(++turns < TURNS_MAX);
	}
	CHECK(s->fd != -1);	/* loopback: the connect cannot fail */
	CHECK(fcntl(s->fd, F_SETFL, O_NONBLOCK) == 0);
	ev = event_new(base, s->fd, EV_READ | EV_PERSIST, server_read, s);
	event_add(ev, NULL);

	/* The input, then the end of it, running the loop meanwhile. */
	while (off < size && !s->eof && o.calls == 0) {
		upto = size;
		if (feed == FEED_CONVERSE &&
		    (nl = memchr(data + off, '\n', size - off)) != NULL)
			upto = (size_t)(nl - data) + 1;
		asked = sent_lines(s);
		while (off < upto && !s->eof && o.calls == 0) {
			n = write(s->fd, data + off, upto - off);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				goto shut;	/* the client closed: it may */
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			CHECK(++turns < TURNS_MAX);
		}
		/* A whole line: the client answers it or ends. */
		while (feed == FEED_CONVERSE && off < size && !s->eof &&
		    o.calls == 0 && sent_lines(s) == asked) {
			CHECK(event_base_loop(base, EVLOOP_ONCE) == 0);
			CHECK(++turns < TURNS_MAX);
		}
	}
 shut:
	shutdown(s->fd, SHUT_WR);
	while (o.calls == 0 || !s->eof) {
		CHECK(event_base_loop(base, EVLOOP_ONCE) == 0);
		CHECK(++turns < TURNS_MAX);
	}
	event_free(ev);
	close(s->fd);

	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "feed=%d plaintext=%d ok=%d %s: %s\n%.*s",
		    feed, allow_plaintext, o.ok, pop_fail_name(o.class), o.reason,
		    (int)(s->len > SENT_MAX ? SENT_MAX : s->len), s->buf);
	check_outcome(&o, check_sent(s, allow_plaintext), data, size);
	evdns_base_free(dns, 0);
	event_base_free(base);
	free(s);
}

/* The pure parts, on each line as the client's reader splits them. */
static void
check_pure(const uint8_t *data, size_t size)
{
	char		 line[POP_LINE_MAX + 1], ts[POP_TIMESTAMP_MAX];
	const char	*p = (const char *)data, *end = p + size, *nl;
	size_t		 len, tl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len <= POP_LINE_MAX && memchr(p, '\0', len) == NULL) {
			memcpy(line, p, len);
			line[len] = '\0';
			CHECK(pop_status(line) >= -1 && pop_status(line) <= 1);
			if (pop_apop_timestamp(line, ts, sizeof(ts)) == 0) {
				tl = strlen(ts);
				CHECK(tl >= 3 && tl < sizeof(ts));
				CHECK(ts[0] == '<' && ts[tl - 1] == '>');
				CHECK(strchr(ts, '@') != NULL);
				CHECK(strchr(ts, ' ') == NULL);
				CHECK(strstr(line, ts) != NULL);
			}
			/* A buffer too small for any timestamp. */
			CHECK(pop_apop_timestamp(line, ts, 3) == -1);
		}
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	listen_once();
	check_pure(data, size);
	login(data, size, FEED_CONVERSE, 1);
	login(data, size, FEED_CONVERSE, 0);
	login(data, size, FEED_WHOLE, 1);
	return 0;
}
