/* relay.c - see relay.h. */
#include <stdio.h>
#include <string.h>

#include "relay.h"

int
relay_mail_params(const struct smtp_caps *caps,
    const struct smtp_mail_params *p, uint64_t size, const char *peer,
    char *buf, size_t buflen, char *err, size_t errlen)
{
	uint64_t	want = p->size ? p->size : size;
	size_t		n = 0;

	buf[0] = '\0';
	if (p->body_8bitmime && !caps->eightbitmime) {
		/* RFC 6152 3: a relay must not pass 8-bit data on to a server
		 * that did not ask for it. */
		snprintf(err, errlen, "554 5.6.3 The upstream %s does not "
		    "accept 8-bit mail (no 8BITMIME); send it as 7-bit "
		    "(quoted-printable or base64)", peer);
		return -1;
	}
	if (p->smtputf8 && !caps->smtputf8) {
		snprintf(err, errlen, "553 5.6.7 The upstream %s does not "
		    "accept internationalised addresses (no SMTPUTF8)", peer);
		return -1;
	}
	if (caps->has_size && caps->size && p->size > caps->size) {
		snprintf(err, errlen, "552 5.3.4 Message too big for the "
		    "upstream %s (at most %llu octets)", peer,
		    (unsigned long long)caps->size);
		return -1;
	}
	if (caps->has_size && p->size)
		n += snprintf(buf + n, buflen - n, " SIZE=%llu",
		    (unsigned long long)want);
	if (p->body_8bitmime && n < buflen)
		n += snprintf(buf + n, buflen - n, " BODY=8BITMIME");
	if (p->smtputf8 && n < buflen)
		snprintf(buf + n, buflen - n, " SMTPUTF8");
	return 0;
}
