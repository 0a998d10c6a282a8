/*
 * dsn.c - see dsn.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "data_filter.h"
#include "dsn.h"
#include "log.h"

/* A reply quoted in a report: RFC 5321 replies are short; this keeps a
 * chatty server from bloating every report. */
#define DSN_REASON_MAX	900

const char *
dsn_status_code(const char *reason, const char *dflt, char *buf, size_t len)
{
	const char	*p;
	int		 a, b, c, n;

	/* RFC 3463: class "." subject "." detail, e.g. 5.1.1 after the code */
	for (p = reason; p && *p; p++) {
		if ((*p != '2' && *p != '4' && *p != '5') ||
		    (p > reason && !isspace((unsigned char)p[-1])))
			continue;
		n = 0;
		if (sscanf(p, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && n > 0 &&
		    (p[n] == '\0' || isspace((unsigned char)p[n]))) {
			snprintf(buf, len, "%d.%d.%d", a, b, c);
			return buf;
		}
	}
	snprintf(buf, len, "%s", dflt);
	return buf;
}

/* Text on one 7-bit line: line breaks become spaces, anything else that
 * is not printable ASCII a '?'; at most DSN_REASON_MAX octets. */
static void
add_7bit_line(struct evbuffer *b, const char *text)
{
	size_t	n;

	for (n = 0; text[n] && n < DSN_REASON_MAX; n++) {
		unsigned char	c = (unsigned char)text[n];

		evbuffer_add(b, c == '\r' || c == '\n' ? " " :
		    c < 0x20 || c > 0x7e ? "?" : &text[n], 1);
	}
}

static void
rfc5322_date(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

char *
dsn_render(const struct qmsg *m, enum dsn_kind kind, const char *reason,
    const char *hostname, const char *headers, size_t headers_len,
    const char *boundary, time_t now, size_t *len)
{
	struct evbuffer	*b = evbuffer_new();
	const char	*action = kind == DSN_DELAYED ? "delayed" : "failed";
	char		 date[64], arrival[64], code[16], *out;
	size_t		 i;

	if (b == NULL)
		return NULL;
	rfc5322_date(now, date, sizeof(date));
	rfc5322_date(m->created, arrival, sizeof(arrival));
	dsn_status_code(reason, kind == DSN_DELAYED ? "4.0.0" : "5.0.0",
	    code, sizeof(code));
	evbuffer_add_printf(b,
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: %s\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s.%lld.dsn@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n",
	    hostname, m->from,
	    kind == DSN_DELAYED ? "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender",
	    date, m->id, (long long)now, hostname, boundary, boundary);
	switch (kind) {
	case DSN_FAILED:
		evbuffer_add_printf(b, "roamsmtpd on %s could not deliver your "
		    "message to these recipients, and has stopped trying:\r\n",
		    hostname);
		break;
	case DSN_EXPIRED:
		evbuffer_add_printf(b, "roamsmtpd on %s could not send your "
		    "message for too long, and has given up:\r\n", hostname);
		break;
	case DSN_DELAYED:
		evbuffer_add_printf(b, "roamsmtpd on %s has not been able to "
		    "send your message yet.  It keeps trying; you need not "
		    "send it again:\r\n", hostname);
		break;
	}
	evbuffer_add_printf(b, "\r\n");
	for (i = 0; i < m->nrcpt; i++)
		evbuffer_add_printf(b, "  <%s>\r\n", m->rcpt[i]);
	evbuffer_add_printf(b, "\r\nThe reason: ");
	add_7bit_line(b, reason);
	evbuffer_add_printf(b, "\r\n\r\nThe message stays in the queue "
	    "(roamsmtpctl queue, id %s).\r\n\r\n", m->id);

	evbuffer_add_printf(b, "--%s\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Roamsmtp-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, hostname, m->id, arrival);
	for (i = 0; i < m->nrcpt; i++) {
		evbuffer_add_printf(b, "\r\n"
		    "Final-Recipient: rfc822; %s\r\n"
		    "Action: %s\r\n"
		    "Status: %s\r\n", m->rcpt[i], action, code);
		/* RFC 3464 2.3.6: the reply, on one line. */
		evbuffer_add_printf(b, "Diagnostic-Code: smtp; ");
		add_7bit_line(b, reason);
		evbuffer_add_printf(b, "\r\n");
		if (kind == DSN_DELAYED)
			evbuffer_add_printf(b, "Will-Retry-Until: see "
			    "queue-lifetime in roamsmtp.conf\r\n");
	}
	evbuffer_add_printf(b, "\r\n--%s\r\n"
	    "Content-Type: text/rfc822-headers\r\n"
	    "\r\n", boundary);
	evbuffer_add(b, headers, headers_len);
	if (headers_len < 2 || memcmp(headers + headers_len - 2, "\r\n", 2))
		evbuffer_add(b, "\r\n", 2);
	evbuffer_add_printf(b, "\r\n--%s--\r\n", boundary);

	*len = evbuffer_get_length(b);
	if ((out = malloc(*len + 1)) != NULL) {
		evbuffer_remove(b, out, *len);
		out[*len] = '\0';
	}
	evbuffer_free(b);
	return out;
}

/* The original's header section (transfer form, CRLF), at most
 * DSN_HEADERS_MAX; a header line never starts with a dot, so it can be
 * quoted as is. */
static char *
read_headers(struct queue *q, const char *id, size_t *len)
{
	char	*buf, *end;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	*len = 0;
	if ((fd = queue_open_body(q, id)) == -1)
		return NULL;
	if ((buf = malloc(DSN_HEADERS_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < DSN_HEADERS_MAX &&
	    (n = read(fd, buf + got, DSN_HEADERS_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	if ((end = strstr(buf, "\r\n\r\n")) != NULL)
		got = (size_t)(end - buf) + 2;
	else {
		/* No end in sight: cut after the last whole line. */
		while (got > 0 && buf[got - 1] != '\n')
			got--;
	}
	*len = got;
	return buf;
}

struct qmsg *
dsn_queue(struct queue *q, const struct qmsg *m, enum dsn_kind kind,
    const char *reason, const char *hostname)
{
	struct spool	 sp;
	struct qmsg	*d;
	char		 boundary[64], id[QUEUE_ID_LEN + 1], *text, *stuffed;
	char		*headers;
	size_t		 hlen, len, slen;
	int		 bol = 1, saved;

	if (m->from[0] == '\0') {
		errno = 0;
		return NULL;
	}
	queue_new_id(id);
	snprintf(boundary, sizeof(boundary), "%s/%s", id, hostname);
	headers = read_headers(q, m->id, &hlen);
	text = dsn_render(m, kind, reason, hostname, headers ? headers : "",
	    hlen, boundary, time(NULL), &len);
	free(headers);
	if (text == NULL)
		return NULL;
	if ((stuffed = malloc(2 * len + 1)) == NULL) {
		free(text);
		return NULL;
	}
	slen = dot_stuff(text, len, stuffed, &bol);
	free(text);

	if ((d = qmsg_new()) == NULL || (d->from = strdup("")) == NULL ||
	    qmsg_add_rcpt(d, m->from) == -1 ||
	    spool_begin(q, &sp) == -1)
		goto fail;
	if (spool_write(&sp, stuffed, slen) == -1) {
		saved = errno;
		spool_abort(q, &sp);
		errno = saved;
		goto fail;
	}
	/* The report is 7-bit but for the original's quoted headers. */
	d->body_8bitmime = m->body_8bitmime || m->smtputf8;
	d->created = time(NULL);
	if (spool_commit(q, &sp, d) == -1)
		goto fail;
	free(stuffed);
	log_info("%s queue dsn kind=%s about=%s to=<%s>", d->id,
	    kind == DSN_DELAYED ? "delayed" : kind == DSN_EXPIRED ?
	    "expired" : "failed", m->id, m->from);
	return d;
fail:
	saved = errno;
	free(stuffed);
	qmsg_free(d);
	errno = saved ? saved : ENOMEM;
	return NULL;
}
