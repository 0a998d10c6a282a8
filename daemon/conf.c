/* conf.c - see conf.h. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "conf.h"
#include "diag.h"
#include "smtp_limits.h"
#include "secret.h"

#define CONF_GROUP	"daemon"
#define DEFAULT_LISTEN	"127.0.0.1:25 [::1]:25"
/* RFC 1035: a host name is at most 255 octets. */
#define HOSTNAME_MAX	255

static const char *const daemon_keys[] = { "listen", "state-dir",
	"runtime-dir", "profiles-dir", "hostname", "max-message-size",
	"max-recipients", "max-sessions", "client-auth-user",
	"client-auth-password-file", "network-backend", "metered-max-size",
	"queue-lifetime", "delay-warning", "dns-server", NULL };
static const char *const conf_groups[] = { CONF_GROUP, NULL };

struct cctx {
	const char	*path;
	char		*dir;
	const char	*text;
	GKeyFile	*kf;
	struct diag	*d;
};

/* $VAR/sub when $VAR is an absolute path, else ~/fallback/sub. */
static char *
xdg_dir(const char *var, const char *fallback, const char *sub)
{
	const char	*v = getenv(var);
	char		*home, *s;
	int		 r;

	if (v != NULL && v[0] == '/')
		r = asprintf(&s, "%s/%s", v, sub);
	else {
		home = conf_home_dir();
		r = asprintf(&s, "%s/%s/%s", home, fallback, sub);
		free(home);
	}
	if (r == -1)
		abort();
	return s;
}

char *
conf_default_path(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config", "roamsmtp/roamsmtp.conf");
}

static char *
default_runtime_dir(void)
{
	const char	*v = getenv("XDG_RUNTIME_DIR");
	char		*s;

	if (v != NULL && v[0] == '/') {
		if (asprintf(&s, "%s/roamsmtp", v) == -1)
			abort();
	} else if (asprintf(&s, "/tmp/roamsmtp-%u", (unsigned)getuid()) == -1)
		abort();
	return s;
}

static int
parse_port(const char *s, uint16_t *port)
{
	guint64	n;

	if (!g_ascii_string_to_unsigned(s, 10, 1, 65535, &n, NULL))
		return -1;
	*port = (uint16_t)n;
	return 0;
}

int
conf_parse_listen(const char *text, struct conf_listen *out,
    const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&out->ss;
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*colon, *close;
	size_t			 hlen;
	uint16_t		 port;

	memset(out, 0, sizeof(*out));
	*why = "not ADDRESS:PORT; write 127.0.0.1:PORT, [::1]:PORT or "
	    "localhost:PORT";
	if (strlen(text) >= sizeof(out->text))
		return -1;
	if (text[0] == '[') {
		if ((close = strchr(text, ']')) == NULL || close[1] != ':')
			return -1;
		hlen = close - text - 1;
		colon = close + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		out->len = sizeof(*sin6);
	} else {
		if ((colon = strrchr(text, ':')) == NULL ||
		    strchr(text, ':') != colon)
			return -1;
		hlen = colon - text;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		out->len = sizeof(*sin);
	}
	if (parse_port(colon + 1, &port) == -1) {
		*why = "no port number (1 to 65535) after the ':'";
		return -1;
	}
	if (out->ss.ss_family == AF_INET) {
		sin->sin_port = htons(port);
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			*why = "roamsmtpd listens on loopback only (no open "
			    "relay); use 127.0.0.1, [::1] or localhost";
			return -1;
		}
	} else {
		sin6->sin6_port = htons(port);
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			*why = "roamsmtpd listens on loopback only (no open "
			    "relay); use 127.0.0.1, [::1] or localhost";
			return -1;
		}
	}
	snprintf(out->text, sizeof(out->text), "%s", text);
	*why = NULL;
	return 0;
}

static int
key_line(struct cctx *c, const char *key)
{
	int	line = conf_key_line(c->text, CONF_GROUP, key);

	return line != 0 ? line : conf_group_line(c->text, CONF_GROUP);
}

