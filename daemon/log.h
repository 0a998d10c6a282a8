/*
 * log.h - one line per event, key=value, to stderr in the foreground and to
 * syslog otherwise.  Callers tag lines with a session or message id so that
 * one message's fate can be grepped from the journal.  Never pass a
 * credential to these functions, not even at debug level.
 */
#ifndef ROAMSMTP_LOG_H
#define ROAMSMTP_LOG_H

#include <stdarg.h>

void	log_init(int foreground, int verbose);
int	log_verbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
