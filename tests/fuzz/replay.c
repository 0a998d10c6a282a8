/*
 * replay.c - run a fuzz target's inputs once each, without libFuzzer: the
 * seed corpus and the crashes found so far, as a plain regression test in
 * every build (gcc, ASan, clang).  Arguments are files or folders of files.
 * A crash aborts (or the sanitizer reports it); otherwise exits 0 after
 * saying how many inputs ran.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* A corpus file larger than this is a mistake in the corpus. */
#define REPLAY_INPUT_MAX	(8 * 1024 * 1024)

static int
run_file(const char *path)
{
	uint8_t	*buf;
	size_t	 n;
	FILE	*f;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	if ((buf = malloc(REPLAY_INPUT_MAX)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, REPLAY_INPUT_MAX, f);
	fclose(f);
	fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
	/* A copy of exactly n bytes, so that ASan sees reads past the end. */
	buf = realloc(buf, n ? n : 1);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
run_path(const char *path, unsigned *count)
{
	struct dirent	**names;
	struct stat	  st;
	char		  sub[PATH_MAX];
	int		  i, n, rc = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	if ((n = scandir(path, &names, NULL, alphasort)) == -1) {
		perror(path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path,
			    names[i]->d_name);
			if (run_path(sub, count) == -1)
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char *argv[])
{
	unsigned	count = 0;
	int		i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) == -1)
			rc = 1;
	if (count == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	fprintf(stderr, "%u inputs replayed, no crash\n", count);
	return rc;
}
