/*
 * test_queue.c - the on-disk queue: commit, scan, update, remove, abort,
 * damaged files, the envelope's JSON.  Each test gets its own directory.
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

/* Not <limits.h>: daemon/limits.h shadows it on the include path. */
#define TEST_PATH_MAX	1024

#include "log.h"
#include "queue.h"

struct fixture {
	char		 top[TEST_PATH_MAX / 2];	/* mkdtemp */
	char		 dir[TEST_PATH_MAX];	/* top/state/queue */
	struct queue	*q;
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
	snprintf(fx->top, sizeof(fx->top), "%s/test_queue.XXXXXX",
	    tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->top));
	/* The parents do not exist yet: queue_open creates them. */
	snprintf(fx->dir, sizeof(fx->dir), "%s/state/queue", fx->top);
	fx->q = queue_open(fx->dir, err, sizeof(err));
	if (fx->q == NULL)
		fail_msg("queue_open: %s", err);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	queue_close(fx->q);
	nftw(fx->top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static char *
path_of(struct fixture *fx, const char *name)
{
	static char	buf[TEST_PATH_MAX * 2];

	snprintf(buf, sizeof(buf), "%s/%s", fx->dir, name);
	return buf;
}

static int
exists(struct fixture *fx, const char *name)
{
	return access(path_of(fx, name), F_OK) == 0;
}

/* Entries in dir, "." and ".." excluded. */
static int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct qmsg *
envelope(const char *from, const char *rcpt1, const char *rcpt2)
{
	struct qmsg	*m = qmsg_new();

	assert_non_null(m);
	m->from = strdup(from);
	assert_int_equal(qmsg_add_rcpt(m, rcpt1), 0);
	if (rcpt2 != NULL)
		assert_int_equal(qmsg_add_rcpt(m, rcpt2), 0);
	return m;
}

/* Spool body and commit it with m; returns 0 or -1 as spool_commit. */
static int
commit(struct fixture *fx, const char *body, struct qmsg *m)
{
	struct spool	sp;
	size_t		half = strlen(body) / 2;

	assert_int_equal(spool_begin(fx->q, &sp), 0);
	assert_int_not_equal(sp.fd, -1);
	/* Two writes, as a body arrives in pieces. */
	assert_int_equal(spool_write(&sp, body, half), 0);
	assert_int_equal(spool_write(&sp, body + half, strlen(body) - half), 0);
	assert_true(sp.size == strlen(body));
	return spool_commit(fx->q, &sp, m);
}

static struct qmsg **
scan(struct fixture *fx, size_t *n)
{
	struct qmsg	**v;

	assert_int_equal(queue_scan(fx->q, &v, n), 0);
	return v;
}

static void
free_scan(struct qmsg **v, size_t n)
{
	while (n > 0)
		qmsg_free(v[--n]);
	free(v);
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat	st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, want);
}

