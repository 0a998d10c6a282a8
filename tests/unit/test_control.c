/* test_control.c - the control socket: one JSON object a line each way,
 * bounded requests, a private socket, one daemon at a time. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <glib.h>
#include <jansson.h>

#include "control.h"

static char			*dir, *sock;
static struct event_base	*base;
static int			 nrequests;

/* Answers {"cmd":X} with {"ok":true,"cmd":X,"n":N}, N counting requests;
 * "fail" gets a refusal. */
static json_t *
handler(json_t *req, void *arg)
{
	const char	*cmd = json_string_value(json_object_get(req, "cmd"));

	assert_ptr_equal(arg, &nrequests);
	nrequests++;
	if (cmd != NULL && strcmp(cmd, "fail") == 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "refused");
	return json_pack("{s:b, s:s?, s:i}", "ok", 1, "cmd", cmd, "n",
	    nrequests);
}

static int
setup(void **state)
{
	if ((dir = g_dir_make_tmp("test_control.XXXXXX", NULL)) == NULL)
		return -1;
	sock = g_build_filename(dir, "run", "roamsmtp", "control", NULL);
	base = event_base_new();
	nrequests = 0;
	return base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	*cmd = g_strdup_printf("rm -rf '%s'", dir);
	int	 r = system(cmd);

	event_base_free(base);
	g_free(cmd);
	g_free(sock);
	g_free(dir);
	return r;
}

static int
client_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/*
 * Run the loop until fd has n lines to read, or EOF; returns what was
 * read (g_free).  The loop blocks in between: no timing involved.
 */
static char *
read_lines(int fd, int n, int *eof)
{
	GString	*s = g_string_new(NULL);
	char	 buf[4096];
	ssize_t	 r;
	int	 lines = 0;
	size_t	 i;

	*eof = 0;
	while (lines < n) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0) {
			*eof = 1;
			break;
		}
		if (r == -1) {
			assert_int_equal(errno, EAGAIN);
			assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
			continue;
		}
		for (i = 0; i < (size_t)r; i++)
			lines += buf[i] == '\n';
		g_string_append_len(s, buf, r);
	}
	return g_string_free(s, FALSE);
}

