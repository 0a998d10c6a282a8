/*
 * match.h - which profile mail goes by here: the profiles' [match] keys
 * (profile.h) against a snapshot of the network (netfacts.h).  Pure
 * functions: no I/O, no clock, no state.
 *
 * The matcher only matches.  What to do behind a captive portal, offline
 * or on a metered connection is the daemon's decision: connectivity counts
 * here only for a profile that sets the connectivity key, and metered not
 * at all.
 */
#ifndef ROAMSMTP_MATCH_H
#define ROAMSMTP_MATCH_H

#include <stddef.h>

#include "netfacts.h"
#include "profile.h"

/*
 * Specificity: a profile's score is the sum of the weights of the keys it
 * sets (not of how many values a key lists).  The weights say how surely a
 * key names one place:
 */
/* The router's own hardware: one network, even where SSIDs repeat. */
#define MATCH_W_GATEWAY_MAC	64
/* One access point: one place, but a network often has several. */
#define MATCH_W_BSSID		48
/* A network's name: chosen by its owner, but "FreeWifi" is everywhere. */
#define MATCH_W_SSID		32
/* One NetworkManager connection: the user's own record of a network. */
#define MATCH_W_UUID		32
/* Its name: the same, but names are easily reused. */
#define MATCH_W_CONNECTION	24
/* An active VPN: the user is "at" the office wherever the laptop is. */
#define MATCH_W_VPN		24
/* An address range: private ranges (192.168.1.0/24) repeat everywhere. */
#define MATCH_W_SUBNET		16
/* A DNS search domain: says whose network, not which one. */
#define MATCH_W_DNS_DOMAIN	8
/* Connectivity: a state, not a place; refines a match, or matches a state
 * everywhere ("any portal"), and then beats only the default. */
#define MATCH_W_CONNECTIVITY	2
/* default = true alone: anywhere, below every real match. */
#define MATCH_W_DEFAULT		1

/*
 * Does p match facts (NULL: nothing known, as offline)?  Returns 1 or 0.
 *
 * A profile matches when every network key it sets matches; a key matches
 * when any of its values does.  Its score is then the sum of the weights
 * of its keys.  A default profile always matches: by its keys when they
 * all match, else with score MATCH_W_DEFAULT.  A profile with no network
 * keys and no default matches nothing (it is chosen only by hand).
 *
 * score (may be NULL) gets the score, 0 when it does not match.  why (may
 * be NULL) gets what matched, as key=value, value being the profile's:
 *   "ssid=HomeWifi gateway-mac=aa:bb:cc:dd:ee:ff"
 * or what did not, for every key that failed:
 *   "ssid: want HomeWifi, have CafeNet; subnet: want 10.0.0.0/8, have
 *    192.168.1.23"
 * or "default profile", "default profile (ssid: want ...)", "no network
 * keys: chosen only by hand".  Truncated to whylen.
 */
int	profile_matches(const struct profile *, const struct net_facts *,
	    int *score, char *why, size_t whylen);

/*
 * The profile mail goes by here, or NULL when none matches.
 *
 * manual (a profile's name, or NULL for automatic) wins when it names a
 * profile of set.  Otherwise the best match: highest score, then highest
 * priority, then the name that sorts first (strcmp).  A default profile
 * matches anything, with the lowest score.
 *
 * reason (may be NULL) gets a sentence for status and logs:
 *   "manual choice", "matched ssid=HomeWifi", "default profile",
 *   "no profile matches this network";
 * when manual names no profile, the automatic choice's sentence and
 * "; manual choice 'x' is not a profile".
 */
const struct profile *profile_choose(const struct profile_set *,
	    const struct net_facts *, const char *manual, char *reason,
	    size_t reasonlen);

#endif
