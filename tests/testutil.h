/* testutil.h — what several test files need: where ../shared is, reading raw reference arrays,
 * a scratch directory, synthetic sequence sets. Tests run from the repository root (make test
 * does). */
#ifndef TAKT_TESTUTIL_H
#define TAKT_TESTUTIL_H

#include <stddef.h>

#include "../io/io.h"

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
/* A reference array from a framework we did not write: dir + name, exactly count float32; the
 * test fails naming the file when it is missing or of another size. */
float *test_golden_f32(const char *dir, const char *name, size_t count);
/* |got - want| <= 1e-5 |want| + 1e-6 everywhere, the PyTorch goldens' tolerance; the failure
 * names what and the first index out of it. */
void test_expect_torch_close(const char *what, const float *got, const float *want, size_t n);
/* A fresh directory under /tmp (static buffer; call once per test). */
const char *test_tmpdir(void);

/* One scratch directory per test (Criterion runs each test in its own process):
 * test_scratch_begin makes it (usable as .init), test_scratch_end removes it with everything
 * written inside (usable as .fini). test_scratch_path(name) is DIR/name (one of 64 rotating
 * buffers); test_scratch_write writes text (or len bytes) there and returns the path. */
void test_scratch_begin(void);
void test_scratch_end(void);
const char *test_scratch_dir(void);
const char *test_scratch_path(const char *name);
const char *test_scratch_write(const char *name, const char *text);
const char *test_scratch_write_bytes(const char *name, const void *data, size_t len);
/* Reads the file at path into buf (NUL-terminated, cut to size - 1 bytes), then deletes it. */
void test_capture_file(const char *path, char *buf, size_t size);
/* Runs `$TAKT_BIN <args>` (args printf-style) with stdout and stderr captured into out and err
 * (through files of the scratch directory); returns the exit code. Skips the test when
 * TAKT_BIN is unset (make test sets it to the built binary). */
int test_run_takt(char *out, size_t out_size, char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A two-class SeqSet of n sequences of F values per frame, classes name0 and name1, for a
 * test to fill: sequence i has label i % 2, seq_id i, no subject (-1) and no frames yet. */
void test_two_class_set(SeqSet *s, int n, int F, const char *name0, const char *name1);
/* Sequence i of s gets n_frames frames (uninitialised), which are returned. */
float *test_sequence_frames(SeqSet *s, int i, int n_frames);

#endif
