/* ctl_format.c - see ctl_format.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_format.h"

#define MANUAL_HINT	"manual choice; `roamsmtpctl use auto` returns to " \
			    "automatic"

/* A string member, or dflt when absent or not a string. */
static const char *
str(json_t *o, const char *key, const char *dflt)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Unix seconds as local time, "2024-05-01 14:03" (with seconds:
 * "14:03:27"); "-" when absent. */
static const char *
when_sec(json_t *o, const char *key, int seconds, char *buf, size_t len)
{
	json_t		*v = json_object_get(o, key);
	struct tm	 tm;
	time_t		 t;
	size_t		 n;

	if (!json_is_integer(v) && !json_is_real(v))
		return "-";
	t = (time_t)json_number_value(v);
	if (localtime_r(&t, &tm) == NULL)
		return "-";
	if (seconds)
		n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	else
		n = strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return n == 0 ? "-" : buf;
}

static const char *
when(json_t *o, const char *key, char *buf, size_t len)
{
	return when_sec(o, key, 0, buf, len);
}

static const char *
size_text(json_int_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%lld B", (long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KB", n / 1024.0);
	else
		snprintf(buf, len, "%.1f MB", n / (1024.0 * 1024.0));
	return buf;
}

/*
 * A member of the facts by either of its names: the short ones of the
 * control protocol's description ("conn", "gw") or the long ones that
 * netfacts_to_json() writes ("connections", "gateways").
 */
static json_t *
facts_get(json_t *facts, const char *shortname, const char *longname)
{
	json_t	*v;

	if ((v = json_object_get(facts, shortname)) != NULL)
		return v;
	return json_object_get(facts, longname);
}

/* NetworkManager's connection types, as people say them. */
static const char *
conn_type(const char *type)
{
	static const struct {
		const char	*nm, *text;
	} types[] = {
		{ "802-11-wireless",	"Wi-Fi" },
		{ "802-3-ethernet",	"wired" },
		{ "vpn",		"VPN" },
		{ "wireguard",		"WireGuard VPN" },
		{ "gsm",		"mobile broadband" },
		{ "cdma",		"mobile broadband" },
		{ "bluetooth",		"Bluetooth" },
	};
	size_t	i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i].nm) == 0)
			return types[i].text;
	return type;
}

/* Metered may come as a boolean, a number or NetworkManager's words. */
static const char *
metered_text(json_t *facts)
{
	json_t		*m = json_object_get(facts, "metered");
	const char	*s = json_string_value(m);

	if (json_is_true(m) || (json_is_integer(m) && json_integer_value(m)))
		return "metered";
	if (s != NULL && (strcmp(s, "yes") == 0 ||
	    strcmp(s, "guess-yes") == 0))
		return "metered";
	if (json_is_null(m) || m == NULL || (s != NULL &&
	    strcmp(s, "unknown") == 0))
		return "metered unknown";
	return "not metered";
}

/* The primary connection, else the first one; NULL when none. */
static json_t *
primary_conn(json_t *facts)
{
	json_t	*conns = facts_get(facts, "conn", "connections"), *c;
	size_t	 i;

	json_array_foreach(conns, i, c)
		if (json_is_true(json_object_get(c, "primary")))
			return c;
	return json_array_get(conns, 0);
}

/* "Home (Wi-Fi "HomeWifi"), VPN Office", or "no connection". */
static void
print_where(json_t *facts)
{
	json_t		*conns = facts_get(facts, "conn", "connections");
	json_t		*c, *p, *gw;
	const char	*ssid = str(facts, "ssid", "");
	size_t		 i;

	if ((p = primary_conn(facts)) == NULL) {
		/* netlink knows interfaces, not connections. */
		gw = json_array_get(facts_get(facts, "gw", "gateways"), 0);
		if (str(gw, "ifname", "")[0] != '\0')
			printf("on %s", str(gw, "ifname", ""));
		else
			printf("no connection");
		if (ssid[0] != '\0')
			printf(", Wi-Fi \"%s\"", ssid);
		return;
	}
	printf("%s (%s", str(p, "id", "?"), conn_type(str(p, "type", "?")));
	if (ssid[0] != '\0')
		printf(" \"%s\"", ssid);
	printf(")");
	json_array_foreach(conns, i, c)
		if (c != p && json_is_true(json_object_get(c, "vpn")))
			printf(", VPN %s", str(c, "id", "?"));
}

static void
print_network(json_t *facts)
{
	json_t	*gw = json_array_get(facts_get(facts, "gw", "gateways"), 0);

	if (!json_is_object(facts)) {
		printf("network:   not known yet (no network watcher, or no "
		    "report from it)\n");
		return;
	}
	printf("network:   ");
	print_where(facts);
	printf("\n           ");
	if (json_is_object(gw)) {
		printf("gateway %s", str(gw, "addr", "?"));
		if (str(gw, "mac", "")[0] != '\0')
			printf(" (%s)", str(gw, "mac", ""));
		printf(", ");
	} else
		printf("no default gateway, ");
	printf("connectivity %s, %s; from %s\n",
	    str(facts, "connectivity", "unknown"), metered_text(facts),
	    str(facts, "backend", "?"));
}

