/*
 * netwatch_nm.c - the network watcher's NetworkManager backend (libnm).
 *
 * Why a thread: libnm is GLib code.  Its NMClient keeps a mirror of
 * NetworkManager's D-Bus objects up to date and reports changes as GObject
 * signals, and both only happen while a GMainContext is iterated.  The
 * relay core runs libevent's loop and must not be driven by, or wait on,
 * GLib's (STYLE.md).  So NetworkManager gets a thread of its own with a
 * GMainContext of its own, pushed as that thread's default before
 * nm_client_new(), so that every source libnm makes lives there and never
 * in the process-global default context.
 *
 * What crosses between the two: nothing but whole snapshots, one JSON
 * object a line, {"v":NETFACTS_VERSION,"facts":{...}} (netfacts_to_json),
 * written by the thread to one end of a socketpair and read here by a
 * bufferevent on the other.  No pointer, lock or GLib object is shared;
 * the only other contact is the start handshake (did nm_client_new work?)
 * and the stop flag.
 *
 * Inside the thread the watcher reacts to libnm's signals, never polls:
 * NMClient's notify::{nm-running,active-connections,primary-connection,
 * connectivity,metered}, and "notify" on every object a snapshot was read
 * from (active connections, their devices, IP configs, the access point),
 * so a change anywhere in what the last snapshot used triggers the next.
 * A change in NetworkManager arrives as a burst of notifications; the
 * first one starts a short timer and the snapshot is rebuilt once when it
 * fires.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <glib.h>
#include <jansson.h>
#include <NetworkManager.h>

#include "log.h"
#include "netfacts.h"
#include "netwatch.h"

/* NetworkManager reports one change as a burst of property notifications
 * spread over a few milliseconds; 50 ms gathers a burst into one snapshot
 * and keeps a network change well under the 100 ms the issue aims at. */
#define NM_COALESCE_MS		50
/* A full snapshot (every table at its NETFACTS_*_MAX) is about 6 KB of
 * JSON; a longer line means the channel is broken. */
#define NM_LINE_MAX		(64 * 1024)
/* How long available() waits for the bus to answer NameHasOwner. */
#define NM_BUS_TIMEOUT_MS	1000
/* One recv() of a neighbour dump: the kernel sends at most a page-sized
 * batch of messages at a time, so this always holds whole messages. */
#define NM_NEIGH_BUF		32768
#define NM_BUS_NAME		"org.freedesktop.NetworkManager"

enum nm_start_state {
	NM_STARTING,
	NM_RUNNING,
	NM_FAILED,
};

struct nm_watched {
	GObject		*obj;
	gulong		 handler;
};

struct nm_watch {
	/* The libevent side. */
	struct bufferevent	*bev;
	void			(*emit)(const struct net_facts *, void *);
	void			*emit_arg;

	/* The thread; everything below belongs to it once it runs. */
	GThread			*thread;
	GMainContext		*ctx;
	int			 wfd;		/* our end of the socketpair */
	int			 wdead;		/* the reader has gone */
	gint			 stopping;	/* set by stop(), atomic */
	NMClient		*client;
	GSource			*coalesce;	/* pending rebuild */
	GArray			*watched;	/* of struct nm_watched */

	/* The start handshake. */
	GMutex			 lock;
	GCond			 cond;
	enum nm_start_state	 state;
	char			 err[256];
};

/* ------------------------------------------------------------ snapshot */

/* Copy a string from libnm into a bounded field: NULL becomes "", invalid
 * UTF-8 is repaired (the channel is JSON) and a string too long is cut at
 * a character boundary. */
