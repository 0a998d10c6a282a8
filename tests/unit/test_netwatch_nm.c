/*
 * test_netwatch_nm.c - the NetworkManager watcher against a NetworkManager
 * that tests/lib/nm_mock.py runs on a private system bus: libnm sees the
 * mock, and the snapshots delivered to the callback say where the laptop
 * is as it moves: home Wi-Fi -> cafe Wi-Fi -> no network -> office wired
 * with a VPN; NetworkManager restarting; NetworkManager absent at start.
 * libnm runs in the helper program roamsmtp-nmwatch ($ROAMSMTP_NMWATCH,
 * set by ctest): it is restarted when it dies, and dies with its daemon.
 *
 * Nothing sleeps: each step changes the mock (the call returns once the
 * mock has sent its signals) and then runs the libevent loop until a
 * snapshot in the expected place arrives.  The deadline only turns a hang
 * into a failure, and then the last snapshot is printed.
 */
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "netfacts.h"
#include "netwatch.h"

#define WAIT_DEADLINE	60	/* seconds before a wait counts as a hang */
/* The helper's name as the kernel keeps it (comm: 15 characters). */
#define HELPER_COMM	"roamsmtp-nmwatc"

#define HOME_UUID	"0f6a3c1e-0000-4000-8000-000000000001"
#define CAFE_UUID	"0f6a3c1e-0000-4000-8000-000000000002"
#define OFFICE_UUID	"0f6a3c1e-0000-4000-8000-000000000003"
#define VPN_UUID	"0f6a3c1e-0000-4000-8000-000000000004"

struct recorder {
	struct event_base	*base;
	struct net_facts	 last;
	int			 n;	/* snapshots delivered */
	int			 dups;	/* ... equal to the one before */
};

static char	mock_py[1024];
static char	mock_dir[] = "/tmp/nm-mock.XXXXXX";
/* The host's own gateway from the neighbour table, if it has one: the
 * backend must find its MAC, since NetworkManager does not give it. */
static char	host_gw[48], host_gw_mac[18], host_gw_if[16];

static int
nm(const char *fmt, ...)
{
	char	args[1024], cmd[4096];
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' %s >/dev/null",
	    mock_py, args);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "'%s' exited with status %d\n", cmd, rc);
	return rc;
}

static void
read_host_gateway(void)
{
	FILE	*fp;
	char	 line[256], ip[48], mac[18], dev[16];
	unsigned flags;

	if ((fp = fopen("/proc/net/arp", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%47s %*s %x %17s %*s %15s", ip, &flags, mac,
		    dev) != 4 || !(flags & 0x2) ||
		    strcmp(mac, "00:00:00:00:00:00") == 0)
			continue;
		snprintf(host_gw, sizeof(host_gw), "%s", ip);
		snprintf(host_gw_mac, sizeof(host_gw_mac), "%s", mac);
		snprintf(host_gw_if, sizeof(host_gw_if), "%s", dev);
		break;
	}
	fclose(fp);
}

