/*
 * queue_private.h - what queue.c (the files) and queue_env.c (the envelope's
 * JSON) share.  Not for other modules: they use queue.h.
 */
#ifndef ROAMSMTP_QUEUE_PRIVATE_H
#define ROAMSMTP_QUEUE_PRIVATE_H

#include <stddef.h>

/* id is exactly QUEUE_ID_LEN lowercase hex digits, NUL terminated. */
int	 queue_valid_id(const char *id);
/*
 * A copy of s[0..len) fit for a listing and for JSON: at most max octets,
 * control characters as spaces, invalid UTF-8 as '?', a character cut at
 * the end dropped.  malloc'ed; NULL when out of memory.
 */
char	*queue_clean_text(const char *s, size_t len, size_t max);
/* snprintf into err, when err is not NULL and errlen not 0. */
void	 queue_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