void
ctl_print_status(json_t *r)
{
	json_t		*listen = json_object_get(r, "listen");
	json_t		*prof = json_object_get(r, "profile");
	json_t		*up = json_object_get(r, "upstream");
	json_t		*q = json_object_get(r, "queue");
	json_t		*v;
	const char	*err, *tlsv, *manual = str(r, "manual", NULL);
	size_t		 i;

	printf("roamsmtpd %s, pid %lld, listening on", str(r, "version", "?"),
	    (long long)num(r, "pid"));
	json_array_foreach(listen, i, v)
		printf(" %s", json_string_value(v) ? json_string_value(v) :
		    "?");
	printf("%s\n", json_array_size(listen) == 0 ? " nothing" : "");

	if (json_object_get(r, "network") != NULL)
		print_network(json_object_get(r, "network"));
	if (!json_is_object(prof))
		printf("profile:   none (%s); mail waits in the queue until "
		    "one applies\n", str(r, "reason", "no profile matches"));
	else {
		printf("profile:   %s (%s)\n", str(prof, "name", "?"),
		    manual != NULL ? MANUAL_HINT : str(prof, "reason",
		    "no reason given"));
		printf("upstream:  %s, %s, auth %s: %s",
		    str(prof, "upstream", "?"), str(prof, "tls", "?"),
		    str(prof, "auth", "?"), str(up, "state", "unknown"));
		if ((tlsv = str(up, "tls_version", NULL)) != NULL)
			printf(" (%s)", tlsv);
		if ((err = str(up, "last_error", NULL)) != NULL)
			printf("; last error: %s", err);
		printf("\n");
	}
	if (manual != NULL && (!json_is_object(prof) ||
	    strcmp(manual, str(prof, "name", "")) != 0))
		printf("manual:    %s (%s)\n", manual, MANUAL_HINT);
	if (json_is_object(q))
		printf("queue:     %lld queued, %lld failed\n",
		    (long long)num(q, "queued"), (long long)num(q, "failed"));
}

/* Widest value of key among the profiles, at least min. */
static int
column(json_t *profiles, const char *key, int min)
{
	json_t	*p;
	size_t	 i;
	int	 w = min, n;

	json_array_foreach(profiles, i, p) {
		n = (int)strlen(str(p, key, "-"));
		if (n > w)
			w = n;
	}
	return w;
}

void
ctl_print_profiles(json_t *r)
{
	json_t		*profiles = json_object_get(r, "profiles"), *p;
	const char	*active = str(r, "active", NULL);
	const char	*manual = str(r, "manual", NULL);
	const char	*why;
	size_t		 i;
	int		 wn, wu, wf;

	if (json_array_size(profiles) == 0) {
		printf("no profiles; put one a file in the profiles folder "
		    "(see roamsmtpd --check-config) and run: roamsmtpctl "
		    "reload\n");
		return;
	}
	wn = column(profiles, "name", 4);
	wu = column(profiles, "upstream", 8);
	wf = column(profiles, "fallback", 8);
	printf("  %-*s  %-*s  %5s  %5s  %-7s  %-*s  %s\n", wn, "NAME", wu,
	    "UPSTREAM", "PRIO", "SCORE", "MATCHES", wf, "FALLBACK", "WHY");
	json_array_foreach(profiles, i, p) {
		why = str(p, "why", "");
		if (why[0] == '\0')
			why = json_is_true(json_object_get(p, "default")) ?
			    "default: matches anywhere" : "-";
		printf("%s %-*s  %-*s  %5lld  %5lld  %-7s  %-*s  %s\n",
		    json_is_true(json_object_get(p, "active")) ? "*" : " ",
		    wn, str(p, "name", "?"), wu, str(p, "upstream", "?"),
		    (long long)num(p, "priority"), (long long)num(p, "score"),
		    json_is_true(json_object_get(p, "matches")) ? "yes" : "no",
		    wf, str(p, "fallback", "-"), why);
	}
	printf("\n");
	if (manual != NULL)
		printf("* %s: chosen by hand (%s)\n", manual, MANUAL_HINT);
	else if (active != NULL)
		printf("* %s: the best match here, chosen automatically\n",
		    active);
	else
		printf("no profile matches here: mail waits in the queue\n");
	if (manual != NULL && active != NULL && strcmp(manual, active) != 0)
		printf("  mail goes by %s now, %s's fallback\n", active,
		    manual);
}

void
ctl_print_use(json_t *r)
{
	const char	*active = str(r, "active", NULL);
	const char	*manual = str(r, "manual", NULL);

	if (manual != NULL && active != NULL && strcmp(active, manual) != 0)
		printf("mail now goes by profile %s, the fallback of %s (%s)\n",
		    active, manual, MANUAL_HINT);
	else if (manual != NULL)
		printf("mail now goes by profile %s (%s)\n", manual,
		    MANUAL_HINT);
	else if (active != NULL)
		printf("automatic choice again: mail now goes by profile %s\n",
		    active);
	else
		printf("automatic choice again: no profile matches here, so "
		    "mail waits in the queue\n");
}

