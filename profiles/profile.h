/*
 * profile.h - a profile: which upstream to use, and where.  One INI file a
 * profile, named NAME.conf, parsed with GLib's GKeyFile.  Every problem is
 * reported through struct diag with file, line and key.
 *
 *   [match]                   # where this profile is used; match.h
 *   ssid = HomeWifi; HomeWifi-5G
 *   gateway-mac = aa:bb:cc:dd:ee:ff
 *   # also: connection, uuid, bssid, subnet, dns-domain, vpn, connectivity
 *   default = true            # the profile used when no other matches
 *   priority = 10             # breaks ties; higher wins
 *
 *   [upstream]
 *   host = mail.example.net
 *   port = 587                # default from tls: 465 for tls, 587 else;
 *                             #   25 when tls = none
 *   tls = starttls            # starttls (default) | tls | none
 *   auth = plain              # auto (default when user is set) | plain |
 *                             #   login | cram-md5 | none
 *   user = alice@example.net
 *   password-command = secret-tool lookup service roamsmtp user alice
 *   password-file = /home/alice/.config/roamsmtp/home.pass   # mode 0600
 *   ca-file = /etc/ssl/certs/ca-certificates.crt
 *   pin = sha256//BASE64-OF-SPKI-DIGEST
 *   allow-plaintext-auth = no
 *   helo = alice-laptop       # default: the daemon's hostname
 *   fallback = implicit-tls   # the profile to try when this upstream
 *                             #   cannot be reached from here
 *
 * [match] keys each take one value or several separated by ';' (GKeyFile's
 * list syntax; "\;" is a ';' inside a value; blanks around a value are
 * dropped).  A key matches when any of its values does; a profile matches
 * when every key it sets does:
 *   connection    NetworkManager connection name (any active connection)
 *   uuid          NetworkManager connection uuid (any active connection)
 *   ssid          Wi-Fi network name, exact (at most 32 bytes)
 *   bssid         Wi-Fi access point's MAC address
 *   gateway-mac   a default gateway's MAC address
 *   subnet        an IPv4 or IPv6 prefix, "192.168.1.0/24", "2001:db8::/32":
 *                 matches when any local address is inside it
 *   dns-domain    a DNS search domain, or a parent of one: "corp.example"
 *                 matches "eu.corp.example" (case-insensitive)
 *   vpn           the connection name of an active VPN, or yes: any VPN
 *   connectivity  none | portal | limited | full
 */
#ifndef ROAMSMTP_PROFILE_H
#define ROAMSMTP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define PROFILE_NAME_MAX	64
#define PROFILE_SUFFIX		".conf"	/* NAME.conf */
#define PROFILE_PIN_LEN		32	/* SHA-256 */
/* Values of one [match] key: a few networks; more is a mistake (or a file
 * written for something else), and every value costs each match. */
#define PROFILE_MATCH_VALUES_MAX 32

enum tls_mode {
	TLSMODE_STARTTLS = 0,
	TLSMODE_IMPLICIT,		/* "tls": TLS from the first byte (465) */
	TLSMODE_NONE,
};

enum auth_choice {
	AUTHC_NONE = 0,		/* no AUTH (no user set) */
	AUTHC_AUTO,		/* best the server offers: PLAIN, LOGIN, CRAM-MD5 */
	AUTHC_PLAIN,
	AUTHC_LOGIN,
	AUTHC_CRAM_MD5,
	AUTHC_XOAUTH2,		/* OAuth2 bearer token (Gmail, Microsoft 365) */
	AUTHC_OAUTHBEARER,	/* RFC 7628 */
	AUTHC_SCRAM_SHA_256,	/* RFC 7677 */
};

/* Where host = auto looks for the upstream. */
enum discover_mode {
	DISCOVER_SRV = 0,	/* RFC 6186/8314 SRV of the sender's domain */
	DISCOVER_SEARCH_DOMAIN,	/* smtp./mail. + the DHCP/DNS search domain */
};

enum pop_auth {
	POPAUTH_AUTO = 0,	/* USER/PASS over TLS, else APOP when offered */
	POPAUTH_USER,
	POPAUTH_APOP,
};

/* [pop-before-smtp]: log in to POP3 first; the provider then relays for
 * this address for a while ("window"). */
struct profile_pop {
	int		 enabled;
	char		*host;
	uint16_t	 port;		/* 995 for tls, else 110 */
	enum tls_mode	 tls;		/* tls (default), starttls (STLS), none */
	enum pop_auth	 auth;
	char		*user;		/* default: [upstream] user */
	char		*password_command;	/* default: [upstream]'s */
	char		*password_file;
	char		*password_secret;
	unsigned	 window;	/* seconds; default 300 */
	int		 allow_plaintext_auth;
	char		*ca_file;
	int		 has_pin;
	unsigned char	 pin[PROFILE_PIN_LEN];
};

