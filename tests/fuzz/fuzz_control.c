/*
 * fuzz_control.c - the control socket as a client of ours may speak to it:
 * the real listener (control.c) on a Unix socket in a scratch folder, its
 * line reader and JSON parsing, and the commands' handler (control_cmds.c)
 * on a router whose queue holds two messages (fuzz_world.h names their ids,
 * so that retry and delete find something).
 *
 * The input is sent whole, the client's side shut, and the replies read
 * until the daemon closes.  Properties: the daemon closes (no hang); every
 * line it sends is one JSON object with a boolean "ok" (or an "event");
 * and the daemon has as many replies as the input had lines, up to the
 * first line too long (after which it closes).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "control.h"
#include "control_cmds.h"
#include "fuzz.h"
#include "fuzz_world.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#define REPLIES_MAX	(4 * 1024 * 1024)
#define TURNS_MAX	100000

struct client {
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

/* Each line one JSON object; returns how many lines. */
static size_t
check_replies(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *nl;
	json_error_t	 jerr;
	json_t		*j;
	size_t		 lines = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl != NULL);
		j = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (j == NULL) {
			fprintf(stderr, "reply not JSON: %s: %.*s\n", jerr.text,
			    (int)(nl - p), p);
			abort();
		}
		CHECK(json_is_object(j));
		CHECK(json_is_boolean(json_object_get(j, "ok")) ||
		    json_object_get(j, "event") != NULL);
		json_decref(j);
		lines++;
		p = nl + 1;
	}
	return lines;
}

/* Lines the daemon must answer: each LF-ended line up to CONTROL_LINE_MAX
 * long, until a watch request (after which input is ignored) or an
 * overlong line (answered, then the connection ends). */
static size_t
expected_replies(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	size_t		 n = 0;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return end - p > CONTROL_LINE_MAX ? n + 1 : n;
		if (nl - p > CONTROL_LINE_MAX)
			return n + 1;
		n++;
		if (memmem(p, (size_t)(nl - p), "watch", 5) != NULL)
			return (size_t)-1;	/* may or may not be one */
		p = nl + 1;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world		 w;
	struct control		*ctl;
	struct client		 c = { 0, NULL, 0 };
	struct sockaddr_un	 sun;
	struct event		*ev;
	json_t			*event;
	char			 path[4200], err[512];
	size_t			 off = 0, want, got;
	unsigned		 turns = 0;
	ssize_t			 n;
	int			 fd;

	world_init(&w);
	snprintf(path, sizeof(path), "%s/control", w.dir);
	ctl = control_open(w.base, path, control_dispatch, w.router, err,
	    sizeof(err));
	if (ctl == NULL) {
		fprintf(stderr, "fuzz: control_open: %s\n", err);
		abort();
	}
	c.buf = replies;
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	CHECK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	ev = event_new(w.base, fd, EV_READ | EV_PERSIST, client_read, &c);
	event_add(ev, NULL);

	while (off < size && !c.eof) {
		n = write(fd, data + off, size - off);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			break;
		event_base_loop(w.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		CHECK(++turns < TURNS_MAX);
	}
	/* A watcher gets an event, then the end. */
	if ((event = json_pack("{s:s, s:i}", "event", "fuzz", "time", 1)))
		control_broadcast(ctl, event);
	json_decref(event);
	shutdown(fd, SHUT_WR);
	while (!c.eof) {
		CHECK(event_base_loop(w.base, EVLOOP_ONCE) == 0);
		CHECK(++turns < TURNS_MAX);
	}
	event_free(ev);
	close(fd);

	got = check_replies(c.buf, c.len);
	want = expected_replies(data, size);
	if (want != (size_t)-1 && got != want) {
		fprintf(stderr, "%zu replies for %zu request lines\n", got,
		    want);
		abort();
	}
	control_close(ctl);
	world_free(&w);
	return 0;
}
