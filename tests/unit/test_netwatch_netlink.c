/*
 * test_netwatch_netlink.c - the netlink backend's parsing of the kernel's
 * messages, on messages built here: what it takes from routes, addresses
 * and neighbours, and what it refuses (truncated messages, attributes of
 * the wrong size, unknown attributes, routes that are not default ones).
 * The parsers are static, so the backend's source is included.  Each
 * message sits in a buffer of exactly its size, so that a read past it is
 * an ASan report in the sanitizer build.  The live backend is tested in
 * tests/e2e/netwatch_netlink_netns.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "netwatch_netlink.c"

#define MSG_MAX	1024

struct msg {
	union {
		unsigned char	buf[MSG_MAX];
		struct nlmsghdr	align;
	} u;
	size_t		len;
	struct nlmsghdr	*exact;		/* a copy of exactly len bytes */
};

static void
msg_begin(struct msg *m, int type, const void *hdr, size_t hdrlen)
{
	struct nlmsghdr	*h = &m->u.align;
	struct nlmsghdr	*keep = m->exact;	/* freed by msg_end, msg_free */

	memset(m, 0, sizeof(*m));
	m->exact = keep;
	h->nlmsg_type = type;
	memcpy(NLMSG_DATA(h), hdr, hdrlen);
	m->len = NLMSG_LENGTH(hdrlen);
	m->len = NLMSG_ALIGN(m->len);
	h->nlmsg_len = m->len;
}

static struct rtattr *
msg_attr(struct msg *m, int type, const void *data, size_t len)
{
	struct rtattr	*rta = (struct rtattr *)(m->u.buf + m->len);

	assert_true(m->len + RTA_SPACE(len) <= MSG_MAX);
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(rta), data, len);
	m->len += RTA_SPACE(len);
	m->u.align.nlmsg_len = m->len;
	return rta;
}

static void
msg_u32(struct msg *m, int type, uint32_t v)
{
	msg_attr(m, type, &v, sizeof(v));
}

static void
msg_addr(struct msg *m, int type, int family, const char *text)
{
	unsigned char	a[16];

	assert_int_equal(inet_pton(family, text, a), 1);
	msg_attr(m, type, a, family == AF_INET ? 4 : 16);
}

/* The message, copied into a heap block of exactly its length. */
static struct nlmsghdr *
msg_end(struct msg *m)
{
	free(m->exact);
	m->exact = malloc(m->len);
	assert_non_null(m->exact);
	memcpy(m->exact, m->u.buf, m->len);
	return m->exact;
}

static void
msg_free(struct msg *m)
{
	free(m->exact);
	m->exact = NULL;
}

/* A watcher with nothing but its scratch: links 2 (eth0) and 3 (wlan0)
 * are usable, 4 is not (down, so not in the table). */
static int
setup(void **state)
{
	struct nlwatch	*st;

	st = calloc(1, sizeof(*st));
	assert_non_null(st);
	st->build = calloc(1, sizeof(*st->build));
	assert_non_null(st->build);
	st->build->link[0].ifindex = 2;
	strcpy(st->build->link[0].name, "eth0");
	st->build->link[1].ifindex = 3;
	strcpy(st->build->link[1].name, "wlan0");
	st->build->nlink = 2;
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	struct nlwatch	*st = *state;

	free(st->build);
	free(st);
	return 0;
}

static void
route_begin(struct msg *m, int family, int type)
{
	struct rtmsg	rtm;

	memset(&rtm, 0, sizeof(rtm));
	rtm.rtm_family = family;
	rtm.rtm_table = RT_TABLE_MAIN;
	rtm.rtm_type = RTN_UNICAST;
	msg_begin(m, type, &rtm, sizeof(rtm));
}

static struct rtmsg *
route_hdr(struct msg *m)
{
	return NLMSG_DATA(&m->u.align);
}

static char *
gw_text(const struct nl_gw *g, char *buf)
{
	return (char *)inet_ntop(g->family, g->addr, buf, INET6_ADDRSTRLEN);
}

