/*
 * netfacts.h - one snapshot of where the laptop is: what the network watcher
 * (NetworkManager through libnm, or rtnetlink) reduces the system's state to,
 * and what profiles are matched against.  Plain data with fixed bounds, so
 * a snapshot can be copied, compared and sent over the watcher's channel.
 */
#ifndef ROAMSMTP_NETFACTS_H
#define ROAMSMTP_NETFACTS_H

#include <stddef.h>

#include <jansson.h>

#define NETFACTS_VERSION	1	/* of the channel/JSON form */
#define NETFACTS_CONN_MAX	8	/* active connections kept */
#define NETFACTS_GW_MAX		4	/* default gateways kept */
#define NETFACTS_ADDR_MAX	16	/* local addresses kept */
#define NETFACTS_DNS_MAX	8	/* DNS search domains kept */
#define NETFACTS_NAME_MAX	128	/* connection names, domains */

enum net_connectivity {
	NETCONN_UNKNOWN = 0,
	NETCONN_NONE,
	NETCONN_PORTAL,		/* behind a captive portal */
	NETCONN_LIMITED,	/* connected, but no route to the Internet */
	NETCONN_FULL,
};

struct net_connection {
	char	id[NETFACTS_NAME_MAX];		/* NetworkManager's name */
	char	uuid[40];
	char	type[32];			/* "802-11-wireless", "vpn"... */
	int	vpn;
	int	primary;
};

struct net_gateway {
	char	addr[48];			/* "192.168.1.1", "fe80::1" */
	char	mac[18];			/* "aa:bb:cc:dd:ee:ff", "" */
	char	ifname[16];
};

struct net_addr {
	char	addr[48];			/* "192.168.1.23" */
	unsigned prefixlen;			/* 24 */
};

struct net_facts {
	char			backend[16];	/* "networkmanager", "netlink" */
	struct net_connection	conn[NETFACTS_CONN_MAX];
	size_t			nconn;
	char			ssid[NETFACTS_NAME_MAX];	/* "" when none */
	char			bssid[18];			/* "" when none */
	struct net_gateway	gw[NETFACTS_GW_MAX];
	size_t			ngw;
	struct net_addr		addr[NETFACTS_ADDR_MAX];
	size_t			naddr;
	char			dns[NETFACTS_DNS_MAX][NETFACTS_NAME_MAX];
	size_t			ndns;
	enum net_connectivity	connectivity;
	int			metered;
};

const char	*net_connectivity_name(enum net_connectivity);
/* "none", "portal", "limited", "full", "unknown" -> value; -1 if unknown */
int		 net_connectivity_parse(const char *);

/* The JSON form (for the watcher's channel and for status). */
json_t		*netfacts_to_json(const struct net_facts *);
/* 0, or -1 with a reason in err.  Strings over their bounds are refused. */
int		 netfacts_from_json(json_t *, struct net_facts *, char *err,
		    size_t errlen);
/* Same place?  (Compares everything but the backend name.) */
int		 netfacts_equal(const struct net_facts *,
		    const struct net_facts *);
/*
 * A short stable key for "this network", for remembering which fallback
 * worked here: the primary connection's uuid, else the SSID, else the first
 * gateway's MAC, else "unknown".
 */
void		 netfacts_key(const struct net_facts *, char *buf, size_t len);

#endif
