/* test_sockdiag.c - the owner of the client's end of a loopback TCP
 * connection is found through NETLINK_SOCK_DIAG. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockdiag.h"

struct conn {
	int			lfd, cfd, afd;
	struct sockaddr_storage	local, peer;	/* of the accepted socket */
};

/* Listen on an ephemeral loopback port, connect to it, accept.  0, or -1
 * when the family is not available here (no IPv6). */
static int
conn_open(struct conn *c, int family)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	memset(c, 0, sizeof(*c));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	c->lfd = socket(family, SOCK_STREAM, 0);
	if (c->lfd == -1)
		return -1;
	if (bind(c->lfd, (struct sockaddr *)&ss, len) == -1) {
		close(c->lfd);
		return -1;
	}
	assert_int_equal(listen(c->lfd, 1), 0);
	assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&ss, &len), 0);
	c->cfd = socket(family, SOCK_STREAM, 0);
	assert_true(c->cfd >= 0);
	assert_int_equal(connect(c->cfd, (struct sockaddr *)&ss, len), 0);
	c->afd = accept(c->lfd, NULL, NULL);
	assert_true(c->afd >= 0);
	len = sizeof(c->local);
	assert_int_equal(getsockname(c->afd, (struct sockaddr *)&c->local,
	    &len), 0);
	len = sizeof(c->peer);
	assert_int_equal(getpeername(c->afd, (struct sockaddr *)&c->peer,
	    &len), 0);
	return 0;
}

static void
conn_close(struct conn *c)
{
	close(c->afd);
	close(c->cfd);
	close(c->lfd);
}

static void
test_ipv4_peer_is_me(void **state)
{
	struct conn	c;
	uid_t		uid = (uid_t)-1;

	assert_int_equal(conn_open(&c, AF_INET), 0);
	assert_int_equal(sockdiag_peer_uid((struct sockaddr *)&c.local,
	    (struct sockaddr *)&c.peer, &uid), 0);
	assert_int_equal(uid, getuid());
	conn_close(&c);
}

static void
test_ipv6_peer_is_me(void **state)
{
	struct conn	c;
	uid_t		uid = (uid_t)-1;

	if (conn_open(&c, AF_INET6) == -1)
		skip();
	assert_int_equal(sockdiag_peer_uid((struct sockaddr *)&c.local,
	    (struct sockaddr *)&c.peer, &uid), 0);
	assert_int_equal(uid, getuid());
	conn_close(&c);
}

static void
test_unknown_tuple_is_enoent(void **state)
{
	struct conn		c;
	struct sockaddr_in	*p;
	uid_t			uid = 12345;

	assert_int_equal(conn_open(&c, AF_INET), 0);
	/* Nobody is connected from this port. */
	p = (struct sockaddr_in *)&c.peer;
	p->sin_port = htons(ntohs(p->sin_port) == 1 ? 2 : 1);
	assert_int_equal(sockdiag_peer_uid((struct sockaddr *)&c.local,
	    (struct sockaddr *)&c.peer, &uid), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(uid, 12345);
	conn_close(&c);
}

/* A v6 socket bound to ::ffff:127.0.0.1 accepts a plain IPv4 client: the
 * addresses we see are mapped, the client's socket is AF_INET. */
static void
test_v4_mapped_peer_is_me(void **state)
{
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
	struct sockaddr_storage	local, peer;
	socklen_t		len;
	uid_t			uid = (uid_t)-1;
	int			lfd, cfd, afd, off = 0;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	if ((lfd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		skip();
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		close(lfd);
		skip();
	}
	assert_int_equal(listen(lfd, 1), 0);
	len = sizeof(sin6);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin6, &len), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = sin6.sin6_port;
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	len = sizeof(local);
	getsockname(afd, (struct sockaddr *)&local, &len);
	len = sizeof(peer);
	getpeername(afd, (struct sockaddr *)&peer, &len);
	assert_int_equal(peer.ss_family, AF_INET6);
	assert_int_equal(sockdiag_peer_uid((struct sockaddr *)&local,
	    (struct sockaddr *)&peer, &uid), 0);
	assert_int_equal(uid, getuid());
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * The point of it all: another user's client is seen as that user.  Only
 * root can become another user, so this runs as root only (where the other
 * tests could not tell "me" from a uid of 0 reported for nobody).
 */
#define OTHER_UID	65534

static void
test_other_user_is_seen(void **state)
{
	struct sockaddr_in	sin;
	struct sockaddr_storage	local, peer;
	socklen_t		len;
	uid_t			uid = (uid_t)-1;
	pid_t			pid;
	int			lfd, afd, go[2], status;
	char			c = 0;

	if (getuid() != 0)
		skip();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	len = sizeof(sin);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		int	fd;

		close(go[1]);
		if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) == -1 ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) == -1)
			_exit(2);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(3);
		/* Hold the connection until the parent has looked. */
		(void)read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	len = sizeof(local);
	getsockname(afd, (struct sockaddr *)&local, &len);
	len = sizeof(peer);
	getpeername(afd, (struct sockaddr *)&peer, &len);
	assert_int_equal(sockdiag_peer_uid((struct sockaddr *)&local,
	    (struct sockaddr *)&peer, &uid), 0);
	assert_int_equal(write(go[1], &c, 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(uid, OTHER_UID);
	close(afd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_peer_is_me),
		cmocka_unit_test(test_ipv6_peer_is_me),
		cmocka_unit_test(test_unknown_tuple_is_enoent),
		cmocka_unit_test(test_v4_mapped_peer_is_me),
		cmocka_unit_test(test_other_user_is_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
