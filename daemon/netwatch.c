/*
 * netwatch.c - picks the network watcher's backend and hands its snapshots
 * to the caller, each one only when it differs from the last (see
 * netwatch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "netfacts.h"
#include "netwatch.h"

struct netwatch {
	const struct netwatch_ops *ops;		/* NULL: NETWATCH_NONE */
	void			*backend;
	netwatch_cb		 cb;
	void			*arg;
	struct net_facts	 last;
	int			 have_last;
};

static void
netwatch_emit(const struct net_facts *f, void *arg)
{
	struct netwatch	*nw = arg;

	if (nw->have_last && netfacts_equal(&nw->last, f))
		return;
	nw->last = *f;
	nw->have_last = 1;
	nw->cb(f, nw->arg);
}

static const struct netwatch_ops *
netwatch_pick(enum netwatch_backend which)
{
	switch (which) {
	case NETWATCH_AUTO:
		if (netwatch_nm_ops.available() == 0)
			return &netwatch_nm_ops;
		log_info("netwatch NetworkManager is not on the system bus; "
		    "using netlink");
		return &netwatch_netlink_ops;
	case NETWATCH_NM:
		/* Asked for by name: a NetworkManager that is not running
		 * yet is waited for (the backend reports empty facts). */
		if (netwatch_nm_ops.available() != 0)
			log_warnx("netwatch NetworkManager is not on the system "
			    "bus yet; network-backend = networkmanager waits "
			    "for it");
		return &netwatch_nm_ops;
	case NETWATCH_NETLINK:
		return &netwatch_netlink_ops;
	case NETWATCH_NONE:
		return NULL;
	}
	fatalx("netwatch: bad backend %d", (int)which);
}

struct netwatch *
netwatch_start(struct event_base *base, enum netwatch_backend which,
    netwatch_cb cb, void *arg, char *err, size_t errlen)
{
	struct netwatch	*nw;
	char		 why[256];

	if ((nw = calloc(1, sizeof(*nw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nw->cb = cb;
	nw->arg = arg;
	if ((nw->ops = netwatch_pick(which)) == NULL) {
		log_info("netwatch backend=none: network facts stay empty");
		return nw;
	}
	why[0] = '\0';
	nw->backend = nw->ops->start(base, netwatch_emit, nw, why,
	    sizeof(why));
	if (nw->backend == NULL) {
		snprintf(err, errlen, "network watcher %s: %s", nw->ops->name,
		    why);
		free(nw);
		return NULL;
	}
	log_info("netwatch backend=%s", nw->ops->name);
	return nw;
}

void
netwatch_stop(struct netwatch *nw)
{
	if (nw == NULL)
		return;
	if (nw->ops != NULL)
		nw->ops->stop(nw->backend);
	free(nw);
}

const char *
netwatch_backend_name(const struct netwatch *nw)
{
	return nw->ops != NULL ? nw->ops->name : "none";
}
