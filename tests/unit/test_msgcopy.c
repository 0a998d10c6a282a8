/*
 * test_msgcopy.c - the safety copy of a message in flight: in memory while
 * small (no file in tmp/), moved to a spool file past MSGCOPY_HOLD_MAX or
 * from the start when asked, committed to the queue as exactly the first
 * len octets, or thrown away without a trace.  Each test has its own queue
 * directory (queue_open locks it).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "msgcopy.h"
#include "queue.h"

#define TEST_PATH_MAX	1024
/* The terminator the session copies with the body and commit cuts off. */
#define DOT_CRLF	".\r\n"

struct fixture {
	char		 top[TEST_PATH_MAX / 2];	/* mkdtemp */
	char		 dir[TEST_PATH_MAX];	/* top/queue */
	char		 tmp[TEST_PATH_MAX + 8];	/* top/queue/tmp */
	struct queue	*q;
	struct msgcopy	 mc;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*fx;
	const char	*tmp = getenv("TMPDIR");
	char		 err[256];

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->top, sizeof(fx->top), "%s/test_msgcopy.XXXXXX",
	    tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->dir, sizeof(fx->dir), "%s/queue", fx->top);
	snprintf(fx->tmp, sizeof(fx->tmp), "%s/tmp", fx->dir);
	if ((fx->q = queue_open(fx->dir, err, sizeof(err))) == NULL)
		fail_msg("queue_open: %s", err);
	msgcopy_init(&fx->mc, fx->q);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	msgcopy_free(&fx->mc);
	queue_close(fx->q);
	nftw(fx->top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/*
 * Entries of dir other than ".", ".." and "tmp"; the first one's name goes
 * to first (when not NULL and there is one).
 */
static int
entries(const char *dir, char *first, size_t firstlen)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "tmp") == 0)
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, firstlen, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* The whole of a file, malloc'ed, NUL terminated; *len its size. */
static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char		 path[TEST_PATH_MAX * 2];
	struct stat	 st;
	char		*buf;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = st.st_size;
	return buf;
}

static off_t
file_size(const char *dir, const char *name)
{
	char		path[TEST_PATH_MAX * 2];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static struct qmsg *
envelope(void)
{
	struct qmsg	*m = qmsg_new();

	assert_non_null(m);
	m->from = strdup("alice@example.net");
	assert_non_null(m->from);
	assert_int_equal(qmsg_add_rcpt(m, "bob@example.org"), 0);
	return m;
}

/* A body of len octets: headers, then lines of a counting pattern. */
static char *
make_body(size_t len)
{
	static const char	 head[] = "Subject: copy test\r\n\r\n";
	char			*b;
	size_t			 i;

	assert_true(len >= sizeof(head) - 1);
	b = malloc(len + sizeof(DOT_CRLF));
	assert_non_null(b);
	memcpy(b, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < len; i++)
		b[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' :
		    'a' + (char)(i % 26);
	/* The terminator follows the body, as the session copies it. */
	memcpy(b + len, DOT_CRLF, sizeof(DOT_CRLF));
	return b;
}

/* Feed body[0..len) and the terminator in pieces of at most chunk. */
static void
feed(struct msgcopy *mc, const char *body, size_t len, size_t chunk)
{
	size_t	off, n, total = len + strlen(DOT_CRLF);

	for (off = 0; off < total; off += n) {
		n = total - off < chunk ? total - off : chunk;
		msgcopy_add(mc, body + off, n);
	}
	assert_int_equal(mc->err, 0);
}

/*
 * After a commit: exactly one message in the queue, its ID.msg is
 * body[0..len), its ID.env reads back with that id and size; tmp/ is empty.
 */
static void
assert_committed(struct fixture *fx, const struct qmsg *m, const char *body,
    size_t len)
{
	char		 name[64], *msg, *env, err[256];
	struct qmsg	*back;
	size_t		 n;

	assert_int_equal(strlen(m->id), QUEUE_ID_LEN);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	assert_int_equal(entries(fx->dir, NULL, 0), 2);

	snprintf(name, sizeof(name), "%s.msg", m->id);
	msg = slurp(fx->dir, name, &n);
	assert_int_equal(n, len);
	assert_memory_equal(msg, body, len);
	free(msg);

	snprintf(name, sizeof(name), "%s.env", m->id);
	env = slurp(fx->dir, name, &n);
	back = qmsg_from_json(env, n, err, sizeof(err));
	if (back == NULL)
		fail_msg("%s: %s", name, err);
	assert_string_equal(back->id, m->id);
	assert_true(back->size == len);
	assert_string_equal(back->from, "alice@example.net");
	assert_int_equal(back->nrcpt, 1);
	assert_string_equal(back->rcpt[0], "bob@example.org");
	assert_int_equal(back->state, QSTATE_QUEUED);
	assert_non_null(back->subject);
	assert_string_equal(back->subject, "copy test");
	qmsg_free(back);
	free(env);
}

static void
test_small_stays_in_memory(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = 1000;
	char		*body = make_body(len);
	struct qmsg	*m = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, len, 100);
	/* Nothing on disk while the copy is small. */
	assert_int_equal(fx->mc.spool.fd, -1);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	assert_int_equal(entries(fx->dir, NULL, 0), 0);

	assert_int_equal(msgcopy_commit(&fx->mc, len, m), 0);
	assert_committed(fx, m, body, len);
	qmsg_free(m);
	free(body);
}

/* Exactly MSGCOPY_HOLD_MAX octets are still held in memory. */
static void
test_hold_max_boundary(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = MSGCOPY_HOLD_MAX - strlen(DOT_CRLF);
	char		*body = make_body(len);
	struct qmsg	*m = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, len, 4096);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	/* One octet more and it moves to disk. */
	msgcopy_add(&fx->mc, "x", 1);
	assert_int_equal(fx->mc.err, 0);
	assert_int_equal(entries(fx->tmp, NULL, 0), 1);

	assert_int_equal(msgcopy_commit(&fx->mc, len, m), 0);
	assert_committed(fx, m, body, len);
	qmsg_free(m);
	free(body);
}