/* A [match] subnet. */
struct profile_prefix {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network order, host bits cleared */
	unsigned	len;		/* 0..32 or 0..128 */
};

/*
 * The network keys of [match].  Each list is NULL when its key is absent,
 * else NULL-terminated with 1 to PROFILE_MATCH_VALUES_MAX values, in the
 * normal forms shown.
 */
struct profile_match {
	char			**connection;
	char			**uuid;		/* lower case */
	char			**ssid;
	char			**bssid;	/* "aa:bb:cc:dd:ee:ff" */
	char			**gateway_mac;	/* "aa:bb:cc:dd:ee:ff" */
	struct profile_prefix	 *subnet;
	size_t			  nsubnet;	/* 0: key absent */
	char			**dns_domain;	/* lower case, no final dot */
	char			**vpn;		/* names, without "yes" */
	int			  vpn_any;	/* vpn = yes */
	unsigned		  connectivity;	/* bit 1 << NETCONN_x for each
						 * value (netfacts.h); 0:
						 * absent */
};

struct profile {
	char		*name;		/* file name without .conf */
	char		*path;
	int		 is_default;	/* [match] default = true */
	int		 priority;	/* [match] priority, default 0 */
	struct profile_match match;
	/*
	 * [upstream] fallback: a profile's name, or NULL.  In a set from
	 * profile_set_load it always names a profile of the set, and
	 * following fallbacks never loops.
	 */
	char		*fallback;

	char		*host;
	uint16_t	 port;
	enum tls_mode	 tls;
	enum auth_choice auth;
	char		*user;
	char		*password_command;
	char		*password_file;
	/* Secret Service attributes, "attr=value attr=value" (libsecret) */
	char		*password_secret;
	/* xoauth2/oauthbearer: prints an access token; run again when the
	 * server says the token expired */
	char		*token_command;
	char		*ca_file;
	int		 has_pin;
	unsigned char	 pin[PROFILE_PIN_LEN];
	int		 allow_plaintext_auth;
	char		*helo;		/* NULL: the daemon's hostname */
	/* host = auto: found by DNS, see discover */
	int		 host_auto;
	enum discover_mode discover;
	/* MAIL FROM to the upstream, for ISP relays that refuse foreign
	 * senders; NULL: the client's own */
	char		*envelope_from;
	struct profile_pop pop;
};

struct profile_set {
	struct profile	**v;
	size_t		  n;
};

/*
 * Parse one profile file.  Returns the profile, or NULL after adding at
 * least one error to d.  Warnings may be added either way.
 */
struct profile	*profile_load(const char *path, struct diag *d);
void		 profile_free(struct profile *);

/*
 * Load every *.conf in dir, sorted by name.  A missing dir is an empty set
 * (not an error).  Returns 0 when no file had an error; -1 otherwise, and
 * the set then holds only the good profiles.  More than one default profile
 * is an error naming both files.  A fallback that names no profile is an
 * error, and so is a cycle of fallbacks (a -> b -> a), said once with the
 * whole chain; both drop the profiles concerned.  A fallback naming a
 * profile that was dropped for its own errors is a warning, and is cleared.
 * A profile with no [match] keys that is not the default and no profile's
 * fallback is never chosen automatically: a warning says so.
 */
int		 profile_set_load(const char *dir, struct profile_set *,
		    struct diag *d);
void		 profile_set_free(struct profile_set *);
struct profile	*profile_set_find(const struct profile_set *, const char *name);

/* Does p set any [match] key besides default and priority? */
int		 profile_has_match(const struct profile *);

const char	*tls_mode_name(enum tls_mode);
const char	*discover_mode_name(enum discover_mode);
const char	*auth_choice_name(enum auth_choice);

/* Parse "sha256//BASE64" (curl's pinnedpubkey form).  0 on success. */
int		 profile_parse_pin(const char *text,
		    unsigned char out[PROFILE_PIN_LEN]);
/*
 * Parse "ADDRESS/LENGTH" (IPv4 or IPv6).  0 on success, with *host_bits set
 * when the address had bits set past the length (they are cleared); -1 when
 * it is not a prefix.
 */
int		 profile_parse_prefix(const char *text, struct profile_prefix *,
		    int *host_bits);
/* "aa:bb:cc:dd:ee:ff" into buf (18 bytes): from either case, with ':' or
 * '-' between the bytes.  0 on success. */
int		 profile_parse_mac(const char *text, char buf[18]);

#endif
