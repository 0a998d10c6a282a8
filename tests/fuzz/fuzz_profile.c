/*
 * fuzz_profile.c - the profile parser (GKeyFile and our checks of every
 * key), and loading a set of profiles: defaults, fallbacks and their
 * cycles across files.
 *
 * The input is up to three profile files separated by a line "----"; they
 * are written as a.conf, b.conf and c.conf into a scratch folder, each is
 * loaded alone (profile_load) and then all together (profile_set_load).
 * Properties: a profile that loads has a host and a name, a set that loads
 * only names fallbacks inside itself, and every error has a text.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "profile.h"
#include "fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#define FILES_MAX	3
#define SEPARATOR	"\n----\n"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*names[FILES_MAX] = { "a", "b", "c" };
	struct profile_set	 set = { NULL, 0 };
	struct profile		*p;
	struct diag		 d;
	const char		*s = (const char *)data, *end = s + size, *sep;
	char			 dir[PATH_MAX], path[PATH_MAX + 16];
	size_t			 i, n;

	snprintf(dir, sizeof(dir), "%s/profiles", fuzz_tmpdir());
	fuzz_empty_dir(dir);
	(void)mkdir(dir, 0700);
	for (n = 0; n < FILES_MAX && s <= end; n++) {
		sep = memmem(s, (size_t)(end - s), SEPARATOR,
		    strlen(SEPARATOR));
		if (sep == NULL || n == FILES_MAX - 1)
			sep = end;
		snprintf(path, sizeof(path), "%s/%s.conf", dir, names[n]);
		fuzz_write_file(path, (const uint8_t *)s, (size_t)(sep - s));

		diag_init(&d);
		p = profile_load(path, &d);
		if (p != NULL) {
			CHECK(p->name != NULL && strcmp(p->name, names[n]) == 0);
			CHECK(p->host != NULL && p->host[0] != '\0');
			CHECK(p->port != 0);
			profile_free(p);
		} else
			CHECK(d.nerrors > 0);
		diag_free(&d);
		s = sep + strlen(SEPARATOR);
	}

	diag_init(&d);
	(void)profile_set_load(dir, &set, &d);
	for (i = 0; i < set.n; i++) {
		p = set.v[i];
		CHECK(p->fallback == NULL ||
		    profile_set_find(&set, p->fallback) != NULL);
		(void)profile_has_match(p);
	}
	profile_set_free(&set);
	diag_free(&d);
	return 0;
}
