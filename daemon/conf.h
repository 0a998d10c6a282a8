/*
 * conf.h - the daemon's own settings, roamsmtp.conf ([daemon] group).  Every
 * setting is optional; with no file the daemon runs on built-in defaults.
 *
 *   [daemon]
 *   listen = 127.0.0.1:25 [::1]:25     # loopback addresses only
 *   state-dir = ~/.local/state/roamsmtp          # $XDG_STATE_HOME/roamsmtp
 *   runtime-dir = /run/user/1000/roamsmtp        # $XDG_RUNTIME_DIR/roamsmtp
 *   profiles-dir = ~/.config/roamsmtp/profiles   # $XDG_CONFIG_HOME/...
 *   hostname = alice-laptop            # greeting and default HELO name
 *   max-message-size = 67108864        # bytes; also announced as SIZE
 *   max-recipients = 1000
 *   max-sessions = 500
 *   client-auth-user = alice           # AUTH a local client may use
 *   client-auth-password-file = ~/.config/roamsmtp/client.pass  (mode 0600)
 *   network-backend = auto             # auto | networkmanager | netlink | none
 *   metered-max-size = 1048576         # on a metered network, bigger
 *                                      #   messages wait (0 = no limit)
 *   queue-lifetime = 345600            # seconds a message may wait (4 d)
 *   delay-warning = 14400              # seconds before the sender hears
 *                                      #   of a delay (0 = never)
 *   dns-server = 127.0.0.1:5353        # default: the system's resolv.conf
 *
 * Relative paths are taken from the config file's folder.  A leading "~/"
 * is the user's home.
 */
#ifndef ROAMSMTP_CONF_H
#define ROAMSMTP_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "diag.h"

#define CONF_LISTEN_MAX	8

struct conf_listen {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as written, e.g. "[::1]:25" */
};

struct daemon_conf {
	char			*path;		/* file read; NULL when none */
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	char			*state_dir;
	char			*runtime_dir;
	char			*profiles_dir;
	char			*hostname;
	uint64_t		 max_message_size;
	unsigned		 max_recipients;
	unsigned		 max_sessions;
	char			*client_auth_user;
	char			*client_auth_password;	/* read from its file */
	int			 network_backend;	/* enum netwatch_backend */
	uint64_t		 metered_max_size;	/* 0 = no limit */
	unsigned		 queue_lifetime;	/* seconds */
	unsigned		 delay_warning;		/* seconds, 0 = never */
	char			*dns_server;		/* NULL: resolv.conf */
};

/*
 * The default config path: $XDG_CONFIG_HOME/roamsmtp/roamsmtp.conf (or
 * ~/.config/...).  Caller frees.
 */
char	*conf_default_path(void);

/*
 * Load settings.  path NULL means the default path, where a missing file is
 * fine (defaults); a path given explicitly must exist.  Returns 0, or -1
 * with the reasons in d (file:line: [group] key: what, and what to do).
 * Unknown groups and keys are errors (a typo must not pass silently).
 */
int	conf_load(const char *path, struct daemon_conf *, struct diag *d);
void	conf_free(struct daemon_conf *);

/* Parse "127.0.0.1:25", "[::1]:25", "localhost:2525".  0 on success. */
int	conf_parse_listen(const char *text, struct conf_listen *out,
	    const char **why);

#endif
