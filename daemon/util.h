/*
 * util.h - small helpers shared by the daemon's modules.
 */
#ifndef ROAMSMTP_UTIL_H
#define ROAMSMTP_UTIL_H

#include <stddef.h>
#include <sys/socket.h>

/* "127.0.0.1:25" or "[::1]:25". */
const char	*addr_format(const struct sockaddr *, char *buf, size_t len);
/* Seconds since an arbitrary point, monotonic, with sub-second part. */
double		 now_monotonic(void);
/* mkdir -p with mode for each created component.  0, or -1 and errno. */
int		 mkdir_p(const char *path, int mode);

#endif
