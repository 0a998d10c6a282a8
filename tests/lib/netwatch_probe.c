/*
 * netwatch_probe.c - runs one network watcher backend on its own and
 * prints each snapshot it emits as one line of JSON (netfacts_to_json,
 * compact, sorted keys) on standard output, so that a scenario can follow
 * what the backend reports while it changes the network under it.
 *
 *	netwatch_probe [-v] [netlink]
 *
 * Each snapshot must survive netfacts_from_json() (what the NM thread's
 * channel and status consumers rely on) and differ from the one before
 * (netwatch.h: never the same one twice in a row); otherwise the probe
 * says so on standard error and exits 1.  SIGTERM or SIGINT end it with 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "netfacts.h"
#include "netwatch.h"

struct probe {
	struct event_base	*base;
	struct net_facts	 prev;
	int			 have_prev;
	int			 failed;
};

static void
on_facts(const struct net_facts *f, void *arg)
{
	struct probe		*p = arg;
	struct net_facts	 back;
	json_t			*j;
	char			*s, err[256];

	if ((j = netfacts_to_json(f)) == NULL ||
	    (s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		fprintf(stderr, "probe: cannot turn facts into JSON\n");
		p->failed = 1;
		event_base_loopbreak(p->base);
		json_decref(j);
		return;
	}
	printf("%s\n", s);
	fflush(stdout);
	if (netfacts_from_json(j, &back, err, sizeof(err)) == -1) {
		fprintf(stderr, "probe: facts refused by netfacts_from_json: "
		    "%s\n", err);
		p->failed = 1;
	} else if (!netfacts_equal(&back, f)) {
		fprintf(stderr, "probe: facts changed through JSON\n");
		p->failed = 1;
	}
	if (p->have_prev && netfacts_equal(&p->prev, f)) {
		fprintf(stderr, "probe: the same snapshot twice in a row\n");
		p->failed = 1;
	}
	p->prev = *f;
	p->have_prev = 1;
	free(s);
	json_decref(j);
	if (p->failed)
		event_base_loopbreak(p->base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int
main(int argc, char *argv[])
{
	const struct netwatch_ops	*ops = &netwatch_netlink_ops;
	struct probe			 p;
	struct event			*ev_term, *ev_int;
	void				*w;
	char				 err[256];
	int				 ch, verbose = 0;

	while ((ch = getopt(argc, argv, "v")) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: netwatch_probe [-v] "
			    "[netlink]\n");
			return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], ops->name) != 0) {
		fprintf(stderr, "probe: unknown backend %s\n", argv[optind]);
		return 2;
	}
	log_init(1, verbose);
	memset(&p, 0, sizeof(p));
	if ((p.base = event_base_new()) == NULL) {
		fprintf(stderr, "probe: event_base_new failed\n");
		return 1;
	}
	ev_term = evsignal_new(p.base, SIGTERM, on_signal, p.base);
	ev_int = evsignal_new(p.base, SIGINT, on_signal, p.base);
	if (ev_term == NULL || ev_int == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1) {
		fprintf(stderr, "probe: cannot handle signals\n");
		return 1;
	}
	if (ops->available() != 0) {
		fprintf(stderr, "probe: backend %s not available\n", ops->name);
		return 1;
	}
	if ((w = ops->start(p.base, on_facts, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "probe: %s\n", err);
		return 1;
	}
	event_base_dispatch(p.base);
	ops->stop(w);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(p.base);
	return p.failed;
}
