/*
 * discover.c - host = auto; see discover.h.
 *
 * c-ares runs on the daemon's libevent loop: its socket-state callback
 * keeps one persistent event per socket it uses, and one timer follows
 * ares_timeout().  A request asks for both SRV names at once and answers
 * when both replies (or errors) are in.
 */
#include <sys/queue.h>
#include <arpa/nameser.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>
#include <event2/event.h>

#include "discover.h"
#include "log.h"

/* The two services, in the order they are tried (RFC 8314 5.1 prefers
 * implicit TLS). */
static const struct {
	const char	*prefix;
	enum tls_mode	 tls;
} services[2] = {
	{ "_submissions._tcp.", TLSMODE_IMPLICIT },
	{ "_submission._tcp.", TLSMODE_STARTTLS },
};

struct dsock {
	LIST_ENTRY(dsock)	 entry;
	ares_socket_t		 fd;
	struct event		*ev;
};

struct discover_req;

struct dquery {
	struct discover_req	*req;
	int			 idx;		/* into services[] */
};

struct discover_req {
	TAILQ_ENTRY(discover_req) entry;
	struct discover		*d;		/* NULL: orphaned by
						 * discover_free */
	char			 domain[DISCOVER_NAME_MAX];
	int			 require_in_domain;
	discover_cb		 cb;
	void			*arg;
	int			 cancelled;
	int			 started;
	unsigned		 pending;	/* queries without an answer */
	struct event		*start;
	struct dquery		 q[2];
	struct discover_srv	 rec[2][DISCOVER_TARGETS_MAX];
	size_t			 nrec[2];
	char			 error[2][DISCOVER_NAME_MAX + 64];
};

struct discover {
	struct event_base	*base;
	ares_channel		 channel;
	struct event		*timer;
	LIST_HEAD(, dsock)	 socks;
	TAILQ_HEAD(, discover_req) reqs;
	int			 destroying;
};

static void	discover_reschedule(struct discover *);

/* ---- c-ares on the loop ---------------------------------------------- */

static void
sock_ready(evutil_socket_t fd, short what, void *arg)
{
	struct discover	*d = arg;

	ares_process_fd(d->channel,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	discover_reschedule(d);
}

static void
sock_state(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct discover	*d = arg;
	struct dsock	*s;

	LIST_FOREACH(s, &d->socks, entry)
		if (s->fd == fd)
			break;
	if (!readable && !writable) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			fatal("discover: calloc");
		s->fd = fd;
		LIST_INSERT_HEAD(&d->socks, s, entry);
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(d->base, fd, EV_PERSIST | (readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0), sock_ready, d);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		fatalx("discover: cannot watch a DNS socket");
}

static void
timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct discover	*d = arg;

	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	discover_reschedule(d);
}

static void
discover_reschedule(struct discover *d)
{
	struct timeval	tv, *tvp;

	if (d->destroying)
		return;
	evtimer_del(d->timer);
	if ((tvp = ares_timeout(d->channel, NULL, &tv)) != NULL)
		evtimer_add(d->timer, tvp);
}

struct discover *
discover_new(struct event_base *base, struct evdns_base *dns,
    const char *server, char *err, size_t errlen)
{
	struct discover		*d;
	struct ares_options	 o;
	int			 rc;

	if (server == NULL)
		server = getenv(DISCOVER_SERVER_ENV);
	if (server != NULL && *server == '\0')
		server = NULL;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start c-ares: %s",
		    ares_strerror(rc));
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		ares_library_cleanup();
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base = base;
	LIST_INIT(&d->socks);
	TAILQ_INIT(&d->reqs);
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = DISCOVER_TIMEOUT_MS;
	o.tries = DISCOVER_TRIES;
	rc = ares_init_options(&d->channel, &o, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start the DNS resolver for host "
		    "= auto: %s", ares_strerror(rc));
		free(d);
		ares_library_cleanup();
		return NULL;
	}
	if (server != NULL &&
	    (rc = ares_set_servers_ports_csv(d->channel, server)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "DNS server '%s': %s; give ADDRESS or "
		    "ADDRESS:PORT", server, ares_strerror(rc));
		ares_destroy(d->channel);
		free(d);
		ares_library_cleanup();
		return NULL;
	}
	if ((d->timer = evtimer_new(base, timer_fired, d)) == NULL)
		fatalx("discover: evtimer_new");
	if (server != NULL && dns != NULL) {
		/* The targets found must resolve where they were found. */
		evdns_base_clear_nameservers_and_suspend(dns);
		if (evdns_base_nameserver_ip_add(dns, server) != 0)
			log_warnx("discover: evdns does not take the DNS "
			    "server %s", server);
		evdns_base_resume(dns);
	}
	log_debug("discover: resolver ready server=%s", server ? server :
	    "system");
	return d;
}