static void
put_str(char *dst, size_t len, const char *src)
{
	char	*valid;
	size_t	 n;

	if (src == NULL)
		src = "";
	valid = g_utf8_make_valid(src, -1);
	n = strlen(valid);
	if (n >= len) {
		n = len - 1;
		while (n > 0 && (valid[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, valid, n);
	dst[n] = '\0';
	g_free(valid);
}

static void
lower_mac(char *dst, size_t len, const char *src)
{
	size_t	i;

	put_str(dst, len, src);
	for (i = 0; dst[i] != '\0'; i++)
		dst[i] = g_ascii_tolower(dst[i]);
}

static void
nm_changed(struct nm_watch *);

static void
nm_notify(GObject *obj, GParamSpec *pspec, gpointer arg)
{
	nm_changed(arg);
}

/* Follow obj's changes until the next rebuild. */
static void
nm_watch_obj(struct nm_watch *w, gpointer obj)
{
	struct nm_watched	 n;
	guint			 i;

	for (i = 0; i < w->watched->len; i++)
		if (g_array_index(w->watched, struct nm_watched, i).obj == obj)
			return;
	n.obj = g_object_ref(obj);
	n.handler = g_signal_connect(obj, "notify", G_CALLBACK(nm_notify), w);
	g_array_append_val(w->watched, n);
}

static void
nm_unwatch_all(struct nm_watch *w)
{
	struct nm_watched	*n;
	guint			 i;

	for (i = 0; i < w->watched->len; i++) {
		n = &g_array_index(w->watched, struct nm_watched, i);
		g_signal_handler_disconnect(n->obj, n->handler);
		g_object_unref(n->obj);
	}
	g_array_set_size(w->watched, 0);
}

static const char *
nm_ifname(NMDevice *dev)
{
	const char	*s;

	if ((s = nm_device_get_ip_iface(dev)) != NULL && *s != '\0')
		return s;
	return nm_device_get_iface(dev);
}

static void
add_gateway(struct net_facts *f, const char *addr, const char *ifname)
{
	struct net_gateway	*g;
	size_t			 i;

	if (addr == NULL || *addr == '\0')
		return;
	for (i = 0; i < f->ngw; i++)
		if (strcmp(f->gw[i].addr, addr) == 0 &&
		    strcmp(f->gw[i].ifname, ifname) == 0)
			return;
	if (f->ngw == NETFACTS_GW_MAX)
		return;
	g = &f->gw[f->ngw++];
	put_str(g->addr, sizeof(g->addr), addr);
	put_str(g->ifname, sizeof(g->ifname), ifname);
}

static void
add_addr(struct net_facts *f, const char *addr, unsigned prefix)
{
	struct in6_addr	 in6;
	size_t		 i;

	/* fe80::/10 is on every link: it says nothing about where we are. */
	if (inet_pton(AF_INET6, addr, &in6) == 1 &&
	    IN6_IS_ADDR_LINKLOCAL(&in6))
		return;
	for (i = 0; i < f->naddr; i++)
		if (strcmp(f->addr[i].addr, addr) == 0 &&
		    f->addr[i].prefixlen == prefix)
			return;
	if (f->naddr == NETFACTS_ADDR_MAX)
		return;
	put_str(f->addr[f->naddr].addr, sizeof(f->addr[0].addr), addr);
	f->addr[f->naddr++].prefixlen = prefix;
}

static void
add_domains(struct net_facts *f, const char *const *v)
{
	size_t	i;

	for (; v != NULL && *v != NULL; v++) {
		/* "~example.com" is a routing-only domain, "~." the default
		 * route for DNS: neither is a search domain. */
		if (**v == '\0' || **v == '~')
			continue;
		for (i = 0; i < f->ndns; i++)
			if (strcmp(f->dns[i], *v) == 0)
				break;
		if (i < f->ndns || f->ndns == NETFACTS_DNS_MAX)
			continue;
		put_str(f->dns[f->ndns++], NETFACTS_NAME_MAX, *v);
	}
}

static void
read_ip_config(struct nm_watch *w, struct net_facts *f, NMIPConfig *cfg,
    const char *ifname)
{
	GPtrArray	*addrs;
	NMIPAddress	*a;
	guint		 i;

	if (cfg == NULL)
		return;
	nm_watch_obj(w, cfg);
	add_gateway(f, nm_ip_config_get_gateway(cfg), ifname);
	addrs = nm_ip_config_get_addresses(cfg);
	for (i = 0; addrs != NULL && i < addrs->len; i++) {
		a = g_ptr_array_index(addrs, i);
		add_addr(f, nm_ip_address_get_address(a),
		    nm_ip_address_get_prefix(a));
	}
	add_domains(f, nm_ip_config_get_domains(cfg));
	add_domains(f, nm_ip_config_get_searches(cfg));
}

/* The SSID and BSSID come from the first Wi-Fi device with an access point,
 * looking at the primary connection's devices first: with a VPN on top of
 * Wi-Fi, the Wi-Fi is still where we are. */
static void
read_wifi(struct nm_watch *w, struct net_facts *f, NMDevice *dev)
{
	NMAccessPoint	*ap;
	GBytes		*ssid;
	char		*utf8;
	const guint8	*data;
	gsize		 len;

	if (!NM_IS_DEVICE_WIFI(dev) || *f->bssid != '\0' || *f->ssid != '\0')
		return;
	if ((ap = nm_device_wifi_get_active_access_point(NM_DEVICE_WIFI(dev)))
	    == NULL)
		return;
	nm_watch_obj(w, ap);
	if ((ssid = nm_access_point_get_ssid(ap)) != NULL) {
		data = g_bytes_get_data(ssid, &len);
		utf8 = nm_utils_ssid_to_utf8(data, len);
		put_str(f->ssid, sizeof(f->ssid), utf8);
		g_free(utf8);
	}
	lower_mac(f->bssid, sizeof(f->bssid), nm_access_point_get_bssid(ap));
}

static void
read_active(struct nm_watch *w, struct net_facts *f, NMActiveConnection *ac,
    int primary)
{
	struct net_connection	*c;
	const GPtrArray		*devs;
	NMDevice		*dev;
	const char		*ifname = "";
	guint			 i;

	nm_watch_obj(w, ac);
	/* Activating or going away: not where we are (yet, any more); its
	 * state change will bring the next snapshot. */
	if (nm_active_connection_get_state(ac) !=
	    NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
		return;
	if (f->nconn < NETFACTS_CONN_MAX) {
		c = &f->conn[f->nconn++];
		put_str(c->id, sizeof(c->id), nm_active_connection_get_id(ac));
		put_str(c->uuid, sizeof(c->uuid),
		    nm_active_connection_get_uuid(ac));
		put_str(c->type, sizeof(c->type),
		    nm_active_connection_get_connection_type(ac));
		c->vpn = nm_active_connection_get_vpn(ac) ? 1 : 0;
		c->primary = primary;
	}
	devs = nm_active_connection_get_devices(ac);
	for (i = 0; devs != NULL && i < devs->len; i++) {
		dev = g_ptr_array_index(devs, i);
		nm_watch_obj(w, dev);
		read_wifi(w, f, dev);
		if (i == 0)
			ifname = nm_ifname(dev);
	}
	/* A VPN's devices are the ones it runs over, not its tunnel: its
	 * gateway is not on their link. */
	if (nm_active_connection_get_vpn(ac))
		ifname = "";
	read_ip_config(w, f, nm_active_connection_get_ip4_config(ac), ifname);
	read_ip_config(w, f, nm_active_connection_get_ip6_config(ac), ifname);
}

/* A neighbour table entry, as the dump gives it. */
static void
match_neighbour(struct net_facts *f, struct nlmsghdr *nh)
{
	struct ndmsg	*nd = NLMSG_DATA(nh);
	struct rtattr	*rta;
	const void	*dst = NULL;
	const uint8_t	*ll = NULL;
	unsigned char	 want[sizeof(struct in6_addr)];
	char		 ifname[IF_NAMESIZE];
	int		 len, alen, fam;
	size_t		 i;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)) ||
	    (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)))
		return;
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	    RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST)
			dst = RTA_DATA(rta);
		else if (rta->rta_type == NDA_LLADDR &&
		    RTA_PAYLOAD(rta) == 6)
			ll = RTA_DATA(rta);
	}
	if (dst == NULL || ll == NULL)
		return;
	alen = nd->ndm_family == AF_INET ? 4 : 16;
	for (i = 0; i < f->ngw; i++) {
		fam = strchr(f->gw[i].addr, ':') ? AF_INET6 : AF_INET;
		if (*f->gw[i].mac != '\0' || fam != nd->ndm_family ||
		    inet_pton(fam, f->gw[i].addr, want) != 1 ||
		    memcmp(want, dst, alen) != 0)
			continue;
		if (*f->gw[i].ifname != '\0' &&
		    (if_indextoname(nd->ndm_ifindex, ifname) == NULL ||
		    strcmp(ifname, f->gw[i].ifname) != 0))
			continue;
		snprintf(f->gw[i].mac, sizeof(f->gw[i].mac),
		    "%02x:%02x:%02x:%02x:%02x:%02x",
		    ll[0], ll[1], ll[2], ll[3], ll[4], ll[5]);
	}
}

