/*
 * queue.h - the durable message queue on disk.
 *
 * Layout under the queue directory (state-dir/queue):
 *   tmp/ID        a message being received (the spool); never trusted
 *   ID.msg        the message, in SMTP transfer form (dot-stuffed, CRLF
 *                 lines), without the terminating ".\r\n"
 *   ID.env        the envelope, JSON (see queue.c), written last: a message
 *                 exists once its .env exists
 *
 * A message is committed by: fsync(tmp/ID); rename to ID.msg; write
 * tmp/ID.env, fsync, rename to ID.env; fsync the directory.  Only then may
 * the client be told 250.  At startup tmp/ is emptied and a .msg without
 * .env is removed (it never got its 250); an .env without .msg is reported
 * and kept out of delivery.
 *
 * Memory: a struct qmsg holds the envelope only, never the body.
 */
#ifndef ROAMSMTP_QUEUE_H
#define ROAMSMTP_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUEUE_ID_LEN	16	/* hex characters */

enum qstate {
	QSTATE_QUEUED,		/* waiting for (another) delivery attempt */
	QSTATE_FAILED,		/* permanent failure; kept until retry/delete */
};

struct qmsg {
	char		id[QUEUE_ID_LEN + 1];
	enum qstate	state;
	char		*from;		/* envelope sender, "" for <> */
	char		**rcpt;		/* envelope recipients */
	size_t		nrcpt;
	int		body_8bitmime;
	int		smtputf8;
	uint64_t	size;		/* bytes of ID.msg */
	time_t		created;
	unsigned	attempts;
	time_t		next_attempt;	/* 0 = as soon as possible */
	char		*last_error;	/* NULL or the last attempt's reason */
	char		*subject;	/* NULL or the Subject header, for listings */
	int		delay_warned;	/* the sender was told of the delay */
};

/* Make a new random id (QUEUE_ID_LEN hex characters, NUL terminated). */
void	queue_new_id(char id[QUEUE_ID_LEN + 1]);

struct queue;

/*
 * Open (creating it and its parents, mode 0700) the queue directory, lock
 * it (flock; a second opener fails, in this process too) and clean tmp/.
 * On error returns NULL and writes a reason to err.
 */
struct queue	*queue_open(const char *dir, char *err, size_t errlen);
void		 queue_close(struct queue *);
const char	*queue_dir(const struct queue *);

/*
 * Load every committed envelope, oldest first.  *out receives a malloc'ed
 * array of malloc'ed qmsgs (free each with qmsg_free, then the array).  A
 * damaged envelope (bad JSON, id not its file name, no .msg or a .msg of
 * another size than "size") is logged with its file name and skipped, never
 * deleted.  A .msg without .env is removed, so call this only when no
 * spool_commit() is half done (always true in the single-threaded daemon).
 */
int	queue_scan(struct queue *, struct qmsg ***out, size_t *n);

/* The spool: a message being received, body written as it streams. */
struct spool {
	char		id[QUEUE_ID_LEN + 1];
	int		fd;		/* -1 when not open */
	uint64_t	size;
};

/* Start a spool file with a new id.  -1 and errno on failure. */
int	spool_begin(struct queue *, struct spool *);
/* Append bytes; -1 and errno on failure (ENOSPC: answer 452). */
int	spool_write(struct spool *, const void *, size_t);
/*
 * Make the spooled message durable with the envelope m (m->id is set from
 * the spool, m->size from what was written, m->created to now when 0, and
 * m->subject from the body's Subject header when NULL).  Returns 0 once
 * everything is fsynced; -1 and errno otherwise (EINVAL: m has no from or
 * no rcpt), in which case the spool is removed.
 */
int	spool_commit(struct queue *, struct spool *, struct qmsg *m);
/* Throw a spool away (no 250 was given for it). */
void	spool_abort(struct queue *, struct spool *);

/* Rewrite a message's envelope atomically (state, attempts, errors). */
int	queue_update(struct queue *, const struct qmsg *);
/* Remove a message: .env first, then .msg.  0, or -1 and errno. */
int	queue_remove(struct queue *, const char *id);
/* Open a message's body read-only; -1 and errno on failure. */
int	queue_open_body(struct queue *, const char *id);

/* Serialise/parse an envelope (exposed for tests and fuzzing). */
char	*qmsg_to_json(const struct qmsg *);
struct qmsg *qmsg_from_json(const char *text, size_t len, char *err,
	    size_t errlen);
struct qmsg *qmsg_new(void);
void	qmsg_free(struct qmsg *);
/* Append a copy of rcpt to m->rcpt; -1 (ENOMEM) on failure. */
int	qmsg_add_rcpt(struct qmsg *, const char *rcpt);
const char *qstate_name(enum qstate);

#endif
