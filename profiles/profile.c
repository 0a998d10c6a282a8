/* profile.c - one profile file: see profile.h.  [match] is in
 * profile_match.c, the folder as a whole in profile_set.c. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/evp.h>

#include "diag.h"
#include "profile.h"
#include "profile_int.h"

#define PIN_PREFIX	"sha256//"
/* base64 of 32 bytes: 43 characters and one '=' of padding. */
#define PIN_B64_LEN	44

static const char *const match_keys[] = { "connection", "uuid", "ssid",
	"bssid", "gateway-mac", "subnet", "dns-domain", "vpn", "connectivity",
	"default", "priority", NULL };
static const char *const upstream_keys[] = { "host", "port", "tls", "auth",
	"user", "password-command", "password-file", "password-secret",
	"token-command", "ca-file", "pin", "allow-plaintext-auth", "helo",
	"fallback", "envelope-from", "discover", NULL };
static const char *const groups[] = { "match", "upstream", "pop-before-smtp",
	NULL };

static const char *const tls_names[] = {
	[TLSMODE_STARTTLS] = "starttls",
	[TLSMODE_IMPLICIT] = "tls",
	[TLSMODE_NONE] = "none",
};

static const char *const auth_names[] = {
	[AUTHC_NONE] = "none",
	[AUTHC_AUTO] = "auto",
	[AUTHC_PLAIN] = "plain",
	[AUTHC_LOGIN] = "login",
	[AUTHC_CRAM_MD5] = "cram-md5",
	[AUTHC_XOAUTH2] = "xoauth2",
	[AUTHC_OAUTHBEARER] = "oauthbearer",
	[AUTHC_SCRAM_SHA_256] = "scram-sha-256",
};

static const char *const discover_names[] = {
	[DISCOVER_SRV] = "srv",
	[DISCOVER_SEARCH_DOMAIN] = "search-domain",
};

const char *
discover_mode_name(enum discover_mode m)
{
	return (unsigned)m < sizeof(discover_names) /
	    sizeof(discover_names[0]) ? discover_names[m] : "?";
}

const char *
tls_mode_name(enum tls_mode m)
{
	if ((size_t)m < sizeof(tls_names) / sizeof(tls_names[0]))
		return tls_names[m];
	return "?";
}

const char *
auth_choice_name(enum auth_choice a)
{
	if ((size_t)a < sizeof(auth_names) / sizeof(auth_names[0]))
		return auth_names[a];
	return "?";
}