static void
test_route_default_v4(void **state)
{
	struct nlwatch	*st = *state;
	struct msg	 m = { .len = 0 };
	char		 t[INET6_ADDRSTRLEN];

	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_u32(&m, RTA_TABLE, RT_TABLE_MAIN);
	msg_u32(&m, RTA_PRIORITY, 600);
	msg_u32(&m, 999, 7);			/* unknown: ignored */
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.1.1");
	msg_u32(&m, RTA_OIF, 3);
	assert_int_equal(on_route(st, msg_end(&m)), 0);
	assert_int_equal(st->build->ngw, 1);
	assert_int_equal(st->build->default_up, 1);
	assert_string_equal(gw_text(&st->build->gw[0], t), "192.168.1.1");
	assert_int_equal(st->build->gw[0].ifindex, 3);
	assert_int_equal(st->build->gw[0].metric, 600);
	msg_free(&m);
}

static void
test_route_ignored(void **state)
{
	struct nlwatch	*st = *state;
	struct msg	 m = { .len = 0 };

	/* Not a default route. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	route_hdr(&m)->rtm_dst_len = 24;
	msg_addr(&m, RTA_DST, AF_INET, "10.0.0.0");
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.1.1");
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	/* Another table, named by RTA_TABLE over rtm_table. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_u32(&m, RTA_TABLE, 1000);
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.1.1");
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	/* Unreachable default. */
	route_begin(&m, AF_INET6, RTM_NEWROUTE);
	route_hdr(&m)->rtm_type = RTN_UNREACHABLE;
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	/* A link that is down. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.9.1");
	msg_u32(&m, RTA_OIF, 4);
	on_route(st, msg_end(&m));
	/* A link without carrier, as the kernel flags the route. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	route_hdr(&m)->rtm_flags = RTNH_F_LINKDOWN;
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.9.1");
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	/* A deletion is not a route to count. */
	route_begin(&m, AF_INET, RTM_DELROUTE);
	msg_addr(&m, RTA_GATEWAY, AF_INET, "192.168.9.1");
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	assert_int_equal(st->build->ngw, 0);
	assert_int_equal(st->build->default_up, 0);
	msg_free(&m);
}

static void
test_route_malformed(void **state)
{
	struct nlwatch	*st = *state;
	struct msg	 m = { .len = 0 };
	struct rtattr	*rta;

	/* Shorter than its rtmsg. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	m.len = NLMSG_LENGTH(4);
	m.u.align.nlmsg_len = m.len;
	on_route(st, msg_end(&m));
	/* A gateway of 3 bytes: no gateway, but the route is there. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_attr(&m, RTA_GATEWAY, "\x0a\x00\x00", 3);
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	assert_int_equal(st->build->ngw, 0);
	assert_int_equal(st->build->default_up, 1);
	/* An attribute claiming more than the message holds: the walk stops
	 * there, and the OIF after it is never seen. */
	st->build->default_up = 0;
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	rta = msg_attr(&m, RTA_GATEWAY, "\x0a\x00\x00\x01", 4);
	msg_u32(&m, RTA_OIF, 2);
	rta->rta_len = 200;
	on_route(st, msg_end(&m));
	/* An OIF of the wrong size. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_addr(&m, RTA_GATEWAY, AF_INET, "10.0.0.1");
	msg_attr(&m, RTA_OIF, "\x02\x00", 2);
	on_route(st, msg_end(&m));
	assert_int_equal(st->build->ngw, 0);
	assert_int_equal(st->build->default_up, 0);
	msg_free(&m);
}

static void
test_route_multipath(void **state)
{
	struct nlwatch		*st = *state;
	struct msg		 m = { .len = 0 };
	unsigned char		 mp[128];
	struct rtnexthop	*nh;
	struct rtattr		*rta;
	size_t			 off = 0;
	char			 t[INET6_ADDRSTRLEN];
	int			 i;

	/* Three next hops: dead link, link down by flag, and a good one;
	 * then a truncated fourth. */
	memset(mp, 0, sizeof(mp));
	for (i = 0; i < 3; i++) {
		nh = (struct rtnexthop *)(mp + off);
		nh->rtnh_len = RTNH_LENGTH(RTA_SPACE(4));
		nh->rtnh_ifindex = i == 0 ? 4 : i == 1 ? 2 : 3;
		nh->rtnh_flags = i == 1 ? RTNH_F_LINKDOWN : 0;
		rta = RTNH_DATA(nh);
		rta->rta_type = RTA_GATEWAY;
		rta->rta_len = RTA_LENGTH(4);
		inet_pton(AF_INET, i == 2 ? "172.16.0.1" : "172.16.9.9",
		    RTA_DATA(rta));
		off += RTNH_ALIGN(nh->rtnh_len);
	}
	nh = (struct rtnexthop *)(mp + off);
	nh->rtnh_len = 60;			/* past the attribute */
	nh->rtnh_ifindex = 2;
	off += sizeof(*nh);
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_attr(&m, RTA_MULTIPATH, mp, off);
	on_route(st, msg_end(&m));
	assert_int_equal(st->build->ngw, 1);
	assert_string_equal(gw_text(&st->build->gw[0], t), "172.16.0.1");
	assert_int_equal(st->build->gw[0].ifindex, 3);
	msg_free(&m);
}

