/*
 * sdnotify.h - systemd's readiness protocol (sd_notify(3)), without
 * libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
 *
 * The unit (packaging/systemd/roamsmtpd.service) is Type=notify: systemd
 * counts the daemon started when it sends "READY=1", which roamsmtpd does
 * once its listeners and control socket are bound, so that a client started
 * after it (or "systemctl --user start" itself) never meets a refused
 * connection.
 */
#ifndef ROAMSMTP_SDNOTIFY_H
#define ROAMSMTP_SDNOTIFY_H

/*
 * Send state (e.g. "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...")
 * to the service manager.  Returns 1 when sent, 0 when no manager asked
 * for it ($NOTIFY_SOCKET unset), -1 with errno when sending failed (the
 * caller logs it; the daemon goes on either way).
 */
int	sdnotify(const char *state);

#endif
