/* fuzz_world.c - see fuzz_world.h. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "log.h"
#include "profile.h"
#include "fuzz.h"
#include "fuzz_world.h"

#define FIXTURE_BODY	"Subject: fixture\r\n\r\nhello\r\n"

static void
fixture(const char *qdir, const char *id, enum qstate state)
{
	struct qmsg	*m;
	char		 path[4200], *json;

	if ((m = qmsg_new()) == NULL || (m->from = strdup("a@b.test")) == NULL ||
	    qmsg_add_rcpt(m, "c@d.test") == -1)
		abort();
	memcpy(m->id, id, QUEUE_ID_LEN + 1);
	m->state = state;
	m->size = strlen(FIXTURE_BODY);
	m->created = time(NULL);
	m->last_error = state == QSTATE_FAILED ? strdup("550 no") : NULL;
	if ((json = qmsg_to_json(m)) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/%s.msg", qdir, id);
	fuzz_write_file(path, (const uint8_t *)FIXTURE_BODY,
	    strlen(FIXTURE_BODY));
	snprintf(path, sizeof(path), "%s/%s.env", qdir, id);
	fuzz_write_file(path, (const uint8_t *)json, strlen(json));
	free(json);
	qmsg_free(m);
}

/*
 * The settings, read once from a file the way the daemon reads them, so
 * that every default (lifetimes, warnings) is the daemon's own.
 */
static struct daemon_conf	conf;
static int			conf_loaded;

static void
load_conf(const char *dir)
{
	struct diag	d;
	char		path[4200], pass[4200], text[16384];
	int		n;

	if (conf_loaded)
		return;
	snprintf(pass, sizeof(pass), "%s/client.pass", fuzz_tmpdir());
	fuzz_write_file(pass, (const uint8_t *)"secret\n", 7);
	n = snprintf(text, sizeof(text), "[daemon]\n"
	    "listen = 127.0.0.1:2525\n"
	    "state-dir = %s\nruntime-dir = %s\nprofiles-dir = %s\n"
	    "hostname = fuzz.test\n"
	    "max-message-size = %d\nmax-recipients = %d\n"
	    "max-sessions = 10\nnetwork-backend = none\n"
	    "client-auth-user = alice\nclient-auth-password-file = %s\n",
	    dir, dir, dir, WORLD_MAX_MESSAGE_SIZE, WORLD_MAX_RECIPIENTS, pass);
	snprintf(path, sizeof(path), "%s/roamsmtp.conf", fuzz_tmpdir());
	fuzz_write_file(path, (const uint8_t *)text, (size_t)n);
	diag_init(&d);
	if (conf_load(path, &conf, &d) == -1) {
		fprintf(stderr, "fuzz: the world's settings do not load\n");
		abort();
	}
	diag_free(&d);
	conf_loaded = 1;
}

void
world_init(struct world *w)
{
	struct profile_set	 none = { NULL, 0 };
	char			 qdir[4200], err[512];
	static int		 logging;

	if (!logging) {
		/* syslog, not stderr: libFuzzer's output stays readable. */
		log_init(0, 0);
		logging = 1;
	}
	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "%s/state", fuzz_tmpdir());
	fuzz_empty_dir(w->dir);
	(void)mkdir(w->dir, 0700);
	snprintf(qdir, sizeof(qdir), "%s/queue", w->dir);
	(void)mkdir(qdir, 0700);
	fixture(qdir, WORLD_ID_QUEUED, QSTATE_QUEUED);
	fixture(qdir, WORLD_ID_FAILED, QSTATE_FAILED);

	if ((w->base = event_base_new()) == NULL)
		abort();
	load_conf(w->dir);
	w->conf = conf;
	if ((w->queue = queue_open(qdir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz: queue_open: %s\n", err);
		abort();
	}
	w->router = router_new(w->base, NULL, &w->conf, &none, w->queue);
}

void
world_free(struct world *w)
{
	router_free(w->router);
	queue_close(w->queue);
	event_base_free(w->base);
}