void
ctl_print_reload(json_t *r)
{
	json_int_t	n = num(r, "profiles");

	printf("configuration reloaded: %lld profile%s\n", (long long)n,
	    n == 1 ? "" : "s");
}

static void
print_rcpts(json_t *m)
{
	json_t	*rcpt = json_object_get(m, "rcpt"), *v;
	size_t	 i;

	printf("  to:      ");
	json_array_foreach(rcpt, i, v)
		printf("%s%s", i > 0 ? ", " : "", json_string_value(v) ?
		    json_string_value(v) : "?");
	printf("%s\n", json_array_size(rcpt) == 0 ? "-" : "");
}

void
ctl_print_queue(json_t *r)
{
	json_t		*msgs = json_object_get(r, "messages"), *m;
	char		 t1[32], t2[32], sz[32];
	const char	*subject, *err;
	size_t		 i;

	if (json_array_size(msgs) == 0) {
		printf("the queue is empty\n");
		return;
	}
	json_array_foreach(msgs, i, m) {
		if (i > 0)
			printf("\n");
		printf("%s  %s  %s  written %s\n", str(m, "id", "?"),
		    str(m, "state", "?"), size_text(num(m, "size"), sz,
		    sizeof(sz)), when(m, "created", t1, sizeof(t1)));
		printf("  from:    %s\n", str(m, "from", "<>")[0] != '\0' ?
		    str(m, "from", "<>") : "<>");
		print_rcpts(m);
		if ((subject = str(m, "subject", NULL)) != NULL)
			printf("  subject: %s\n", subject);
		printf("  tries:   %lld", (long long)num(m, "attempts"));
		if (strcmp(str(m, "state", ""), "failed") != 0 &&
		    json_object_get(m, "next_attempt") != NULL &&
		    !json_is_null(json_object_get(m, "next_attempt")))
			printf(", next %s", when(m, "next_attempt", t2,
			    sizeof(t2)));
		printf("\n");
		if ((err = str(m, "last_error", NULL)) != NULL)
			printf("  error:   %s\n", err);
	}
	printf("\n%zu message%s\n", json_array_size(msgs),
	    json_array_size(msgs) == 1 ? "" : "s");
}

void
ctl_print_flush(json_t *r)
{
	json_int_t	n = num(r, "flushed");

	printf("%lld message%s sent for delivery now\n", (long long)n,
	    n == 1 ? "" : "s");
}

void
ctl_print_retry(json_t *r)
{
	printf("message %s: delivery is tried now\n", str(r, "id", "?"));
}

void
ctl_print_delete(json_t *r)
{
	printf("message %s deleted\n", str(r, "id", "?"));
}

/* The events of watch, one printer each, after the time and the name. */

static void
event_network(json_t *e)
{
	json_t	*facts = json_object_get(e, "facts");

	if (!json_is_object(facts)) {
		printf("not known");
		return;
	}
	print_where(facts);
	printf(", connectivity %s, %s", str(facts, "connectivity", "unknown"),
	    metered_text(facts));
}

static void
event_profile(json_t *e)
{
	const char	*name = str(e, "profile", NULL);

	if (name == NULL)
		printf("none (%s); mail waits in the queue", str(e, "reason",
		    "no profile matches"));
	else if (json_is_true(json_object_get(e, "manual")))
		printf("%s (manual choice)", name);
	else
		printf("%s (%s)", name, str(e, "reason", "no reason given"));
}

static void
event_sent(json_t *e)
{
	printf("%s by %s to %s", str(e, "id", "?"), str(e, "profile", "?"),
	    str(e, "upstream", "?"));
}

static void
event_queued(json_t *e)
{
	printf("%s waits: %s", str(e, "id", "?"), str(e, "reason",
	    "no reason given"));
}

static void
event_failed(json_t *e)
{
	printf("%s: %s; see: roamsmtpctl queue", str(e, "id", "?"),
	    str(e, "error", "no reason given"));
}

void
ctl_print_event(json_t *e)
{
	static const struct {
		const char	*name;
		void		(*print)(json_t *);
	} events[] = {
		{ "network",	event_network },
		{ "profile",	event_profile },
		{ "sent",	event_sent },
		{ "queued",	event_queued },
		{ "failed",	event_failed },
	};
	const char	*name = str(e, "event", "?");
	char		 t[32], *s;
	size_t		 i;

	printf("%s  %-8s ", when_sec(e, "time", 1, t, sizeof(t)), name);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(name, events[i].name) == 0)
			break;
	if (i < sizeof(events) / sizeof(events[0]))
		events[i].print(e);
	else if ((s = json_dumps(e, JSON_COMPACT)) != NULL) {
		/* Newer daemon, newer event: show it as it came. */
		printf("%s", s);
		free(s);
	}
	printf("\n");
}