/* The stripped value, or NULL when absent (an empty one is an error). */
static char *
get(struct cctx *c, const char *key)
{
	char	*v;

	if (c->kf == NULL || !g_key_file_has_key(c->kf, CONF_GROUP, key, NULL))
		return NULL;
	if ((v = g_key_file_get_value(c->kf, CONF_GROUP, key, NULL)) == NULL)
		return NULL;
	g_strstrip(v);
	if (*v == '\0') {
		diag_error(c->d, c->path, key_line(c, key), CONF_GROUP, key,
		    "empty value; give a value or remove the line");
		g_free(v);
		return NULL;
	}
	if (strstr(v, " #") != NULL)
		diag_warning(c->d, c->path, key_line(c, key), CONF_GROUP, key,
		    "'%s': a '#' after a value is part of the value; put "
		    "comments on their own line", v);
	return v;
}

static char *
get_dir(struct cctx *c, const char *key, char *dflt)
{
	char	*v, *p;

	if ((v = get(c, key)) == NULL)
		return dflt;
	free(dflt);
	p = conf_path_resolve(c->dir, v);
	g_free(v);
	return p;
}

static void
get_number(struct cctx *c, const char *key, guint64 min, guint64 max,
    guint64 *out)
{
	char	*v;

	if ((v = get(c, key)) == NULL)
		return;
	if (!g_ascii_string_to_unsigned(v, 10, min, max, out, NULL))
		diag_error(c->d, c->path, key_line(c, key), CONF_GROUP, key,
		    "'%s' is not a number from %llu to %llu; write one", v,
		    (unsigned long long)min, (unsigned long long)max);
	g_free(v);
}

static void
add_listen(struct cctx *c, struct daemon_conf *conf, const char *word)
{
	struct conf_listen	 l;
	const char		*why;
	size_t			 i;

	if (conf_parse_listen(word, &l, &why) == -1) {
		diag_error(c->d, c->path, key_line(c, "listen"), CONF_GROUP,
		    "listen", "'%s': %s", word, why);
		return;
	}
	for (i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].len == l.len &&
		    memcmp(&conf->listen[i].ss, &l.ss, l.len) == 0) {
			diag_error(c->d, c->path, key_line(c, "listen"),
			    CONF_GROUP, "listen", "'%s' is listed twice; "
			    "remove one", word);
			return;
		}
	if (conf->nlisten == CONF_LISTEN_MAX) {
		diag_error(c->d, c->path, key_line(c, "listen"), CONF_GROUP,
		    "listen", "more than %d addresses; keep fewer",
		    CONF_LISTEN_MAX);
		return;
	}
	conf->listen[conf->nlisten++] = l;
}

static void
parse_listen(struct cctx *c, struct daemon_conf *conf)
{
	gchar	**words;
	char	 *v;
	size_t	  i;

	v = get(c, "listen");
	words = g_strsplit_set(v != NULL ? v : DEFAULT_LISTEN, " \t", -1);
	for (i = 0; words[i] != NULL; i++)
		if (words[i][0] != '\0')
			add_listen(c, conf, words[i]);
	g_strfreev(words);
	g_free(v);
}

static void
parse_hostname(struct cctx *c, struct daemon_conf *conf)
{
	char	 buf[HOSTNAME_MAX + 1];
	char	*v;
	size_t	 i;

	if ((v = get(c, "hostname")) != NULL) {
		for (i = 0; v[i] != '\0'; i++)
			if (g_ascii_isspace(v[i]))
				break;
		if (v[i] != '\0' || strlen(v) > HOSTNAME_MAX)
			diag_error(c->d, c->path, key_line(c, "hostname"),
			    CONF_GROUP, "hostname", "'%s' is not a host name; "
			    "write one name", v);
		conf->hostname = strdup(v);
		g_free(v);
	} else {
		if (gethostname(buf, sizeof(buf)) == -1 || buf[0] == '\0')
			snprintf(buf, sizeof(buf), "localhost");
		buf[sizeof(buf) - 1] = '\0';
		conf->hostname = strdup(buf);
	}
	if (conf->hostname == NULL)
		abort();
}

