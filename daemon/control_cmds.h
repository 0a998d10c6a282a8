/*
 * control_cmds.h - the commands of the control socket, dispatched through a
 * table to the router.  Requests: {"cmd": NAME, "id": ID}.
 */
#ifndef ROAMSMTP_CONTROL_CMDS_H
#define ROAMSMTP_CONTROL_CMDS_H

#include <jansson.h>

/* {"ok": false, "error": TEXT}, for any command's refusal. */
json_t	*control_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* The control_handler for control_open(); arg is the router. */
json_t	*control_dispatch(json_t *request, void *router);

#endif
