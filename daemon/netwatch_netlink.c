/*
 * netwatch_netlink.c - the rtnetlink backend of the network watcher, for
 * systems without NetworkManager (see netwatch.h).
 *
 * One NETLINK_ROUTE socket subscribed to link, address, route and
 * neighbour changes is read by a libevent event.  A change only says that
 * something moved: the facts are rebuilt from scratch, after a short
 * settling delay that folds a burst (a link coming up brings a dozen
 * messages) into one rebuild, by dump requests on a second socket: links,
 * default routes of the main table, addresses, neighbours (the gateways'
 * MACs).  DNS search domains come from resolv.conf, which is watched with
 * inotify because a DHCP client may rewrite it after the routes are set.
 *
 * Only what sits on a usable link counts: a link that is up and running
 * (carrier, or a virtual link that has no carrier to lose), not the
 * loopback.  An unplugged cable keeps its IPv4 addresses and routes in the
 * kernel, but the laptop is no longer on that network.
 *
 * The kernel learns a gateway's MAC only once traffic went to it, so the
 * first snapshot on a new network may have an empty MAC; the neighbour
 * message that follows the first packet brings the snapshot that has it.
 * Nothing is sent to provoke it: the user's own traffic will.
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "netfacts.h"
#include "netwatch.h"

/* The kernel fills a dump reply up to 32 KiB (netlink_dump() caps its
 * buffer there); a bigger one is refused by MSG_TRUNC rather than cut. */
#define NL_BUF		32768
/* Notifications queued while we sleep; an overrun only costs a rebuild. */
#define NL_RCVBUF	(256 * 1024)
/* Folds a burst of changes (a link coming up sends a dozen) into one
 * rebuild, and stays well under the 100 ms a profile switch may take. */
#define NL_SETTLE_MS	50
/* After a failed rebuild (a dump refused or timed out), try again. */
#define NL_RETRY_MS	1000
/* The kernel answers a dump at once; this only turns a hang into an error. */
#define NL_DUMP_TIMEOUT_S 2
/* A dump that a concurrent change interrupted (NLM_F_DUMP_INTR) is redone
 * at once this many times, then after the settling delay. */
#define NL_DUMP_TRIES	3
/* Usable links remembered during one rebuild.  A laptop has a handful; a
 * container host with more is not what this backend is for, and the links
 * past this count are taken as down (logged). */
#define NL_LINK_MAX	256
/* Default routes considered before sorting and cutting to NETFACTS_GW_MAX. */
#define NL_GW_CAND	16
/* resolv.conf lines are short; glibc reads any length, we stop here. */
#define RESOLV_LINE_MAX	4096
#define RESOLV_CONF	"/etc/resolv.conf"
/* One inotify read: a few events with their names. */
#define INOTIFY_BUF	4096

/* Neighbour states that carry a MAC the kernel stands by (the kernel's
 * NUD_VALID, which is not in the uapi headers). */
#define NEIGH_VALID	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | \
			    NUD_PROBE | NUD_STALE | NUD_DELAY)
/* What IFA_RTA and friends are for the other kinds; the uapi headers have
 * none for neighbours. */
#define NDM_RTA(r)	((struct rtattr *)(((char *)(r)) + \
			    NLMSG_ALIGN(sizeof(struct ndmsg))))
#define NDM_PAYLOAD(n)	NLMSG_PAYLOAD(n, sizeof(struct ndmsg))

struct nl_link {
	int		 ifindex;
	char		 name[IF_NAMESIZE];
};

struct nl_gw {
	int		 family;
	unsigned char	 addr[16];
	int		 ifindex;
	uint32_t	 metric;
	unsigned	 order;			/* in the dump: keeps sort stable */
	char		 mac[18];
};

/* One rebuild in progress. */
struct nl_build {
	struct net_facts facts;
	struct nl_link	 link[NL_LINK_MAX];
	size_t		 nlink;
	size_t		 links_dropped;
	struct nl_gw	 gw[NL_GW_CAND];
	size_t		 ngw;
	size_t		 gw_dropped;
	size_t		 addr_dropped;
	int		 default_up;		/* a default route on a usable link */
};

