/* msgcopy.c - see msgcopy.h. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "msgcopy.h"

void
msgcopy_init(struct msgcopy *mc, struct queue *q)
{
	mc->queue = q;
	mc->hold = NULL;
	mc->spool.fd = -1;
	mc->err = 0;
}

/* Write up to limit bytes of the hold to the spool file and empty it. */
static int
msgcopy_flush_hold(struct msgcopy *mc, uint64_t limit)
{
	struct evbuffer_iovec	v;
	size_t			n;

	while (evbuffer_peek(mc->hold, -1, NULL, &v, 1) == 1 && limit > 0) {
		n = v.iov_len < limit ? v.iov_len : (size_t)limit;
		if (spool_write(&mc->spool, v.iov_base, n) == -1)
			return -1;
		limit -= n;
		evbuffer_drain(mc->hold, v.iov_len);
	}
	evbuffer_drain(mc->hold, evbuffer_get_length(mc->hold));
	return 0;
}

int
msgcopy_start(struct msgcopy *mc, int on_disk)
{
	mc->err = 0;
	if (mc->hold == NULL && (mc->hold = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	if (on_disk && spool_begin(mc->queue, &mc->spool) == -1) {
		mc->err = errno;
		return -1;
	}
	return 0;
}

void
msgcopy_add(struct msgcopy *mc, const void *p, size_t n)
{
	if (mc->err)
		return;
	if (mc->spool.fd == -1) {
		if (evbuffer_get_length(mc->hold) + n <= MSGCOPY_HOLD_MAX) {
			evbuffer_add(mc->hold, p, n);
			return;
		}
		if (spool_begin(mc->queue, &mc->spool) == -1 ||
		    msgcopy_flush_hold(mc, UINT64_MAX) == -1) {
			mc->err = errno;
			return;
		}
	}
	if (spool_write(&mc->spool, p, n) == -1)
		mc->err = errno;
}

int
msgcopy_commit(struct msgcopy *mc, uint64_t len, struct qmsg *m)
{
	int	saved;

	if (mc->err) {
		saved = mc->err;
		msgcopy_discard(mc);
		errno = saved;
		return -1;
	}
	if (mc->spool.fd == -1) {
		if (spool_begin(mc->queue, &mc->spool) == -1 ||
		    msgcopy_flush_hold(mc, len) == -1)
			goto fail;
	} else {
		/* The file holds the terminator too: cut it off. */
		if (ftruncate(mc->spool.fd, (off_t)len) == -1)
			goto fail;
		mc->spool.size = len;
	}
	if (spool_commit(mc->queue, &mc->spool, m) == -1) {
		mc->spool.fd = -1;	/* spool_commit removed it */
		return -1;
	}
	mc->spool.fd = -1;
	return 0;
fail:
	saved = errno;
	msgcopy_discard(mc);
	errno = saved;
	return -1;
}

void
msgcopy_discard(struct msgcopy *mc)
{
	if (mc->hold)
		evbuffer_drain(mc->hold, evbuffer_get_length(mc->hold));
	if (mc->spool.fd != -1)
		spool_abort(mc->queue, &mc->spool);
	mc->spool.fd = -1;
	mc->err = 0;
}

void
msgcopy_free(struct msgcopy *mc)
{
	msgcopy_discard(mc);
	if (mc->hold)
		evbuffer_free(mc->hold);
	mc->hold = NULL;
}