static void
test_large_moves_to_spool(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = 3 * MSGCOPY_HOLD_MAX + 12345;
	char		*body = make_body(len), name[256];
	struct qmsg	*m = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, len, 7000);
	assert_int_not_equal(fx->mc.spool.fd, -1);
	/* The spool file exists before the commit, and holds everything
	 * added so far, terminator included. */
	assert_int_equal(entries(fx->tmp, name, sizeof(name)), 1);
	assert_string_equal(name, fx->mc.spool.id);
	assert_int_equal(file_size(fx->tmp, name), len + strlen(DOT_CRLF));
	assert_int_equal(entries(fx->dir, NULL, 0), 0);

	assert_int_equal(msgcopy_commit(&fx->mc, len, m), 0);
	/* The commit cut the terminator off. */
	assert_committed(fx, m, body, len);
	assert_string_equal(m->id, name);
	assert_int_equal(fx->mc.spool.fd, -1);
	qmsg_free(m);
	free(body);
}

/* One add larger than the hold goes straight to the file. */
static void
test_one_big_add(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = MSGCOPY_HOLD_MAX + 1;
	char		*body = make_body(len);
	struct qmsg	*m = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	msgcopy_add(&fx->mc, body, 10);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	feed(&fx->mc, body + 10, len - 10, len);
	assert_int_equal(entries(fx->tmp, NULL, 0), 1);
	assert_int_equal(msgcopy_commit(&fx->mc, len, m), 0);
	assert_committed(fx, m, body, len);
	qmsg_free(m);
	free(body);
}

static void
test_discard_small(void **state)
{
	struct fixture	*fx = *state;
	char		*body = make_body(500);

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, 500, 64);
	msgcopy_discard(&fx->mc);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	assert_int_equal(entries(fx->dir, NULL, 0), 0);
	assert_int_equal(evbuffer_get_length(fx->mc.hold), 0);
	free(body);
}

static void
test_discard_large(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = 2 * MSGCOPY_HOLD_MAX;
	char		*body = make_body(len);

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, len, 10000);
	assert_int_equal(entries(fx->tmp, NULL, 0), 1);
	msgcopy_discard(&fx->mc);
	assert_int_equal(fx->mc.spool.fd, -1);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	assert_int_equal(entries(fx->dir, NULL, 0), 0);
	free(body);
}

/* Offline: the spool file is there at once, before any byte. */
static void
test_on_disk_start(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = 300;
	char		*body = make_body(len), name[256];
	struct qmsg	*m = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 1), 0);
	assert_int_not_equal(fx->mc.spool.fd, -1);
	assert_int_equal(entries(fx->tmp, name, sizeof(name)), 1);
	assert_string_equal(name, fx->mc.spool.id);
	assert_int_equal(file_size(fx->tmp, name), 0);

	feed(&fx->mc, body, len, 50);
	/* Small as it is, it went to the file. */
	assert_int_equal(file_size(fx->tmp, name), len + strlen(DOT_CRLF));
	assert_int_equal(evbuffer_get_length(fx->mc.hold), 0);

	assert_int_equal(msgcopy_commit(&fx->mc, len, m), 0);
	assert_committed(fx, m, body, len);
	qmsg_free(m);
	free(body);
}

/* The same msgcopy serves one message after another. */
static void
test_reuse_after_commit(void **state)
{
	struct fixture	*fx = *state;
	char		*b1 = make_body(200), *b2 = make_body(400);
	struct qmsg	*m1 = envelope(), *m2 = envelope();

	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, b1, 200, 1000);
	assert_int_equal(msgcopy_commit(&fx->mc, 200, m1), 0);
	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, b2, 400, 1000);
	assert_int_equal(msgcopy_commit(&fx->mc, 400, m2), 0);
	assert_string_not_equal(m1->id, m2->id);
	assert_int_equal(entries(fx->dir, NULL, 0), 4);
	assert_true(m1->size == 200);
	assert_true(m2->size == 400);
	qmsg_free(m1);
	qmsg_free(m2);
	free(b1);
	free(b2);
}

/* A refused commit (no recipients) leaves nothing, in memory or on disk. */
static void
test_commit_refused_leaves_nothing(void **state)
{
	struct fixture	*fx = *state;
	size_t		 len = 2 * MSGCOPY_HOLD_MAX;
	char		*body = make_body(len);
	struct qmsg	*m = qmsg_new();

	assert_non_null(m);
	m->from = strdup("alice@example.net");
	assert_int_equal(msgcopy_start(&fx->mc, 0), 0);
	feed(&fx->mc, body, len, 10000);
	assert_int_equal(msgcopy_commit(&fx->mc, len, m), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fx->mc.spool.fd, -1);
	assert_int_equal(entries(fx->tmp, NULL, 0), 0);
	assert_int_equal(entries(fx->dir, NULL, 0), 0);
	qmsg_free(m);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_stays_in_memory,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_max_boundary,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_moves_to_spool,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_big_add,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_small,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_large,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_disk_start,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_after_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_refused_leaves_nothing,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