struct nlwatch {
	struct event_base *base;
	void		(*emit)(const struct net_facts *, void *);
	void		*emit_arg;
	int		 evfd;			/* subscribed, non-blocking */
	int		 dumpfd;		/* requests, blocking with timeout */
	int		 infd;			/* inotify, or -1 */
	int		 wd_etc;		/* resolv.conf's folder */
	int		 wd_target;		/* its symlink target's folder */
	char		 target_name[NAME_MAX + 1];
	struct event	*ev_nl;
	struct event	*ev_in;
	struct event	*ev_settle;
	uint32_t	 seq;
	unsigned char	*buf;			/* NL_BUF */
	struct nl_build	*build;			/* scratch for one rebuild */
	/* The last snapshot emitted, and its gateways in binary form for
	 * telling a neighbour message that matters from one that doesn't. */
	int		 emitted;
	struct net_facts last;
	struct nl_gw	 known[NETFACTS_GW_MAX];
	size_t		 nknown;
};

typedef int	(*nl_msg_fn)(struct nlwatch *, struct nlmsghdr *);

/* ------------------------------------------------------------ attributes */

/* Index a message's attributes by type; the first of a type wins, unknown
 * types and a truncated tail are ignored (RTA_OK stops at it). */
static void
attr_index(struct rtattr **tb, int max, struct rtattr *rta, int len)
{
	int	type;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		type = rta->rta_type & NLA_TYPE_MASK;
		if (type <= max && tb[type] == NULL)
			tb[type] = rta;
	}
}

static int
attr_u32(const struct rtattr *rta, uint32_t *v)
{
	if (rta == NULL || RTA_PAYLOAD(rta) != sizeof(*v))
		return -1;
	memcpy(v, RTA_DATA(rta), sizeof(*v));
	return 0;
}