static void
test_route_via_v6(void **state)
{
	struct nlwatch	*st = *state;
	struct msg	 m = { .len = 0 };
	unsigned char	 via[2 + 16];
	unsigned short	 fam = AF_INET6;
	char		 t[INET6_ADDRSTRLEN];

	memcpy(via, &fam, 2);
	inet_pton(AF_INET6, "fe80::1", via + 2);
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_attr(&m, RTA_VIA, via, sizeof(via));
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	/* A via one byte short is refused. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	msg_attr(&m, RTA_VIA, via, sizeof(via) - 1);
	msg_u32(&m, RTA_OIF, 2);
	on_route(st, msg_end(&m));
	assert_int_equal(st->build->ngw, 1);
	assert_int_equal(st->build->gw[0].family, AF_INET6);
	assert_string_equal(gw_text(&st->build->gw[0], t), "fe80::1");
	msg_free(&m);
}

static void
addr_msg(struct msg *m, int family, int index, int prefix, int scope,
    const char *local, const char *address)
{
	struct ifaddrmsg	ifa;

	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = family;
	ifa.ifa_index = index;
	ifa.ifa_prefixlen = prefix;
	ifa.ifa_scope = scope;
	msg_begin(m, RTM_NEWADDR, &ifa, sizeof(ifa));
	if (address != NULL)
		msg_addr(m, IFA_ADDRESS, family, address);
	if (local != NULL)
		msg_addr(m, IFA_LOCAL, family, local);
}

static void
test_addresses(void **state)
{
	struct nlwatch		*st = *state;
	struct net_facts	*f = &st->build->facts;
	struct msg		 m = { .len = 0 };

	/* Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer's. */
	addr_msg(&m, AF_INET, 2, 32, RT_SCOPE_UNIVERSE, "10.8.0.2",
	    "10.8.0.1");
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET6, 3, 64, RT_SCOPE_UNIVERSE, NULL,
	    "2001:db8::23");
	on_addr(st, msg_end(&m));
	/* The same again: kept once. */
	on_addr(st, m.exact);
	/* Left out: loopback, link-local (by scope and by address), a link
	 * that is down, a failed DAD, a truncated header. */
	addr_msg(&m, AF_INET, 2, 8, RT_SCOPE_HOST, "127.0.0.1", NULL);
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET6, 2, 64, RT_SCOPE_LINK, NULL, "fe80::2");
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET, 2, 16, RT_SCOPE_UNIVERSE, "169.254.3.4", NULL);
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET, 2, 24, RT_SCOPE_LINK, "10.9.9.9", NULL);
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET, 4, 24, RT_SCOPE_UNIVERSE, "192.168.5.5", NULL);
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET6, 3, 64, RT_SCOPE_UNIVERSE, NULL, "2001:db8::99");
	msg_u32(&m, IFA_FLAGS, IFA_F_DADFAILED);
	on_addr(st, msg_end(&m));
	addr_msg(&m, AF_INET, 2, 24, RT_SCOPE_UNIVERSE, "192.168.6.6", NULL);
	m.len = NLMSG_LENGTH(sizeof(struct ifaddrmsg) - 1);
	m.u.align.nlmsg_len = m.len;
	on_addr(st, msg_end(&m));

	assert_int_equal(f->naddr, 2);
	assert_string_equal(f->addr[0].addr, "10.8.0.2");
	assert_int_equal(f->addr[0].prefixlen, 32);
	assert_string_equal(f->addr[1].addr, "2001:db8::23");
	assert_int_equal(f->addr[1].prefixlen, 64);
	msg_free(&m);
}

