/* privdrop.c - see privdrop.h. */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>

#include "privdrop.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT			47
#define PR_CAP_AMBIENT_CLEAR_ALL	4
#endif

/* The capability this file is about, by name, for the messages. */
#define BIND_CAP_NAME	"cap_net_bind_service"

static int
caps_get(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct	hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	memset(data, 0, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
	return (int)syscall(SYS_capget, &hdr, data);
}

static int
caps_set(struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct	hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capset, &hdr, data);
}

static int
caps_any(const struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3])
{
	int	i;

	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return 1;
	return 0;
}

int
privdrop_caps(char *err, size_t errlen)
{
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];
	int				held;

	if (caps_get(data) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	held = caps_any(data);
	/* Ambient capabilities would survive an exec: clear them.  EINVAL:
	 * a kernel before 4.3 has none. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "clearing the ambient capabilities: %s",
		    strerror(errno));
		return -1;
	}
	if (held) {
		memset(data, 0, sizeof(data));
		if (caps_set(data) == -1) {
			snprintf(err, errlen, "dropping capabilities: %s",
			    strerror(errno));
			return -1;
		}
		if (caps_get(data) == -1 || caps_any(data)) {
			snprintf(err, errlen, "capabilities still held after "
			    "capset");
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "setting no_new_privs: %s",
		    strerror(errno));
		return -1;
	}
	/* Not dumpable since the exec of a file with capabilities; nothing
	 * privileged is left in memory now. */
	if (held)
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return held;
}

/* The value of "Field:" in /proc/self/status, or -1. */
static long long
status_field(const char *field, int base)
{
	FILE		*f;
	char		 line[256];
	size_t		 flen = strlen(field);
	long long	 v = -1;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtoll(line + flen + 1, NULL, base);
			break;
		}
	fclose(f);
	return v;
}

/* Does the file carry cap_net_bind_service in its permitted set? */
static int
file_has_bind_cap(const char *path)
{
	unsigned char	buf[64];
	uint32_t	magic, permitted;
	ssize_t		n;

	n = getxattr(path, "security.capability", buf, sizeof(buf));
	if (n < 12)
		return 0;
	memcpy(&magic, buf, 4);
	magic = le32toh(magic);
	if ((magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_2 &&
	    (magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_3)
		return 0;
	memcpy(&permitted, buf + 4, 4);	/* data[0].permitted */
	permitted = le32toh(permitted);
	return (permitted & (1u << CAP_NET_BIND_SERVICE)) != 0;
}

const char *
privdrop_bind_hint(char *buf, size_t len)
{
	char		exe[PATH_MAX];
	ssize_t		n;
	long long	bnd;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		snprintf(exe, sizeof(exe), "roamsmtpd");
	else
		exe[n] = '\0';

	if (!file_has_bind_cap(exe)) {
		snprintf(buf, len, "Ports below 1024 need the "
		    BIND_CAP_NAME " file capability, which %s lacks: run "
		    "'sudo setcap " BIND_CAP_NAME "=+ep %s' (the Debian "
		    "package does this at install; a copy or a rebuild loses "
		    "it), or choose another port with listen = "
		    "127.0.0.1:2525 in roamsmtp.conf", exe, exe);
	} else if (status_field("NoNewPrivs", 10) == 1) {
		snprintf(buf, len, "%s carries " BIND_CAP_NAME ", but this "
		    "process was started with no_new_privs, which makes the "
		    "kernel ignore file capabilities: remove NoNewPrivileges= "
		    "and the options that imply it (SystemCallFilter=, "
		    "RestrictAddressFamilies=, MemoryDenyWriteExecute=, ...) "
		    "from the unit or wrapper that starts it, or choose "
		    "another port with listen = in roamsmtp.conf", exe);
	} else if ((bnd = status_field("CapBnd", 16)) != -1 &&
	    (bnd & (1LL << CAP_NET_BIND_SERVICE)) == 0) {
		snprintf(buf, len, "%s carries " BIND_CAP_NAME ", but the "
		    "capability bounding set this process inherited lacks it "
		    "(a container, or CapabilityBoundingSet= in the unit): "
		    "allow it there, or choose another port with listen = in "
		    "roamsmtp.conf", exe);
	} else {
		snprintf(buf, len, "%s carries " BIND_CAP_NAME ", but the "
		    "kernel did not grant it: the file system holding it may "
		    "be mounted nosuid, or the daemon runs in a user "
		    "namespace (PrivateUsers=, ProtectSystem=, PrivateTmp= and "
		    "the like in a user unit imply one); remove those, or "
		    "choose another port with listen = in roamsmtp.conf", exe);
	}
	return buf;
}
