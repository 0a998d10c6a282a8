/* test_dsn.c - delivery status notifications: the status code found in a
 * reply, and the report's shape (RFC 3464). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsn.h"
#include "queue.h"

static void
test_status_code(void **state)
{
	char	buf[16];

	assert_string_equal(dsn_status_code("127.0.0.1:25 refused <b@x>: "
	    "550 5.1.1 No such user", "5.0.0", buf, sizeof(buf)), "5.1.1");
	assert_string_equal(dsn_status_code("451 4.7.1 Greylisted", "4.0.0",
	    buf, sizeof(buf)), "4.7.1");
	/* an address or a version is not a status code */
	assert_string_equal(dsn_status_code("cannot connect to 10.1.2.3:25",
	    "4.0.0", buf, sizeof(buf)), "4.0.0");
	assert_string_equal(dsn_status_code("TLSv1.2.3 oops", "5.0.0", buf,
	    sizeof(buf)), "5.0.0");
	assert_string_equal(dsn_status_code(NULL, "5.0.0", buf, sizeof(buf)),
	    "5.0.0");
}

static struct qmsg *
message(void)
{
	struct qmsg	*m = qmsg_new();

	assert_non_null(m);
	strcpy(m->id, "0123456789abcdef");
	m->from = strdup("alice@example.org");
	assert_int_equal(qmsg_add_rcpt(m, "bob@example.net"), 0);
	assert_int_equal(qmsg_add_rcpt(m, "carol@example.net"), 0);
	m->created = 1700000000;
	return m;
}

static void
test_render_failed(void **state)
{
	struct qmsg	*m = message();
	const char	*hdr = "Subject: hello\r\nFrom: alice@example.org\r\n";
	char		*r, *p;
	size_t		 len;

	r = dsn_render(m, DSN_FAILED, "up:25 refused <bob@example.net>: 550 "
	    "5.1.1 No such\r\nuser \xc3\xa9", "laptop", hdr, strlen(hdr), "B1",
	    1700000100, &len);
	assert_non_null(r);
	assert_int_equal(strlen(r), len);
	assert_non_null(strstr(r, "To: <alice@example.org>\r\n"));
	assert_non_null(strstr(r, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"B1\"\r\n"));
	assert_non_null(strstr(r, "\r\n--B1\r\nContent-Type: "
	    "message/delivery-status\r\n\r\nReporting-MTA: dns; laptop\r\n"));
	assert_non_null(strstr(r, "Final-Recipient: rfc822; bob@example.net"
	    "\r\nAction: failed\r\nStatus: 5.1.1\r\n"));
	assert_non_null(strstr(r, "Final-Recipient: rfc822; carol@example.net"));
	/* the reply on one line, 7-bit */
	assert_non_null(strstr(r, "Diagnostic-Code: smtp; up:25 refused "
	    "<bob@example.net>: 550 5.1.1 No such  user ??\r\n"));
	assert_non_null(strstr(r, "Content-Type: text/rfc822-headers\r\n\r\n"
	    "Subject: hello\r\nFrom: alice@example.org\r\n"));
	assert_non_null(strstr(r, "\r\n--B1--\r\n"));
	/* every line ends in CRLF: no bare LF, no bare CR */
	for (p = r; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > r && p[-1] == '\r');
	for (p = r; (p = strchr(p, '\r')) != NULL; p++)
		assert_true(p[1] == '\n');
	free(r);
	qmsg_free(m);
}

static void
test_render_delayed(void **state)
{
	struct qmsg	*m = message();
	char		*r;
	size_t		 len;

	r = dsn_render(m, DSN_DELAYED, "cannot connect to up:25", "laptop",
	    "", 0, "B2", 1700000100, &len);
	assert_non_null(r);
	assert_non_null(strstr(r, "Subject: Delayed Mail"));
	assert_non_null(strstr(r, "Action: delayed\r\nStatus: 4.0.0\r\n"));
	assert_null(strstr(r, "Action: failed"));
	free(r);
	qmsg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_code),
		cmocka_unit_test(test_render_failed),
		cmocka_unit_test(test_render_delayed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
