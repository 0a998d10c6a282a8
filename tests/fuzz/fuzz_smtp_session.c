/*
 * fuzz_smtp_session.c - a real client-facing session (smtp_session.c) fed
 * the input as what its client sends, over a socketpair, on a libevent loop,
 * with no upstream (queue mode; the queue in a scratch folder).  The input
 * is sent whole and the client's side then shut: the session must read it
 * all, answer, and end.
 *
 * Properties:
 *   - every line the session writes is a reply, "NNN-" or "NNN " with a
 *     2xx to 5xx code, CRLF terminated (nothing of the input is echoed in a
 *     way that forges a reply);
 *   - the session ends (no hang) and frees itself;
 *   - every message it queued has CRLF lines only and holds no
 *     "\r\n.\r\n": no second message hides in an accepted one;
 *   - no more messages were queued than 250 "queued as" replies given.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "smtp_session.h"
#include "fuzz.h"
#include "fuzz_world.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* What the client keeps of the replies: plenty for any input we run. */
#define REPLIES_MAX	(1024 * 1024)
/* Loop turns before the session counts as hung (each turn is an event). */
#define TURNS_MAX	100000

struct client {
	int	 fd;
	int	 eof;
	char	*buf;
	size_t	 len;
};

/* Static: a fresh megabyte an input costs more than the input. */
static char	replies[REPLIES_MAX];

static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	char		 tmp[16384];
	ssize_t		 n;

	n = read(fd, tmp, sizeof(tmp));
	if (n > 0) {
		if (c->len + (size_t)n <= REPLIES_MAX) {
			memcpy(c->buf + c->len, tmp, (size_t)n);
			c->len += (size_t)n;
		}
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	c->eof = 1;
}

static unsigned
check_replies(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *eol;
	unsigned	 queued = 0;

	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		CHECK(eol != NULL);
		CHECK(eol - p >= 3);
		CHECK(p[0] >= '2' && p[0] <= '5');
		CHECK(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9');
		CHECK(eol - p == 3 || p[3] == ' ' || p[3] == '-');
		CHECK(memchr(p, '\n', (size_t)(eol - p)) == NULL);
		CHECK(memchr(p, '\r', (size_t)(eol - p)) == NULL);
		CHECK(memchr(p, '\0', (size_t)(eol - p)) == NULL);
		if (eol - p > 13 && memcmp(p, "250 ", 4) == 0 &&
		    memmem(p, (size_t)(eol - p), "queued as", 9) != NULL)
			queued++;
		p = eol + 2;
	}
	return queued;
}

static void
check_body(struct world *w, const struct qmsg *m)
{
	char	*body, *wrapped;
	ssize_t	 n;
	size_t	 i;
	int	 fd;

	CHECK((fd = queue_open_body(w->queue, m->id)) != -1);
	CHECK((body = malloc(m->size + 1)) != NULL);
	n = read(fd, body, m->size + 1);
	close(fd);
	CHECK(n == (ssize_t)m->size);
	for (i = 0; i < m->size; i++) {
		if (body[i] == '\n')
			CHECK(i > 0 && body[i - 1] == '\r');
		if (body[i] == '\r')
			CHECK(i + 1 < m->size && body[i + 1] == '\n');
	}
	CHECK((wrapped = malloc(m->size + 2)) != NULL);
	memcpy(wrapped, "\r\n", 2);
	memcpy(wrapped + 2, body, m->size);
	CHECK(memmem(wrapped, m->size + 2, "\r\n.\r\n", 5) == NULL);
	CHECK(m->size <= WORLD_MAX_MESSAGE_SIZE * 2);
	CHECK(m->nrcpt >= 1 && m->nrcpt <= WORLD_MAX_RECIPIENTS);
	free(wrapped);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world	 w;
	struct smtp_ctx	 ctx;
	struct client	 c = { -1, 0, NULL, 0 };
	struct event	*ev;
	struct qmsg	**msgs = NULL;
	size_t		 nmsgs = 0, i, off = 0, fixtures = 0;
	unsigned	 queued, turns = 0;
	ssize_t		 n;
	int		 sv[2];

	world_init(&w);
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = w.base;
	ctx.conf = &w.conf;
	ctx.router = w.router;
	ctx.queue = w.queue;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	c.buf = replies;
	c.fd = sv[1];
	smtp_session_start(&ctx, sv[0], "fuzz");
	CHECK(ctx.nsessions == 1);

	/* The input, then the end of it; the session reads as it pleases.
	 * Writing runs the loop too, so that a session that stops reading
	 * while its replies pile up cannot deadlock the test. */
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	ev = event_new(w.base, sv[1], EV_READ | EV_PERSIST, client_read, &c);
	event_add(ev, NULL);
	while (off < size && !c.eof && ctx.nsessions > 0) {
		n = write(sv[1], data + off, size - off);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			break;	/* the session closed: it may */
		event_base_loop(w.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		CHECK(++turns < TURNS_MAX);
	}
	shutdown(sv[1], SHUT_WR);
	while (ctx.nsessions > 0 || !c.eof) {
		CHECK(event_base_loop(w.base, EVLOOP_ONCE) == 0);
		CHECK(++turns < TURNS_MAX);
	}
	event_free(ev);
	close(sv[1]);

	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%.*s", (int)c.len, c.buf);
	queued = check_replies(c.buf, c.len);
	CHECK(queue_scan(w.queue, &msgs, &nmsgs) == 0);
	for (i = 0; i < nmsgs; i++) {
		if (strcmp(msgs[i]->id, WORLD_ID_QUEUED) == 0 ||
		    strcmp(msgs[i]->id, WORLD_ID_FAILED) == 0)
			fixtures++;
		else
			check_body(&w, msgs[i]);
		qmsg_free(msgs[i]);
	}
	free(msgs);
	CHECK(fixtures == 2);
	if (nmsgs - fixtures != queued) {
		fprintf(stderr, "%zu messages queued, %u 250 queued-as replies\n",
		    nmsgs - fixtures, queued);
		abort();
	}
	world_free(&w);
	return 0;
}
