/*
 * ctl_format.h - roamsmtpctl's human output: one printer a reply, and one
 * for the events of watch.  Each takes the daemon's JSON as documented in
 * control.h and the commands' replies, tolerates missing members (printed
 * as "?" or left out) and writes to stdout.
 */
#ifndef ROAMSMTP_CTL_FORMAT_H
#define ROAMSMTP_CTL_FORMAT_H

#include <jansson.h>

void	ctl_print_status(json_t *reply);
void	ctl_print_profiles(json_t *reply);
void	ctl_print_use(json_t *reply);
void	ctl_print_reload(json_t *reply);
void	ctl_print_queue(json_t *reply);
void	ctl_print_flush(json_t *reply);
void	ctl_print_retry(json_t *reply);
void	ctl_print_delete(json_t *reply);

/* One line for one watch event, with its local time. */
void	ctl_print_event(json_t *event);

#endif
