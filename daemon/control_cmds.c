/* control_cmds.c - see control_cmds.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "control_cmds.h"
#include "router.h"

static json_t *
cmd_status(struct router *r, json_t *req)
{
	return router_status_json(r);
}

static json_t *
cmd_queue(struct router *r, json_t *req)
{
	return router_queue_json(r);
}

static json_t *
cmd_flush(struct router *r, json_t *req)
{
	return router_flush(r);
}

static json_t *
cmd_profiles(struct router *r, json_t *req)
{
	return router_profiles_json(r);
}

static json_t *
cmd_reload(struct router *r, json_t *req)
{
	return router_reload(r);
}

static json_t *
cmd_use(struct router *r, json_t *req)
{
	return router_use(r, json_string_value(json_object_get(req,
	    "profile")));
}

static json_t *
cmd_retry(struct router *r, json_t *req)
{
	return router_retry(r, json_string_value(json_object_get(req, "id")));
}

static json_t *
cmd_delete(struct router *r, json_t *req)
{
	return router_delete(r, json_string_value(json_object_get(req, "id")));
}

static const struct control_cmd {
	const char	*name;
	const char	*needs;		/* a string argument it must have */
	json_t		*(*run)(struct router *, json_t *);
} control_cmds[] = {
	{ "status",	NULL,		cmd_status },
	{ "queue",	NULL,		cmd_queue },
	{ "flush",	NULL,		cmd_flush },
	{ "retry",	"id",		cmd_retry },
	{ "delete",	"id",		cmd_delete },
	{ "profiles",	NULL,		cmd_profiles },
	{ "use",	"profile",	cmd_use },
	{ "reload",	NULL,		cmd_reload },
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
	const char	*name, *v;
	size_t		 i;

	if (!json_is_object(req) ||
	    (name = json_string_value(json_object_get(req, "cmd"))) == NULL)
		return control_error("a request is {\"cmd\": NAME}");
	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++) {
		if (strcmp(control_cmds[i].name, name) != 0)
			continue;
		v = control_cmds[i].needs ? json_string_value(
		    json_object_get(req, control_cmds[i].needs)) : NULL;
		if (control_cmds[i].needs && (v == NULL || v[0] == '\0'))
			return control_error("%s needs \"%s\"; see "
			    "roamsmtpctl --help", name, control_cmds[i].needs);
		return control_cmds[i].run(arg, req);
	}
	return control_error("unknown command '%.64s'; the commands are "
	    "status, queue, flush, retry ID, delete ID, profiles, use "
	    "PROFILE|auto, reload, watch", name);
}