static void
neigh_msg(struct msg *m, int type, int family, int index, int nud,
    const char *dst, const void *lladdr, size_t lllen)
{
	struct ndmsg	ndm;

	memset(&ndm, 0, sizeof(ndm));
	ndm.ndm_family = family;
	ndm.ndm_ifindex = index;
	ndm.ndm_state = nud;
	msg_begin(m, type, &ndm, sizeof(ndm));
	msg_addr(m, NDA_DST, family, dst);
	if (lladdr != NULL)
		msg_attr(m, NDA_LLADDR, lladdr, lllen);
}

static const unsigned char MAC1[6] = { 0x02, 0xaa, 0, 0, 0, 0x01 };

/* Two gateways known on eth0: 192.168.1.1 and fe80::1. */
static void
two_gateways(struct nlwatch *st)
{
	struct nl_build	*b = st->build;

	b->gw[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.1.1", b->gw[0].addr);
	b->gw[0].ifindex = 2;
	b->gw[1].family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", b->gw[1].addr);
	b->gw[1].ifindex = 2;
	b->ngw = 2;
}

static void
test_neighbours(void **state)
{
	struct nlwatch	*st = *state;
	struct nl_build	*b = st->build;
	struct msg	 m = { .len = 0 };

	two_gateways(st);
	/* STALE still stands by its MAC. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET, 2, NUD_STALE, "192.168.1.1",
	    MAC1, 6);
	on_neigh(st, msg_end(&m));
	assert_string_equal(b->gw[0].mac, "02:aa:00:00:00:01");
	/* The same address on another link is another neighbour. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, 3, NUD_REACHABLE, "fe80::1",
	    MAC1, 6);
	on_neigh(st, msg_end(&m));
	/* No MAC while it is being resolved, nor a 4-byte one. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, 2, NUD_INCOMPLETE, "fe80::1",
	    MAC1, 6);
	on_neigh(st, msg_end(&m));
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, 2, NUD_REACHABLE, "fe80::1",
	    MAC1, 4);
	on_neigh(st, msg_end(&m));
	assert_string_equal(b->gw[1].mac, "");
	msg_free(&m);
}

static void
test_relevant(void **state)
{
	struct nlwatch		*st = *state;
	struct msg		 m = { .len = 0 };
	struct ifinfomsg	 ifi;

	two_gateways(st);
	strcpy(st->build->gw[0].mac, "02:aa:00:00:00:01");
	memcpy(st->known, st->build->gw, sizeof(st->known[0]) * 2);
	st->nknown = 2;

	/* The gateway's entry turning STALE with the same MAC: nothing. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET, 2, NUD_STALE, "192.168.1.1",
	    MAC1, 6);
	assert_false(relevant(st, msg_end(&m)));
	/* ... or going away: its MAC with it. */
	neigh_msg(&m, RTM_DELNEIGH, AF_INET, 2, NUD_STALE, "192.168.1.1",
	    NULL, 0);
	assert_true(relevant(st, msg_end(&m)));
	/* The IPv6 gateway's MAC learned. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET6, 2, NUD_REACHABLE, "fe80::1",
	    MAC1, 6);
	assert_true(relevant(st, msg_end(&m)));
	/* Some other host on the LAN. */
	neigh_msg(&m, RTM_NEWNEIGH, AF_INET, 2, NUD_REACHABLE, "192.168.1.7",
	    MAC1, 6);
	assert_false(relevant(st, msg_end(&m)));

	/* Routes: only default ones. */
	route_begin(&m, AF_INET, RTM_NEWROUTE);
	assert_true(relevant(st, msg_end(&m)));
	route_begin(&m, AF_INET, RTM_DELROUTE);
	route_hdr(&m)->rtm_dst_len = 24;
	assert_false(relevant(st, msg_end(&m)));

	/* A wireless event riding on NEWLINK changes nothing; a link
	 * going up or down does. */
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = 3;
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_WIRELESS, "\0\0\0\0", 4);
	assert_false(relevant(st, msg_end(&m)));
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, "wlan0", 6);
	assert_true(relevant(st, msg_end(&m)));
	msg_free(&m);
}

