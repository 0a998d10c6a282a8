/* tray_model.c - see tray_model.h. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "tray_model.h"

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long
num(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

void
tray_cut(char *s, size_t max)
{
	static const char	 ell[] = "\xe2\x80\xa6";	/* … */
	size_t			 n = strlen(s);

	if (n <= max || max < sizeof(ell))
		return;
	n = max - (sizeof(ell) - 1);
	/* Back off continuation bytes (10xxxxxx) to a character start. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(s + n, ell, sizeof(ell));
}

static char *
cut(char *s)
{
	tray_cut(s, TRAY_LINE_MAX);
	return s;
}

static long
queue_count(json_t *status, const char *key)
{
	return num(json_object_get(status, "queue"), key);
}

static const char *
connectivity(json_t *status)
{
	const char	*c = str(json_object_get(status, "network"),
			    "connectivity");

	return c != NULL ? c : "unknown";
}

enum tray_state
tray_state_of(json_t *status)
{
	if (!json_is_object(status))
		return TRAY_OFFLINE;
	if (queue_count(status, "failed") > 0)
		return TRAY_FAILED;
	if (!json_is_object(json_object_get(status, "profile")))
		return TRAY_OFFLINE;
	if (queue_count(status, "queued") > 0)
		return TRAY_QUEUED;
	return TRAY_OK;
}

const char *
tray_state_icon(enum tray_state s)
{
	static const char *const names[] = {
		[TRAY_OK] =		"roamsmtp-ok",
		[TRAY_QUEUED] =		"roamsmtp-queued",
		[TRAY_OFFLINE] =	"roamsmtp-offline",
		[TRAY_FAILED] =		"roamsmtp-failed",
	};

	return names[s];
}

const char *
tray_state_text(enum tray_state s)
{
	static const char *const texts[] = {
		[TRAY_OK] =		"mail is delivered",
		[TRAY_QUEUED] =		"mail waits in the queue",
		[TRAY_OFFLINE] =	"mail cannot leave from here",
		[TRAY_FAILED] =		"a message could not be sent",
	};

	return texts[s];
}

/* The primary connection, else the first. */
static json_t *
primary_conn(json_t *facts)
{
	json_t	*conns = json_object_get(facts, "connections"), *c;
	size_t	 i;

	json_array_foreach(conns, i, c)
		if (json_is_true(json_object_get(c, "primary")))
			return c;
	return json_array_get(conns, 0);
}

char *
tray_network_name(json_t *status)
{
	json_t		*facts = json_object_get(status, "network"), *c, *gw;
	const char	*ssid, *id, *ifname;

	if (!json_is_object(facts))
		return NULL;
	ssid = str(facts, "ssid");
	if (ssid != NULL && ssid[0] == '\0')
		ssid = NULL;
	c = primary_conn(facts);
	if ((id = str(c, "id")) != NULL && id[0] != '\0') {
		if (ssid != NULL && strcmp(id, ssid) != 0)
			return cut(g_strdup_printf("%s (Wi-Fi \xe2\x80\x9c%s"
			    "\xe2\x80\x9d)", id, ssid));
		return cut(g_strdup(id));
	}
	if (ssid != NULL)
		return cut(g_strdup_printf("Wi-Fi \xe2\x80\x9c%s\xe2\x80\x9d",
		    ssid));
	gw = json_array_get(json_object_get(facts, "gateways"), 0);
	if ((ifname = str(gw, "ifname")) != NULL && ifname[0] != '\0')
		return cut(g_strdup_printf("on %s", ifname));
	return g_strdup("no network connection");
}

char *
tray_headline(json_t *status)
{
	json_t		*prof;
	const char	*conn, *up;
	char		*net, *line;

	if (!json_is_object(status))
		return g_strdup("roamsmtpd is not running");
	net = tray_network_name(status);
	conn = connectivity(status);
	prof = json_object_get(status, "profile");
	if (strcmp(conn, "none") == 0)
		line = g_strdup("Offline \xe2\x80\x94 mail waits in the queue");
	else if (strcmp(conn, "portal") == 0)
		line = g_strdup_printf("%s \xe2\x80\x94 captive portal: log in "
		    "with a browser", net ? net : "This network");
	else if (!json_is_object(prof))
		line = g_strdup_printf("%s \xe2\x80\x94 mail waits in the "
		    "queue", net ? net : "No profile");
	else {
		up = str(prof, "upstream");
		line = g_strdup_printf("%s%svia %s", net ? net : "",
		    net ? " \xe2\x80\x94 " : "Sending ", up ? up : "?");
	}
	g_free(net);
	return cut(line);
}

char *
tray_profile_line(json_t *status)
{
	json_t		*prof;
	const char	*name, *reason, *via;

	if (!json_is_object(status))
		return g_strdup("mail cannot leave until it starts");
	prof = json_object_get(status, "profile");
	reason = str(status, "reason");
	if (!json_is_object(prof))
		return cut(g_strdup_printf("No profile: %s", reason ? reason :
		    "none matches here"));
	name = str(prof, "name");
	via = str(prof, "via");
	if (tray_manual_choice(status) != NULL)
		return cut(g_strdup_printf("Profile: %s (chosen by hand)%s%s",
		    name ? name : "?", via ? ", via " : "", via ? via : ""));
	return cut(g_strdup_printf("Profile: %s (%s)", name ? name : "?",
	    reason ? reason : "chosen automatically"));
}

char *
tray_queue_line(json_t *status, long *queued, long *failed)
{
	long	q = queue_count(status, "queued");
	long	f = queue_count(status, "failed");

	if (queued != NULL)
		*queued = q;
	if (failed != NULL)
		*failed = f;
	if (!json_is_object(status))
		return g_strdup("Queue: unknown");
	if (q == 0 && f == 0)
		return g_strdup("Queue: empty");
	if (f == 0)
		return g_strdup_printf("Queue: %ld waiting", q);
	if (q == 0)
		return g_strdup_printf("Queue: %ld failed", f);
	return g_strdup_printf("Queue: %ld waiting, %ld failed", q, f);
}

const char *
tray_active_profile(json_t *status)
{
	return str(json_object_get(status, "profile"), "name");
}

const char *
tray_manual_choice(json_t *status)
{
	return str(status, "manual");
}

json_t *
tray_queue_find(json_t *queue, const char *id)
{
	json_t		*m;
	const char	*mid;
	size_t		 i;

	if (id == NULL)
		return NULL;
	json_array_foreach(json_object_get(queue, "messages"), i, m)
		if ((mid = str(m, "id")) != NULL && strcmp(mid, id) == 0)
			return m;
	return NULL;
}

char *
tray_rcpt_text(json_t *msg)
{
	json_t		*v;
	GString		*s = g_string_new(NULL);
	const char	*r;
	size_t		 i;

	json_array_foreach(json_object_get(msg, "rcpt"), i, v) {
		if ((r = json_string_value(v)) == NULL)
			continue;
		if (s->len > TRAY_LINE_MAX)
			break;
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", r);
	}
	return cut(g_string_free(s, FALSE));
}
