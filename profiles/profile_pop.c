/*
 * profile_pop.c - the [pop-before-smtp] group of a profile:
 *
 *   [pop-before-smtp]
 *   host = pop.example.net
 *   port = 995                # default: 995 for tls, 110 otherwise
 *   tls = tls                 # tls (default) | starttls (STLS) | none
 *   auth = auto               # auto | user (USER/PASS) | apop
 *   user = alice              # default: [upstream] user
 *   password-command = ...    # default: [upstream]'s password source
 *   window = 300              # seconds the provider relays after a login
 *   allow-plaintext-auth = no
 *   ca-file = ...  pin = ...
 *
 * Parsed after [upstream], whose user and password it may borrow.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "profile_int.h"

/* Providers rarely say how long their window is; 5 minutes is common. */
#define POP_WINDOW_DEFAULT	300
/* A window over a day would be a misreading of the provider's rules. */
#define POP_WINDOW_MAX		86400

const char *const profile_pop_keys[] = { "host", "port", "tls", "auth",
	"user", "password-command", "password-file", "password-secret",
	"window", "allow-plaintext-auth", "ca-file", "pin", NULL };

static const char *const pop_auth_names[] = {
	[POPAUTH_AUTO] = "auto",
	[POPAUTH_USER] = "user",
	[POPAUTH_APOP] = "apop",
};

#define G	"pop-before-smtp"

static void
parse_number(struct pctx *c, const char *key, guint64 min, guint64 max,
    guint64 *out, const char *what)
{
	char	*v;

	if ((v = pctx_get(c, G, key)) == NULL)
		return;
	if (!g_ascii_string_to_unsigned(v, 10, min, max, out, NULL))
		diag_error(c->d, c->path, pctx_key_line(c, G, key), G, key,
		    "'%s' is not %s from %llu to %llu", v, what,
		    (unsigned long long)min, (unsigned long long)max);
	g_free(v);
}

static void
parse_auth(struct pctx *c, struct profile_pop *pop)
{
	char	*v;
	size_t	 i;

	if ((v = pctx_get(c, G, "auth")) == NULL)
		return;
	for (i = 0; i < sizeof(pop_auth_names) / sizeof(pop_auth_names[0]);
	    i++)
		if (strcmp(v, pop_auth_names[i]) == 0)
			break;
	if (i == sizeof(pop_auth_names) / sizeof(pop_auth_names[0]))
		diag_error(c->d, c->path, pctx_key_line(c, G, "auth"), G,
		    "auth", "'%s' is not one of auto, user, apop", v);
	else
		pop->auth = (enum pop_auth)i;
	g_free(v);
}

/* The login: its own, else the [upstream] one. */
static void
parse_login(struct pctx *c, struct profile *p, struct profile_pop *pop)
{
	int	nsrc;

	pop->user = pctx_get(c, G, "user");
	pop->password_command = pctx_get(c, G, "password-command");
	pop->password_file = pctx_get_path(c, G, "password-file");
	pop->password_secret = pctx_get(c, G, "password-secret");
	if (pop->password_secret != NULL &&
	    pctx_check_secret_attrs(c, G, pop->password_secret) == -1)
		return;
	nsrc = (pop->password_command != NULL) +
	    (pop->password_file != NULL) + (pop->password_secret != NULL);
	if (nsrc > 1) {
		diag_error(c->d, c->path, pctx_key_line(c, G, "user"), G,
		    "user", "more than one of password-command, password-file "
		    "and password-secret is set; keep one of them");
		return;
	}
	if (pop->user == NULL && p->user != NULL)
		pop->user = g_strdup(p->user);
	if (nsrc == 0) {
		if (p->password_command != NULL)
			pop->password_command = g_strdup(p->password_command);
		else if (p->password_file != NULL)
			pop->password_file = strdup(p->password_file);
		else if (p->password_secret != NULL)
			pop->password_secret = g_strdup(p->password_secret);
		else
			nsrc = -1;
	}
	if (pop->user == NULL || nsrc == -1)
		diag_error(c->d, c->path, conf_group_line(c->text, G), G,
		    pop->user == NULL ? "user" : "password-command", "the POP3 "
		    "login needs a user and a password: set user and "
		    "password-command (or password-file, password-secret) "
		    "here or in [upstream]");
}

void
profile_parse_pop(struct pctx *c, struct profile *p)
{
	struct profile_pop	*pop = &p->pop;
	guint64			 n;

	if (!g_key_file_has_group(c->kf, G))
		return;
	pop->enabled = 1;
	pop->tls = TLSMODE_IMPLICIT;
	pop->window = POP_WINDOW_DEFAULT;
	if ((pop->host = pctx_get(c, G, "host")) == NULL &&
	    !g_key_file_has_key(c->kf, G, "host", NULL))
		diag_error(c->d, c->path, conf_group_line(c->text, G), G,
		    "host", "missing; add host = your provider's POP3 server");
	pctx_parse_tls(c, G, &pop->tls);
	n = pop->tls == TLSMODE_IMPLICIT ? 995 : 110;
	parse_number(c, "port", 1, 65535, &n, "a port number");
	pop->port = (uint16_t)n;
	n = pop->window;
	parse_number(c, "window", 10, POP_WINDOW_MAX, &n, "a number of "
	    "seconds");
	pop->window = (unsigned)n;
	parse_auth(c, pop);
	pctx_get_bool(c, G, "allow-plaintext-auth",
	    &pop->allow_plaintext_auth);
	parse_login(c, p, pop);
	if ((pop->ca_file = pctx_get_path(c, G, "ca-file")) != NULL &&
	    access(pop->ca_file, R_OK) == -1)
		diag_error(c->d, c->path, pctx_key_line(c, G, "ca-file"), G,
		    "ca-file", "cannot read %s; give a file of PEM "
		    "certificates, or remove the line to use the system store",
		    pop->ca_file);
	pctx_parse_pin(c, G, &pop->has_pin, pop->pin);
	if (pop->tls == TLSMODE_NONE && pop->auth == POPAUTH_USER &&
	    !pop->allow_plaintext_auth) {
		diag_error(c->d, c->path, pctx_key_line(c, G, "tls"), G, "tls",
		    "'none' with auth = user would send the password "
		    "unencrypted; use tls = tls or starttls, auth = apop, or "
		    "allow-plaintext-auth = yes if you accept that");
	}
}

void
profile_pop_free(struct profile_pop *pop)
{
	g_free(pop->host);
	g_free(pop->user);
	g_free(pop->password_command);
	free(pop->password_file);
	g_free(pop->password_secret);
	free(pop->ca_file);
	memset(pop, 0, sizeof(*pop));
}
