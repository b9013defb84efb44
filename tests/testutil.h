/* testutil.h — what several test files need: where ../shared is, reading raw reference arrays,
 * a scratch directory. Tests run from the repository root (make test does). */
#ifndef TAKT_TESTUTIL_H
#define TAKT_TESTUTIL_H

#include <stddef.h>

/* The team's reference folder: $TAKT_SHARED, else ../shared; NULL when absent (tests that need
 * it then cr_skip_test with a message saying so). */
const char *test_shared_dir(void);
/* shared_dir + "/" + rel into buf; NULL when shared is absent or the file does not exist. */
const char *test_shared_path(char *buf, size_t size, const char *rel);
/* Reads a whole file into a malloc'ed buffer (NULL on failure); *size gets the byte count. */
void *test_read_file(const char *path, size_t *size);
/* Reads exactly count little-endian float32 (or int32) values; NULL unless the size matches. */
float *test_read_f32(const char *path, size_t count);
int *test_read_i32(const char *path, size_t count);
/* A fresh directory under /tmp (static buffer; call once per test). */
const char *test_tmpdir(void);

#endif
