/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point, and a
 * private scratch folder for targets whose code under test reads files.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput().  Built with clang and
 * -fsanitize=fuzzer it is a libFuzzer binary; built with any compiler and
 * replay.c it is a replayer that runs the inputs given (the seed corpus and
 * every crash ever found) once each, so that the regression corpus runs in
 * every build, with or without clang.
 */
#ifndef ROAMSMTP_FUZZ_H
#define ROAMSMTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A folder of our own, made once per process (mkdtemp under $TMPDIR or
 * /tmp) and removed at exit.  Aborts when it cannot be made: a target that
 * cannot write its input anywhere tests nothing.
 */
const char	*fuzz_tmpdir(void);
/* Write data to path (created or truncated); aborts on failure. */
void		 fuzz_write_file(const char *path, const uint8_t *, size_t);
/* Remove every entry of dir (not dir itself), recursively. */
void		 fuzz_empty_dir(const char *dir);

#endif
