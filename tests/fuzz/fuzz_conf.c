/*
 * fuzz_conf.c - the daemon's settings file, roamsmtp.conf: GKeyFile, every
 * [daemon] key, listen addresses, sizes, paths.
 *
 * The input is written to a scratch file and loaded.  Properties: a file
 * that loads has at least one listener, all on loopback as written, and
 * the folders set; one that does not has an error to show.  Files it names
 * (client-auth-password-file) are only read, never written.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "diag.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static int
is_loopback(const struct conf_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (l->ss.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&l->ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&l->ss;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon_conf	conf;
	struct diag		d;
	char			path[PATH_MAX];
	size_t			i;

	snprintf(path, sizeof(path), "%s/roamsmtp.conf", fuzz_tmpdir());
	fuzz_write_file(path, data, size);
	memset(&conf, 0, sizeof(conf));
	diag_init(&d);
	if (conf_load(path, &conf, &d) == 0) {
		CHECK(conf.nlisten >= 1 && conf.nlisten <= CONF_LISTEN_MAX);
		for (i = 0; i < conf.nlisten; i++)
			CHECK(is_loopback(&conf.listen[i]));
		CHECK(conf.state_dir != NULL && conf.runtime_dir != NULL &&
		    conf.profiles_dir != NULL && conf.hostname != NULL);
		CHECK(conf.max_sessions > 0 && conf.max_recipients > 0);
	} else
		CHECK(d.nerrors > 0);
	conf_free(&conf);
	diag_free(&d);
	return 0;
}