static void
req_free(struct discover_req *q)
{
	if (q->d != NULL)
		TAILQ_REMOVE(&q->d->reqs, q, entry);
	if (q->start)
		event_free(q->start);
	free(q);
}

void
discover_free(struct discover *d)
{
	struct discover_req	*q;
	struct dsock		*s;

	if (d == NULL)
		return;
	/* ares_destroy runs every query's callback (ARES_EDESTRUCTION):
	 * they only count down. */
	d->destroying = 1;
	ares_destroy(d->channel);
	while ((q = TAILQ_FIRST(&d->reqs)) != NULL) {
		TAILQ_REMOVE(&d->reqs, q, entry);
		q->d = NULL;
		if (q->start) {
			event_free(q->start);
			q->start = NULL;
		}
		if (q->cancelled)
			free(q);
		/* else: orphaned, freed by discover_cancel() */
	}
	while ((s = LIST_FIRST(&d->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	free(d);
	ares_library_cleanup();
}

/* ---- requests --------------------------------------------------------- */

static void
req_finish(struct discover_req *q)
{
	struct discover_result	 res;
	struct discover_srv	*v;
	size_t			 i, j, n;
	int			 dot[2] = { 0, 0 }, outside = 0;
	char			 err[4 * DISCOVER_NAME_MAX + 400];
	char			 first_outside[DISCOVER_NAME_MAX];

	memset(&res, 0, sizeof(res));
	first_outside[0] = '\0';
	for (i = 0; i < 2; i++) {
		v = q->rec[i];
		n = discover_srv_order(v, q->nrec[i], NULL, NULL, &dot[i]);
		for (j = 0; j < n && res.n < DISCOVER_TARGETS_MAX; j++) {
			if (q->require_in_domain &&
			    !discover_in_domain(v[j].target, q->domain)) {
				if (!outside++)
					snprintf(first_outside,
					    sizeof(first_outside), "%s",
					    v[j].target);
				continue;
			}
			snprintf(res.t[res.n].host, sizeof(res.t[res.n].host),
			    "%s", v[j].target);
			res.t[res.n].port = v[j].port;
			res.t[res.n].tls = services[i].tls;
			res.n++;
		}
	}
	if (res.n > 0) {
		for (i = 0; i < res.n; i++)
			log_debug("discover %s: %zu. %s:%u %s", q->domain,
			    i + 1, res.t[i].host, res.t[i].port,
			    tls_mode_name(res.t[i].tls));
		q->cb(&res, NULL, q->arg);
		return;
	}
	if (outside)
		snprintf(err, sizeof(err), "the submission server of %s, %s, "
		    "is outside %s, so its certificate could not vouch for "
		    "the domain (RFC 6186 6); if you trust it, set host = %s "
		    "in the profile (or pin its key)", q->domain,
		    first_outside, q->domain, first_outside);
	else if (q->error[0][0] || q->error[1][0])
		snprintf(err, sizeof(err), "SRV lookup for %s failed: %s%s%s",
		    q->domain, q->error[0], q->error[0][0] && q->error[1][0] ?
		    "; " : "", q->error[1]);
	else if (dot[0] || dot[1])
		snprintf(err, sizeof(err), "%s says it offers no mail "
		    "submission (SRV target \".\"); set host = in the "
		    "profile", q->domain);
	else
		snprintf(err, sizeof(err), "no SRV record for "
		    "_submissions._tcp.%s or _submission._tcp.%s; set host = "
		    "in the profile", q->domain, q->domain);
	q->cb(NULL, err, q->arg);
}

/* The last answer is in: report and go. */
static void
req_settle(struct discover_req *q)
{
	if (q->pending > 0)
		return;
	if (!q->cancelled)
		req_finish(q);
	req_free(q);
}

static void
query_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dquery		*dq = arg;
	struct discover_req	*q = dq->req;
	struct ares_srv_reply	*srv = NULL, *s;
	size_t			 n = 0;
	int			 rc;

	q->pending--;
	if (q->d == NULL || q->d->destroying)
		return;		/* discover_free() settles q */
	if (q->cancelled) {
		req_settle(q);
		return;
	}
	if (status == ARES_SUCCESS) {
		if ((rc = ares_parse_srv_reply(abuf, alen, &srv)) !=
		    ARES_SUCCESS)
			snprintf(q->error[dq->idx], sizeof(q->error[0]),
			    "%s%s: %s", services[dq->idx].prefix, q->domain,
			    ares_strerror(rc));
		for (s = srv; s != NULL && n < DISCOVER_TARGETS_MAX;
		    s = s->next) {
			struct discover_srv	*r = &q->rec[dq->idx][n];

			if (strlen(s->host) >= sizeof(r->target))
				continue;
			snprintf(r->target, sizeof(r->target), "%s",
			    strcmp(s->host, ".") == 0 ? "" : s->host);
			r->priority = s->priority;
			r->weight = s->weight;
			r->port = s->port;
			n++;
		}
		q->nrec[dq->idx] = n;
		if (srv != NULL)
			ares_free_data(srv);
	} else if (status != ARES_ENODATA && status != ARES_ENOTFOUND)
		snprintf(q->error[dq->idx], sizeof(q->error[0]), "%s%s: %s",
		    services[dq->idx].prefix, q->domain,
		    ares_strerror(status));
	req_settle(q);
}

static void
req_start(evutil_socket_t fd, short what, void *arg)
{
	struct discover_req	*q = arg;
	char			 name[DISCOVER_NAME_MAX + 32];
	int			 i;

	q->started = 1;
	/* One more than the queries: an answer that comes at once (from
	 * within ares_query) must not settle q under this loop. */
	q->pending = 3;
	for (i = 0; i < 2; i++) {
		q->q[i].req = q;
		q->q[i].idx = i;
		snprintf(name, sizeof(name), "%s%s", services[i].prefix,
		    q->domain);
		log_debug("discover: SRV %s", name);
		ares_query(q->d->channel, name, ns_c_in, ns_t_srv, query_done,
		    &q->q[i]);
	}
	discover_reschedule(q->d);
	q->pending--;
	req_settle(q);
}

/* A host name: letters, digits, '-', '.', at most 253 characters. */
static int
host_name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return 0;
	return 1;
}

struct discover_req *
discover_srv(struct discover *d, const char *domain, int require_in_domain,
    discover_cb cb, void *arg)
{
	struct discover_req	*q;
	struct timeval		 zero = { 0, 0 };
	size_t			 n = strlen(domain);

	if (!host_name_ok(domain))
		return NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	snprintf(q->domain, sizeof(q->domain), "%s", domain);
	n = strlen(q->domain);
	if (n > 0 && q->domain[n - 1] == '.')
		q->domain[n - 1] = '\0';
	q->d = d;
	q->require_in_domain = require_in_domain;
	q->cb = cb;
	q->arg = arg;
	if ((q->start = evtimer_new(d->base, req_start, q)) == NULL ||
	    evtimer_add(q->start, &zero) == -1) {
		if (q->start)
			event_free(q->start);
		free(q);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&d->reqs, q, entry);
	return q;
}

void
discover_cancel(struct discover_req *q)
{
	if (q == NULL)
		return;
	/* Queries in flight cannot be taken back one by one (ares_cancel
	 * ends all): the last answer frees q. */
	if (q->d == NULL || !q->started || q->pending == 0) {
		req_free(q);
		return;
	}
	q->cancelled = 1;
}

/* ---- the pure parts --------------------------------------------------- */

static uint32_t
rnd_default(void *arg)
{
	return arc4random();
}

static int
srv_cmp(const void *a, const void *b)
{
	const struct discover_srv	*x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* RFC 2782: weight 0 first, for the selection that follows. */
	if ((x->weight == 0) != (y->weight == 0))
		return x->weight == 0 ? -1 : 1;
	return 0;
}

size_t
discover_srv_order(struct discover_srv *v, size_t n,
    uint32_t (*rnd)(void *), void *rndarg, int *not_offered)
{
	struct discover_srv	 tmp;
	size_t			 i, j, k, end;
	uint64_t		 sum, pick, run;

	*not_offered = 0;
	if (rnd == NULL)
		rnd = rnd_default;
	/* RFC 2782: a lone "." says the service is decidedly not here. */
	for (i = j = 0; i < n; i++)
		if (v[i].target[0] != '\0')
			v[j++] = v[i];
	if (n > 0 && j == 0)
		*not_offered = 1;
	n = j;
	/* Insertion sort: stable, and n is small. */
	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && srv_cmp(&v[j - 1], &tmp) > 0; j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
	/* Within each priority, pick by running sums of weights. */
	for (i = 0; i < n; i = end) {
		for (end = i; end < n && v[end].priority == v[i].priority;
		    end++)
			;
		for (k = i; k + 1 < end; k++) {
			sum = 0;
			for (j = k; j < end; j++)
				sum += v[j].weight;
			pick = sum ? (uint64_t)rnd(rndarg) % (sum + 1) : 0;
			run = 0;
			for (j = k; j < end; j++) {
				run += v[j].weight;
				if (run >= pick)
					break;
			}
			if (j == end)
				j = end - 1;
			tmp = v[j];
			memmove(&v[k + 1], &v[k], (j - k) * sizeof(*v));
			v[k] = tmp;
		}
	}
	return n;
}

size_t
discover_search_targets(const char *const *domains, size_t ndomains,
    uint16_t port, enum tls_mode tls, struct discover_result *r)
{
	static const char *const prefixes[] = { "smtp.", "mail." };
	char	name[DISCOVER_NAME_MAX];
	size_t	i, j, k, added = 0;
	int	n;

	for (i = 0; i < ndomains; i++) {
		for (j = 0; j < 2; j++) {
			n = snprintf(name, sizeof(name), "%s%s", prefixes[j],
			    domains[i]);
			if (n < 0 || (size_t)n >= sizeof(name) ||
			    !host_name_ok(name))
				continue;
			if (name[n - 1] == '.')
				name[n - 1] = '\0';
			for (k = 0; k < r->n; k++)
				if (strcasecmp(r->t[k].host, name) == 0)
					break;
			if (k < r->n || r->n == DISCOVER_TARGETS_MAX)
				continue;
			snprintf(r->t[r->n].host, sizeof(r->t[r->n].host),
			    "%s", name);
			r->t[r->n].port = port;
			r->t[r->n].tls = tls;
			r->n++;
			added++;
		}
	}
	return added;
}

int
discover_in_domain(const char *name, const char *domain)
{
	size_t	nl = strlen(name), dl = strlen(domain);

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || nl < dl)
		return 0;
	if (strncasecmp(name + nl - dl, domain, dl) != 0)
		return 0;
	return nl == dl || name[nl - dl - 1] == '.';
}

const char *
discover_address_domain(const char *address)
{
	const char	*at = strrchr(address, '@');

	if (at == NULL || at[1] == '\0')
		return NULL;
	return at + 1;
}
