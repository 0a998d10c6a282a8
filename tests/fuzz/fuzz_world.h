/*
 * fuzz_world.h - a daemon without its listeners, for the targets that drive
 * real sessions: an event base, settings, a queue in a scratch folder and a
 * router with no profile (so every message takes the queue path and no
 * byte leaves the process).  Made fresh for every input, so that one input
 * cannot change what the next one finds and every crash replays alone.
 */
#ifndef ROAMSMTP_FUZZ_WORLD_H
#define ROAMSMTP_FUZZ_WORLD_H

#include <event2/event.h>

#include "conf.h"
#include "queue.h"
#include "router.h"

/* Limits small enough for a fuzzer to reach. */
#define WORLD_MAX_MESSAGE_SIZE	8192
#define WORLD_MAX_RECIPIENTS	3
/* Two messages every world starts with (control targets name them). */
#define WORLD_ID_QUEUED		"0123456789abcdef"
#define WORLD_ID_FAILED		"fedcba9876543210"

struct world {
	struct event_base	*base;
	struct daemon_conf	 conf;
	struct queue		*queue;
	struct router		*router;
	char			 dir[4096];	/* the state folder */
};

void	world_init(struct world *);
void	world_free(struct world *);

#endif
