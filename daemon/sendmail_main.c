/*
 * sendmail_main.c - roamsmtp-sendmail: the sendmail(8) interface that mutt,
 * git send-email, cron and every program calling /usr/sbin/sendmail use.
 * It hands the message to the user's roamsmtpd over SMTP, on the daemon's
 * first listen address from roamsmtp.conf.  A message it cannot hand over
 * is never lost: it stays in the outbox (state-dir/outbox/NAME.eml, with
 * NAME.txt saying why and how to send it again), the reason goes to
 * stderr, and the exit status is non-zero (sysexits.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "diag.h"
#include "sendmail.h"
#include "smtp_limits.h"
#include "smtp_parse.h"
#include "smtp_reply.h"
#include "util.h"

#define PROG	"roamsmtp-sendmail"
/* Added headers: From with a display name, Date, Message-ID. */
#define ADD_HEADERS_MAX	(SMTP_PATH_MAX + 512)
/* The copy buffer of -bs, each way. */
#define RELAY_CHUNK	(64 * 1024)

struct opts {
	int		  dot_ends;	/* no -i: a lone "." ends the input */
	int		  extract;	/* -t */
	char		  mode;		/* -b: 'm' mail, 's' SMTP, 'i', 'p' */
	int		  verbose;	/* -v: the SMTP dialogue on stderr */
	const char	 *sender;	/* -f/-r, NULL when not given */
	const char	 *fullname;	/* -F */
	const char	 *config;	/* -C */
	char		**rcpt;		/* the arguments */
	int		  nrcpt;
};

/* The message on its way: where it is kept, and the envelope. */
struct job {
	const struct opts	*o;
	char			 outbox[4096];
	char			 name[64];	/* NAME of NAME.eml */
	char			 partial[4200];
	FILE			*spool;
	int			 in_outbox;	/* spool is outbox/.NAME.partial */
	char			 spool_err[4400]; /* why it is not */
	const char		*sender;
	struct sm_addrs		 rcpt;
	char			 reason[1024];
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-t] [-i] [-f SENDER] [-F NAME] [-C CONFIG] [-v]"
	    " [--] [RECIPIENT...]\n"
	    "       " PROG " -bs [-C CONFIG]\n"
	    "  -t          recipients from To:, Cc: and Bcc: too (Bcc: is "
	    "removed)\n"
	    "  -i, -oi     a line with a single dot does not end the message\n"
	    "  -f SENDER   envelope sender (default: the From: address)\n"
	    "  -F NAME     display name for an added From: header\n"
	    "  -bs         speak SMTP on standard input and output\n"
	    "  -C CONFIG   roamsmtp.conf to read the daemon's address from\n"
	    "  -v          show the SMTP dialogue on stderr\n"
	    "  other sendmail options (-oXXX, -B, -N, -R, -V, -X, -U, ...) "
	    "are accepted and ignored\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int	ch;

	memset(o, 0, sizeof(*o));
	o->dot_ends = 1;
	o->mode = 'm';
	/* Every option sendmail takes, so that no caller trips on one we
	 * ignore; '+' stops at the first recipient, as sendmail does. */
	opterr = 1;
	while ((ch = getopt(argc, argv,
	    "+A:B:b:C:d:F:f:Gh:iL:mN:nO:o:p:q::R:r:tUvV:X:")) != -1) {
		switch (ch) {
		case 'b':
			if (strlen(optarg) != 1 ||
			    strchr("msip", optarg[0]) == NULL) {
				fprintf(stderr, PROG ": -b%s is not supported; "
				    "-bm (mail, the default), -bs (SMTP), -bi "
				    "and -bp are\n", optarg);
				return -1;
			}
			o->mode = optarg[0];
			break;
		case 'C':
			o->config = optarg;
			break;
		case 'F':
			o->fullname = optarg;
			break;
		case 'f':
		case 'r':
			o->sender = optarg;
			break;
		case 'i':
			o->dot_ends = 0;
			break;
		case 'o':
			/* -oi is -i; the other -oX (error mode, delivery
			 * mode, ...) mean nothing here. */
			if (strcmp(optarg, "i") == 0)
				o->dot_ends = 0;
			break;
		case 'q':
			/* Process the queue: roamsmtpd does, by itself. */
			o->mode = 'q';
			break;
		case 't':
			o->extract = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'A': case 'B': case 'd': case 'G': case 'h': case 'L':
		case 'm': case 'N': case 'n': case 'O': case 'p': case 'R':
		case 'U': case 'V': case 'X':
			break;
		default:
			return -1;
		}
	}
	o->rcpt = argv + optind;
	o->nrcpt = argc - optind;
	return 0;
}

