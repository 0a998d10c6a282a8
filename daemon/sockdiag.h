/*
 * sockdiag.h - who is on the other end of a loopback TCP connection.  Both
 * ends live in this kernel, so NETLINK_SOCK_DIAG (inet_diag) can tell the uid
 * that owns the client's socket: that is how the daemon refuses other local
 * users (no open relay, not even to the people on the same machine).
 */
#ifndef ROAMSMTP_SOCKDIAG_H
#define ROAMSMTP_SOCKDIAG_H

#include <sys/socket.h>
#include <sys/types.h>

/*
 * Find the uid owning the socket whose local address is peer and whose
 * remote address is local (i.e. the client's side of our accepted
 * connection).  Returns 0 and sets *uid, or -1 with errno (ENOENT when the
 * peer socket is not in this network namespace).
 */
int	sockdiag_peer_uid(const struct sockaddr *local,
	    const struct sockaddr *peer, uid_t *uid);

#endif