/*
 * NetworkManager does not publish its gateways' MAC addresses; the kernel's
 * neighbour table has them (RTM_GETNEIGH dump, IPv4 and IPv6 at once).
 * A gateway not in the table (not talked to yet, or NM a mock) keeps "".
 */
static void
read_gateway_macs(struct net_facts *f)
{
	struct {
		struct nlmsghdr	nh;
		struct ndmsg	nd;
	} req;
	struct nlmsghdr	*nh;
	char		*buf;
	ssize_t		 n;
	int		 fd, done = 0;

	if (f->ngw == 0)
		return;
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1) {
		log_warn("netwatch networkmanager: neighbour table: socket");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.nd));
	req.nh.nlmsg_type = RTM_GETNEIGH;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.nd.ndm_family = AF_UNSPEC;
	if (send(fd, &req, req.nh.nlmsg_len, 0) == -1) {
		log_warn("netwatch networkmanager: neighbour table: send");
		close(fd);
		return;
	}
	buf = g_malloc(NM_NEIGH_BUF);
	while (!done) {
		if ((n = recv(fd, buf, NM_NEIGH_BUF, 0)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			log_warn("netwatch networkmanager: neighbour table: "
			    "recv");
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == RTM_NEWNEIGH)
				match_neighbour(f, nh);
		}
	}
	g_free(buf);
	close(fd);
}