/* ------------------------------------------------------------- the spool */

static void
spool_open(struct job *j, const struct daemon_conf *conf)
{
	struct tm	tm;
	time_t		now = time(NULL);
	char		stamp[32];
	int		fd;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(j->name, sizeof(j->name), "%s-%ld", stamp, (long)getpid());
	snprintf(j->outbox, sizeof(j->outbox), "%s/outbox", conf->state_dir);
	snprintf(j->partial, sizeof(j->partial), "%s/.%s.partial", j->outbox,
	    j->name);
	if (mkdir_p(j->outbox, 0700) == -1)
		snprintf(j->spool_err, sizeof(j->spool_err), "cannot create "
		    "%s: %s", j->outbox, strerror(errno));
	else if ((fd = open(j->partial, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) == -1)
		snprintf(j->spool_err, sizeof(j->spool_err), "cannot create "
		    "%s: %s", j->partial, strerror(errno));
	else if ((j->spool = fdopen(fd, "w+")) == NULL)
		close(fd);
	else {
		j->in_outbox = 1;
		return;
	}
	/* Try to send it anyway; only keeping it on failure is lost. */
	j->spool = tmpfile();
}

static int
fsync_dir(const char *dir)
{
	int	fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* The message was not handed over: keep it where the user finds it. */
static int
spool_keep(struct job *j, char *where, size_t wlen)
{
	char	 path[4200], q[1024];
	FILE	*f;
	size_t	 i;

	if (!j->in_outbox) {
		snprintf(where, wlen, "%s", j->spool_err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.eml", j->outbox, j->name);
	if (fflush(j->spool) == EOF || fsync(fileno(j->spool)) == -1 ||
	    rename(j->partial, path) == -1) {
		snprintf(where, wlen, "%s: %s", j->partial, strerror(errno));
		return -1;
	}
	snprintf(where, wlen, "%s", path);

	/* Beside it, why and how to send it again. */
	snprintf(path, sizeof(path), "%s/%s.txt", j->outbox, j->name);
	if ((f = fopen(path, "wxe")) != NULL) {
		fprintf(f, "%s could not hand %s.eml to roamsmtpd:\n%s\n\n"
		    "Send it again with:\n  cd %s &&\n  " PROG " -i", PROG,
		    j->name, j->reason, sm_shell_quote(j->outbox, q,
		    sizeof(q)) != NULL ? q : ".");
		if (j->o->config != NULL && sm_shell_quote(j->o->config, q,
		    sizeof(q)) != NULL)
			fprintf(f, " -C %s", q);
		if (j->sender != NULL && sm_shell_quote(j->sender, q,
		    sizeof(q)) != NULL)
			fprintf(f, " -f %s", q);
		fprintf(f, " --");
		for (i = 0; i < j->rcpt.n; i++)
			if (sm_shell_quote(j->rcpt.v[i], q, sizeof(q)) != NULL)
				fprintf(f, " %s", q);
		fprintf(f, " < %s.eml && rm %s.eml %s.txt\n", j->name, j->name,
		    j->name);
		fsync(fileno(f));
		fclose(f);
	}
	fsync_dir(j->outbox);
	return 0;
}

static void
spool_done(struct job *j)
{
	if (j->spool != NULL)
		fclose(j->spool);
	j->spool = NULL;
	if (j->in_outbox)
		unlink(j->partial);
}

/* Give up: keep the message, say why and where it is, return status. */
static int
give_up(struct job *j, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
give_up(struct job *j, int status, const char *fmt, ...)
{
	char	where[4400];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(j->reason, sizeof(j->reason), fmt, ap);
	va_end(ap);
	if (j->spool == NULL)
		fprintf(stderr, PROG ": %s\n", j->reason);
	else if (spool_keep(j, where, sizeof(where)) == 0) {
		fprintf(stderr, PROG ": %s\n" PROG ": the message was not "
		    "sent; it is kept in %s (%s.txt beside it says how to "
		    "send it again)\n", j->reason, where, j->name);
		fclose(j->spool);
		j->spool = NULL;
	} else {
		fprintf(stderr, PROG ": %s\n" PROG ": the message was not "
		    "sent, and could not be kept (%s); your mail program "
		    "still has it\n", j->reason, where);
		spool_done(j);
	}
	return status;
}

/* ------------------------------------------------------ talking to the daemon */

static int
connect_daemon(const struct daemon_conf *conf, char *err, size_t errlen)
{
	struct timeval	tv;
	size_t		i;
	int		fd, on = 1, saved = 0;

	err[0] = '\0';
	for (i = 0; i < conf->nlisten; i++) {
		const struct conf_listen	*l = &conf->listen[i];

		if ((fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&l->ss, l->len) == 0) {
			/* The final reply may wait for the upstream's:
			 * RFC 5321 4.5.3.2.6's ten minutes. */
			tv.tv_sec = TIMEOUT_CLIENT_DOT;
			tv.tv_usec = 0;
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			tv.tv_sec = TIMEOUT_CLIENT_BLOCK;
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv));
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			    sizeof(on));
			return fd;
		}
		saved = errno;
		close(fd);
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot connect to roamsmtpd on "
			    "%s: %s%s", l->text, strerror(saved),
			    saved == ECONNREFUSED ? " (is it running? "
			    "systemctl --user start roamsmtpd)" : "");
	}
	if (err[0] == '\0')
		snprintf(err, errlen, "cannot connect to roamsmtpd: %s",
		    conf->nlisten == 0 ? "no listen address in the "
		    "configuration" : strerror(saved));
	return -1;
}

struct conn {
	FILE	*r;
	FILE	*w;
	int	 verbose;
	struct smtp_reply reply;
};

/* Read one reply.  0, or -1 with a reason in err. */
static int
read_reply(struct conn *c, char *err, size_t errlen)
{
	char	line[SMTP_REPLY_LINE_MAX + 3];
	size_t	n;
	enum smtp_reply_status st;

	smtp_reply_init(&c->reply);
	for (;;) {
		if (fgets(line, sizeof(line), c->r) == NULL) {
			snprintf(err, errlen, "roamsmtpd %s",
			    ferror(c->r) ? (errno == EAGAIN ||
			    errno == EWOULDBLOCK ? "did not answer in time" :
			    strerror(errno)) : "closed the connection");
			return -1;
		}
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (c->verbose)
			fprintf(stderr, "<<< %s\n", line);
		st = smtp_reply_feed(&c->reply, line, n);
		if (st == REPLY_DONE)
			return 0;
		if (st == REPLY_ERROR) {
			snprintf(err, errlen, "roamsmtpd's reply is not SMTP: "
			    "%.100s", line);
			return -1;
		}
	}
}

static int
send_cmd(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
send_cmd(struct conn *c, const char *fmt, ...)
{
	char	buf[SMTP_CMD_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->verbose)
		fprintf(stderr, ">>> %s\n", buf);
	if (fprintf(c->w, "%s\r\n", buf) < 0 || fflush(c->w) == EOF)
		return -1;
	return 0;
}

/* The reply's text on one line, for a message. */
static const char *
reply_text(const struct smtp_reply *r, char *buf, size_t len)
{
	size_t	i;

	snprintf(buf, len, "%d %s", r->code, r->text);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	return buf;
}

/* Does any address need SMTPUTF8? */
static int
needs_utf8(const struct job *j)
{
	const char	*s;
	size_t		 i;

	for (s = j->sender; *s != '\0'; s++)
		if ((unsigned char)*s > 127)
			return 1;
	for (i = 0; i < j->rcpt.n; i++)
		for (s = j->rcpt.v[i]; *s != '\0'; s++)
			if ((unsigned char)*s > 127)
				return 1;
	return 0;
}

/* Hand the message over.  0, or the exit status after give_up(). */
static int
submit(struct job *j, const struct daemon_conf *conf,
    const struct sm_scan *scan, const char *add)
{
	struct conn	c;
	struct smtp_caps caps;
	char		err[512], text[SMTP_REPLY_TEXT_MAX + 8];
	char		refused[2048] = "";
	size_t		i, used = 0;
	int		fd, status = 0, utf8, r;

	if ((fd = connect_daemon(conf, err, sizeof(err))) == -1)
		return give_up(j, EX_TEMPFAIL, "%s", err);
	memset(&c, 0, sizeof(c));
	c.verbose = j->o->verbose;
	if ((c.r = fdopen(fd, "r")) == NULL) {
		close(fd);
		return give_up(j, EX_OSERR, "fdopen: %s", strerror(errno));
	}
	if ((fd = dup(fd)) == -1 || (c.w = fdopen(fd, "w")) == NULL) {
		status = give_up(j, EX_OSERR, "dup: %s", strerror(errno));
		goto done;
	}

#define EXPECT(stage, ok, what) do {					\
	if (read_reply(&c, err, sizeof(err)) == -1) {			\
		status = give_up(j, EX_TEMPFAIL, "%s", err);		\
		goto done;						\
	}								\
	if (SMTP_REPLY_CLASS(&c.reply) != (ok)) {			\
		status = give_up(j, sm_exit_for_reply((stage),		\
		    c.reply.code), "roamsmtpd refused %s: %s", (what),	\
		    reply_text(&c.reply, text, sizeof(text)));		\
		goto done;						\
	}								\
} while (0)
#define SEND(...) do {							\
	if (send_cmd(&c, __VA_ARGS__) == -1) {				\
		status = give_up(j, EX_TEMPFAIL, "writing to roamsmtpd: " \
		    "%s", strerror(errno));				\
		goto done;						\
	}								\
} while (0)

	EXPECT(SM_STAGE_CONNECT, 2, "the connection");
	SEND("EHLO %s", conf->hostname);
	EXPECT(SM_STAGE_CONNECT, 2, "EHLO");
	smtp_caps_parse(&c.reply, &caps);
	utf8 = needs_utf8(j) || scan->non_ascii_headers;
	if (needs_utf8(j) && !caps.smtputf8) {
		status = give_up(j, EX_DATAERR, "an address is not ASCII and "
		    "roamsmtpd does not offer SMTPUTF8");
		goto done;
	}
	SEND("MAIL FROM:<%s>%s%s", j->sender,
	    scan->eight_bit && caps.eightbitmime ? " BODY=8BITMIME" : "",
	    utf8 && caps.smtputf8 ? " SMTPUTF8" : "");
	EXPECT(SM_STAGE_MAIL, 2, "the sender");
	/* Every recipient or none: a partial delivery would make the
	 * caller's retry a duplicate for the others. */
	for (i = 0; i < j->rcpt.n; i++) {
		SEND("RCPT TO:<%s>", j->rcpt.v[i]);
		if (read_reply(&c, err, sizeof(err)) == -1) {
			status = give_up(j, EX_TEMPFAIL, "%s", err);
			goto done;
		}
		if (SMTP_REPLY_CLASS(&c.reply) == 2)
			continue;
		r = sm_exit_for_reply(SM_STAGE_RCPT, c.reply.code);
		if (status == 0 || r == EX_NOUSER)
			status = r;
		if (used < sizeof(refused))
			used += (size_t)snprintf(refused + used,
			    sizeof(refused) - used, "%s<%s>: %s", used ?
			    "; " : "", j->rcpt.v[i],
			    reply_text(&c.reply, text, sizeof(text)));
	}
	if (status != 0) {
		(void)send_cmd(&c, "RSET");
		status = give_up(j, status, "roamsmtpd refused %s; nothing "
		    "was sent to anyone", refused);
		goto done;
	}
	SEND("DATA");
	EXPECT(SM_STAGE_DATA, 3, "DATA");
	rewind(j->spool);
	if (sm_transfer(j->spool, add, c.w) == -1 ||
	    fputs(".\r\n", c.w) == EOF || fflush(c.w) == EOF) {
		status = give_up(j, EX_TEMPFAIL, "sending the message to "
		    "roamsmtpd: %s", strerror(errno));
		goto done;
	}
	if (c.verbose)
		fprintf(stderr, ">>> (the message)\n>>> .\n");
	EXPECT(SM_STAGE_DOT, 2, "the message");
	(void)send_cmd(&c, "QUIT");
	(void)read_reply(&c, err, sizeof(err));
 done:
#undef EXPECT
#undef SEND
	fclose(c.r);
	if (c.w != NULL)
		fclose(c.w);
	return status;
}

