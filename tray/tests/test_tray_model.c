/* test_tray_model.c - the tray's texts and icon states from the daemon's
 * replies, as router.c writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <jansson.h>

#include "tray_model.h"

static json_t *
parse(const char *text)
{
	json_error_t	 je;
	json_t		*o = json_loads(text, 0, &je);

	if (o == NULL)
		fail_msg("bad test JSON: %s", je.text);
	return o;
}

/* A status reply: profile NULL or a name; queued and failed counts. */
static json_t *
status(const char *profile, const char *manual, int queued, int failed,
    const char *connectivity)
{
	char	*text;
	json_t	*o;

	text = g_strdup_printf("{\"ok\": true, \"profile\": %s%s%s, "
	    "\"reason\": \"ssid=HomeWifi\", \"manual\": %s%s%s, "
	    "\"network\": {\"backend\": \"networkmanager\", \"connections\": "
	    "[{\"id\": \"Home\", \"type\": \"802-11-wireless\", \"primary\": "
	    "true}], \"ssid\": \"HomeWifi\", \"connectivity\": \"%s\"}, "
	    "\"queue\": {\"queued\": %d, \"failed\": %d}}",
	    profile ? "{\"name\": \"" : "", profile ? profile : "null",
	    profile ? "\", \"upstream\": \"mail.example.net:587\"}" : "",
	    manual ? "\"" : "", manual ? manual : "null", manual ? "\"" : "",
	    connectivity, queued, failed);
	o = parse(text);
	g_free(text);
	return o;
}

static void
test_states(void **state)
{
	json_t	*s;

	assert_int_equal(tray_state_of(NULL), TRAY_OFFLINE);
	s = status("home", NULL, 0, 0, "full");
	assert_int_equal(tray_state_of(s), TRAY_OK);
	json_decref(s);
	s = status("home", NULL, 2, 0, "full");
	assert_int_equal(tray_state_of(s), TRAY_QUEUED);
	json_decref(s);
	s = status(NULL, NULL, 2, 0, "none");
	assert_int_equal(tray_state_of(s), TRAY_OFFLINE);
	json_decref(s);
	/* A failure wins over everything: only the user can fix it. */
	s = status(NULL, NULL, 2, 1, "none");
	assert_int_equal(tray_state_of(s), TRAY_FAILED);
	json_decref(s);
	assert_string_equal(tray_state_icon(TRAY_FAILED), "roamsmtp-failed");
	assert_string_equal(tray_state_icon(TRAY_OK), "roamsmtp-ok");
}

static void
test_headline(void **state)
{
	json_t	*s;
	char	*h;

	h = tray_headline(NULL);
	assert_string_equal(h, "roamsmtpd is not running");
	g_free(h);

	s = status("home", NULL, 0, 0, "full");
	h = tray_headline(s);
	assert_string_equal(h, "Home (Wi-Fi \xe2\x80\x9cHomeWifi\xe2\x80\x9d)"
	    " \xe2\x80\x94 via mail.example.net:587");
	g_free(h);
	h = tray_profile_line(s);
	assert_string_equal(h, "Profile: home (ssid=HomeWifi)");
	g_free(h);
	json_decref(s);

	s = status("relay", "relay", 0, 0, "full");
	h = tray_profile_line(s);
	assert_string_equal(h, "Profile: relay (chosen by hand)");
	g_free(h);
	assert_string_equal(tray_manual_choice(s), "relay");
	json_decref(s);

	s = status(NULL, NULL, 1, 0, "none");
	h = tray_headline(s);
	assert_string_equal(h, "Offline \xe2\x80\x94 mail waits in the queue");
	g_free(h);
	json_decref(s);

	s = status(NULL, NULL, 1, 0, "portal");
	h = tray_headline(s);
	assert_non_null(strstr(h, "captive portal"));
	g_free(h);
	json_decref(s);

	/* No network watcher: no network name. */
	s = parse("{\"profile\": {\"name\": \"home\", \"upstream\": "
	    "\"127.0.0.1:2525\"}, \"network\": null, \"queue\": {}}");
	h = tray_headline(s);
	assert_string_equal(h, "Sending via 127.0.0.1:2525");
	g_free(h);
	json_decref(s);
}

static void
test_queue_line(void **state)
{
	json_t	*s;
	char	*q;
	long	 queued, failed;

	s = status("home", NULL, 0, 0, "full");
	q = tray_queue_line(s, &queued, &failed);
	assert_string_equal(q, "Queue: empty");
	g_free(q);
	json_decref(s);
	s = status("home", NULL, 2, 1, "full");
	q = tray_queue_line(s, &queued, &failed);
	assert_string_equal(q, "Queue: 2 waiting, 1 failed");
	assert_int_equal(queued, 2);
	assert_int_equal(failed, 1);
	g_free(q);
	json_decref(s);
}

static void
test_queue_find_and_rcpt(void **state)
{
	json_t	*q, *m;
	char	*r;

	q = parse("{\"ok\": true, \"messages\": [{\"id\": \"aa\", \"rcpt\": "
	    "[\"bob@example.net\", \"carol@example.org\"]}, {\"id\": \"bb\", "
	    "\"rcpt\": []}]}");
	m = tray_queue_find(q, "aa");
	assert_non_null(m);
	r = tray_rcpt_text(m);
	assert_string_equal(r, "bob@example.net, carol@example.org");
	g_free(r);
	assert_null(tray_queue_find(q, "cc"));
	assert_null(tray_queue_find(q, NULL));
	json_decref(q);
}

static void
test_cut_utf8(void **state)
{
	char	s[64];

	/* Five "é" are 10 bytes; cut to 7: two (4 bytes) and "…" (3). */
	strcpy(s, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	tray_cut(s, 7);
	assert_string_equal(s, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	assert_true(g_utf8_validate(s, -1, NULL));
	strcpy(s, "short");
	tray_cut(s, 7);
	assert_string_equal(s, "short");
}

/* Members of the wrong type show less; they never crash. */
static void
test_wrong_types(void **state)
{
	json_t	*s = parse("{\"profile\": 7, \"manual\": [], \"queue\": "
		    "\"x\", \"network\": {\"connections\": {}, \"ssid\": 1}}");
	char	*h;

	assert_int_equal(tray_state_of(s), TRAY_OFFLINE);
	assert_null(tray_manual_choice(s));
	h = tray_headline(s);
	assert_non_null(h);
	g_free(h);
	h = tray_queue_line(s, NULL, NULL);
	assert_string_equal(h, "Queue: empty");
	g_free(h);
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_headline),
		cmocka_unit_test(test_queue_line),
		cmocka_unit_test(test_queue_find_and_rcpt),
		cmocka_unit_test(test_cut_utf8),
		cmocka_unit_test(test_wrong_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
