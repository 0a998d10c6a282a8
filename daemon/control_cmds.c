/* control_cmds.c - see control_cmds.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "control_cmds.h"
#include "router.h"

static json_t *cmd_status(struct router *r, const char *id)
{ return router_status_json(r); }
static json_t *cmd_queue(struct router *r, const char *id)
{ return router_queue_json(r); }
static json_t *cmd_flush(struct router *r, const char *id)
{ return router_flush(r); }

static const struct control_cmd {
	const char	*name;
	int		 needs_id;
	json_t		*(*run)(struct router *, const char *);
} control_cmds[] = {
	{ "status",	0,	cmd_status },
	{ "queue",	0,	cmd_queue },
	{ "flush",	0,	cmd_flush },
	{ "retry",	1,	router_retry },
	{ "delete",	1,	router_delete },
};

json_t *
control_error(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", buf);
}

json_t *
control_dispatch(json_t *req, void *arg)
{
	const char	*name, *id;
	size_t		 i;

	if (!json_is_object(req) ||
	    (name = json_string_value(json_object_get(req, "cmd"))) == NULL)
		return control_error("a request is {\"cmd\": NAME}");
	id = json_string_value(json_object_get(req, "id"));
	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++) {
		if (strcmp(control_cmds[i].name, name) != 0)
			continue;
		if (control_cmds[i].needs_id && (id == NULL || id[0] == '\0'))
			return control_error("%s needs a message id; list them "
			    "with: roamsmtpctl queue", name);
		return control_cmds[i].run(arg, id);
	}
	return control_error("unknown command '%.64s'; the commands are "
	    "status, queue, flush, retry ID, delete ID", name);
}