/* ------------------------------------------------------------------ -bs */

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Relay an SMTP session between stdin/stdout and the daemon. */
static int
relay_session(const struct daemon_conf *conf)
{
	struct pollfd	 pfd[2];
	char		*buf, err[512];
	ssize_t		 n;
	int		 fd, in_open = 1;

	if ((fd = connect_daemon(conf, err, sizeof(err))) == -1) {
		/* The client speaks SMTP: tell it in SMTP. */
		printf("421 4.3.0 %s\r\n", err);
		fflush(stdout);
		fprintf(stderr, PROG ": %s\n", err);
		return EX_TEMPFAIL;
	}
	if ((buf = malloc(RELAY_CHUNK)) == NULL)
		return EX_OSERR;
	for (;;) {
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, TIMEOUT_SERVER_COMMAND * 1000) <= 0)
			break;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(STDIN_FILENO, buf, RELAY_CHUNK)) <= 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			} else if (write_all(fd, buf, (size_t)n) == -1)
				break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(fd, buf, RELAY_CHUNK)) <= 0)
				break;
			if (write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
				break;
		}
	}
	free(buf);
	close(fd);
	return EX_OK;
}

/* ----------------------------------------------------------------- main */

/* Split the arguments ("a@x, b@y" is two) into j->rcpt. */
static int
add_arg_rcpts(struct job *j)
{
	char	why[256];
	int	i;

	for (i = 0; i < j->o->nrcpt; i++)
		if (sm_parse_addresses(j->o->rcpt[i], &j->rcpt, why,
		    sizeof(why)) == -1) {
			fprintf(stderr, PROG ": recipient '%s': %s\n",
			    j->o->rcpt[i], why);
			return -1;
		}
	return 0;
}

