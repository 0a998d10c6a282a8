/*
 * nmwatch_main.c - roamsmtp-nmwatch, the network watcher's NetworkManager
 * helper (netwatch_nm.c starts it, one per daemon).
 *
 *	roamsmtp-nmwatch [-sv]		watch NetworkManager; snapshots on
 *					standard output
 *	roamsmtp-nmwatch --available	exit 0 when NetworkManager owns its
 *					name on the system bus, 1 otherwise
 *
 * Why a process: libnm is GLib code.  Its NMClient keeps a mirror of
 * NetworkManager's D-Bus objects up to date and reports changes as GObject
 * signals, and both only happen while a GMainContext is iterated; the relay
 * core runs libevent's loop and must not be driven by, or wait on, GLib's
 * (STYLE.md).  libnm and GIO also cost the daemon about 6 MB of mapped and
 * relocated pages before any message, and issue 2 holds the daemon to 10 MB
 * at 10 sessions.  So libnm lives here, in a program of its own that the
 * daemon does not link, and runs GLib's default main loop.
 *
 * What crosses to the daemon: nothing but whole snapshots, one JSON object
 * a line, {"v":NETFACTS_VERSION,"facts":{...}} (netfacts_to_json), written
 * to standard output, which the daemon makes one end of a socketpair.  The
 * daemon says nothing on it: end of file there means the daemon is gone,
 * and this program exits.  It also gets SIGTERM when the daemon dies
 * (PR_SET_PDEATHSIG, set by the daemon between fork and exec) and when the
 * daemon stops it.  SIGTERM keeps its default action: there is nothing to
 * save.  Logs go to standard error (the daemon's), or with -s to syslog;
 * -v adds debug lines.
 *
 * The watcher reacts to libnm's signals, never polls: NMClient's
 * notify::{nm-running,active-connections,primary-connection,connectivity,
 * metered}, and "notify" on every object a snapshot was read from (active
 * connections, their devices, IP configs, the access point), so a change
 * anywhere in what the last snapshot used triggers the next.  A change in
 * NetworkManager arrives as a burst of notifications; the first one starts
 * a short timer and the snapshot is rebuilt once when it fires.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib-unix.h>
#include <jansson.h>
#include <NetworkManager.h>

#include "log.h"
#include "netfacts.h"

/* The backend's name in each snapshot: netwatch_nm_ops.name. */
#define NMW_BACKEND		"networkmanager"
/* NetworkManager reports one change as a burst of property notifications
 * spread over a few milliseconds; 50 ms gathers a burst into one snapshot
 * and keeps a network change well under the 100 ms the issue aims at. */
#define NM_COALESCE_MS		50
/* How long --available waits for the bus to answer NameHasOwner. */
#define NM_BUS_TIMEOUT_MS	1000
/* One recv() of a neighbour dump: the kernel sends at most a page-sized
 * batch of messages at a time, so this always holds whole messages. */
#define NM_NEIGH_BUF		32768
#define NM_BUS_NAME		"org.freedesktop.NetworkManager"
/* Exit statuses (netwatch_nm.c reads them). */
#define NMW_EXIT_OK		0	/* daemon gone; NM available */
#define NMW_EXIT_FAIL		1	/* libnm failed; NM not available */
#define NMW_EXIT_USAGE		2

struct nm_watched {
	GObject		*obj;
	gulong		 handler;
};

struct nm_watch {
	GMainLoop	*loop;
	NMClient	*client;
	GSource		*coalesce;	/* pending rebuild */
	GArray		*watched;	/* of struct nm_watched */
	int		 out;		/* the channel: standard output */
	guint		 chan;		/* its watch, or 0 */
	int		 done;		/* nm_quit() was called */
	int		 status;	/* to exit with */
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
	put_str(f->backend, sizeof(f->backend), NMW_BACKEND);
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

/* ------------------------------------------------------------ the channel */

static void
nm_quit(struct nm_watch *w, int status)
{
	w->done = 1;
	w->status = status;
	g_main_loop_quit(w->loop);
}

/* Write one line to the daemon.  EPIPE means the daemon has gone: quit. */
static void
nm_send(struct nm_watch *w, const struct net_facts *f)
{
	json_t	*msg, *facts;
	char	*line;
	size_t	 len, off;
	ssize_t	 n;

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
		n = write(w->out, line + off, len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			if (errno == EPIPE)
				nm_quit(w, NMW_EXIT_OK);
			else {
				log_warn("netwatch networkmanager: channel");
				nm_quit(w, NMW_EXIT_FAIL);
			}
			break;
		}
	}
	free(line);
}

