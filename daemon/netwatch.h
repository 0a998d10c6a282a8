/*
 * netwatch.h - the network watcher: tells the relay core where the laptop
 * is, as struct net_facts snapshots, whenever that changes.  Two backends,
 * one API:
 *
 *   netwatch_nm.c       NetworkManager through libnm.  libnm needs GLib's
 *                       main loop, which must not run in the relay core's
 *                       libevent loop (and its libraries would double the
 *                       daemon's memory): it runs in the helper program
 *                       roamsmtp-nmwatch (nmwatch_main.c), which sends
 *                       snapshots over a socketpair (one JSON object per
 *                       line, {"v": NETFACTS_VERSION, "facts": {...}}),
 *                       read here by a bufferevent.
 *   netwatch_netlink.c  rtnetlink (routes, addresses, neighbours for the
 *                       gateway's MAC) for systems without NetworkManager,
 *                       in the libevent loop; connectivity is "full" when a
 *                       default route exists, "none" otherwise.
 *
 * netwatch_start() picks NetworkManager when it runs on the system bus (or
 * the bus in DBUS_SYSTEM_BUS_ADDRESS, which is how tests point libnm at a
 * python-dbusmock NetworkManager) and netlink otherwise, unless the config
 * says which ([daemon] network-backend = auto | networkmanager | netlink |
 * none).  It logs which backend it uses.
 */
#ifndef ROAMSMTP_NETWATCH_H
#define ROAMSMTP_NETWATCH_H

#include <event2/event.h>

#include "netfacts.h"

enum netwatch_backend {
	NETWATCH_AUTO = 0,
	NETWATCH_NM,
	NETWATCH_NETLINK,
	NETWATCH_NONE,		/* no watcher: facts stay empty */
};

/* Called from the libevent loop with each new snapshot (never the same one
 * twice in a row). */
typedef void (*netwatch_cb)(const struct net_facts *, void *arg);

struct netwatch;

/* Start watching; the first snapshot follows soon after.  NULL with a
 * reason in err. */
struct netwatch	*netwatch_start(struct event_base *, enum netwatch_backend,
		    netwatch_cb, void *arg, char *err, size_t errlen);
void		 netwatch_stop(struct netwatch *);
const char	*netwatch_backend_name(const struct netwatch *);

/* Backends (netwatch.c dispatches). */
struct netwatch_ops {
	const char	*name;
	/* 0 when this backend can run here (NM on the bus...) */
	int		(*available)(void);
	void		*(*start)(struct event_base *,
			    void (*emit)(const struct net_facts *, void *),
			    void *emit_arg, char *err, size_t errlen);
	void		(*stop)(void *);
};
extern const struct netwatch_ops netwatch_nm_ops;
extern const struct netwatch_ops netwatch_netlink_ops;

#endif