/* A path the daemon will take: the same parser it uses. */
static int
check_path(const char *addr, int is_mail, char *err, size_t errlen)
{
	struct smtp_mail_params	 p = { 0, 0, 1 };
	char			 arg[SMTP_PATH_MAX + 16], out[SMTP_PATH_MAX + 1];
	const char		*why;
	enum smtp_path_error	 e;

	snprintf(arg, sizeof(arg), "<%s>%s", addr, is_mail ? " SMTPUTF8" :
	    "");
	e = smtp_parse_path(arg, is_mail, out, sizeof(out), &p, &why);
	if (e == PATH_OK)
		return 0;
	snprintf(err, errlen, "%s <%s> is not a valid address: %s",
	    is_mail ? "sender" : "recipient", addr, why);
	return -1;
}

static const char *
default_sender(const struct daemon_conf *conf, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(getuid());

	snprintf(buf, len, "%s@%s", pw != NULL ? pw->pw_name : "nobody",
	    conf->hostname);
	return buf;
}

static const char *
default_fullname(char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(getuid());
	char		*comma;

	if (pw == NULL || pw->pw_gecos == NULL)
		return NULL;
	snprintf(buf, len, "%s", pw->pw_gecos);
	if ((comma = strchr(buf, ',')) != NULL)
		*comma = '\0';
	return buf;
}

