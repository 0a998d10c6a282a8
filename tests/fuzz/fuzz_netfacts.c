/*
 * fuzz_netfacts.c - a network snapshot in its JSON form, as it crosses the
 * network watcher's channel.
 *
 * Properties: a snapshot that is accepted keeps every string within its
 * bound and NUL terminated, and survives a round trip (to JSON and back,
 * it is equal to itself and gives the same network key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "netfacts.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#define TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static void
check_bounds(const struct net_facts *f)
{
	size_t	i;

	CHECK(TERMINATED(f->backend) && TERMINATED(f->ssid) &&
	    TERMINATED(f->bssid));
	CHECK(f->nconn <= NETFACTS_CONN_MAX && f->ngw <= NETFACTS_GW_MAX &&
	    f->naddr <= NETFACTS_ADDR_MAX && f->ndns <= NETFACTS_DNS_MAX);
	for (i = 0; i < f->nconn; i++)
		CHECK(TERMINATED(f->conn[i].id) && TERMINATED(f->conn[i].uuid)
		    && TERMINATED(f->conn[i].type));
	for (i = 0; i < f->ngw; i++)
		CHECK(TERMINATED(f->gw[i].addr) && TERMINATED(f->gw[i].mac) &&
		    TERMINATED(f->gw[i].ifname));
	for (i = 0; i < f->naddr; i++)
		CHECK(TERMINATED(f->addr[i].addr));
	for (i = 0; i < f->ndns; i++)
		CHECK(TERMINATED(f->dns[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_facts	 f, g;
	json_error_t		 jerr;
	json_t			*j, *j2;
	char			 err[256], k1[128], k2[128];

	if ((j = json_loadb((const char *)data, size, 0, &jerr)) == NULL)
		return 0;
	err[0] = '\0';
	if (netfacts_from_json(j, &f, err, sizeof(err)) == -1) {
		CHECK(err[0] != '\0');
		json_decref(j);
		return 0;
	}
	json_decref(j);
	check_bounds(&f);
	(void)net_connectivity_name(f.connectivity);

	CHECK((j2 = netfacts_to_json(&f)) != NULL);
	if (netfacts_from_json(j2, &g, err, sizeof(err)) == -1) {
		fprintf(stderr, "written facts not read back: %s\n", err);
		abort();
	}
	json_decref(j2);
	CHECK(netfacts_equal(&f, &g));
	CHECK(strcmp(f.backend, g.backend) == 0);
	netfacts_key(&f, k1, sizeof(k1));
	netfacts_key(&g, k2, sizeof(k2));
	CHECK(strcmp(k1, k2) == 0);
	return 0;
}