static enum net_connectivity
map_connectivity(NMConnectivityState c)
{
	switch (c) {
	case NM_CONNECTIVITY_NONE:
		return NETCONN_NONE;
	case NM_CONNECTIVITY_PORTAL:
		return NETCONN_PORTAL;
	case NM_CONNECTIVITY_LIMITED:
		return NETCONN_LIMITED;
	case NM_CONNECTIVITY_FULL:
		return NETCONN_FULL;
	default:
		return NETCONN_UNKNOWN;
	}
}

/* Read everything a snapshot holds, and watch what it was read from. */
static void
nm_snapshot(struct nm_watch *w, struct net_facts *f)
{
	NMActiveConnection	*primary, *ac;
	const GPtrArray		*acs;
	NMMetered		 m;
	guint			 i;

	memset(f, 0, sizeof(*f));
	put_str(f->backend, sizeof(f->backend), netwatch_nm_ops.name);
	f->connectivity = NETCONN_UNKNOWN;
	nm_unwatch_all(w);
	if (!nm_client_get_nm_running(w->client))
		return;

	primary = nm_client_get_primary_connection(w->client);
	if (primary != NULL)
		read_active(w, f, primary, 1);
	acs = nm_client_get_active_connections(w->client);
	for (i = 0; acs != NULL && i < acs->len; i++) {
		ac = g_ptr_array_index(acs, i);
		if (ac != primary)
			read_active(w, f, ac, 0);
	}
	read_gateway_macs(f);
	f->connectivity = map_connectivity(
	    nm_client_get_connectivity(w->client));
	m = nm_client_get_metered(w->client);
	f->metered = (m == NM_METERED_YES || m == NM_METERED_GUESS_YES);
}

/* ------------------------------------------------------------ the thread */

/* Write one line to the channel.  The read end only goes away in stop(),
 * and then nothing more needs saying. */
static void
nm_send(struct nm_watch *w, const struct net_facts *f)
{
	json_t	*msg, *facts;
	char	*line;
	size_t	 len, off;
	ssize_t	 n;

	if (w->wdead)
		return;
	if ((facts = netfacts_to_json(f)) == NULL) {
		log_warnx("netwatch networkmanager: snapshot not serializable");
		return;
	}
	msg = json_pack("{s:i, s:o}", "v", NETFACTS_VERSION, "facts", facts);
	if (msg == NULL ||
	    (line = json_dumps(msg, JSON_COMPACT)) == NULL) {
		log_warnx("netwatch networkmanager: snapshot not serializable");
		json_decref(msg);
		return;
	}
	json_decref(msg);
	len = strlen(line);
	line[len++] = '\n';	/* over the NUL: the line is sent by length */
	for (off = 0; off < len; off += n) {
		n = send(w->wfd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			if (errno != EPIPE)
				log_warn("netwatch networkmanager: channel");
			w->wdead = 1;
			break;
		}
	}
	free(line);
}

static void
nm_rebuild(struct nm_watch *w)
{
	struct net_facts	f;

	nm_snapshot(w, &f);
	nm_send(w, &f);
}

static gboolean
nm_coalesced(gpointer arg)
{
	struct nm_watch	*w = arg;

	g_source_unref(w->coalesce);
	w->coalesce = NULL;
	nm_rebuild(w);
	return G_SOURCE_REMOVE;
}

static void
nm_changed(struct nm_watch *w)
{
	if (w->coalesce != NULL)
		return;
	w->coalesce = g_timeout_source_new(NM_COALESCE_MS);
	g_source_set_callback(w->coalesce, nm_coalesced, w, NULL);
	g_source_attach(w->coalesce, w->ctx);
}

