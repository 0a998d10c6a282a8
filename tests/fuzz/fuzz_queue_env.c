/*
 * fuzz_queue_env.c - the queue's on-disk envelope (ID.env, JSON): what the
 * daemon reads back at every start, from files a crash, a full disk or a
 * hand edit may have damaged.
 *
 * Properties: an envelope that parses has a valid id and a sender, and
 * survives a round trip: written again and read back, it has the same
 * envelope, and once written its text is stable (written a second time,
 * the same bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmsg	*m, *m2;
	char		 err[256], *text, *text2;
	size_t		 i;

	err[0] = '\0';
	m = qmsg_from_json((const char *)data, size, err, sizeof(err));
	if (m == NULL) {
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(strlen(m->id) == QUEUE_ID_LEN);
	CHECK(m->from != NULL);
	CHECK(m->nrcpt == 0 || m->rcpt != NULL);
	(void)qstate_name(m->state);

	text = qmsg_to_json(m);
	CHECK(text != NULL);
	m2 = qmsg_from_json(text, strlen(text), err, sizeof(err));
	if (m2 == NULL) {
		fprintf(stderr, "written envelope not read back: %s\n%s\n",
		    err, text);
		abort();
	}
	CHECK(strcmp(m->id, m2->id) == 0);
	CHECK(strcmp(m->from, m2->from) == 0);
	CHECK(m->nrcpt == m2->nrcpt);
	for (i = 0; i < m->nrcpt; i++)
		CHECK(strcmp(m->rcpt[i], m2->rcpt[i]) == 0);
	/* Texts for listings are cleaned when written (control characters
	 * as spaces): present or absent alike, then stable. */
	CHECK((m->last_error == NULL) == (m2->last_error == NULL));
	CHECK((m->subject == NULL) == (m2->subject == NULL));
	/* Every field, those added later too: written again, the same text. */
	CHECK((text2 = qmsg_to_json(m2)) != NULL);
	if (strcmp(text, text2) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", text, text2);
		abort();
	}
	free(text2);
	free(text);
	qmsg_free(m2);
	qmsg_free(m);
	return 0;
}