static int
mail(const struct opts *o, const struct daemon_conf *conf)
{
	struct job	 j;
	struct sm_scan	 scan;
	const struct sm_addrs *hdr;
	char		 err[1024], add[ADD_HEADERS_MAX], sender[SMTP_PATH_MAX];
	char		 fullname[128];
	size_t		 i;
	int		 status;

	memset(&j, 0, sizeof(j));
	memset(&scan, 0, sizeof(scan));
	j.o = o;
	j.sender = o->sender;
	if (add_arg_rcpts(&j) == -1)
		return EX_DATAERR;
	if (!o->extract && j.rcpt.n == 0) {
		fprintf(stderr, PROG ": no recipients: give them as arguments, "
		    "or -t to take them from the To:, Cc: and Bcc: headers\n");
		return EX_USAGE;
	}

	spool_open(&j, conf);
	if (j.spool == NULL) {
		fprintf(stderr, PROG ": %s, and no temporary file either: "
		    "%s\n", j.spool_err, strerror(errno));
		return EX_CANTCREAT;
	}
	if (sm_read_input(stdin, j.spool, o->dot_ends) == -1 ||
	    fflush(j.spool) == EOF) {
		status = give_up(&j, EX_IOERR, "reading the message: %s",
		    strerror(errno));
		goto out;
	}
	rewind(j.spool);
	if (sm_scan(j.spool, &scan, err, sizeof(err)) == -1) {
		status = give_up(&j, EX_DATAERR, "%s", err);
		goto out;
	}
	if (o->extract) {
		hdr = sm_scan_recipients(&scan);
		for (i = 0; i < hdr->n; i++)
			if (sm_addrs_add(&j.rcpt, hdr->v[i]) == -1) {
				status = give_up(&j, EX_DATAERR, "more than "
				    "%d recipients", SM_RCPT_MAX);
				goto out;
			}
	}
	if (j.rcpt.n == 0) {
		status = give_up(&j, EX_USAGE, "no recipients: the message "
		    "has no To:, Cc: or Bcc: header with an address");
		goto out;
	}
	if (j.sender == NULL)
		j.sender = scan.from_addr != NULL ? scan.from_addr :
		    default_sender(conf, sender, sizeof(sender));
	if (strcmp(j.sender, "<>") == 0)
		j.sender = "";
	if (j.sender[0] != '\0' &&
	    check_path(j.sender, 1, err, sizeof(err)) == -1) {
		status = give_up(&j, EX_DATAERR, "%s", err);
		goto out;
	}
	for (i = 0; i < j.rcpt.n; i++)
		if (check_path(j.rcpt.v[i], 0, err, sizeof(err)) == -1) {
			status = give_up(&j, EX_NOUSER, "%s", err);
			goto out;
		}
	if (sm_missing_headers(&scan, j.sender[0] != '\0' ? j.sender :
	    default_sender(conf, sender, sizeof(sender)),
	    o->fullname != NULL ? o->fullname :
	    default_fullname(fullname, sizeof(fullname)), conf->hostname,
	    add, sizeof(add)) == NULL) {
		status = give_up(&j, EX_SOFTWARE, "cannot make the missing "
		    "headers");
		goto out;
	}
	if ((status = submit(&j, conf, &scan, add)) == 0)
		spool_done(&j);
 out:
	if (j.spool != NULL)
		fclose(j.spool);
	sm_scan_free(&scan);
	sm_addrs_free(&j.rcpt);
	return status;
}

int
main(int argc, char **argv)
{
	struct opts		o;
	struct daemon_conf	conf;
	struct diag		d;
	char			*config = NULL;
	size_t			i;
	int			status;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf(PROG " %s\n", ROAMSMTP_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o) == -1) {
		usage(stderr);
		return EX_USAGE;
	}
	switch (o.mode) {
	case 'i':	/* newaliases: there are no aliases */
	case 'q':	/* roamsmtpd retries by itself */
		return EX_OK;
	case 'p':
		fprintf(stderr, PROG ": the queue is roamsmtpd's: "
		    "roamsmtpctl queue\n");
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	diag_init(&d);
	if (conf_load(o.config, &conf, &d) == -1) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		fprintf(stderr, PROG ": cannot read the configuration; the "
		    "message was not read\n");
		diag_free(&d);
		return EX_CONFIG;
	}
	diag_free(&d);
	/* The outbox's note says "cd OUTBOX && ... -C CONFIG". */
	if (o.config != NULL && (config = realpath(o.config, NULL)) != NULL)
		o.config = config;
	if (o.mode == 's')
		status = relay_session(&conf);
	else
		status = mail(&o, &conf);
	conf_free(&conf);
	free(config);
	return status;
}