static void
test_round_trip_and_bad_lines(void **state)
{
	struct control	*ctl;
	struct stat	 st;
	char		 err[512], *got, *d;
	int		 fd, eof;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	/* Private: the socket 0600, its folder 0700. */
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	d = g_path_get_dirname(sock);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	g_free(d);

	fd = client_connect(sock);
	/* Two requests in one write, answered in order. */
	got = "{\"cmd\":\"status\"}\n{\"cmd\": \"queue\"}\n";
	assert_int_equal(write(fd, got, strlen(got)), (ssize_t)strlen(got));
	got = read_lines(fd, 2, &eof);
	assert_string_equal(got, "{\"ok\":true,\"cmd\":\"status\",\"n\":1}\n"
	    "{\"ok\":true,\"cmd\":\"queue\",\"n\":2}\n");
	g_free(got);

	/* Not JSON, not an object: an error reply, and the line after it is
	 * still served. */
	got = "{oops\n[1,2]\n{\"cmd\":\"fail\"}\n";
	assert_int_equal(write(fd, got, strlen(got)), (ssize_t)strlen(got));
	got = read_lines(fd, 3, &eof);
	assert_false(eof);
	assert_non_null(strstr(got, "{\"ok\":false,\"error\":\"bad request: "));
	assert_non_null(strstr(got, "not an object"));
	assert_non_null(strstr(got, "{\"ok\":false,\"error\":\"refused\"}\n"));
	assert_int_equal(nrequests, 3);
	g_free(got);
	close(fd);

	control_close(ctl);
	/* The socket file goes with it. */
	assert_int_equal(lstat(sock, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_overlong_request_is_refused_and_closed(void **state)
{
	struct control	*ctl;
	char		 err[512], *got, *big;
	size_t		 len = CONTROL_LINE_MAX + 100, off = 0;
	ssize_t		 n;
	int		 fd, eof;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	fd = client_connect(sock);
	big = g_malloc(len);
	memset(big, 'x', len);
	/* The socket buffer may not take it all at once. */
	while (off < len) {
		n = send(fd, big + off, len - off, MSG_DONTWAIT);
		if (n == -1) {
			assert_int_equal(errno, EAGAIN);
			event_base_loop(base, EVLOOP_ONCE);
			continue;
		}
		off += n;
	}
	got = read_lines(fd, 2, &eof);
	assert_true(eof);
	assert_non_null(strstr(got, "request longer than 65536 bytes"));
	assert_int_equal(nrequests, 0);
	g_free(got);
	g_free(big);
	close(fd);
	control_close(ctl);
}

static void
test_one_daemon_at_a_time(void **state)
{
	struct control		*ctl, *ctl2;
	struct sockaddr_un	 sun;
	json_t			*req = json_pack("{s:s}", "cmd", "status");
	char			 err[512], *want;
	int			 fd;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	ctl2 = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_null(ctl2);
	want = g_strdup_printf("another roamsmtpd is running (control socket "
	    "%s)", sock);
	assert_string_equal(err, want);
	g_free(want);
	control_close(ctl);

	/* A socket left behind by a crash is stale: replaced. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_null(control_request(sock, req, err, sizeof(err)));
	assert_int_equal(errno, ECONNREFUSED);
	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	control_close(ctl);

	/* Nobody there at all. */
	assert_null(control_request(sock, req, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, sock));
	json_decref(req);
}

static void
nothing(evutil_socket_t fd, short what, void *arg)
{
}

/* control_request is blocking: it runs in a child while the loop serves. */
static void
test_control_request(void **state)
{
	struct control	*ctl;
	struct event	*ev;
	char		 err[512];
	pid_t		 pid;
	int		 status, done[2];

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	/* The child holds the pipe: its exit wakes the loop. */
	assert_int_equal(pipe(done), 0);
	ev = event_new(base, done[0], EV_READ | EV_PERSIST, nothing, NULL);
	event_add(ev, NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		json_t	*req, *reply;
		int	 ok;

		close(done[0]);

		req = json_pack("{s:s, s:s}", "cmd", "retry", "id", "0123");
		reply = control_request(sock, req, err, sizeof(err));
		ok = reply != NULL &&
		    json_is_true(json_object_get(reply, "ok")) &&
		    strcmp(json_string_value(json_object_get(reply, "cmd")),
		    "retry") == 0 &&
		    json_integer_value(json_object_get(reply, "n")) == 1;
		_exit(ok ? 0 : 1);
	}
	close(done[1]);
	/* Serve until the child is done. */
	while (waitpid(pid, &status, WNOHANG) == 0)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	close(done[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(nrequests, 1);
	control_close(ctl);
}


/* Connect and send {"cmd":"watch"}; returns the fd once the reply came. */
static int
watcher(void)
{
	const char	*req = "{\"cmd\":\"watch\"}\n";
	char		*got;
	int		 fd, eof;

	fd = client_connect(sock);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	got = read_lines(fd, 1, &eof);
	assert_string_equal(got, "{\"ok\":true,\"watching\":true}\n");
	g_free(got);
	return fd;
}

static void
test_watchers_get_the_same_events(void **state)
{
	struct control	*ctl;
	json_t		*ev;
	const char	*req;
	char		 err[512], *got1, *got2;
	int		 w1, w2, fd, eof;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	w1 = watcher();
	w2 = watcher();
	assert_int_equal(control_nwatchers(ctl), 2);
	/* The socket layer answered watch itself. */
	assert_int_equal(nrequests, 0);

	/* Whatever a watcher sends later is ignored: no reply comes before
	 * the next event. */
	req = "{\"cmd\":\"status\"}\nnot json\n";
	assert_int_equal(write(w1, req, strlen(req)), (ssize_t)strlen(req));
	event_base_loop(base, EVLOOP_NONBLOCK);

	ev = json_pack("{s:s, s:i, s:s, s:s}", "event", "sent", "time",
	    1700000000, "id", "0123abcd", "profile", "home");
	control_broadcast(ctl, ev);
	json_decref(ev);
	ev = json_pack("{s:s, s:i, s:n, s:s, s:b}", "event", "profile",
	    "time", 1700000001, "profile", "reason", "no profile matches",
	    "manual", 0);
	control_broadcast(ctl, ev);
	/* The caller keeps its reference. */
	assert_int_equal(ev->refcount, 1);
	json_decref(ev);

	got1 = read_lines(w1, 2, &eof);
	got2 = read_lines(w2, 2, &eof);
	assert_string_equal(got1, "{\"event\":\"sent\",\"time\":1700000000,"
	    "\"id\":\"0123abcd\",\"profile\":\"home\"}\n"
	    "{\"event\":\"profile\",\"time\":1700000001,\"profile\":null,"
	    "\"reason\":\"no profile matches\",\"manual\":false}\n");
	assert_string_equal(got1, got2);
	assert_int_equal(nrequests, 0);
	g_free(got1);
	g_free(got2);

	/* Other connections still get answers; they get no events. */
	fd = client_connect(sock);
	req = "{\"cmd\":\"queue\"}\n";
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	got1 = read_lines(fd, 1, &eof);
	assert_string_equal(got1, "{\"ok\":true,\"cmd\":\"queue\",\"n\":1}\n");
	g_free(got1);

	/* A watcher that hangs up is forgotten. */
	close(w2);
	while (control_nwatchers(ctl) != 1)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	close(w1);
	close(fd);
	control_close(ctl);
}

/* An event whose line (with its newline) is exactly 1024 bytes. */
static json_t *
kilobyte_event(void)
{
	json_t	*ev;
	char	*pad, *s;

	pad = g_strnfill(1024 - strlen("{\"event\":\"x\",\"pad\":\"\"}\n"),
	    'a');
	ev = json_pack("{s:s, s:s}", "event", "x", "pad", pad);
	s = json_dumps(ev, JSON_COMPACT);
	assert_int_equal(strlen(s) + 1, 1024);
	free(s);
	g_free(pad);
	return ev;
}

/* Without the loop running nothing leaves the output buffers, so the
 * bound is hit exactly: what fits stays, the next event drops them. */
static void
test_watcher_output_is_bounded(void **state)
{
	struct control	*ctl;
	json_t		*ev = kilobyte_event();
	char		 err[512], *got;
	int		 w1, w2, i, eof;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	w1 = watcher();
	w2 = watcher();
	for (i = 0; i < CONTROL_WATCH_OUTPUT_MAX / 1024; i++)
		control_broadcast(ctl, ev);
	assert_int_equal(control_nwatchers(ctl), 2);
	control_broadcast(ctl, ev);
	assert_int_equal(control_nwatchers(ctl), 0);
	/* Dropped: closed at once, what was waiting is gone. */
	got = read_lines(w1, 1, &eof);
	assert_true(eof);
	assert_string_equal(got, "");
	g_free(got);
	close(w1);
	close(w2);
	json_decref(ev);
	control_close(ctl);
}

/* With the loop running, a reader keeps up while a watcher that never
 * reads is dropped once the kernel's buffer and ours are full. */
static void
test_stuck_watcher_is_dropped(void **state)
{
	struct control	*ctl;
	json_t		*ev = kilobyte_event();
	const char	*req = "{\"cmd\":\"status\"}\n";
	char		 err[512], *got;
	int		 fast, slow, fd, i, eof, dropped_after = -1;
	/* Far more than any socket buffer plus ours. */
	const int	 max_events = 64 * 1024;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	fast = watcher();
	slow = watcher();
	for (i = 0; i < max_events; i++) {
		control_broadcast(ctl, ev);
		if (dropped_after == -1 && control_nwatchers(ctl) == 1)
			dropped_after = i + 1;
		got = read_lines(fast, 1, &eof);
		assert_false(eof);
		assert_int_equal(strlen(got), 1024);
		g_free(got);
		if (dropped_after != -1 && i >= dropped_after + 10)
			break;
	}
	assert_true(dropped_after > CONTROL_WATCH_OUTPUT_MAX / 1024);
	assert_int_equal(control_nwatchers(ctl), 1);

	/* The stuck one got the first events, then the end. */
	got = read_lines(slow, max_events, &eof);
	assert_true(eof);
	assert_true(strlen(got) < (size_t)dropped_after * 1024);
	assert_true(strncmp(got, "{\"event\":\"x\",\"pad\":\"aaa", 23) == 0);
	g_free(got);

	/* And the daemon still answers. */
	fd = client_connect(sock);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	got = read_lines(fd, 1, &eof);
	assert_string_equal(got, "{\"ok\":true,\"cmd\":\"status\",\"n\":1}\n");
	g_free(got);
	close(fd);
	close(fast);
	close(slow);
	json_decref(ev);
	control_close(ctl);
}

/* Reads one byte from the child into arg (EOF: 'e'). */
static void
child_said(evutil_socket_t fd, short what, void *arg)
{
	char	*said = arg, c;

	/* The first byte counts; the EOF when the child exits does not. */
	if (read(fd, &c, 1) != 1)
		c = 'e';
	if (*said == 0)
		*said = c;
}

/* The client side of watch, in a child while the loop serves: the reply,
 * then events as lines, then the end when the daemon closes. */
static void
test_client_watch(void **state)
{
	struct control	*ctl;
	struct event	*ev;
	json_t		*e;
	char		 err[512];
	pid_t		 pid;
	int		 status, done[2], i;
	char		 said = 0;

	ctl = control_open(base, sock, handler, &nrequests, err, sizeof(err));
	assert_non_null(ctl);
	assert_int_equal(pipe(done), 0);
	ev = event_new(base, done[0], EV_READ | EV_PERSIST, child_said, &said);
	event_add(ev, NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct control_client	*cl;
		json_t			*req, *o;
		char			*line;
		int			 ok;

		close(done[0]);
		req = json_pack("{s:s}", "cmd", "watch");
		if ((cl = control_connect(sock, err, sizeof(err))) == NULL)
			_exit(10);
		o = control_call(cl, req, err, sizeof(err));
		if (o == NULL || !json_is_true(json_object_get(o, "watching")))
			_exit(11);
		json_decref(o);
		for (i = 0; i < 3; i++) {
			o = control_next(cl, &line, err, sizeof(err));
			ok = o != NULL && json_integer_value(json_object_get(o,
			    "n")) == i && line != NULL && strcmp(line, i == 0 ?
			    "{\"event\":\"x\",\"n\":0}" : i == 1 ?
			    "{\"event\":\"x\",\"n\":1}" :
			    "{\"event\":\"x\",\"n\":2}") == 0;
			json_decref(o);
			free(line);
			if (!ok)
				_exit(20 + i);
		}
		/* Tell the parent all came. */
		if (write(done[1], "r", 1) != 1)
			_exit(12);
		/* The daemon goes away: a clean end, errno 0. */
		o = control_next(cl, &line, err, sizeof(err));
		ok = o == NULL && errno == 0 && line == NULL &&
		    strstr(err, "closed") != NULL;
		control_disconnect(cl);
		json_decref(req);
		_exit(ok ? 0 : 30);
	}
	close(done[1]);
	while (control_nwatchers(ctl) == 0)
		event_base_loop(base, EVLOOP_ONCE);
	/* Three events in a row, likely read in one go by the child. */
	for (i = 0; i < 3; i++) {
		e = json_pack("{s:s, s:i}", "event", "x", "n", i);
		control_broadcast(ctl, e);
		json_decref(e);
	}
	/* Serve until the child has them all, then go away. */
	while (said == 0)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	control_close(ctl);
	/* libevent closes a freed bufferevent's socket in a later turn of
	 * the loop: run it until the child has seen the end and exited. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct timeval	tick = { 0, 10000 };

		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	event_free(ev);
	close(done[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(said, 'r');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_bad_lines,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_overlong_request_is_refused_and_closed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_one_daemon_at_a_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_watchers_get_the_same_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_output_is_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_watcher_is_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_watch,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