static int
is_b64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
profile_parse_pin(const char *text, unsigned char out[PROFILE_PIN_LEN])
{
	unsigned char	 buf[PIN_B64_LEN];	/* 33 bytes decoded; room */
	const char	*b;
	size_t		 i;

	if (strncmp(text, PIN_PREFIX, strlen(PIN_PREFIX)) != 0)
		return -1;
	b = text + strlen(PIN_PREFIX);
	/*
	 * EVP_DecodeBlock skips blanks at either end, decodes the padding
	 * as zero bytes (33 for 32) and rejects nothing it half-parsed, so
	 * check the exact form first.
	 */
	if (strlen(b) != PIN_B64_LEN || b[PIN_B64_LEN - 1] != '=')
		return -1;
	for (i = 0; i < PIN_B64_LEN - 1; i++)
		if (!is_b64((unsigned char)b[i]))
			return -1;
	if (EVP_DecodeBlock(buf, (const unsigned char *)b, PIN_B64_LEN) !=
	    PROFILE_PIN_LEN + 1)
		return -1;
	memcpy(out, buf, PROFILE_PIN_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
pctx_key_line(struct pctx *c, const char *group, const char *key)
{
	int	line = conf_key_line(c->text, group, key);

	return line != 0 ? line : conf_group_line(c->text, group);
}

/*
 * The value of group/key, stripped, or NULL when absent.  Values are taken
 * as written: no GKeyFile escapes, so a password-command may hold
 * backslashes.  An empty value is an error.
 */
char *
pctx_get(struct pctx *c, const char *group, const char *key)
{
	char	*v;

	if (!g_key_file_has_key(c->kf, group, key, NULL))
		return NULL;
	v = g_key_file_get_value(c->kf, group, key, NULL);
	if (v == NULL)
		return NULL;
	g_strstrip(v);
	if (*v == '\0') {
		diag_error(c->d, c->path, pctx_key_line(c, group, key), group,
		    key, "empty value; give a value or remove the line");
		g_free(v);
		return NULL;
	}
	if (strcmp(key, "password-command") != 0 && strstr(v, " #") != NULL)
		diag_warning(c->d, c->path, pctx_key_line(c, group, key), group,
		    key, "'%s': a '#' after a value is part of the value; "
		    "put comments on their own line", v);
	return v;
}

static char *
get_path(struct pctx *c, const char *group, const char *key)
{
	char	*v, *p;

	if ((v = pctx_get(c, group, key)) == NULL)
		return NULL;
	p = conf_path_resolve(c->dir, v);
	g_free(v);
	return p;
}

static int
get_bool(struct pctx *c, const char *group, const char *key, int *out)
{
	char	*v;
	int	 r = 0;

	if ((v = pctx_get(c, group, key)) == NULL)
		return 0;
	if (conf_parse_bool(v, out) == -1) {
		diag_error(c->d, c->path, pctx_key_line(c, group, key), group,
		    key, "'%s' is not a boolean; write true or false", v);
		r = -1;
	}
	g_free(v);
	return r;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (g_ascii_isspace(*s))
			return 1;
	return 0;
}

static int
valid_name(const char *name)
{
	size_t	len = strlen(name), i;

	if (len < 1 || len > PROFILE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

static int
in_list(const char *word, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(word, *list) == 0)
			return 1;
	return 0;
}

char *
pctx_get_path(struct pctx *c, const char *group, const char *key)
{
	return get_path(c, group, key);
}

void
pctx_get_bool(struct pctx *c, const char *group, const char *key, int *out)
{
	get_bool(c, group, key, out);
}

static void
check_keys(struct pctx *c, const char *group, const char *const *known)
{
	gchar		**keys, *all;
	const char	 *hint;
	gsize		  i, n;
	int		  line;

	keys = g_key_file_get_keys(c->kf, group, &n, NULL);
	for (i = 0; keys != NULL && i < n; i++) {
		if (in_list(keys[i], known))
			continue;
		line = pctx_key_line(c, group, keys[i]);
		if ((hint = conf_suggest(keys[i], known)) != NULL)
			diag_error(c->d, c->path, line, group, keys[i],
			    "unknown key; did you mean %s?", hint);
		else {
			all = g_strjoinv(", ", (gchar **)known);
			diag_error(c->d, c->path, line, group, keys[i],
			    "unknown key; [%s] accepts %s", group, all);
			g_free(all);
		}
	}
	g_strfreev(keys);
}

static void
check_groups(struct pctx *c)
{
	gchar		**gs;
	const char	 *hint;
	gsize		  i, n;
	int		  line;

	gs = g_key_file_get_groups(c->kf, &n);
	for (i = 0; i < n; i++) {
		line = conf_group_line(c->text, gs[i]);
		if (strcmp(gs[i], "match") == 0)
			check_keys(c, gs[i], match_keys);
		else if (strcmp(gs[i], "upstream") == 0)
			check_keys(c, gs[i], upstream_keys);
		else if (strcmp(gs[i], "pop-before-smtp") == 0)
			check_keys(c, gs[i], profile_pop_keys);
		else if ((hint = conf_suggest(gs[i], groups)) != NULL)
			diag_error(c->d, c->path, line, gs[i], NULL,
			    "unknown group; did you mean [%s]?", hint);
		else
			diag_error(c->d, c->path, line, gs[i], NULL,
			    "unknown group; a profile has [match], [upstream] "
			    "and [pop-before-smtp]");
	}
	g_strfreev(gs);
}

void
pctx_parse_tls(struct pctx *c, const char *group, enum tls_mode *out)
{
	char	*v;
	size_t	 i;

	if ((v = pctx_get(c, group, "tls")) == NULL)
		return;
	for (i = 0; i < sizeof(tls_names) / sizeof(tls_names[0]); i++)
		if (strcmp(v, tls_names[i]) == 0)
			break;
	if (i == sizeof(tls_names) / sizeof(tls_names[0]))
		diag_error(c->d, c->path, pctx_key_line(c, group, "tls"),
		    group, "tls", "'%s' is not one of starttls, tls, none", v);
	else
		*out = (enum tls_mode)i;
	g_free(v);
}

/*
 * "attr=value attr=value": Secret Service attributes, as secret-tool
 * takes them ("secret-tool store --label=x service roamsmtp user alice").
 */
int
pctx_check_secret_attrs(struct pctx *c, const char *group, const char *value)
{
	gchar	**w = g_strsplit_set(value, " \t", -1);
	size_t	  i, n = 0;
	int	  bad = 0;

	for (i = 0; w[i] != NULL; i++) {
		const char	*eq;

		if (w[i][0] == '\0')
			continue;
		n++;
		if ((eq = strchr(w[i], '=')) == NULL || eq == w[i] ||
		    eq[1] == '\0')
			bad = 1;
	}
	g_strfreev(w);
	if (bad || n == 0) {
		diag_error(c->d, c->path, pctx_key_line(c, group,
		    "password-secret"), group, "password-secret", "'%s' is "
		    "not a list of attributes; write e.g. password-secret = "
		    "service=roamsmtp user=alice, as stored with secret-tool "
		    "store --label=roamsmtp service roamsmtp user alice",
		    value);
		return -1;
	}
	return 0;
}

static void
parse_tls_auth(struct pctx *c, struct profile *p, int *auth_set)
{
	char	*v;
	size_t	 i;

	pctx_parse_tls(c, "upstream", &p->tls);
	*auth_set = 0;
	if ((v = pctx_get(c, "upstream", "auth")) != NULL) {
		for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++)
			if (strcmp(v, auth_names[i]) == 0)
				break;
		if (i == sizeof(auth_names) / sizeof(auth_names[0]))
			diag_error(c->d, c->path,
			    pctx_key_line(c, "upstream", "auth"), "upstream",
			    "auth", "'%s' is not one of auto, plain, login, "
			    "cram-md5, scram-sha-256, xoauth2, oauthbearer, "
			    "none", v);
		else {
			p->auth = (enum auth_choice)i;
			*auth_set = 1;
		}
		g_free(v);
	}
}

static void
parse_port(struct pctx *c, struct profile *p)
{
	char		*v;
	guint64		 n;

	switch (p->tls) {
	case TLSMODE_IMPLICIT:
		p->port = 465;
		break;
	case TLSMODE_NONE:
		p->port = 25;
		break;
	default:
		p->port = 587;
		break;
	}
	if ((v = pctx_get(c, "upstream", "port")) == NULL)
		return;
	if (!g_ascii_string_to_unsigned(v, 10, 1, 65535, &n, NULL))
		diag_error(c->d, c->path, pctx_key_line(c, "upstream", "port"),
		    "upstream", "port", "'%s' is not a port number; write a "
		    "number from 1 to 65535", v);
	else
		p->port = (uint16_t)n;
	g_free(v);
}

static void
parse_credentials(struct pctx *c, struct profile *p, int auth_set)
{
	const char	*src;
	int		 line;

	int		 nsrc;

	p->user = pctx_get(c, "upstream", "user");
	p->password_command = pctx_get(c, "upstream", "password-command");
	p->password_file = get_path(c, "upstream", "password-file");
	p->password_secret = pctx_get(c, "upstream", "password-secret");
	p->token_command = pctx_get(c, "upstream", "token-command");
	get_bool(c, "upstream", "allow-plaintext-auth",
	    &p->allow_plaintext_auth);
	if (p->password_secret != NULL &&
	    pctx_check_secret_attrs(c, "upstream", p->password_secret) == -1)
		return;

	if (!auth_set)
		p->auth = p->token_command != NULL ? AUTHC_XOAUTH2 :
		    p->user != NULL ? AUTHC_AUTO : AUTHC_NONE;
	if (p->auth != AUTHC_NONE && p->user == NULL) {
		diag_error(c->d, c->path, pctx_key_line(c, "upstream", "auth"),
		    "upstream", "auth", "'%s' needs a user; add user = "
		    "your login, or write auth = none",
		    auth_choice_name(p->auth));
		return;
	}
	nsrc = (p->password_command != NULL) + (p->password_file != NULL) +
	    (p->password_secret != NULL);
	src = p->password_command != NULL ? "password-command" :
	    p->password_file != NULL ? "password-file" : "password-secret";
	if (p->auth == AUTHC_XOAUTH2 || p->auth == AUTHC_OAUTHBEARER) {
		if (p->token_command == NULL)
			diag_error(c->d, c->path, pctx_key_line(c, "upstream",
			    "auth"), "upstream", "auth", "'%s' needs "
			    "token-command = a command that prints an OAuth2 "
			    "access token", auth_choice_name(p->auth));
		else if (nsrc > 0)
			diag_warning(c->d, c->path, pctx_key_line(c,
			    "upstream", src), "upstream", src, "ignored: "
			    "OAuth2 logs in with the token");
		goto plaintext;
	}
	if (p->token_command != NULL)
		diag_warning(c->d, c->path, pctx_key_line(c, "upstream",
		    "token-command"), "upstream", "token-command", "ignored: "
		    "only auth = xoauth2 or oauthbearer uses a token");
	if (p->auth == AUTHC_NONE) {
		if (nsrc > 0)
			diag_warning(c->d, c->path,
			    pctx_key_line(c, "upstream", src), "upstream", src,
			    "ignored: no AUTH is used (auth = none)");
		return;
	}
	if (nsrc > 1) {
		diag_error(c->d, c->path,
		    pctx_key_line(c, "upstream", src), "upstream", src,
		    "more than one of password-command, password-file and "
		    "password-secret is set; keep one of them");
		return;
	}
	if (nsrc == 0) {
		diag_error(c->d, c->path, pctx_key_line(c, "upstream", "user"),
		    "upstream", "user", "no password for '%s'; add "
		    "password-command = ..., password-secret = attr=value ... "
		    "(the Secret Service) or password-file = ... (mode 0600)",
		    p->user);
		return;
	}
plaintext:
	if (p->tls == TLSMODE_NONE && !p->allow_plaintext_auth) {
		line = pctx_key_line(c, "upstream", "tls");
		diag_error(c->d, c->path, line, "upstream", "tls",
		    "'none' would send the password unencrypted; use tls = "
		    "starttls or tls, or add allow-plaintext-auth = yes if "
		    "you accept that");
	}
}

void
pctx_parse_pin(struct pctx *c, const char *group, int *has_pin,
    unsigned char *pin)
{
	char	*v;

	if ((v = pctx_get(c, group, "pin")) == NULL)
		return;
	if (profile_parse_pin(v, pin) == -1)
		diag_error(c->d, c->path, pctx_key_line(c, group, "pin"), group,
		    "pin", "'%s' is not a pin; write sha256// and the base64 "
		    "of the SHA-256 of the server's public key (44 characters, "
		    "ending in '='), as the error of a first connection shows "
		    "it", v);
	else
		*has_pin = 1;
	g_free(v);
}

static void
parse_tls_files(struct pctx *c, struct profile *p)
{
	if ((p->ca_file = get_path(c, "upstream", "ca-file")) != NULL &&
	    access(p->ca_file, R_OK) == -1)
		diag_error(c->d, c->path,
		    pctx_key_line(c, "upstream", "ca-file"), "upstream",
		    "ca-file", "cannot read %s: %s; give a file "
		    "of PEM certificates, or remove the line to use the "
		    "system store", p->ca_file, strerror(errno));
	pctx_parse_pin(c, "upstream", &p->has_pin, p->pin);
	if (p->tls == TLSMODE_NONE && (p->has_pin || p->ca_file != NULL))
		diag_warning(c->d, c->path, pctx_key_line(c, "upstream", "tls"),
		    "upstream", "tls", "'none': pin and ca-file are not used "
		    "without TLS");
}

/* Only the name here: whether that profile exists is profile_set_load's. */
static void
parse_fallback(struct pctx *c, struct profile *p)
{
	int	line;

	if ((p->fallback = pctx_get(c, "upstream", "fallback")) == NULL)
		return;
	line = pctx_key_line(c, "upstream", "fallback");
	if (!valid_name(p->fallback))
		diag_error(c->d, c->path, line, "upstream", "fallback", "'%s' "
		    "is not a profile name; write the name of another profile "
		    "file, without .conf", p->fallback);
	else if (strcmp(p->fallback, p->name) == 0)
		diag_error(c->d, c->path, line, "upstream", "fallback", "'%s' "
		    "is this profile; name another one, or remove the line",
		    p->fallback);
}

/* host = auto, discover =, envelope-from = */
static void
parse_discovery(struct pctx *c, struct profile *p)
{
	char	*v;
	size_t	 i;

	p->host_auto = p->host != NULL && strcmp(p->host, "auto") == 0;
	if ((v = pctx_get(c, "upstream", "discover")) != NULL) {
		for (i = 0; i < sizeof(discover_names) /
		    sizeof(discover_names[0]); i++)
			if (strcmp(v, discover_names[i]) == 0)
				break;
		if (i == sizeof(discover_names) / sizeof(discover_names[0]))
			diag_error(c->d, c->path, pctx_key_line(c, "upstream",
			    "discover"), "upstream", "discover", "'%s' is not "
			    "one of srv, search-domain", v);
		else
			p->discover = (enum discover_mode)i;
		if (!p->host_auto)
			diag_warning(c->d, c->path, pctx_key_line(c,
			    "upstream", "discover"), "upstream", "discover",
			    "ignored: only host = auto discovers its server");
		g_free(v);
	}
	if ((p->envelope_from = pctx_get(c, "upstream", "envelope-from")) !=
	    NULL && (has_space(p->envelope_from) ||
	    strchr(p->envelope_from, '@') == NULL ||
	    strpbrk(p->envelope_from, "<>") != NULL))
		diag_error(c->d, c->path, pctx_key_line(c, "upstream",
		    "envelope-from"), "upstream", "envelope-from", "'%s' is "
		    "not an address; write e.g. envelope-from = "
		    "alice@isp.example (no angle brackets)", p->envelope_from);
}

static void
parse_upstream(struct pctx *c, struct profile *p)
{
	int	auth_set;

	if (!g_key_file_has_group(c->kf, "upstream")) {
		diag_error(c->d, c->path, 0, "upstream", NULL, "missing; add "
		    "[upstream] with host = your mail server");
		return;
	}
	if ((p->host = pctx_get(c, "upstream", "host")) == NULL) {
		if (!g_key_file_has_key(c->kf, "upstream", "host", NULL))
			diag_error(c->d, c->path,
			    conf_group_line(c->text, "upstream"), "upstream",
			    "host", "missing; add host = your mail server's "
			    "name");
	} else if (has_space(p->host))
		diag_error(c->d, c->path, pctx_key_line(c, "upstream", "host"),
		    "upstream", "host", "'%s' is not a host name; write one "
		    "name or address", p->host);
	parse_tls_auth(c, p, &auth_set);
	parse_port(c, p);
	parse_credentials(c, p, auth_set);
	parse_tls_files(c, p);
	if ((p->helo = pctx_get(c, "upstream", "helo")) != NULL &&
	    has_space(p->helo))
		diag_error(c->d, c->path, pctx_key_line(c, "upstream", "helo"),
		    "upstream", "helo", "'%s' is not a host name; write one "
		    "name, or remove the line to use the daemon's", p->helo);
	parse_fallback(c, p);
	parse_discovery(c, p);
}

static char *
name_of(const char *path)
{
	const char	*base = strrchr(path, '/');
	size_t		 len, slen = strlen(PROFILE_SUFFIX);

	base = base != NULL ? base + 1 : path;
	len = strlen(base);
	if (len > slen && strcmp(base + len - slen, PROFILE_SUFFIX) == 0)
		len -= slen;
	return g_strndup(base, len);
}

struct profile *
profile_load(const char *path, struct diag *d)
{
	struct pctx	 c;
	struct profile	*p;
	GError		*gerr = NULL;
	gchar		*text = NULL;
	gsize		 len;
	int		 nerrors = d->nerrors;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		abort();
	p->path = g_strdup(path);
	p->name = name_of(path);
	if (!valid_name(p->name))
		diag_error(d, path, 0, NULL, NULL, "'%s' is not a profile "
		    "name; rename the file to NAME.conf, NAME of 1 to %d "
		    "letters, digits, '.', '_' or '-'", p->name,
		    PROFILE_NAME_MAX);

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		diag_error(d, path, 0, NULL, NULL, "%s", gerr->message);
		g_error_free(gerr);
		profile_free(p);
		return NULL;
	}
	memset(&c, 0, sizeof(c));
	c.path = path;
	c.dir = g_path_get_dirname(path);
	c.text = text;
	c.d = d;
	c.kf = g_key_file_new();
	if (!g_key_file_load_from_data(c.kf, text, len, G_KEY_FILE_NONE,
	    &gerr)) {
		diag_error(d, path, 0, NULL, NULL, "%s; fix the syntax "
		    "(lines are [group], key = value or # comment)",
		    gerr->message);
		g_error_free(gerr);
	} else {
		check_groups(&c);
		profile_parse_match(&c, p);
		parse_upstream(&c, p);
		profile_parse_pop(&c, p);
	}
	g_key_file_free(c.kf);
	g_free(c.dir);
	g_free(text);
	if (d->nerrors != nerrors) {
		profile_free(p);
		return NULL;
	}
	return p;
}

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	g_free(p->name);
	g_free(p->path);
	g_free(p->host);
	g_free(p->user);
	g_free(p->password_command);
	free(p->password_file);
	g_free(p->password_secret);
	g_free(p->token_command);
	g_free(p->envelope_from);
	profile_pop_free(&p->pop);
	free(p->ca_file);
	g_free(p->helo);
	g_free(p->fallback);
	profile_match_free(&p->match);
	OPENSSL_cleanse(p->pin, sizeof(p->pin));
	free(p);
}