/* The daemon never writes: readable means end of file, the daemon gone. */
static gboolean
nm_channel(gint fd, GIOCondition cond, gpointer arg)
{
	struct nm_watch	*w = arg;
	char		 buf[64];
	ssize_t		 n;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return G_SOURCE_CONTINUE;
	log_debug("netwatch networkmanager: the daemon closed the channel");
	w->chan = 0;
	nm_quit(w, NMW_EXIT_OK);
	return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------ the watcher */

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
	g_source_attach(w->coalesce, NULL);
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

/* Let go of libnm, so that a leak checker sees nothing left. */
static void
nm_teardown(struct nm_watch *w)
{
	int	gone = 0;

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
		g_main_context_iteration(NULL, TRUE);
}

static int
nm_watch(void)
{
	static const char *const props[] = {
		"notify::" NM_CLIENT_ACTIVE_CONNECTIONS,
		"notify::" NM_CLIENT_PRIMARY_CONNECTION,
		"notify::" NM_CLIENT_CONNECTIVITY,
		"notify::" NM_CLIENT_METERED,
	};
	struct nm_watch	 w;
	struct stat	 st;
	GError		*error = NULL;
	size_t		 i;

	memset(&w, 0, sizeof(w));
	w.out = STDOUT_FILENO;
	w.status = NMW_EXIT_OK;
	if ((w.client = nm_client_new(NULL, &error)) == NULL) {
		log_warnx("netwatch networkmanager: libnm: %s",
		    error->message);
		g_error_free(error);
		return NMW_EXIT_FAIL;
	}
	w.loop = g_main_loop_new(NULL, FALSE);
	w.watched = g_array_new(FALSE, FALSE, sizeof(struct nm_watched));
	for (i = 0; i < G_N_ELEMENTS(props); i++)
		g_signal_connect(w.client, props[i], G_CALLBACK(nm_notify), &w);
	g_signal_connect(w.client, "notify::" NM_CLIENT_NM_RUNNING,
	    G_CALLBACK(nm_running_changed), &w);
	if (!nm_client_get_nm_running(w.client))
		log_info("netwatch networkmanager: NetworkManager is not "
		    "running; waiting for it");
	/* Run by hand, standard output is a terminal or a pipe: then only
	 * a failed write ends the program. */
	if (fstat(w.out, &st) == 0 && S_ISSOCK(st.st_mode))
		w.chan = g_unix_fd_add(w.out, G_IO_IN | G_IO_HUP | G_IO_ERR,
		    nm_channel, &w);

	nm_rebuild(&w);		/* the first snapshot */
	if (!w.done)
		g_main_loop_run(w.loop);

	if (w.chan != 0)
		g_source_remove(w.chan);
	nm_teardown(&w);
	g_main_loop_unref(w.loop);
	return w.status;
}

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
		return NMW_EXIT_FAIL;
	}
	bus = g_dbus_connection_new_for_address_sync(address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
	g_free(address);
	if (bus == NULL) {
		log_debug("netwatch networkmanager: system bus: %s",
		    error->message);
		g_error_free(error);
		return NMW_EXIT_FAIL;
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
	return owned ? NMW_EXIT_OK : NMW_EXIT_FAIL;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: roamsmtp-nmwatch [-sv]\n"
	    "       roamsmtp-nmwatch --available\n"
	    "roamsmtpd runs this program; it is not meant to be run by "
	    "hand.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "available",	no_argument,	NULL,	'a' },
		{ "help",	no_argument,	NULL,	'h' },
		{ NULL,		0,		NULL,	0 },
	};
	int	ch, available = 0, foreground = 1, verbose = 0;

	while ((ch = getopt_long(argc, argv, "hsv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': available = 1; break;
		case 's': foreground = 0; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return NMW_EXIT_OK;
		default: usage(stderr); return NMW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return NMW_EXIT_USAGE;
	}
	log_init(foreground, verbose);
	/* A daemon that has gone shows up as EPIPE from write(). */
	signal(SIGPIPE, SIG_IGN);
	return available ? nm_available() : nm_watch();
}