/* An address of the given family, exactly its size. */
static int
attr_addr(const struct rtattr *rta, int family, unsigned char *out)
{
	size_t	len;

	len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (rta == NULL || len == 0 || RTA_PAYLOAD(rta) != len)
		return -1;
	memcpy(out, RTA_DATA(rta), len);
	return 0;
}

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void
format_mac(const unsigned char *m, char *out, size_t len)
{
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x",
	    m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The MAC a neighbour entry stands by, or "" (incomplete, failed, no
 * link-layer address, or not an Ethernet-style one). */
static void
neigh_mac(const struct ndmsg *ndm, struct rtattr *lladdr, char *out,
    size_t len)
{
	static const unsigned char	 zero[6];
	const unsigned char		*m;

	out[0] = '\0';
	if ((ndm->ndm_state & NEIGH_VALID) == 0 || lladdr == NULL ||
	    RTA_PAYLOAD(lladdr) != 6)
		return;
	m = RTA_DATA(lladdr);
	if (memcmp(m, zero, sizeof(zero)) == 0)
		return;
	format_mac(m, out, len);
}

/* ------------------------------------------------------------ dumps */

static int
nl_socket(int flags, unsigned groups, char *err, size_t errlen)
{
	struct sockaddr_nl	sa;
	int			fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, NETLINK_ROUTE);
	if (fd == -1) {
		snprintf(err, errlen, "netlink: socket: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = groups;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errlen, "netlink: bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Receive one datagram from the kernel into st->buf: its length, or -1
 * (EAGAIN when nothing is there or the dump timed out; EMSGSIZE when it
 * did not fit). */
static ssize_t
nl_recv(struct nlwatch *st, int fd)
{
	struct sockaddr_nl	sa;
	socklen_t		salen;
	ssize_t			n;

	for (;;) {
		salen = sizeof(sa);
		n = recvfrom(fd, st->buf, NL_BUF, MSG_TRUNC,
		    (struct sockaddr *)&sa, &salen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if ((size_t)n > NL_BUF) {
			errno = EMSGSIZE;
			return -1;
		}
		/* Only the kernel speaks on NETLINK_ROUTE to us. */
		if (salen != sizeof(sa) || sa.nl_family != AF_NETLINK ||
		    sa.nl_pid != 0)
			continue;
		return n;
	}
}

/*
 * Ask for a dump of one kind and hand each answer of that kind to fn.
 * 0 when done, 1 when a change interrupted it (redo), -1 with errno.
 */
static int
nl_dump(struct nlwatch *st, int type, nl_msg_fn fn)
{
	struct {
		struct nlmsghdr		nlh;
		union {
			struct ifinfomsg	ifi;
			struct ifaddrmsg	ifa;
			struct rtmsg		rtm;
			struct ndmsg		ndm;
		} u;
	} req;
	struct sockaddr_nl	 sa;
	struct nlmsghdr		*h;
	struct nlmsgerr		*e;
	size_t			 body;
	ssize_t			 n;
	int			 len, intr = 0, rc;
	uint32_t		 seq;

	switch (type) {
	case RTM_GETLINK:
		body = sizeof(req.u.ifi);
		break;
	case RTM_GETADDR:
		body = sizeof(req.u.ifa);
		break;
	case RTM_GETROUTE:
		body = sizeof(req.u.rtm);
		break;
	case RTM_GETNEIGH:
		body = sizeof(req.u.ndm);
		break;
	default:
		fatalx("netlink: bad dump type %d", type);
	}
	/* Every one of these structs starts with its family: AF_UNSPEC asks
	 * for IPv4 and IPv6 at once. */
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = NLMSG_LENGTH(body);
	req.nlh.nlmsg_type = type;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = seq = ++st->seq;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(st->dumpfd, &req, req.nlh.nlmsg_len, 0,
	    (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -1;

	for (;;) {
		if ((n = nl_recv(st, st->dumpfd)) == -1)
			return -1;
		len = (int)n;
		for (h = (struct nlmsghdr *)st->buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			/* The tail of an earlier dump given up on. */
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			switch (h->nlmsg_type) {
			case NLMSG_DONE:
				/* Since Linux 4.x, DONE carries the dump's
				 * own error. */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
					memcpy(&rc, NLMSG_DATA(h), sizeof(rc));
					if (rc < 0) {
						errno = -rc;
						return -1;
					}
				}
				return intr;
			case NLMSG_ERROR:
				e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					errno = EPROTO;
				else if (e->error == 0)
					continue;	/* an ack */
				else
					errno = -e->error;
				return -1;
			case NLMSG_NOOP:
				continue;
			}
			if (fn(st, h) == -1)
				return -1;
		}
	}
}

/* ------------------------------------------------------------ the rebuild */

static const struct nl_link *
link_find(const struct nl_build *b, int ifindex)
{
	size_t	i;

	for (i = 0; i < b->nlink; i++)
		if (b->link[i].ifindex == ifindex)
			return &b->link[i];
	return NULL;
}

static int
on_link(struct nlwatch *st, struct nlmsghdr *h)
{
	struct nl_build		*b = st->build;
	struct ifinfomsg	*ifi;
	struct rtattr		*tb[IFLA_IFNAME + 1];
	struct nl_link		*l;
	size_t			 len;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = NLMSG_DATA(h);
	if ((ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) !=
	    (IFF_UP | IFF_RUNNING) || (ifi->ifi_flags & IFF_LOOPBACK))
		return 0;
	attr_index(tb, IFLA_IFNAME, IFLA_RTA(ifi), IFLA_PAYLOAD(h));
	if (tb[IFLA_IFNAME] == NULL)
		return 0;
	if (b->nlink == NL_LINK_MAX) {
		b->links_dropped++;
		return 0;
	}
	l = &b->link[b->nlink];
	len = RTA_PAYLOAD(tb[IFLA_IFNAME]);
	/* A name is NUL-terminated within its attribute and fits IFNAMSIZ. */
	if (len == 0 || len > sizeof(l->name) ||
	    memchr(RTA_DATA(tb[IFLA_IFNAME]), '\0', len) == NULL)
		return 0;
	memcpy(l->name, RTA_DATA(tb[IFLA_IFNAME]), len);
	l->ifindex = ifi->ifi_index;
	b->nlink++;
	return 0;
}

/* One next hop of a default route: a candidate gateway if it has one. */
static void
route_nexthop(struct nl_build *b, int family, int ifindex, unsigned nhflags,
    struct rtattr *gateway, struct rtattr *via, uint32_t metric)
{
	struct nl_gw	*g;
	struct rtvia	*rv;
	int		 gwfamily = family;
	unsigned char	 addr[16];

	if (nhflags & (RTNH_F_DEAD | RTNH_F_LINKDOWN) ||
	    link_find(b, ifindex) == NULL)
		return;
	b->default_up = 1;
	if (attr_addr(gateway, family, addr) == -1) {
		/* RFC 5549: an IPv4 route through an IPv6 next hop. */
		if (via == NULL || RTA_PAYLOAD(via) < sizeof(*rv))
			return;
		rv = RTA_DATA(via);
		gwfamily = rv->rtvia_family;
		if ((gwfamily != AF_INET && gwfamily != AF_INET6) ||
		    RTA_PAYLOAD(via) != sizeof(*rv) + addr_len(gwfamily))
			return;
		memcpy(addr, rv->rtvia_addr, addr_len(gwfamily));
	}
	if (b->ngw == NL_GW_CAND) {
		b->gw_dropped++;
		return;
	}
	g = &b->gw[b->ngw];
	memset(g, 0, sizeof(*g));
	g->family = gwfamily;
	memcpy(g->addr, addr, addr_len(gwfamily));
	g->ifindex = ifindex;
	g->metric = metric;
	g->order = b->ngw++;
}

static int
on_route(struct nlwatch *st, struct nlmsghdr *h)
{
	struct nl_build		*b = st->build;
	struct rtmsg		*rtm;
	struct rtattr		*tb[RTA_MAX + 1], *ntb[RTA_MAX + 1];
	struct rtnexthop	*nh;
	uint32_t		 table, oif, metric = 0;
	int			 len;

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return 0;
	rtm = NLMSG_DATA(h);
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	attr_index(tb, RTA_MAX, RTM_RTA(rtm), RTM_PAYLOAD(h));
	table = rtm->rtm_table;
	(void)attr_u32(tb[RTA_TABLE], &table);	/* ids over 255 */
	if (table != RT_TABLE_MAIN)
		return 0;
	(void)attr_u32(tb[RTA_PRIORITY], &metric);

	if (tb[RTA_MULTIPATH] == NULL) {
		/* A route through a nexthop object (RTA_NH_ID) names neither
		 * link nor gateway here: it is not followed. */
		if (attr_u32(tb[RTA_OIF], &oif) == -1)
			return 0;
		route_nexthop(b, rtm->rtm_family, (int)oif, rtm->rtm_flags,
		    tb[RTA_GATEWAY], tb[RTA_VIA], metric);
		return 0;
	}
	nh = RTA_DATA(tb[RTA_MULTIPATH]);
	len = RTA_PAYLOAD(tb[RTA_MULTIPATH]);
	while (RTNH_OK(nh, len)) {
		attr_index(ntb, RTA_MAX, RTNH_DATA(nh),
		    nh->rtnh_len - RTNH_LENGTH(0));
		route_nexthop(b, rtm->rtm_family, nh->rtnh_ifindex,
		    nh->rtnh_flags, ntb[RTA_GATEWAY], ntb[RTA_VIA], metric);
		len -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return 0;
}

/* Loopback and link-local addresses say nothing about where we are. */
static int
addr_local_only(int family, const unsigned char *a)
{
	struct in6_addr	a6;

	if (family == AF_INET)
		return a[0] == 127 || (a[0] == 169 && a[1] == 254);
	memcpy(&a6, a, sizeof(a6));
	return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6);
}

static int
on_addr(struct nlwatch *st, struct nlmsghdr *h)
{
	struct nl_build		*b = st->build;
	struct net_facts	*f = &b->facts;
	struct ifaddrmsg	*ifa;
	struct rtattr		*tb[IFA_MAX + 1];
	struct net_addr		*na;
	unsigned char		 a[16];
	uint32_t		 flags;
	char			 text[INET6_ADDRSTRLEN];
	size_t			 i;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	ifa = NLMSG_DATA(h);
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    ifa->ifa_scope >= RT_SCOPE_LINK ||
	    link_find(b, (int)ifa->ifa_index) == NULL)
		return 0;
	attr_index(tb, IFA_MAX, IFA_RTA(ifa), IFA_PAYLOAD(h));
	flags = ifa->ifa_flags;
	(void)attr_u32(tb[IFA_FLAGS], &flags);	/* the full 32 bits */
	if (flags & IFA_F_DADFAILED)
		return 0;
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer's on point-to-point
	 * links, and the only one IPv6 sends. */
	if (attr_addr(tb[IFA_LOCAL], ifa->ifa_family, a) == -1 &&
	    attr_addr(tb[IFA_ADDRESS], ifa->ifa_family, a) == -1)
		return 0;
	if (addr_local_only(ifa->ifa_family, a) ||
	    inet_ntop(ifa->ifa_family, a, text, sizeof(text)) == NULL)
		return 0;
	for (i = 0; i < f->naddr; i++)
		if (strcmp(f->addr[i].addr, text) == 0 &&
		    f->addr[i].prefixlen == ifa->ifa_prefixlen)
			return 0;
	if (f->naddr == NETFACTS_ADDR_MAX) {
		b->addr_dropped++;
		return 0;
	}
	na = &f->addr[f->naddr++];
	memcpy(na->addr, text, sizeof(text));
	na->prefixlen = ifa->ifa_prefixlen;
	return 0;
}

static int
on_neigh(struct nlwatch *st, struct nlmsghdr *h)
{
	struct nl_build	*b = st->build;
	struct ndmsg	*ndm;
	struct rtattr	*tb[NDA_MAX + 1];
	unsigned char	 a[16];
	size_t		 i;

	if (h->nlmsg_type != RTM_NEWNEIGH ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return 0;
	ndm = NLMSG_DATA(h);
	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
	    (ndm->ndm_flags & NTF_PROXY))
		return 0;
	attr_index(tb, NDA_MAX, NDM_RTA(ndm), NDM_PAYLOAD(h));
	if (attr_addr(tb[NDA_DST], ndm->ndm_family, a) == -1)
		return 0;
	for (i = 0; i < b->ngw; i++) {
		if (b->gw[i].family != ndm->ndm_family ||
		    b->gw[i].ifindex != ndm->ndm_ifindex ||
		    memcmp(b->gw[i].addr, a, addr_len(ndm->ndm_family)) != 0)
			continue;
		neigh_mac(ndm, tb[NDA_LLADDR], b->gw[i].mac,
		    sizeof(b->gw[i].mac));
	}
	return 0;
}

/* The preferred route first (lowest metric), IPv4 before IPv6 at equal
 * metric, then the kernel's order: the first gateway names the network
 * (netfacts_key), so the order must not wobble. */
static int
gw_cmp(const void *pa, const void *pb)
{
	const struct nl_gw	*a = pa, *b = pb;

	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return 0;
}

/* Sort, drop duplicates (the same gateway at two metrics), cut to the
 * facts' bound; b->gw keeps what the facts hold, in their order. */
static void
gw_finish(struct nl_build *b)
{
	struct net_facts	*f = &b->facts;
	struct net_gateway	*ng;
	const struct nl_gw	*g;
	size_t			 i, j;

	qsort(b->gw, b->ngw, sizeof(b->gw[0]), gw_cmp);
	for (i = 0; i < b->ngw; i++) {
		g = &b->gw[i];
		for (j = 0; j < f->ngw; j++)
			if (b->gw[j].family == g->family &&
			    b->gw[j].ifindex == g->ifindex &&
			    memcmp(b->gw[j].addr, g->addr,
			    addr_len(g->family)) == 0)
				break;
		if (j < f->ngw)
			continue;
		if (f->ngw == NETFACTS_GW_MAX) {
			b->gw_dropped++;
			continue;
		}
		b->gw[f->ngw] = *g;
		ng = &f->gw[f->ngw++];
		if (inet_ntop(g->family, g->addr, ng->addr,
		    sizeof(ng->addr)) == NULL)
			ng->addr[0] = '\0';
		memcpy(ng->mac, g->mac, sizeof(ng->mac));
		snprintf(ng->ifname, sizeof(ng->ifname), "%s",
		    link_find(b, g->ifindex)->name);
	}
	b->ngw = f->ngw;
}

/*
 * The DNS search list: the last "search" or "domain" line wins
 * (resolv.conf(5)).  A missing file is no domains; a name over the facts'
 * bound is left out.
 */
static void
resolv_read(struct net_facts *f)
{
	FILE	*fp;
	char	*line = NULL, *tok, *save;
	size_t	 cap = 0, n, dropped = 0;
	ssize_t	 len;

	f->ndns = 0;
	if ((fp = fopen(RESOLV_CONF, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("netwatch netlink: %s", RESOLV_CONF);
		return;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		if (len > RESOLV_LINE_MAX)
			continue;
		tok = strtok_r(line, " \t\r\n", &save);
		if (tok == NULL || (strcmp(tok, "search") != 0 &&
		    strcmp(tok, "domain") != 0))
			continue;
		f->ndns = 0;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (*tok == '#' || *tok == ';')
				break;
			n = strlen(tok);
			if (n > 0 && tok[n - 1] == '.')
				tok[--n] = '\0';	/* "." is no domain */
			if (n == 0)
				continue;
			if (n >= NETFACTS_NAME_MAX ||
			    f->ndns == NETFACTS_DNS_MAX) {
				dropped++;
				continue;
			}
			memcpy(f->dns[f->ndns++], tok, n + 1);
		}
	}
	free(line);
	fclose(fp);
	if (dropped > 0)
		log_debug("netwatch netlink: %s: %zu search domain(s) over "
		    "the limits left out", RESOLV_CONF, dropped);
}

static void	resolv_watch(struct nlwatch *);

/* 0 with st->build->facts complete, 1 when a dump was interrupted by a
 * change (redo), -1 with errno. */
static int
rebuild(struct nlwatch *st)
{
	struct nl_build	*b = st->build;
	int		 rc;

	memset(b, 0, sizeof(*b));
	snprintf(b->facts.backend, sizeof(b->facts.backend), "netlink");
	/* Links first: routes and addresses count only on usable ones. */
	if ((rc = nl_dump(st, RTM_GETLINK, on_link)) != 0 ||
	    (rc = nl_dump(st, RTM_GETROUTE, on_route)) != 0 ||
	    (rc = nl_dump(st, RTM_GETADDR, on_addr)) != 0)
		return rc;
	if (b->ngw > 0 && (rc = nl_dump(st, RTM_GETNEIGH, on_neigh)) != 0)
		return rc;
	gw_finish(b);
	resolv_watch(st);
	resolv_read(&b->facts);
	b->facts.connectivity = b->default_up ? NETCONN_FULL : NETCONN_NONE;
	if (b->links_dropped + b->gw_dropped + b->addr_dropped > 0)
		log_debug("netwatch netlink: over the limits, left out: "
		    "links=%zu gateways=%zu addresses=%zu", b->links_dropped,
		    b->gw_dropped, b->addr_dropped);
	return 0;
}

static void
log_facts(const struct net_facts *f)
{
	char	gws[NETFACTS_GW_MAX * 96] = "";
	size_t	i, off = 0;
	int	n;

	for (i = 0; i < f->ngw && off < sizeof(gws); i++) {
		n = snprintf(gws + off, sizeof(gws) - off, "%s%s/%s/%s",
		    i ? "," : "", f->gw[i].addr, f->gw[i].ifname,
		    f->gw[i].mac[0] ? f->gw[i].mac : "?");
		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_debug("netwatch netlink facts connectivity=%s gateways=%s "
	    "addresses=%zu dns-domains=%zu",
	    net_connectivity_name(f->connectivity), gws[0] ? gws : "-",
	    f->naddr, f->ndns);
}

static void
schedule(struct nlwatch *st, int ms)
{
	struct timeval	tv;

	if (evtimer_pending(st->ev_settle, NULL))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(st->ev_settle, &tv);
}

static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nlwatch	*st = arg;
	struct nl_build	*b = st->build;
	size_t		 i;
	int		 rc = 1, tries;

	for (tries = 0; tries < NL_DUMP_TRIES && rc == 1; tries++)
		rc = rebuild(st);
	if (rc == -1) {
		log_warn("netwatch netlink: reading the kernel's tables "
		    "failed, trying again in %d ms", NL_RETRY_MS);
		schedule(st, NL_RETRY_MS);
		return;
	}
	if (rc == 1) {
		schedule(st, NL_SETTLE_MS);
		return;
	}
	/* Remember the gateways for the neighbour filter, in facts order. */
	st->nknown = 0;
	for (i = 0; i < b->ngw && st->nknown < NETFACTS_GW_MAX; i++)
		st->known[st->nknown++] = b->gw[i];
	if (st->emitted && netfacts_equal(&st->last, &b->facts))
		return;
	st->last = b->facts;
	st->emitted = 1;
	log_facts(&st->last);
	/* Last: the callback may stop the watcher. */
	st->emit(&st->last, st->emit_arg);
}

/* ------------------------------------------------------------ notifications */

/* A neighbour message matters when it changes a gateway's MAC. */
static int
neigh_relevant(struct nlwatch *st, struct nlmsghdr *h)
{
	struct ndmsg	*ndm;
	struct rtattr	*tb[NDA_MAX + 1];
	unsigned char	 a[16];
	char		 mac[18];
	size_t		 i;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return 0;
	ndm = NLMSG_DATA(h);
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return 0;
	attr_index(tb, NDA_MAX, NDM_RTA(ndm), NDM_PAYLOAD(h));
	if (attr_addr(tb[NDA_DST], ndm->ndm_family, a) == -1)
		return 0;
	if (h->nlmsg_type == RTM_DELNEIGH)
		mac[0] = '\0';
	else
		neigh_mac(ndm, tb[NDA_LLADDR], mac, sizeof(mac));
	for (i = 0; i < st->nknown; i++)
		if (st->known[i].family == ndm->ndm_family &&
		    st->known[i].ifindex == ndm->ndm_ifindex &&
		    memcmp(st->known[i].addr, a,
		    addr_len(ndm->ndm_family)) == 0 &&
		    strcmp(st->known[i].mac, mac) != 0)
			return 1;
	return 0;
}

static int
relevant(struct nlwatch *st, struct nlmsghdr *h)
{
	struct ifinfomsg	*ifi;
	struct rtmsg		*rtm;
	struct rtattr		*tb[IFLA_WIRELESS + 1];

	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
		/* Wireless extension events (scans...) ride on NEWLINK and
		 * change nothing we report. */
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			return 0;
		ifi = NLMSG_DATA(h);
		attr_index(tb, IFLA_WIRELESS, IFLA_RTA(ifi), IFLA_PAYLOAD(h));
		return tb[IFLA_WIRELESS] == NULL;
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return 1;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
			return 0;
		rtm = NLMSG_DATA(h);
		return rtm->rtm_dst_len == 0;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return neigh_relevant(st, h);
	default:
		return 0;
	}
}

static void
nl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nlwatch	*st = arg;
	struct nlmsghdr	*h;
	ssize_t		 n;
	int		 len, changed = 0;

	for (;;) {
		if ((n = nl_recv(st, st->evfd)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ENOBUFS: the kernel dropped notifications; a
			 * rebuild reads the truth anyway. */
			if (errno != ENOBUFS)
				log_warn("netwatch netlink: recv");
			changed = 1;
			break;
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)st->buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len))
			if (relevant(st, h))
				changed = 1;
	}
	if (changed)
		schedule(st, NL_SETTLE_MS);
}

/* ------------------------------------------------------------ resolv.conf */

/*
 * Watch resolv.conf's folder (it is often a symlink replaced whole), its
 * target's folder (rewritten by rename), and the file itself (rewritten
 * in place, or bind-mounted over by "ip netns exec").  Renewed at each
 * rebuild, as the symlink and the file may have changed.
 */
static void
resolv_watch(struct nlwatch *st)
{
	char	 path[PATH_MAX], *slash;

	if (st->infd == -1)
		return;
	(void)inotify_add_watch(st->infd, RESOLV_CONF, IN_CLOSE_WRITE);
	st->target_name[0] = '\0';
	if (realpath(RESOLV_CONF, path) == NULL ||
	    (slash = strrchr(path, '/')) == NULL)
		return;
	snprintf(st->target_name, sizeof(st->target_name), "%s", slash + 1);
	*slash = '\0';
	if (strcmp(path, "/etc") == 0)
		return;
	st->wd_target = inotify_add_watch(st->infd, path[0] ? path : "/",
	    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ONLYDIR);
}

static void
inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nlwatch			*st = arg;
	union {
		char			 buf[INOTIFY_BUF];
		struct inotify_event	 align;
	} u;
	const struct inotify_event	*ev;
	ssize_t				 n, off;
	int				 changed = 0;

	for (;;) {
		n = read(st->infd, u.buf, sizeof(u.buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(u.buf + off);
			if (off + (ssize_t)(sizeof(*ev) + ev->len) > n)
				break;
			if (ev->mask & IN_Q_OVERFLOW)
				changed = 1;
			else if (ev->len == 0)		/* the file itself */
				changed = 1;
			else if ((ev->wd == st->wd_etc &&
			    strcmp(ev->name, "resolv.conf") == 0) ||
			    (ev->wd == st->wd_target &&
			    strcmp(ev->name, st->target_name) == 0))
				changed = 1;
		}
	}
	if (changed)
		schedule(st, NL_SETTLE_MS);
}

/* ------------------------------------------------------------ start, stop */

static int
nl_available(void)
{
	return 0;	/* netlink is always there on Linux */
}

static void
nl_stop(void *arg)
{
	struct nlwatch	*st = arg;

	if (st == NULL)
		return;
	if (st->ev_nl != NULL)
		event_free(st->ev_nl);
	if (st->ev_in != NULL)
		event_free(st->ev_in);
	if (st->ev_settle != NULL)
		event_free(st->ev_settle);
	if (st->evfd != -1)
		close(st->evfd);
	if (st->dumpfd != -1)
		close(st->dumpfd);
	if (st->infd != -1)
		close(st->infd);
	free(st->buf);
	free(st->build);
	free(st);
}

static void *
nl_start(struct event_base *base,
    void (*emit)(const struct net_facts *, void *), void *emit_arg,
    char *err, size_t errlen)
{
	struct nlwatch	*st;
	struct timeval	 tv = { NL_DUMP_TIMEOUT_S, 0 };
	int		 rcvbuf = NL_RCVBUF;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return NULL;
	}
	st->base = base;
	st->emit = emit;
	st->emit_arg = emit_arg;
	st->evfd = st->dumpfd = st->infd = -1;
	st->wd_etc = st->wd_target = -1;
	if ((st->buf = malloc(NL_BUF)) == NULL ||
	    (st->build = malloc(sizeof(*st->build))) == NULL) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		goto fail;
	}
	/* Subscribe before the first dump, so that no change falls between. */
	if ((st->evfd = nl_socket(SOCK_NONBLOCK, RTMGRP_LINK |
	    RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
	    RTMGRP_IPV6_ROUTE | RTMGRP_NEIGH, err, errlen)) == -1 ||
	    (st->dumpfd = nl_socket(0, 0, err, errlen)) == -1)
		goto fail;
	(void)setsockopt(st->evfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	if (setsockopt(st->dumpfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1) {
		snprintf(err, errlen, "netlink: SO_RCVTIMEO: %s",
		    strerror(errno));
		goto fail;
	}
	st->ev_nl = event_new(base, st->evfd, EV_READ | EV_PERSIST,
	    nl_read_cb, st);
	st->ev_settle = evtimer_new(base, settle_cb, st);
	if (st->ev_nl == NULL || st->ev_settle == NULL ||
	    event_add(st->ev_nl, NULL) == -1) {
		snprintf(err, errlen, "netlink: cannot set up events");
		goto fail;
	}

	/* Without inotify, resolv.conf is still read at each rebuild. */
	if ((st->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    (st->wd_etc = inotify_add_watch(st->infd, "/etc", IN_CLOSE_WRITE |
	    IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ONLYDIR)) == -1)
		log_warn("netwatch netlink: cannot watch %s for changes",
		    RESOLV_CONF);
	else if ((st->ev_in = event_new(base, st->infd, EV_READ | EV_PERSIST,
	    inotify_cb, st)) == NULL || event_add(st->ev_in, NULL) == -1) {
		snprintf(err, errlen, "netlink: cannot set up events");
		goto fail;
	}
	if (st->ev_in == NULL && st->infd != -1) {
		close(st->infd);
		st->infd = -1;
	}

	/* The first snapshot comes from the loop, not from inside start. */
	schedule(st, 0);
	return st;
fail:
	nl_stop(st);
	return NULL;
}

const struct netwatch_ops netwatch_netlink_ops = {
	.name = "netlink",
	.available = nl_available,
	.start = nl_start,
	.stop = nl_stop,
};
