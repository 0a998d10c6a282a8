/*
 * privdrop.h - port 25 without root.
 *
 * The packaged roamsmtpd carries the file capability cap_net_bind_service
 * (set by the Debian package's postinst with setcap(8)), so a user's daemon
 * may bind 127.0.0.1:25.  It needs that right for the bind(2) calls only:
 * right after the listeners are bound, and before any thread starts
 * (capabilities belong to threads), privdrop_caps() empties every
 * capability set, then sets no_new_privs, which the systemd user unit
 * cannot (NoNewPrivileges=yes before the exec would make the kernel ignore
 * the file capability).  From then on the daemon is an ordinary process of
 * its user: a password-command it runs gains nothing by exec either.
 */
#ifndef ROAMSMTP_PRIVDROP_H
#define ROAMSMTP_PRIVDROP_H

#include <stddef.h>

/*
 * Empty the effective, permitted, inheritable and ambient capability sets
 * of the calling thread, set no_new_privs, and make the process dumpable
 * again (a file capability made it not dumpable; with nothing left to
 * protect, the user may debug and inspect their own daemon).  Returns 1
 * when capabilities were held and are gone, 0 when there were none, -1
 * with a reason in err when they could not all be dropped (the caller
 * must not go on: fatal).
 */
int		 privdrop_caps(char *err, size_t errlen);

/*
 * Why bind(2) of a port below 1024 failed with EACCES, and what to do:
 * the binary lacks the file capability (the setcap command to run), or it
 * has it and the kernel ignored it (no_new_privs, a bounding set without
 * it, a nosuid mount or a user namespace).  Written to buf, which is
 * returned.
 */
const char	*privdrop_bind_hint(char *buf, size_t len);

#endif
