/*
 * msgcopy.h - the safety copy of a message in flight.
 *
 * Online, the body streams to the upstream; a copy is kept so that an
 * upstream dying mid-DATA costs nothing: the copy is then committed to the
 * queue.  A small message is copied in memory (no file created and removed
 * for every message: that cost more than the whole relay); past
 * MSGCOPY_HOLD_MAX the copy moves to a spool file, so memory stays bounded
 * whatever the size.  Offline the copy goes to the spool file from the start.
 */
#ifndef ROAMSMTP_MSGCOPY_H
#define ROAMSMTP_MSGCOPY_H

#include <stdint.h>

#include <event2/buffer.h>

#include "queue.h"

/* In memory up to this; 500 sessions at most hold 32 MiB together. */
#define MSGCOPY_HOLD_MAX	(64 * 1024)

struct msgcopy {
	struct queue	*queue;
	struct evbuffer	*hold;		/* the copy while small */
	struct spool	 spool;		/* the copy once large, or offline */
	int		 err;		/* errno of the first failure, sticky */
};

void	msgcopy_init(struct msgcopy *, struct queue *);
/* Begin a message; on_disk opens the spool file at once.  -1 and errno. */
int	msgcopy_start(struct msgcopy *, int on_disk);
/* Append bytes; a failure is remembered in ->err (ENOSPC...). */
void	msgcopy_add(struct msgcopy *, const void *, size_t);
/*
 * Commit the first len bytes (the message without its ".\r\n") to the queue
 * with envelope m: fsynced before this returns 0.  -1 and errno otherwise;
 * the copy is gone either way.
 */
int	msgcopy_commit(struct msgcopy *, uint64_t len, struct qmsg *m);
/* Throw the copy away (delivered, or refused). */
void	msgcopy_discard(struct msgcopy *);
/* Free the hold buffer (session end). */
void	msgcopy_free(struct msgcopy *);

#endif
