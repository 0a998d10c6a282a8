/*
 * queue.c - the durable message queue on disk.  See queue.h for the layout
 * and the commit protocol; the envelope's JSON is queue_env.c's.
 *
 * Every file is opened relative to the queue directory's descriptor, so a
 * queue that is renamed under a running daemon stays one queue.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"
#include "queue_private.h"
#include "util.h"

/* An envelope is a few addresses of SMTP_PATH_MAX octets; even with many
 * thousands of recipients it stays far below this.  Bigger is not ours. */
#define QUEUE_ENV_MAX		(4 * 1024 * 1024)
/* The Subject kept for listings: the tray and roamsmtpctl show one line. */
#define QUEUE_SUBJECT_MAX	200
/* Headers past this are not searched for a Subject: a listing is not worth
 * reading a large message, and real header blocks are a few KiB. */
#define QUEUE_HEADER_SCAN	(64 * 1024)
/* spool_begin retries this often when a random id is taken. */
#define QUEUE_ID_TRIES		8

/* "ID.msg", "ID.env" */
#define QUEUE_NAME_LEN		(QUEUE_ID_LEN + 4)

struct queue {
	char	*dir;
	int	 dirfd;		/* the queue directory, flock'ed */
	int	 tmpfd;		/* its tmp/ */
};

int
queue_valid_id(const char *id)
{
	size_t	i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[i] == '\0';
}

static void
file_name(char *buf, const char *id, const char *ext)
{
	snprintf(buf, QUEUE_NAME_LEN + 1, "%.*s%s", QUEUE_ID_LEN, id, ext);
}