static int
setup_mock(void **state)
{
	const char	*data = getenv("ROAMSMTP_TEST_DATA");
	char		 path[1200], addr[512];
	FILE		*fp;
	char		*slash;
	int		 i;

	/* ROAMSMTP_TEST_DATA is tests/unit/data, which need not exist: the
	 * mock is two components up from it, in tests/lib. */
	snprintf(mock_py, sizeof(mock_py), "%s",
	    data != NULL ? data : "tests/unit/data");
	for (i = 0; i < 2 && (slash = strrchr(mock_py, '/')) != NULL; i++)
		*slash = '\0';
	strncat(mock_py, "/lib/nm_mock.py", sizeof(mock_py) -
	    strlen(mock_py) - 1);
	if (mkdtemp(mock_dir) == NULL)
		return -1;
	if (nm("start '%s'", mock_dir) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bus-address", mock_dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(addr, sizeof(addr), fp) == NULL) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	addr[strcspn(addr, "\n")] = '\0';
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
	read_host_gateway();
	return 0;
}

static int
teardown_mock(void **state)
{
	char	cmd[1200];

	nm("stop '%s'", mock_dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mock_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
record(const struct net_facts *f, void *arg)
{
	struct recorder	*r = arg;

	if (r->n > 0 && netfacts_equal(&r->last, f))
		r->dups++;
	r->last = *f;
	r->n++;
	event_base_loopbreak(r->base);
}

static void
print_facts(const char *what, const struct net_facts *f)
{
	json_t	*j = netfacts_to_json(f);
	char	*s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	fprintf(stderr, "%s:\n%s\n", what, s ? s : "(not serializable)");
	free(s);
	json_decref(j);
}

/* Run the loop until a snapshot after the n-th satisfies pred. */
static void
wait_facts(struct recorder *r, int after, const char *what,
    int (*pred)(const struct net_facts *))
{
	struct timeval	tick = { 1, 0 };
	time_t		end = time(NULL) + WAIT_DEADLINE;

	while (r->n <= after || !pred(&r->last)) {
		if (time(NULL) > end) {
			print_facts("last snapshot", &r->last);
			fail_msg("no snapshot '%s' within %ds (%d delivered)",
			    what, WAIT_DEADLINE, r->n);
		}
		event_base_loopexit(r->base, &tick);
		event_base_dispatch(r->base);
	}
}

static const struct net_connection *
conn(const struct net_facts *f, const char *uuid)
{
	size_t	i;

	for (i = 0; i < f->nconn; i++)
		if (strcmp(f->conn[i].uuid, uuid) == 0)
			return &f->conn[i];
	return NULL;
}

static int
has_addr(const struct net_facts *f, const char *addr, unsigned prefix)
{
	size_t	i;

	for (i = 0; i < f->naddr; i++)
		if (strcmp(f->addr[i].addr, addr) == 0 &&
		    f->addr[i].prefixlen == prefix)
			return 1;
	return 0;
}

static int
has_dns(const struct net_facts *f, const char *d)
{
	size_t	i;

	for (i = 0; i < f->ndns; i++)
		if (strcmp(f->dns[i], d) == 0)
			return 1;
	return 0;
}

/* The running helper: the one child of parent called roamsmtp-nmwatch
 * (-1: none, -2: more than one). */
static pid_t
helper_pid(pid_t parent)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*fp;
	char		 path[300], comm[32];
	int		 ppid;
	pid_t		 found = -1;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid: comm has no ')' or space here. */
		if (fscanf(fp, "%*d (%31[^)]) %*c %d", comm, &ppid) == 2 &&
		    ppid == parent && strcmp(comm, HELPER_COMM) == 0)
			found = found == -1 ? atoi(e->d_name) : -2;
		fclose(fp);
	}
	closedir(d);
	return found;
}

/* ---- the places -------------------------------------------------------- */

static int
is_nowhere(const struct net_facts *f)
{
	return f->nconn == 0 && f->connectivity == NETCONN_NONE;
}

static int
is_home(const struct net_facts *f)
{
	return conn(f, HOME_UUID) != NULL &&
	    f->connectivity == NETCONN_FULL && strcmp(f->ssid, "HomeWifi") == 0;
}

static int
is_cafe(const struct net_facts *f)
{
	return conn(f, CAFE_UUID) != NULL && f->nconn == 1 &&
	    f->connectivity == NETCONN_PORTAL && f->metered;
}

static int
is_offline(const struct net_facts *f)
{
	return f->nconn == 0 && f->connectivity == NETCONN_NONE &&
	    !f->metered;
}

static int
is_office(const struct net_facts *f)
{
	const struct net_connection *v = conn(f, VPN_UUID);

	return conn(f, OFFICE_UUID) != NULL && v != NULL && v->primary &&
	    f->connectivity == NETCONN_FULL;
}

static int
is_nm_gone(const struct net_facts *f)
{
	return f->nconn == 0 && f->connectivity == NETCONN_UNKNOWN;
}

static int
is_home_metered(const struct net_facts *f)
{
	return is_home(f) && f->metered;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_available(void **state)
{
	struct event_base	*base = event_base_new();
	struct recorder		 r = { .base = base };
	struct netwatch		*nw;
	char			 err[256] = "";

	assert_int_equal(netwatch_nm_ops.available(), 0);
	nw = netwatch_start(base, NETWATCH_AUTO, record, &r, err, sizeof(err));
	assert_non_null(nw);
	assert_string_equal(netwatch_backend_name(nw), "networkmanager");
	wait_facts(&r, 0, "first snapshot", is_nowhere);
	assert_string_equal(r.last.backend, "networkmanager");
	netwatch_stop(nw);
	event_base_free(base);
}

static void
test_home_cafe_offline_office(void **state)
{
	struct event_base		*base = event_base_new();
	struct recorder			 r = { .base = base };
	struct netwatch			*nw;
	const struct net_connection	*c;
	const char			*gw, *gw_if;
	char				 err[256] = "";
	int				 n;

	nw = netwatch_start(base, NETWATCH_NM, record, &r, err, sizeof(err));
	assert_non_null(nw);
	wait_facts(&r, 0, "no network", is_nowhere);

	/* Home: the gateway is the host's own one when it has one, so that
	 * its MAC is in the kernel's neighbour table. */
	gw = *host_gw ? host_gw : "192.168.1.1";
	gw_if = *host_gw ? host_gw_if : "wlan0";
	n = r.n;
	assert_int_equal(nm("wifi --id 'Home' --uuid " HOME_UUID
	    " --ssid HomeWifi --bssid AA:BB:CC:00:00:01 --iface %s"
	    " --addr 192.168.1.23/24 --addr fd00:1::23/64"
	    " --addr fe80::1234/64 --gw %s --dns home.lan --primary",
	    gw_if, gw), 0);
	assert_int_equal(nm("connectivity full"), 0);
	wait_facts(&r, n, "home", is_home);
	assert_int_equal(r.last.nconn, 1);
	c = conn(&r.last, HOME_UUID);
	assert_string_equal(c->id, "Home");
	assert_string_equal(c->type, "802-11-wireless");
	assert_int_equal(c->vpn, 0);
	assert_int_equal(c->primary, 1);
	assert_string_equal(r.last.bssid, "aa:bb:cc:00:00:01");
	assert_int_equal(r.last.ngw, 1);
	assert_string_equal(r.last.gw[0].addr, gw);
	assert_string_equal(r.last.gw[0].ifname, gw_if);
	assert_string_equal(r.last.gw[0].mac, *host_gw ? host_gw_mac : "");
	assert_int_equal(r.last.naddr, 2);	/* not fe80:: */
	assert_true(has_addr(&r.last, "192.168.1.23", 24));
	assert_true(has_addr(&r.last, "fd00:1::23", 64));
	assert_int_equal(r.last.ndns, 1);
	assert_string_equal(r.last.dns[0], "home.lan");
	assert_int_equal(r.last.metered, 0);

	/* A change libnm reports but that moves nothing is not delivered:
	 * the next snapshot is the metered one, and no two in a row are
	 * equal. */
	n = r.n;
	assert_int_equal(nm("ip " HOME_UUID " --addr 192.168.1.23/24"
	    " --addr fd00:1::23/64 --addr fe80::1234/64 --gw %s"
	    " --dns home.lan", gw), 0);
	assert_int_equal(nm("metered yes"), 0);
	wait_facts(&r, n, "home, metered", is_home_metered);
	assert_int_equal(r.n, n + 1);
	assert_int_equal(nm("metered no"), 0);

	/* The cafe: a captive portal, a guessed metered connection, an SSID
	 * that is not ASCII. */
	n = r.n;
	assert_int_equal(nm("down " HOME_UUID), 0);
	assert_int_equal(nm("wifi --id 'Cafe Free' --uuid " CAFE_UUID
	    " --ssid 'Caf\xc3\xa9 Wi-Fi' --bssid 02:00:5e:10:00:02"
	    " --addr 10.0.0.5/16 --gw 10.0.0.1 --dns cafe.example"
	    " --primary"), 0);
	assert_int_equal(nm("metered guess-yes"), 0);
	assert_int_equal(nm("connectivity portal"), 0);
	wait_facts(&r, n, "cafe", is_cafe);
	c = conn(&r.last, CAFE_UUID);
	assert_string_equal(c->id, "Cafe Free");
	assert_int_equal(c->primary, 1);
	assert_string_equal(r.last.ssid, "Caf\xc3\xa9 Wi-Fi");
	assert_string_equal(r.last.bssid, "02:00:5e:10:00:02");
	assert_int_equal(r.last.ngw, 1);
	assert_string_equal(r.last.gw[0].addr, "10.0.0.1");
	assert_string_equal(r.last.gw[0].ifname, "wlan0");
	assert_int_equal(r.last.naddr, 1);
	assert_true(has_addr(&r.last, "10.0.0.5", 16));
	assert_int_equal(r.last.ndns, 1);
	assert_true(has_dns(&r.last, "cafe.example"));

	/* Offline. */
	n = r.n;
	assert_int_equal(nm("down --all"), 0);
	assert_int_equal(nm("connectivity none"), 0);
	assert_int_equal(nm("metered unknown"), 0);
	wait_facts(&r, n, "offline", is_offline);
	assert_string_equal(r.last.ssid, "");
	assert_string_equal(r.last.bssid, "");
	assert_int_equal(r.last.ngw, 0);
	assert_int_equal(r.last.naddr, 0);
	assert_int_equal(r.last.ndns, 0);

	/* The office: wired, with a VPN on top that is the primary. */
	n = r.n;
	assert_int_equal(nm("ethernet --id 'Office LAN' --uuid " OFFICE_UUID
	    " --iface eth1 --addr 172.16.5.10/24 --gw 172.16.5.1"
	    " --dns office.example --primary"), 0);
	assert_int_equal(nm("vpn --id 'Corp VPN' --uuid " VPN_UUID
	    " --parent " OFFICE_UUID " --addr 10.8.0.2/24"
	    " --dns corp.example --primary"), 0);
	assert_int_equal(nm("connectivity full"), 0);
	wait_facts(&r, n, "office", is_office);
	assert_int_equal(r.last.nconn, 2);
	c = conn(&r.last, VPN_UUID);
	assert_string_equal(c->id, "Corp VPN");
	assert_string_equal(c->type, "vpn");
	assert_int_equal(c->vpn, 1);
	c = conn(&r.last, OFFICE_UUID);
	assert_string_equal(c->id, "Office LAN");
	assert_string_equal(c->type, "802-3-ethernet");
	assert_int_equal(c->vpn, 0);
	assert_int_equal(c->primary, 0);
	assert_string_equal(r.last.ssid, "");
	assert_int_equal(r.last.ngw, 1);
	assert_string_equal(r.last.gw[0].addr, "172.16.5.1");
	assert_string_equal(r.last.gw[0].ifname, "eth1");
	assert_string_equal(r.last.gw[0].mac, "");
	assert_int_equal(r.last.naddr, 2);
	assert_true(has_addr(&r.last, "172.16.5.10", 24));
	assert_true(has_addr(&r.last, "10.8.0.2", 24));
	assert_int_equal(r.last.ndns, 2);
	assert_true(has_dns(&r.last, "office.example"));
	assert_true(has_dns(&r.last, "corp.example"));
	assert_int_equal(r.last.metered, 0);

	assert_int_equal(r.dups, 0);
	netwatch_stop(nw);
	event_base_free(base);
	assert_int_equal(nm("down --all"), 0);
	assert_int_equal(nm("connectivity none"), 0);
}

/* NetworkManager restarts: while it is away the facts are empty with
 * connectivity unknown; the new instance is followed. */
static void
test_nm_restarts(void **state)
{
	struct event_base	*base = event_base_new();
	struct recorder		 r = { .base = base };
	struct netwatch		*nw;
	char			 err[256] = "";
	int			 n;

	nw = netwatch_start(base, NETWATCH_NM, record, &r, err, sizeof(err));
	assert_non_null(nw);
	n = r.n;
	assert_int_equal(nm("wifi --id 'Home' --uuid " HOME_UUID
	    " --ssid HomeWifi --bssid AA:BB:CC:00:00:01 --addr 192.168.1.23/24"
	    " --gw 192.168.1.1 --primary"), 0);
	assert_int_equal(nm("connectivity full"), 0);
	wait_facts(&r, n, "home", is_home);

	n = r.n;
	assert_int_equal(nm("nm-stop '%s'", mock_dir), 0);
	wait_facts(&r, n, "NetworkManager gone", is_nm_gone);
	assert_int_equal(netwatch_nm_ops.available(), -1);
	assert_string_equal(r.last.ssid, "");
	assert_int_equal(r.last.ngw, 0);

	n = r.n;
	assert_int_equal(nm("nm-start '%s'", mock_dir), 0);
	wait_facts(&r, n, "NetworkManager back", is_nowhere);
	n = r.n;
	assert_int_equal(nm("wifi --id 'Home' --uuid " HOME_UUID
	    " --ssid HomeWifi --bssid AA:BB:CC:00:00:01 --addr 192.168.1.23/24"
	    " --gw 192.168.1.1 --primary"), 0);
	assert_int_equal(nm("connectivity full"), 0);
	wait_facts(&r, n, "home after the restart", is_home);
	assert_string_equal(r.last.gw[0].addr, "192.168.1.1");

	netwatch_stop(nw);
	event_base_free(base);
	assert_int_equal(nm("down --all"), 0);
	assert_int_equal(nm("connectivity none"), 0);
}

/* Asked for by name while NetworkManager is not running: the watcher
 * starts, says "unknown", and picks NetworkManager up when it comes. */
static void
test_nm_absent_at_start(void **state)
{
	struct event_base	*base = event_base_new();
	struct recorder		 r = { .base = base };
	struct netwatch		*nw;
	char			 err[256] = "";
	int			 n;

	assert_int_equal(nm("nm-stop '%s'", mock_dir), 0);
	assert_int_equal(netwatch_nm_ops.available(), -1);
	nw = netwatch_start(base, NETWATCH_NM, record, &r, err, sizeof(err));
	assert_non_null(nw);
	assert_string_equal(netwatch_backend_name(nw), "networkmanager");
	wait_facts(&r, 0, "unknown", is_nm_gone);

	n = r.n;
	assert_int_equal(nm("nm-start '%s'", mock_dir), 0);
	wait_facts(&r, n, "NetworkManager there", is_nowhere);
	netwatch_stop(nw);
	event_base_free(base);
}

/* The helper dies under the watcher: the facts turn "unknown" at once
 * (where we were is no longer known), and a new helper brings them back. */
static void
test_helper_dies(void **state)
{
	struct event_base	*base = event_base_new();
	struct recorder		 r = { .base = base };
	struct netwatch		*nw;
	char			 err[256] = "";
	pid_t			 first, second;
	int			 n;

	nw = netwatch_start(base, NETWATCH_NM, record, &r, err, sizeof(err));
	assert_non_null(nw);
	n = r.n;
	assert_int_equal(nm("wifi --id 'Home' --uuid " HOME_UUID
	    " --ssid HomeWifi --bssid AA:BB:CC:00:00:01 --addr 192.168.1.23/24"
	    " --gw 192.168.1.1 --primary"), 0);
	assert_int_equal(nm("connectivity full"), 0);
	wait_facts(&r, n, "home", is_home);

	first = helper_pid(getpid());
	assert_true(first > 0);
	n = r.n;
	assert_int_equal(kill(first, SIGKILL), 0);
	wait_facts(&r, n, "helper gone: unknown", is_nm_gone);
	assert_string_equal(r.last.backend, "networkmanager");

	n = r.n;
	wait_facts(&r, n, "home from the new helper", is_home);
	second = helper_pid(getpid());
	assert_true(second > 0);
	assert_int_not_equal(second, first);

	netwatch_stop(nw);
	/* Stopped means reaped: no helper, not even a zombie, is left. */
	assert_int_equal(helper_pid(getpid()), -1);
	assert_int_equal(kill(second, 0), -1);
	assert_int_equal(errno, ESRCH);
	event_base_free(base);
	assert_int_equal(nm("down --all"), 0);
	assert_int_equal(nm("connectivity none"), 0);
}

/* A daemon that dies without stopping the watcher (kill -9, a crash)
 * leaves no helper behind.  The child plays the daemon; the helper's end
 * is seen through a pidfd, since it is not our child. */
static void
test_helper_dies_with_daemon(void **state)
{
	struct pollfd	pfd;
	pid_t		daemon_pid, helper = -1;
	int		go[2], status;
	char		c = 'x';

	assert_int_equal(pipe(go), 0);
	if ((daemon_pid = fork()) == 0) {
		struct event_base	*base = event_base_new();
		struct recorder		 r = { .base = base };
		char			 err[256];

		if (netwatch_start(base, NETWATCH_NM, record, &r, err,
		    sizeof(err)) == NULL)
			_exit(1);
		/* Wait for the parent to hold the helper, then die. */
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	assert_true(daemon_pid > 0);
	close(go[0]);
	/* netwatch_start() returns once the helper has spoken. */
	while (helper < 0) {
		helper = helper_pid(daemon_pid);
		assert_int_not_equal(helper, -2);
		if (helper == -1 && waitpid(daemon_pid, &status, WNOHANG) != 0)
			fail_msg("the daemon child ended before its helper "
			    "ran");
	}
	pfd.fd = (int)syscall(SYS_pidfd_open, helper, 0);
	assert_true(pfd.fd >= 0);
	pfd.events = POLLIN;
	assert_int_equal(write(go[1], &c, 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(daemon_pid, &status, 0), daemon_pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Readable: the helper has exited. */
	assert_int_equal(poll(&pfd, 1, WAIT_DEADLINE * 1000), 1);
	close(pfd.fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_available),
		cmocka_unit_test(test_home_cafe_offline_office),
		cmocka_unit_test(test_nm_restarts),
		cmocka_unit_test(test_nm_absent_at_start),
		cmocka_unit_test(test_helper_dies),
		cmocka_unit_test(test_helper_dies_with_daemon),
	};

	return cmocka_run_group_tests(tests, setup_mock, teardown_mock);
}