static void
nm_running_changed(GObject *obj, GParamSpec *pspec, gpointer arg)
{
	struct nm_watch	*w = arg;

	log_info("netwatch networkmanager: NetworkManager %s",
	    nm_client_get_nm_running(w->client) ? "appeared" : "went away");
	nm_changed(w);
}

static void
nm_busy_gone(gpointer arg, GObject *where)
{
	*(int *)arg = 1;
}

static void
nm_start_done(struct nm_watch *w, enum nm_start_state state)
{
	g_mutex_lock(&w->lock);
	w->state = state;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
}

static gpointer
nm_thread(gpointer arg)
{
	static const char *const props[] = {
		"notify::" NM_CLIENT_ACTIVE_CONNECTIONS,
		"notify::" NM_CLIENT_PRIMARY_CONNECTION,
		"notify::" NM_CLIENT_CONNECTIVITY,
		"notify::" NM_CLIENT_METERED,
	};
	struct nm_watch	*w = arg;
	GError		*error = NULL;
	int		 gone = 0;
	size_t		 i;

	g_main_context_push_thread_default(w->ctx);
	if ((w->client = nm_client_new(NULL, &error)) == NULL) {
		snprintf(w->err, sizeof(w->err), "libnm: %s", error->message);
		g_error_free(error);
		g_main_context_pop_thread_default(w->ctx);
		nm_start_done(w, NM_FAILED);
		return NULL;
	}
	w->watched = g_array_new(FALSE, FALSE, sizeof(struct nm_watched));
	for (i = 0; i < G_N_ELEMENTS(props); i++)
		g_signal_connect(w->client, props[i], G_CALLBACK(nm_notify), w);
	g_signal_connect(w->client, "notify::" NM_CLIENT_NM_RUNNING,
	    G_CALLBACK(nm_running_changed), w);
	if (!nm_client_get_nm_running(w->client))
		log_info("netwatch networkmanager: NetworkManager is not "
		    "running; waiting for it");
	nm_start_done(w, NM_RUNNING);

	nm_rebuild(w);		/* the first snapshot */
	while (!g_atomic_int_get(&w->stopping))
		g_main_context_iteration(w->ctx, TRUE);

	if (w->coalesce != NULL) {
		g_source_destroy(w->coalesce);
		g_source_unref(w->coalesce);
		w->coalesce = NULL;
	}
	nm_unwatch_all(w);
	g_array_free(w->watched, TRUE);
	g_signal_handlers_disconnect_by_data(w->client, w);
	/* libnm's own sources outlive the client for a moment: iterate the
	 * context until they are done, or they would leak (libnm's docs). */
	g_object_weak_ref(nm_client_get_context_busy_watcher(w->client),
	    nm_busy_gone, &gone);
	g_object_unref(w->client);
	w->client = NULL;
	while (!gone)
		g_main_context_iteration(w->ctx, TRUE);
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

/* ------------------------------------------------------------ libevent side */

/* One line from the thread: 0 with the snapshot in f, or -1 (logged). */
static int
nm_receive(const char *line, size_t len, struct net_facts *f)
{
	json_error_t	 jerr;
	json_t		*msg, *v;
	char		 err[256];
	int		 rc = -1;

	if ((msg = json_loadb(line, len, 0, &jerr)) == NULL) {
		log_warnx("netwatch networkmanager: channel: bad JSON: %s",
		    jerr.text);
		return -1;
	}
	v = json_object_get(msg, "v");
	if (!json_is_integer(v) || json_integer_value(v) != NETFACTS_VERSION)
		log_warnx("netwatch networkmanager: channel: version is not %d; "
		    "snapshot ignored", NETFACTS_VERSION);
	else if (netfacts_from_json(json_object_get(msg, "facts"), f, err,
	    sizeof(err)) == -1)
		log_warnx("netwatch networkmanager: channel: %s; snapshot "
		    "ignored", err);
	else
		rc = 0;
	json_decref(msg);
	return rc;
}

/*
 * Each line is a whole snapshot, so of several waiting only the last one
 * matters.  It is handed on as the very last thing done here: the callback
 * may stop the watcher, which frees w and the bufferevent.
 */
static void
nm_readcb(struct bufferevent *bev, void *arg)
{
	struct nm_watch		*w = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct net_facts	 f, next;
	char			*line;
	size_t			 len;
	int			 have = 0;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (nm_receive(line, len, &next) == 0) {
			f = next;
			have = 1;
		}
		free(line);
	}
	if ((len = evbuffer_get_length(in)) > NM_LINE_MAX) {
		log_warnx("netwatch networkmanager: channel: line over %d "
		    "bytes; dropped", NM_LINE_MAX);
		evbuffer_drain(in, len);
	}
	if (have)
		w->emit(&f, w->emit_arg);
}