static void
parse_client_auth(struct cctx *c, struct daemon_conf *conf)
{
	char	 err[512];
	char	*user, *file;

	user = get(c, "client-auth-user");
	file = get_dir(c, "client-auth-password-file", NULL);
	if (user != NULL && file == NULL)
		diag_error(c->d, c->path, key_line(c, "client-auth-user"),
		    CONF_GROUP, "client-auth-user", "needs "
		    "client-auth-password-file = FILE (mode 0600) with the "
		    "password; add it or remove this line");
	else if (user == NULL && file != NULL)
		diag_error(c->d, c->path,
		    key_line(c, "client-auth-password-file"), CONF_GROUP,
		    "client-auth-password-file", "needs client-auth-user; "
		    "add it or remove this line");
	else if (user != NULL) {
		if (secret_read_file(file, &conf->client_auth_password, err,
		    sizeof(err)) == -1)
			diag_error(c->d, c->path,
			    key_line(c, "client-auth-password-file"),
			    CONF_GROUP, "client-auth-password-file", "%s",
			    err);
		else if ((conf->client_auth_user = strdup(user)) == NULL)
			abort();
	}
	g_free(user);
	free(file);
}

static void
check_keys(struct cctx *c)
{
	gchar		**gs, **keys, *known_keys;
	const char	 *hint;
	gsize		  i, j, n, nk;
	int		  line;

	known_keys = g_strjoinv(", ", (gchar **)daemon_keys);
	gs = g_key_file_get_groups(c->kf, &n);
	for (i = 0; i < n; i++) {
		line = conf_group_line(c->text, gs[i]);
		if (strcmp(gs[i], CONF_GROUP) != 0) {
			hint = conf_suggest(gs[i], conf_groups);
			diag_error(c->d, c->path, line, gs[i], NULL,
			    "unknown group; %s", hint != NULL ?
			    "did you mean [daemon]?" :
			    "roamsmtp.conf has only [daemon] (profiles are "
			    "files of their own in profiles-dir)");
			continue;
		}
		keys = g_key_file_get_keys(c->kf, gs[i], &nk, NULL);
		for (j = 0; keys != NULL && j < nk; j++) {
			if (g_strv_contains(daemon_keys, keys[j]))
				continue;
			line = key_line(c, keys[j]);
			if ((hint = conf_suggest(keys[j], daemon_keys)) != NULL)
				diag_error(c->d, c->path, line, gs[i], keys[j],
				    "unknown key; did you mean %s?", hint);
			else
				diag_error(c->d, c->path, line, gs[i], keys[j],
				    "unknown key; [daemon] accepts %s",
				    known_keys);
		}
		g_strfreev(keys);
	}
	g_strfreev(gs);
	g_free(known_keys);
}

static void
parse_backend(struct cctx *c, struct daemon_conf *conf)
{
	static const char *const names[] = { "auto", "networkmanager",
	    "netlink", "none", NULL };
	char	*v;
	int	 i;

	conf->network_backend = 0;
	if ((v = get(c, "network-backend")) == NULL)
		return;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0)
			break;
	if (names[i] == NULL)
		diag_error(c->d, c->path, key_line(c, "network-backend"),
		    CONF_GROUP, "network-backend", "'%s' is not one of auto, "
		    "networkmanager, netlink, none", v);
	else
		conf->network_backend = i;
	g_free(v);
}

static int
has_space_or_empty(const char *s)
{
	return *s == '\0' || strpbrk(s, " \t") != NULL;
}