static void
test_new_id(void **state)
{
	char	a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	size_t	i;

	queue_new_id(a);
	queue_new_id(b);
	assert_int_equal(strlen(a), QUEUE_ID_LEN);
	for (i = 0; i < QUEUE_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

static void
test_commit_then_scan(void **state)
{
	struct fixture	 *fx = *state;
	const char	 *body = "From: alice@example.net\r\n"
	    "Subject: Lunch\r\n tomorrow?\r\n\r\nSubject: not this\r\n";
	struct qmsg	 *m, **v;
	char		  name[64], buf[256];
	size_t		  n;
	ssize_t		  r;
	int		  fd;

	m = envelope("alice@example.net", "bob@example.org",
	    "\"c d\"@example.org");
	m->body_8bitmime = 1;
	m->smtputf8 = 1;
	assert_int_equal(commit(fx, body, m), 0);
	assert_int_equal(strlen(m->id), QUEUE_ID_LEN);
	assert_true(m->size == strlen(body));
	assert_true(m->created > 0);
	assert_string_equal(m->subject, "Lunch tomorrow?");

	snprintf(name, sizeof(name), "%s.msg", m->id);
	assert_mode(path_of(fx, name), 0600);
	snprintf(name, sizeof(name), "%s.env", m->id);
	assert_mode(path_of(fx, name), 0600);
	assert_mode(fx->dir, 0700);
	assert_mode(path_of(fx, "tmp"), 0700);
	assert_int_equal(count_entries(path_of(fx, "tmp")), 0);

	v = scan(fx, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, m->id);
	assert_int_equal(v[0]->state, QSTATE_QUEUED);
	assert_string_equal(v[0]->from, "alice@example.net");
	assert_int_equal(v[0]->nrcpt, 2);
	assert_string_equal(v[0]->rcpt[0], "bob@example.org");
	assert_string_equal(v[0]->rcpt[1], "\"c d\"@example.org");
	assert_int_equal(v[0]->body_8bitmime, 1);
	assert_int_equal(v[0]->smtputf8, 1);
	assert_true(v[0]->size == strlen(body));
	assert_true(v[0]->created == m->created);
	assert_int_equal(v[0]->attempts, 0);
	assert_true(v[0]->next_attempt == 0);
	assert_null(v[0]->last_error);
	assert_string_equal(v[0]->subject, "Lunch tomorrow?");

	/* The body reads back byte for byte. */
	fd = queue_open_body(fx->q, m->id);
	assert_int_not_equal(fd, -1);
	r = read(fd, buf, sizeof(buf));
	assert_int_equal(r, strlen(body));
	assert_memory_equal(buf, body, r);
	close(fd);

	free_scan(v, n);
	qmsg_free(m);
}

static void
test_update_and_remove(void **state)
{
	struct fixture	 *fx = *state;
	struct qmsg	 *m, *m2, **v;
	size_t		  n;

	m = envelope("", "bob@example.org", NULL);	/* a bounce, <> */
	m2 = envelope("carol@example.net", "dave@example.org", NULL);
	m2->created = 1;	/* older: listed first */
	assert_int_equal(commit(fx, "x\r\n", m), 0);
	assert_int_equal(commit(fx, "y\r\n", m2), 0);

	m->state = QSTATE_FAILED;
	m->attempts = 3;
	m->next_attempt = 1700000000;
	m->last_error = strdup("550-5.1.1 no such\nuser\r\nhere");
	assert_int_equal(queue_update(fx->q, m), 0);

	v = scan(fx, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->id, m2->id);
	assert_string_equal(v[1]->id, m->id);
	assert_int_equal(v[1]->state, QSTATE_FAILED);
	assert_string_equal(v[1]->from, "");
	assert_int_equal(v[1]->attempts, 3);
	assert_true(v[1]->next_attempt == 1700000000);
	/* Line breaks do not survive into the envelope. */
	assert_string_equal(v[1]->last_error, "550-5.1.1 no such user  here");
	assert_null(v[1]->subject);
	free_scan(v, n);

	assert_int_equal(queue_remove(fx->q, m->id), 0);
	v = scan(fx, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, m2->id);
	free_scan(v, n);
	assert_int_equal(queue_remove(fx->q, m->id), -1);
	assert_int_equal(errno, ENOENT);
	/* Updating a removed message must not resurrect an envelope. */
	assert_int_equal(queue_update(fx->q, m), -1);
	assert_int_equal(count_entries(fx->dir), 3);	/* tmp + m2's two */

	assert_int_equal(queue_remove(fx->q, "../../etc/passwd"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_open_body(fx->q, "0123456789ABCDEF"), -1);
	assert_int_equal(errno, EINVAL);
	qmsg_free(m);
	qmsg_free(m2);
}

static void
test_abort_leaves_nothing(void **state)
{
	struct fixture	*fx = *state;
	struct spool	 sp;

	assert_int_equal(spool_begin(fx->q, &sp), 0);
	assert_int_equal(spool_write(&sp, "partial", 7), 0);
	assert_int_equal(count_entries(path_of(fx, "tmp")), 1);
	spool_abort(fx->q, &sp);
	assert_int_equal(sp.fd, -1);
	assert_int_equal(count_entries(path_of(fx, "tmp")), 0);
	assert_int_equal(count_entries(fx->dir), 1);	/* tmp */
}

static void
test_commit_refuses_bad_envelope(void **state)
{
	struct fixture	*fx = *state;
	struct qmsg	*m = qmsg_new();

	m->from = strdup("a@b");	/* no recipient */
	assert_int_equal(commit(fx, "x\r\n", m), -1);
	assert_int_equal(errno, EINVAL);
	/* Nothing was accepted, nothing remains. */
	assert_int_equal(count_entries(path_of(fx, "tmp")), 0);
	assert_int_equal(count_entries(fx->dir), 1);
	qmsg_free(m);
}

static void
test_damaged_env_skipped_and_kept(void **state)
{
	struct fixture	 *fx = *state;
	struct qmsg	 *m, **v;
	size_t		  n;
	char		  name[64], *json;

	m = envelope("a@b", "c@d", NULL);
	assert_int_equal(commit(fx, "good\r\n", m), 0);

	/* Not JSON. */
	write_file(path_of(fx, "1111111111111111.env"), "{\"version\":1,");
	write_file(path_of(fx, "1111111111111111.msg"), "x\r\n");
	/* Valid, but under another message's name. */
	json = qmsg_to_json(m);
	assert_non_null(json);
	write_file(path_of(fx, "2222222222222222.env"), json);
	write_file(path_of(fx, "2222222222222222.msg"), "good\r\n");
	/* An envelope whose body is gone. */
	snprintf(name, sizeof(name), "%s.msg", m->id);
	memcpy(m->id, "3333333333333333", QUEUE_ID_LEN);
	free(json);
	json = qmsg_to_json(m);
	write_file(path_of(fx, "3333333333333333.env"), json);
	/* A body of another size than the envelope says. */
	memcpy(m->id, "4444444444444444", QUEUE_ID_LEN);
	free(json);
	json = qmsg_to_json(m);
	write_file(path_of(fx, "4444444444444444.env"), json);
	write_file(path_of(fx, "4444444444444444.msg"), "truncated");
	free(json);

	v = scan(fx, &n);
	assert_int_equal(n, 1);
	assert_true(v[0]->size == 6);
	free_scan(v, n);
	/* Never deleted: they may be someone's only copy. */
	assert_true(exists(fx, "1111111111111111.env"));
	assert_true(exists(fx, "1111111111111111.msg"));
	assert_true(exists(fx, "2222222222222222.env"));
	assert_true(exists(fx, "2222222222222222.msg"));
	assert_true(exists(fx, "3333333333333333.env"));
	assert_true(exists(fx, "4444444444444444.env"));
	assert_true(exists(fx, "4444444444444444.msg"));
	assert_true(exists(fx, name));
	qmsg_free(m);
}

static void
test_stray_msg_removed(void **state)
{
	struct fixture	 *fx = *state;
	struct qmsg	**v;
	size_t		  n;

	write_file(path_of(fx, "aaaaaaaaaaaaaaaa.msg"), "never got its 250");
	write_file(path_of(fx, "README"), "not ours, left alone");
	v = scan(fx, &n);
	assert_int_equal(n, 0);
	free_scan(v, n);
	assert_false(exists(fx, "aaaaaaaaaaaaaaaa.msg"));
	assert_true(exists(fx, "README"));
}

static void
test_tmp_cleaned_on_open(void **state)
{
	struct fixture	*fx = *state;
	struct spool	 sp;
	char		 err[256];

	assert_int_equal(spool_begin(fx->q, &sp), 0);
	assert_int_equal(spool_write(&sp, "crash", 5), 0);
	close(sp.fd);	/* the daemon dies here */
	write_file(path_of(fx, "tmp/bbbbbbbbbbbbbbbb.env"), "{}");
	assert_int_equal(count_entries(path_of(fx, "tmp")), 2);

	/* While one daemon holds the queue, a second one is refused. */
	assert_null(queue_open(fx->dir, err, sizeof(err)));
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(count_entries(path_of(fx, "tmp")), 2);

	queue_close(fx->q);
	fx->q = queue_open(fx->dir, err, sizeof(err));
	assert_non_null(fx->q);
	assert_int_equal(count_entries(path_of(fx, "tmp")), 0);
}

static void
test_subject_extraction(void **state)
{
	struct fixture	*fx = *state;
	struct qmsg	*m;
	char		 body[1024];
	size_t		 i;

	/* None in the headers; one in the body does not count. */
	m = envelope("a@b", "c@d", NULL);
	assert_int_equal(commit(fx, "From: a@b\r\n\r\nSubject: no\r\n", m), 0);
	assert_null(m->subject);
	qmsg_free(m);

	/* Case-insensitive, folded with tabs, control characters blanked. */
	m = envelope("a@b", "c@d", NULL);
	assert_int_equal(commit(fx, "subject:   Re:\r\n\tthe\x01plan  \r\n"
	    "To: c@d\r\n\r\n", m), 0);
	/* the tab is blanked too: a listing is one plain line */
	assert_string_equal(m->subject, "Re: the plan");
	qmsg_free(m);

	/* A subject the caller already knows is kept. */
	m = envelope("a@b", "c@d", NULL);
	m->subject = strdup("given");
	assert_int_equal(commit(fx, "Subject: read\r\n\r\n", m), 0);
	assert_string_equal(m->subject, "given");
	qmsg_free(m);

	/* Cut at 200 octets, not inside a UTF-8 character; Latin-1 is '?'. */
	strcpy(body, "Subject: \xe9");
	for (i = 0; i < 120; i++)
		strcat(body, "\xc3\xa9");	/* é, 2 octets */
	strcat(body, "\r\n\r\n");
	m = envelope("a@b", "c@d", NULL);
	assert_int_equal(commit(fx, body, m), 0);
	assert_non_null(m->subject);
	/* octets 0..199: \xe9, then 99 whole é; the 100th is cut in two */
	assert_int_equal(strlen(m->subject), 1 + 99 * 2);
	assert_int_equal(m->subject[0], '?');
	qmsg_free(m);
}

static void
test_json_roundtrip(void **state)
{
	struct qmsg	*m, *back;
	char		*json, err[256];

	m = envelope("j\xc3\xb6rg@example.net", "x@y", NULL);
	memcpy(m->id, "0123456789abcdef", QUEUE_ID_LEN + 1);
	m->size = 12345;
	m->created = 1700000000;
	m->attempts = 7;
	m->subject = strdup("caf\xc3\xa9");
	json = qmsg_to_json(m);
	assert_non_null(json);
	back = qmsg_from_json(json, strlen(json), err, sizeof(err));
	if (back == NULL)
		fail_msg("%s: %s", json, err);
	assert_string_equal(back->id, m->id);
	assert_string_equal(back->from, m->from);
	assert_true(back->size == 12345);
	assert_true(back->created == 1700000000);
	assert_int_equal(back->attempts, 7);
	assert_string_equal(back->subject, "caf\xc3\xa9");
	assert_null(back->last_error);
	qmsg_free(back);
	free(json);

	/* An address that could break a command line is not written. */
	free(m->rcpt[0]);
	m->rcpt[0] = strdup("x@y>\r\nRCPT TO:<z@w");
	assert_null(qmsg_to_json(m));
	qmsg_free(m);
}

#define ENV_HEAD	"{\"version\":1,\"id\":\"0123456789abcdef\","
#define ENV_TAIL	"\"body_8bitmime\":false,\"smtputf8\":false,"	\
			"\"size\":1,\"created\":2,\"attempts\":0,"	\
			"\"next_attempt\":0,\"last_error\":null,"	\
			"\"subject\":null}"
#define ENV_MID		"\"state\":\"queued\",\"from\":\"a@b\","	\
			"\"rcpt\":[\"c@d\"],"

static void
test_json_rejects(void **state)
{
	static const struct {
		const char	*json;
		const char	*why;	/* a word the error names */
	} bad[] = {
		{ "", "JSON" },
		{ "[]", "object" },
		{ ENV_HEAD ENV_MID ENV_TAIL " x", "JSON" },
		{ "{\"version\":2,\"id\":\"0123456789abcdef\"," ENV_MID
		    ENV_TAIL, "version" },
		{ "{\"version\":1," ENV_MID ENV_TAIL, "id" },
		{ "{\"version\":1,\"id\":\"0123456789ABCDEF\"," ENV_MID
		    ENV_TAIL, "id" },
		{ "{\"version\":1,\"id\":\"0123\"," ENV_MID ENV_TAIL, "id" },
		{ "{\"version\":1,\"id\":\"../../../etc/pass\"," ENV_MID
		    ENV_TAIL, "id" },
		{ ENV_HEAD "\"state\":\"sent\",\"from\":\"a@b\","
		    "\"rcpt\":[\"c@d\"]," ENV_TAIL, "state" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a@b\","
		    "\"rcpt\":[]," ENV_TAIL, "rcpt" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a@b\","
		    "\"rcpt\":[1]," ENV_TAIL, "rcpt" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a@b\","
		    "\"rcpt\":[\"\"]," ENV_TAIL, "rcpt" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a@b\","
		    "\"rcpt\":\"c@d\"," ENV_TAIL, "rcpt" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a@b\\r\\nDATA\","
		    "\"rcpt\":[\"c@d\"]," ENV_TAIL, "from" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":\"a\\u0000b\","
		    "\"rcpt\":[\"c@d\"]," ENV_TAIL, "JSON" },
		{ ENV_HEAD "\"state\":\"queued\",\"from\":null,"
		    "\"rcpt\":[\"c@d\"]," ENV_TAIL, "from" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":0,\"smtputf8\":false,"
		    "\"size\":1,\"created\":2,\"attempts\":0,"
		    "\"next_attempt\":0,\"last_error\":null,\"subject\":null}",
		    "body_8bitmime" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":false,\"smtputf8\":false,"
		    "\"size\":-1,\"created\":2,\"attempts\":0,"
		    "\"next_attempt\":0,\"last_error\":null,\"subject\":null}",
		    "size" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":false,\"smtputf8\":false,"
		    "\"size\":1,\"created\":2,\"attempts\":\"1\","
		    "\"next_attempt\":0,\"last_error\":null,\"subject\":null}",
		    "attempts" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":false,\"smtputf8\":false,"
		    "\"size\":1,\"created\":2,\"attempts\":0,"
		    "\"next_attempt\":0,\"last_error\":\"a\\nb\","
		    "\"subject\":null}", "last_error" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":false,\"smtputf8\":false,"
		    "\"size\":1,\"created\":2,\"attempts\":0,"
		    "\"next_attempt\":0,\"last_error\":null,\"subject\":5}",
		    "subject" },
		{ ENV_HEAD ENV_MID "\"body_8bitmime\":false,\"smtputf8\":false,"
		    "\"size\":1,\"created\":2,\"attempts\":0,"
		    "\"next_attempt\":0,\"last_error\":null}", "subject" },
		{ ENV_HEAD ENV_MID "\"extra\":1," ENV_TAIL, "extra" },
		{ ENV_HEAD ENV_MID "\"from\":\"x@y\"," ENV_TAIL, "JSON" },
	};
	const char	*good = ENV_HEAD ENV_MID ENV_TAIL;
	struct qmsg	*m;
	char		 err[256];
	size_t		 i;

	m = qmsg_from_json(good, strlen(good), err, sizeof(err));
	if (m == NULL)
		fail_msg("good envelope refused: %s", err);
	assert_string_equal(m->rcpt[0], "c@d");
	qmsg_free(m);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		m = qmsg_from_json(bad[i].json, strlen(bad[i].json), err,
		    sizeof(err));
		if (m != NULL)
			fail_msg("accepted: %s", bad[i].json);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("%s: error \"%s\" does not name \"%s\"",
			    bad[i].json, err, bad[i].why);
	}
	/* A NUL inside the buffer and a NULL err are survivable. */
	assert_null(qmsg_from_json("{\0}", 3, NULL, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_id),
		cmocka_unit_test_setup_teardown(test_commit_then_scan,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_and_remove,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_commit_refuses_bad_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_damaged_env_skipped_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_msg_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_cleaned_on_open,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject_extraction,
		    setup, teardown),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_rejects),
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
