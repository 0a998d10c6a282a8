/* fuzz_util.c - see fuzz.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char	tmpdir[PATH_MAX];

static void
remove_tmpdir(void)
{
	fuzz_empty_dir(tmpdir);
	rmdir(tmpdir);
}

const char *
fuzz_tmpdir(void)
{
	const char	*base;

	if (tmpdir[0] != '\0')
		return tmpdir;
	if ((base = getenv("TMPDIR")) == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/roamsmtp-fuzz.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		abort();
	}
	atexit(remove_tmpdir);
	return tmpdir;
}

void
fuzz_write_file(const char *path, const uint8_t *data, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(path);
		abort();
	}
	while (len > 0) {
		if ((n = write(fd, data, len)) <= 0) {
			perror(path);
			abort();
		}
		data += n;
		len -= (size_t)n;
	}
	close(fd);
}

void
fuzz_empty_dir(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX];
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			fuzz_empty_dir(path);
			rmdir(path);
		} else
			unlink(path);
	}
	closedir(d);
}