void
queue_new_id(char id[QUEUE_ID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		b[QUEUE_ID_LEN / 2];
	size_t			got = 0, i;
	ssize_t			r;

	while (got < sizeof(b)) {
		if ((r = getrandom(b + got, sizeof(b) - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		got += r;
	}
	for (i = 0; i < sizeof(b); i++) {
		id[2 * i] = hex[b[i] >> 4];
		id[2 * i + 1] = hex[b[i] & 0x0f];
	}
	id[QUEUE_ID_LEN] = '\0';
}

void
queue_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The queue directory
 */

/* tmp/ holds spools that never got their 250: they go. */
static void
clean_tmp(struct queue *q)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = openat(q->tmpfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("queue: %s/tmp", q->dir);
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(q->tmpfd, de->d_name, 0) == -1)
			log_warn("queue: %s/tmp/%s: unlink", q->dir,
			    de->d_name);
		else
			log_info("queue: %s/tmp/%s: removed an unfinished "
			    "message (it was never accepted)", q->dir,
			    de->d_name);
	}
	closedir(d);
}

struct queue *
queue_open(const char *dir, char *err, size_t errlen)
{
	struct queue	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->dir = strdup(dir)) == NULL) {
		queue_seterr(err, errlen, "queue: out of memory");
		free(q);
		return NULL;
	}
	q->dirfd = q->tmpfd = -1;
	if (mkdir_p(dir, 0700) == -1) {
		queue_seterr(err, errlen, "queue: cannot create %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		queue_seterr(err, errlen, "queue: %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	/* Two daemons on one queue would empty each other's tmp/. */
	if (flock(q->dirfd, LOCK_EX | LOCK_NB) == -1) {
		queue_seterr(err, errlen, "queue: %s: %s", dir,
		    errno == EWOULDBLOCK ? "in use by another roamsmtpd; "
		    "stop it or give this one another state-dir" :
		    strerror(errno));
		goto fail;
	}
	if (mkdirat(q->dirfd, "tmp", 0700) == -1 && errno != EEXIST) {
		queue_seterr(err, errlen, "queue: cannot create %s/tmp: %s",
		    dir, strerror(errno));
		goto fail;
	}
	if ((q->tmpfd = openat(q->dirfd, "tmp", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1) {
		queue_seterr(err, errlen, "queue: %s/tmp: %s", dir,
		    strerror(errno));
		goto fail;
	}
	clean_tmp(q);
	return q;
fail:
	queue_close(q);
	return NULL;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->tmpfd != -1)
		close(q->tmpfd);
	if (q->dirfd != -1)
		close(q->dirfd);
	free(q->dir);
	free(q);
}

const char *
queue_dir(const struct queue *q)
{
	return q->dir;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Write m's envelope: tmp/ID.env, fsync, rename to ID.env, fsync the queue
 * directory.  Once the rename is done the new envelope is in place even if
 * the directory fsync fails; the caller decides what that means.
 */
static int
write_env(struct queue *q, const struct qmsg *m)
{
	char	 name[QUEUE_NAME_LEN + 1];
	char	*json;
	int	 fd, saved;

	if ((json = qmsg_to_json(m)) == NULL)
		return -1;
	file_name(name, m->id, ".env");
	if ((fd = openat(q->tmpfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		free(json);
		return -1;
	}
	if (write_all(fd, json, strlen(json)) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(q->tmpfd, name, 0);
		free(json);
		errno = saved;
		return -1;
	}
	free(json);
	if (close(fd) == -1 ||
	    renameat(q->tmpfd, name, q->dirfd, name) == -1) {
		saved = errno;
		unlinkat(q->tmpfd, name, 0);
		errno = saved;
		return -1;
	}
	return fsync(q->dirfd);
}

int
queue_update(struct queue *q, const struct qmsg *m)
{
	char	name[QUEUE_NAME_LEN + 1];

	if (!queue_valid_id(m->id)) {
		errno = EINVAL;
		return -1;
	}
	/* An update must not make an envelope without a body. */
	file_name(name, m->id, ".msg");
	if (faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return write_env(q, m);
}

int
queue_remove(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];
	int	no_env = 0;

	if (!queue_valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	/* The envelope first: a .msg alone is cleaned up at the next start. */
	file_name(name, id, ".env");
	if (unlinkat(q->dirfd, name, 0) == -1) {
		if (errno != ENOENT)
			return -1;
		no_env = 1;
	}
	file_name(name, id, ".msg");
	if (unlinkat(q->dirfd, name, 0) == -1 && (errno != ENOENT || no_env))
		return -1;	/* ENOENT when neither existed */
	return fsync(q->dirfd);
}

int
queue_open_body(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];

	if (!queue_valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	file_name(name, id, ".msg");
	return openat(q->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/*
 * The spool
 */

static int
id_taken(struct queue *q, const char *id)
{
	char	name[QUEUE_NAME_LEN + 1];

	file_name(name, id, ".msg");
	if (faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	file_name(name, id, ".env");
	return faccessat(q->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
spool_begin(struct queue *q, struct spool *sp)
{
	int	i, fd;

	sp->fd = -1;
	sp->size = 0;
	for (i = 0; i < QUEUE_ID_TRIES; i++) {
		queue_new_id(sp->id);
		if (id_taken(q, sp->id))
			continue;
		/* O_RDWR: spool_commit reads the headers back for Subject. */
		fd = openat(q->tmpfd, sp->id, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return -1;
		sp->fd = fd;
		return 0;
	}
	errno = EEXIST;
	return -1;
}

int
spool_write(struct spool *sp, const void *buf, size_t len)
{
	if (sp->fd == -1) {
		errno = EBADF;
		return -1;
	}
	if (write_all(sp->fd, buf, len) == -1)
		return -1;
	sp->size += len;
	return 0;
}

/*
 * The Subject header from the first QUEUE_HEADER_SCAN octets of the body:
 * unfolded (RFC 5322 2.2.3), trimmed, cut at QUEUE_SUBJECT_MAX octets.
 * NULL when there is none.
 */
static char *
read_subject(int fd)
{
	char	*buf, *val, *subject = NULL;
	char	*p, *end, *nl, *le;
	ssize_t	 n;
	size_t	 vlen = 0;

	if ((buf = malloc(QUEUE_HEADER_SCAN)) == NULL)
		return NULL;
	if ((n = pread(fd, buf, QUEUE_HEADER_SCAN, 0)) <= 0) {
		free(buf);
		return NULL;
	}
	val = buf;	/* the value is compacted in place, behind p */
	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (le == p)
			break;	/* the empty line ends the headers */
		if (le - p < 8 || strncasecmp(p, "Subject:", 8) != 0)
			continue;
		/* The value, then every continuation line, CRLFs removed. */
		for (p += 8; ; ) {
			memmove(val + vlen, p, le - p);
			vlen += le - p;
			if (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
				break;
			p = nl + 1;
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				nl = end;
			le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		}
		while (vlen > 0 && (*val == ' ' || *val == '\t')) {
			val++;
			vlen--;
		}
		while (vlen > 0 && (val[vlen - 1] == ' ' ||
		    val[vlen - 1] == '\t'))
			vlen--;
		subject = queue_clean_text(val, vlen, QUEUE_SUBJECT_MAX);
		break;
	}
	free(buf);
	return subject;
}

int
spool_commit(struct queue *q, struct spool *sp, struct qmsg *m)
{
	char	msgname[QUEUE_NAME_LEN + 1], envname[QUEUE_NAME_LEN + 1];
	int	saved, renamed = 0;

	if (sp->fd == -1) {
		errno = EBADF;
		return -1;
	}
	file_name(msgname, sp->id, ".msg");
	file_name(envname, sp->id, ".env");
	if (fsync(sp->fd) == -1)
		goto fail;
	if (m->subject == NULL)
		m->subject = read_subject(sp->fd);
	saved = close(sp->fd);
	sp->fd = -1;
	if (saved == -1)
		goto fail;

	memcpy(m->id, sp->id, sizeof(m->id));
	m->size = sp->size;
	if (m->created == 0)
		m->created = time(NULL);
	if (renameat(q->tmpfd, sp->id, q->dirfd, msgname) == -1)
		goto fail;
	renamed = 1;
	if (write_env(q, m) == -1)
		goto fail;
	return 0;
fail:
	/* No 250 will be given: leave nothing behind. */
	saved = errno;
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
	unlinkat(q->tmpfd, sp->id, 0);
	if (renamed) {
		unlinkat(q->dirfd, envname, 0);
		unlinkat(q->dirfd, msgname, 0);
	}
	errno = saved;
	return -1;
}

void
spool_abort(struct queue *q, struct spool *sp)
{
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
	if (queue_valid_id(sp->id) && unlinkat(q->tmpfd, sp->id, 0) == -1 &&
	    errno != ENOENT)
		log_warn("queue: %s/tmp/%s: unlink", q->dir, sp->id);
}

/*
 * Scanning
 */

/* Read and check one envelope; err says what is wrong with it. */
static struct qmsg *
load_env(struct queue *q, const char *id, char *err, size_t errlen)
{
	char		 name[QUEUE_NAME_LEN + 1], *buf;
	struct stat	 st, mst;
	struct qmsg	*m;
	ssize_t		 n;
	int		 fd;

	file_name(name, id, ".env");
	if ((fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || fstat(fd, &st) == -1) {
		queue_seterr(err, errlen, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > QUEUE_ENV_MAX) {
		queue_seterr(err, errlen, "not a regular file of at most %d "
		    "octets", QUEUE_ENV_MAX);
		close(fd);
		return NULL;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		queue_seterr(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		queue_seterr(err, errlen, "short read: %s",
		    n == -1 ? strerror(errno) : "file changed");
		free(buf);
		return NULL;
	}
	m = qmsg_from_json(buf, n, err, errlen);
	free(buf);
	if (m == NULL)
		return NULL;

	if (strncmp(m->id, id, QUEUE_ID_LEN) != 0) {
		queue_seterr(err, errlen, "id %s does not match the file name",
		    m->id);
		goto bad;
	}
	file_name(name, id, ".msg");
	if (fstatat(q->dirfd, name, &mst, AT_SYMLINK_NOFOLLOW) == -1) {
		queue_seterr(err, errlen, "no %s beside it (%s)", name,
		    strerror(errno));
		goto bad;
	}
	if (!S_ISREG(mst.st_mode) || (uint64_t)mst.st_size != m->size) {
		queue_seterr(err, errlen, "%s has %lld octets, the envelope "
		    "says %llu", name, (long long)mst.st_size,
		    (unsigned long long)m->size);
		goto bad;
	}
	return m;
bad:
	qmsg_free(m);
	return NULL;
}

static int
qmsg_cmp(const void *a, const void *b)
{
	const struct qmsg	*x = *(const struct qmsg *const *)a;
	const struct qmsg	*y = *(const struct qmsg *const *)b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * Called at startup, and whenever the caller knows no spool_commit() is
 * half done (the daemon is single-threaded): a .msg without .env is taken
 * for a commit that died before its 250, and removed.
 */
int
queue_scan(struct queue *q, struct qmsg ***out, size_t *n)
{
	struct qmsg	**v = NULL, **nv, *m;
	struct dirent	*de;
	DIR		*d;
	char		 id[QUEUE_ID_LEN + 1], other[QUEUE_NAME_LEN + 1];
	char		 err[256];
	size_t		 nv_len = 0, cap = 0;
	int		 fd, saved;

	*out = NULL;
	*n = 0;
	if ((fd = openat(q->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != QUEUE_NAME_LEN)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (!queue_valid_id(id))
			continue;
		if (strcmp(de->d_name + QUEUE_ID_LEN, ".msg") == 0) {
			file_name(other, id, ".env");
			if (faccessat(q->dirfd, other, F_OK,
			    AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
				continue;
			if (unlinkat(q->dirfd, de->d_name, 0) == -1)
				log_warn("queue: %s/%s: unlink", q->dir,
				    de->d_name);
			else
				log_info("queue: %s/%s: removed, its envelope "
				    "was never written (the message was not "
				    "accepted)", q->dir, de->d_name);
			continue;
		}
		if (strcmp(de->d_name + QUEUE_ID_LEN, ".env") != 0)
			continue;
		if ((m = load_env(q, id, err, sizeof(err))) == NULL) {
			log_warnx("queue: %s/%s: %s; move it away or delete it",
			    q->dir, de->d_name, err);
			continue;
		}
		if (nv_len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				qmsg_free(m);
				goto fail;
			}
			v = nv;
		}
		v[nv_len++] = m;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (nv_len > 1)
		qsort(v, nv_len, sizeof(*v), qmsg_cmp);
	*out = v;
	*n = nv_len;
	return 0;
fail:
	saved = errno;
	closedir(d);
	while (nv_len > 0)
		qmsg_free(v[--nv_len]);
	free(v);
	errno = saved;
	return -1;
}
