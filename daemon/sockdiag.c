/* sockdiag.c - see sockdiag.h. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sockdiag.h"

/* One inet_diag_msg and its attributes fit easily; we ask for none. */
#define SOCKDIAG_BUF	8192

/* The four-tuple of the client's socket, as inet_diag wants it. */
struct tuple {
	int		family;
	uint32_t	src[4], dst[4];
	uint16_t	sport, dport;	/* network order */
};

/*
 * From the client's point of view: its source is our peer, its destination
 * our local address.  An IPv4-mapped IPv6 pair on our side may be a plain
 * IPv4 socket on the client's side; *mapped says so.
 */
static int
make_tuple(const struct sockaddr *local, const struct sockaddr *peer,
    struct tuple *t, int *mapped)
{
	const struct sockaddr_in	*l4, *p4;
	const struct sockaddr_in6	*l6, *p6;

	memset(t, 0, sizeof(*t));
	*mapped = 0;
	if (local->sa_family != peer->sa_family)
		return -1;
	if (local->sa_family == AF_INET) {
		l4 = (const struct sockaddr_in *)local;
		p4 = (const struct sockaddr_in *)peer;
		t->family = AF_INET;
		t->src[0] = p4->sin_addr.s_addr;
		t->sport = p4->sin_port;
		t->dst[0] = l4->sin_addr.s_addr;
		t->dport = l4->sin_port;
		return 0;
	}
	if (local->sa_family == AF_INET6) {
		l6 = (const struct sockaddr_in6 *)local;
		p6 = (const struct sockaddr_in6 *)peer;
		t->family = AF_INET6;
		memcpy(t->src, &p6->sin6_addr, 16);
		t->sport = p6->sin6_port;
		memcpy(t->dst, &l6->sin6_addr, 16);
		t->dport = l6->sin6_port;
		*mapped = IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr) &&
		    IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr);
		return 0;
	}
	return -1;
}

static void
unmap(struct tuple *t)
{
	t->family = AF_INET;
	t->src[0] = t->src[3];
	t->dst[0] = t->dst[3];
	t->src[1] = t->src[2] = t->src[3] = 0;
	t->dst[1] = t->dst[2] = t->dst[3] = 0;
}

static int
query(int fd, const struct tuple *t, uint32_t seq, uid_t *uid)
{
	struct {
		struct nlmsghdr		nlh;
		struct inet_diag_req_v2	req;
	} msg;
	struct sockaddr_nl	 sa;
	union {
		char		 buf[SOCKDIAG_BUF];
		struct nlmsghdr	 align;
	} rb;
	struct nlmsghdr		*h;
	struct nlmsgerr		*e;
	struct inet_diag_msg	*m;
	ssize_t			 n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;	/* one socket, not a dump */
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = t->family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;
	msg.req.id.idiag_sport = t->sport;
	msg.req.id.idiag_dport = t->dport;
	memcpy(msg.req.id.idiag_src, t->src, sizeof(t->src));
	memcpy(msg.req.id.idiag_dst, t->dst, sizeof(t->dst));
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		return -1;

	for (;;) {
		n = recv(fd, rb.buf, sizeof(rb.buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (h = &rb.align; NLMSG_OK(h, n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					errno = EPROTO;
				else
					errno = e->error != 0 ? -e->error :
					    ENOENT;
				return -1;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				errno = ENOENT;
				return -1;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			m = NLMSG_DATA(h);
			/* Only the client's own socket, alive: a socket in
			 * TIME_WAIT has no owner any more (uid 0). */
			if (m->id.idiag_sport != t->sport ||
			    m->id.idiag_dport != t->dport ||
			    m->idiag_state == TCP_TIME_WAIT ||
			    m->idiag_state == TCP_LISTEN) {
				errno = ENOENT;
				return -1;
			}
			*uid = m->idiag_uid;
			return 0;
		}
	}
}

int
sockdiag_peer_uid(const struct sockaddr *local, const struct sockaddr *peer,
    uid_t *uid)
{
	struct tuple	t;
	int		fd, mapped, r, saved;

	if (make_tuple(local, peer, &t, &mapped) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -1;
	if (mapped) {
		/* A client on 127.0.0.1 reached our dual-stack socket. */
		struct tuple	t4 = t;

		unmap(&t4);
		if ((r = query(fd, &t4, 1, uid)) == 0 || errno != ENOENT) {
			saved = errno;
			close(fd);
			errno = saved;
			return r;
		}
	}
	r = query(fd, &t, 2, uid);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}
