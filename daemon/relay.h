/*
 * relay.h - the rules both paths follow when they hand a message to an
 * upstream: the online session (smtp_session.c) and the queue (deliver.c).
 */
#ifndef ROAMSMTP_RELAY_H
#define ROAMSMTP_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_parse.h"
#include "smtp_reply.h"

/*
 * The parameters for MAIL FROM to this upstream (" SIZE=n BODY=8BITMIME
 * SMTPUTF8", each only when offered and needed), into buf.  When the message
 * needs what the upstream lacks (8BITMIME, SMTPUTF8, a bigger SIZE), returns
 * -1 with a full SMTP reply line for the client in err ("554 5.6.3 ...").
 */
int	relay_mail_params(const struct smtp_caps *,
	    const struct smtp_mail_params *, uint64_t size, const char *peer,
	    char *buf, size_t buflen, char *err, size_t errlen);

#endif