static void
nm_eventcb(struct bufferevent *bev, short what, void *arg)
{
	log_warnx("netwatch networkmanager: channel closed; network changes "
	    "are no longer seen");
	bufferevent_disable(bev, EV_READ);
}

/* ------------------------------------------------------------ ops */

/* NetworkManager owns its name on the system bus (or the bus in
 * DBUS_SYSTEM_BUS_ADDRESS). */
static int
nm_available(void)
{
	GDBusConnection	*bus;
	GVariant	*ret;
	GError		*error = NULL;
	char		*address;
	gboolean	 owned = FALSE;

	address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL,
	    &error);
	if (address == NULL) {
		log_debug("netwatch networkmanager: no system bus: %s",
		    error->message);
		g_error_free(error);
		return -1;
	}
	bus = g_dbus_connection_new_for_address_sync(address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
	g_free(address);
	if (bus == NULL) {
		log_debug("netwatch networkmanager: system bus: %s",
		    error->message);
		g_error_free(error);
		return -1;
	}
	ret = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
	    g_variant_new("(s)", NM_BUS_NAME), G_VARIANT_TYPE("(b)"),
	    G_DBUS_CALL_FLAGS_NONE, NM_BUS_TIMEOUT_MS, NULL, &error);
	if (ret == NULL) {
		log_debug("netwatch networkmanager: NameHasOwner: %s",
		    error->message);
		g_error_free(error);
	} else {
		g_variant_get(ret, "(b)", &owned);
		g_variant_unref(ret);
	}
	g_dbus_connection_close_sync(bus, NULL, NULL);
	g_object_unref(bus);
	return owned ? 0 : -1;
}

static void
nm_free(struct nm_watch *w)
{
	if (w->bev != NULL)
		bufferevent_free(w->bev);
	if (w->wfd != -1)
		close(w->wfd);
	if (w->ctx != NULL)
		g_main_context_unref(w->ctx);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	free(w);
}

static void *
nm_start(struct event_base *base,
    void (*emit)(const struct net_facts *, void *), void *emit_arg,
    char *err, size_t errlen)
{
	struct nm_watch	*w;
	GError		*error = NULL;
	int		 sv[2];

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->emit = emit;
	w->emit_arg = emit_arg;
	w->wfd = -1;
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		nm_free(w);
		return NULL;
	}
	w->wfd = sv[1];
	if (evutil_make_socket_nonblocking(sv[0]) == -1 ||
	    (w->bev = bufferevent_socket_new(base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		snprintf(err, errlen, "cannot set up the watcher's channel");
		close(sv[0]);
		nm_free(w);
		return NULL;
	}
	bufferevent_setcb(w->bev, nm_readcb, NULL, nm_eventcb, w);
	bufferevent_enable(w->bev, EV_READ);

	w->ctx = g_main_context_new();
	w->state = NM_STARTING;
	w->thread = g_thread_try_new("netwatch-nm", nm_thread, w, &error);
	if (w->thread == NULL) {
		snprintf(err, errlen, "cannot start the watcher thread: %s",
		    error->message);
		g_error_free(error);
		nm_free(w);
		return NULL;
	}
	g_mutex_lock(&w->lock);
	while (w->state == NM_STARTING)
		g_cond_wait(&w->cond, &w->lock);
	g_mutex_unlock(&w->lock);
	if (w->state == NM_FAILED) {
		snprintf(err, errlen, "%s", w->err);
		g_thread_join(w->thread);
		nm_free(w);
		return NULL;
	}
	return w;
}

static void
nm_stop(void *arg)
{
	struct nm_watch	*w = arg;

	if (w == NULL)
		return;
	g_atomic_int_set(&w->stopping, 1);
	/* Close the read end first: a send() the thread is blocked in
	 * returns EPIPE, and the thread can see the flag. */
	bufferevent_free(w->bev);
	w->bev = NULL;
	g_main_context_wakeup(w->ctx);
	g_thread_join(w->thread);
	nm_free(w);
}

const struct netwatch_ops netwatch_nm_ops = {
	.name = "networkmanager",
	.available = nm_available,
	.start = nm_start,
	.stop = nm_stop,
};