static void
parse(struct cctx *c, struct daemon_conf *conf)
{
	guint64	n;
	char	*v;

	if (c->kf != NULL)
		check_keys(c);
	parse_listen(c, conf);
	conf->state_dir = get_dir(c, "state-dir",
	    xdg_dir("XDG_STATE_HOME", ".local/state", "roamsmtp"));
	conf->runtime_dir = get_dir(c, "runtime-dir", default_runtime_dir());
	conf->profiles_dir = get_dir(c, "profiles-dir",
	    xdg_dir("XDG_CONFIG_HOME", ".config", "roamsmtp/profiles"));
	parse_hostname(c, conf);

	n = DEFAULT_MAX_MESSAGE_SIZE;
	get_number(c, "max-message-size", 1, UINT64_MAX, &n);
	conf->max_message_size = n;
	n = DEFAULT_MAX_RECIPIENTS;
	get_number(c, "max-recipients", 1, UINT32_MAX, &n);
	conf->max_recipients = (unsigned)n;
	n = DEFAULT_MAX_SESSIONS;
	get_number(c, "max-sessions", 1, UINT32_MAX, &n);
	conf->max_sessions = (unsigned)n;
	n = DEFAULT_METERED_MAX_SIZE;
	get_number(c, "metered-max-size", 0, UINT64_MAX, &n);
	conf->metered_max_size = n;
	n = DEFAULT_QUEUE_LIFETIME;
	get_number(c, "queue-lifetime", 1, UINT32_MAX, &n);
	conf->queue_lifetime = (unsigned)n;
	n = DEFAULT_DELAY_WARNING;
	get_number(c, "delay-warning", 0, UINT32_MAX, &n);
	conf->delay_warning = (unsigned)n;
	parse_backend(c, conf);
	if ((v = get(c, "dns-server")) != NULL) {
		/* "ADDRESS" or "ADDRESS:PORT"; the resolvers check the rest */
		if (has_space_or_empty(v))
			diag_error(c->d, c->path, key_line(c, "dns-server"),
			    CONF_GROUP, "dns-server", "'%s' is not an address; "
			    "write e.g. 127.0.0.1:5353 or [::1]:53", v);
		else if ((conf->dns_server = strdup(v)) == NULL)
			abort();
		g_free(v);
	}
	parse_client_auth(c, conf);
}

int
conf_load(const char *path, struct daemon_conf *conf, struct diag *d)
{
	struct cctx	 c;
	GError		*gerr = NULL;
	gchar		*text = NULL;
	char		*dflt = NULL;
	gsize		 len;
	int		 nerrors = d->nerrors;

	memset(conf, 0, sizeof(*conf));
	memset(&c, 0, sizeof(c));
	c.d = d;
	if (path == NULL)
		path = dflt = conf_default_path();
	c.path = path;

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		if (dflt == NULL || !g_error_matches(gerr, G_FILE_ERROR,
		    G_FILE_ERROR_NOENT))
			diag_error(d, path, 0, NULL, NULL, "%s%s", gerr->message,
			    dflt == NULL ? "; give an existing file with -c" :
			    "");
		g_error_free(gerr);
		if (d->nerrors != nerrors)
			goto done;
	} else {
		c.kf = g_key_file_new();
		c.text = text;
		c.dir = g_path_get_dirname(path);
		if (!g_key_file_load_from_data(c.kf, text, len,
		    G_KEY_FILE_NONE, &gerr)) {
			diag_error(d, path, 0, NULL, NULL, "%s; fix the syntax "
			    "(lines are [group], key = value or # comment)",
			    gerr->message);
			g_error_free(gerr);
			goto done;
		}
		if ((conf->path = strdup(path)) == NULL)
			abort();
	}
	parse(&c, conf);
 done:
	if (c.kf != NULL)
		g_key_file_free(c.kf);
	g_free(c.dir);
	g_free(text);
	free(dflt);
	if (d->nerrors != nerrors) {
		conf_free(conf);
		return -1;
	}
	return 0;
}

void
conf_free(struct daemon_conf *conf)
{
	free(conf->path);
	free(conf->state_dir);
	free(conf->runtime_dir);
	free(conf->profiles_dir);
	free(conf->hostname);
	free(conf->client_auth_user);
	free(conf->dns_server);
	if (conf->client_auth_password != NULL)
		secret_free(conf->client_auth_password);
	memset(conf, 0, sizeof(*conf));
}