static void
test_link_table(void **state)
{
	struct nlwatch		*st = *state;
	struct nl_build		*b = st->build;
	struct msg		 m = { .len = 0 };
	struct ifinfomsg	 ifi;
	char			 longname[20];

	b->nlink = 0;
	memset(&ifi, 0, sizeof(ifi));
	/* Up and running: usable. */
	ifi.ifi_index = 5;
	ifi.ifi_flags = IFF_UP | IFF_RUNNING;
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, "enp0s31f6", 10);
	on_link(st, msg_end(&m));
	/* Up without carrier, loopback, a name without its NUL or too
	 * long: not. */
	ifi.ifi_index = 6;
	ifi.ifi_flags = IFF_UP;
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, "wlan0", 6);
	on_link(st, msg_end(&m));
	ifi.ifi_index = 1;
	ifi.ifi_flags = IFF_UP | IFF_RUNNING | IFF_LOOPBACK;
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, "lo", 3);
	on_link(st, msg_end(&m));
	ifi.ifi_index = 7;
	ifi.ifi_flags = IFF_UP | IFF_RUNNING;
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, "eth1", 4);
	on_link(st, msg_end(&m));
	memset(longname, 'x', sizeof(longname));
	longname[sizeof(longname) - 1] = '\0';
	msg_begin(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	msg_attr(&m, IFLA_IFNAME, longname, sizeof(longname));
	on_link(st, msg_end(&m));

	assert_int_equal(b->nlink, 1);
	assert_int_equal(b->link[0].ifindex, 5);
	assert_string_equal(b->link[0].name, "enp0s31f6");
	msg_free(&m);
}

static void
test_gateway_order(void **state)
{
	struct nlwatch		*st = *state;
	struct nl_build		*b = st->build;
	struct net_facts	*f = &b->facts;
	const char		*in[][2] = {
		{ "fe80::1", "100" },		/* eth0, v6 */
		{ "192.168.1.1", "600" },	/* wlan0 */
		{ "192.168.2.1", "100" },	/* eth0, v4 */
		{ "192.168.2.1", "200" },	/* the same, worse metric */
		{ "10.0.0.1", "700" },
		{ "10.0.0.2", "800" },		/* past NETFACTS_GW_MAX */
	};
	size_t			 i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct nl_gw	*g = &b->gw[b->ngw];

		memset(g, 0, sizeof(*g));
		g->family = strchr(in[i][0], ':') ? AF_INET6 : AF_INET;
		inet_pton(g->family, in[i][0], g->addr);
		g->ifindex = i == 1 ? 3 : 2;
		g->metric = (uint32_t)atoi(in[i][1]);
		g->order = b->ngw++;
	}
	gw_finish(b);
	assert_int_equal(f->ngw, NETFACTS_GW_MAX);
	assert_int_equal(b->ngw, NETFACTS_GW_MAX);
	assert_string_equal(f->gw[0].addr, "192.168.2.1");
	assert_string_equal(f->gw[0].ifname, "eth0");
	assert_string_equal(f->gw[1].addr, "fe80::1");
	assert_string_equal(f->gw[2].addr, "192.168.1.1");
	assert_string_equal(f->gw[2].ifname, "wlan0");
	assert_string_equal(f->gw[3].addr, "10.0.0.1");
	assert_int_equal(b->gw_dropped, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_route_default_v4, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_route_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_route_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_route_multipath, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_route_via_v6, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_neighbours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relevant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_link_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gateway_order, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
