/* test_weights.c — crc32, atomic output files, the .tkw reader and writer (round trips,
 * refused input, every truncation and every single-byte corruption of a small file), and
 * `takt weights info` run as a real process. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/io.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static int dir_entry_count(void) {
    int n = 0;
    DIR *d = opendir(test_scratch_dir());
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static unsigned char *read_whole_file(const char *path, size_t *size) {
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *size = (size_t)n;
    return buf;
}

static void write_whole_file(const char *path, const void *bytes, size_t size) {
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s", path);
    cr_assert_eq(fwrite(bytes, 1, size, fp), size);
    cr_assert_eq(fclose(fp), 0);
}

/* The textbook bit-at-a-time CRC, independent of the table-driven one under test. */
static uint32_t crc32_bitwise(const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static void set_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void set_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes both header CRCs after a test has edited a field on purpose, so that the check
 * for that field (not a CRC) is what must catch it. Sections that the edit moved outside
 * the file keep their old CRC; the reader must refuse them before it gets that far. */
static void reseal(unsigned char *file, size_t size) {
    uint64_t meta_off = le64(file + 24), meta_bytes = le64(file + 32);
    uint64_t table_off = le64(file + 40), table_bytes = (uint64_t)le32(file + 20) * 128;
    if (meta_off <= size && meta_bytes <= size - meta_off && table_off <= size &&
        table_bytes <= size - table_off)
        set_le32(file + 56, crc32_update(crc32_bitwise(file + meta_off, meta_bytes),
                                         file + table_off, table_bytes));
    set_le32(file + 60, crc32_bitwise(file, 60));
}

static unsigned char *table_entry(unsigned char *file, int i) {
    return file + le64(file + 40) + (size_t)i * 128;
}

static float sample_value(int tensor, size_t i) {
    return (float)((int)((i * 37 + (size_t)tensor * 11) % 41) - 20) / 8.0f;
}

/* Three tensors (f32 1-D, f16 2-D, f32 4-D) and four metadata entries, saved through the
 * writer and read back into an exactly-sized buffer. */
static unsigned char *build_sample(size_t *size) {
    static const int shapes[3][4] = {{5}, {3, 4}, {2, 1, 3, 2}};
    static const int ndims[3] = {1, 2, 4};
    static const char *names[3] = {"enc.bias", "enc.l0.w_ih", "head.kernel"};
    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "arch", "lstm", &st), TK_OK, "%s", st.msg);
    cr_assert_eq(tkw_writer_meta(w, "classes", "idle,walk,reach", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "note", "f\xc3\xbcr Tests", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "empty", "", &st), TK_OK);
    for (int t = 0; t < 3; t++) {
        float data[12];
        for (size_t i = 0; i < 12; i++)
            data[i] = sample_value(t, i);
        cr_assert_eq(tkw_writer_tensor(w, names[t], t == 1 ? DTYPE_F16 : DTYPE_F32, ndims[t],
                                       shapes[t], data, &st),
                     TK_OK, "%s", st.msg);
    }
    const char *path = test_scratch_path("sample.tkw");
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    return read_whole_file(path, size);
}

/* Opens a copy in a buffer of exactly `size` bytes, so that AddressSanitizer reports any
 * read past the end. */
static StatusCode open_copy(const unsigned char *bytes, size_t size, Status *st) {
    unsigned char *copy = malloc(size ? size : 1);
    cr_assert_not_null(copy);
    if (size)
        memcpy(copy, bytes, size);
    TkwFile f;
    StatusCode code = tkw_open_memory(&f, copy, size, "sample.tkw", st);
    tkw_close(&f);
    free(copy);
    return code;
}

static void assert_format_error(StatusCode code, const Status *st, const char *what) {
    cr_assert_eq(code, TK_EFORMAT, "%s: accepted, or wrong code %d (%s)", what, code, st->msg);
    cr_assert(st->msg[0] != '\0', "%s: empty message", what);
    cr_assert(strstr(st->msg, "sample.tkw") != NULL, "%s: message does not name the file: %s",
              what, st->msg);
}

/* ---------------------------------------------------------------- crc32 */

Test(crc32, matches_the_published_check_values) {
    cr_assert_eq(crc32_of("123456789", 9), 0xCBF43926u);
    cr_assert_eq(crc32_of("", 0), 0u);
    cr_assert_eq(crc32_of(NULL, 0), 0u);
    cr_assert_eq(crc32_of("a", 1), 0xE8B7BE43u);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    cr_assert_eq(crc32_of(fox, strlen(fox)), 0x414FA339u);
}

Test(crc32, agrees_with_bitwise_reference_for_every_length_and_split) {
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof buf; n++)
        cr_assert_eq(crc32_of(buf, n), crc32_bitwise(buf, n), "length %zu", n);
    uint32_t whole = crc32_of(buf, sizeof buf);
    for (size_t split = 0; split <= sizeof buf; split += 7)
        cr_assert_eq(crc32_update(crc32_of(buf, split), buf + split, sizeof buf - split), whole,
                     "split at %zu", split);
    /* Unaligned starts must not matter. */
    for (size_t start = 1; start < 9; start++)
        cr_assert_eq(crc32_of(buf + start, 100), crc32_bitwise(buf + start, 100));
}

/* ---------------------------------------------------------------- atomic_file */

TestSuite(atomic_file, .init = test_scratch_begin, .fini = test_scratch_end);

Test(atomic_file, commit_creates_the_file_and_leaves_no_temporary) {
    const char *path = test_scratch_path("out.txt");
    AtomicFile af;
    Status st = {0};
    cr_assert_eq(atomic_open(&af, path, &st), TK_OK, "%s", st.msg);
    cr_assert(file_exists(af.tmp_path));
    cr_assert(!file_exists(path), "the real name must not appear before commit");
    fputs("hello\n", af.fp);
    cr_assert_eq(atomic_commit(&af, &st), TK_OK, "%s", st.msg);
    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    cr_assert_eq(size, 6);
    cr_assert(!memcmp(bytes, "hello\n", 6));
    free(bytes);
    cr_assert_eq(dir_entry_count(), 1);
}

Test(atomic_file, commit_replaces_and_abort_keeps_the_old_file) {
    const char *path = test_scratch_path("out.txt");
    write_whole_file(path, "old", 3);
    AtomicFile af;
    Status st = {0};
    cr_assert_eq(atomic_open(&af, path, &st), TK_OK);
    fputs("half-written", af.fp);
    atomic_abort(&af);
    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    cr_assert(size == 3 && !memcmp(bytes, "old", 3), "abort must not touch the old file");
    free(bytes);
    cr_assert_eq(dir_entry_count(), 1, "abort must remove the temporary file");

    cr_assert_eq(atomic_open(&af, path, &st), TK_OK);
    fputs("new!", af.fp);
    cr_assert_eq(atomic_commit(&af, &st), TK_OK, "%s", st.msg);
    bytes = read_whole_file(path, &size);
    cr_assert(size == 4 && !memcmp(bytes, "new!", 4));
    free(bytes);
    cr_assert_eq(dir_entry_count(), 1);
}

Test(atomic_file, abort_without_commit_leaves_nothing) {
    const char *path = test_scratch_path("never.txt");
    AtomicFile af;
    Status st = {0};
    cr_assert_eq(atomic_open(&af, path, &st), TK_OK);
    fputs("data", af.fp);
    atomic_abort(&af);
    atomic_abort(&af); /* harmless twice */
    cr_assert_eq(dir_entry_count(), 0);
}

Test(atomic_file, nonexistent_directory_fails_with_the_path_and_reason) {
    const char *path = test_scratch_path("no/such/dir/out.txt");
    AtomicFile af;
    Status st = {0};
    cr_assert_eq(atomic_open(&af, path, &st), TK_EIO);
    cr_assert(strstr(st.msg, path) != NULL, "message: %s", st.msg);
    cr_assert(strstr(st.msg, "No such file or directory") != NULL, "message: %s", st.msg);
    cr_assert_null(af.fp);
    atomic_abort(&af); /* must be safe after a failed open */
}

Test(atomic_file, commit_fails_cleanly_when_the_target_is_a_directory) {
    const char *path = test_scratch_path("taken");
    cr_assert_eq(mkdir(path, 0700), 0);
    AtomicFile af;
    Status st = {0};
    cr_assert_eq(atomic_open(&af, path, &st), TK_OK);
    fputs("data", af.fp);
    cr_assert_eq(atomic_commit(&af, &st), TK_EIO);
    cr_assert(strstr(st.msg, path) != NULL && strstr(st.msg, "rename") != NULL, "message: %s",
              st.msg);
    cr_assert(!file_exists(test_scratch_path("taken.tmp")), "the temporary file must be removed");
    rmdir(path);
}

/* ---------------------------------------------------------------- weights */

TestSuite(weights, .init = test_scratch_begin, .fini = test_scratch_end);

Test(weights, round_trip_keeps_metadata_shapes_and_values) {
    enum { N = 48 };
    float f32_values[N], f16_exact[N], f16_rounded[N];
    for (int i = 0; i < N; i++) {
        f32_values[i] = (float)sin(i * 0.7) * powf(10.0f, (float)(i % 9) - 4.0f);
        f16_rounded[i] = (float)cos(i * 1.3) * 3.0f;
    }
    f32_values[0] = 1e-40f; /* subnormal */
    f32_values[1] = -0.0f;
    f32_values[2] = INFINITY;
    f32_values[3] = 3.4e38f;
    /* Values float16 represents exactly: eighths, its largest value, its smallest normal and
     * subnormal numbers, signed zero. */
    for (int i = 0; i < N; i++)
        f16_exact[i] = (float)(i - 20) / 8.0f;
    f16_exact[0] = 65504.0f;
    f16_exact[1] = -65504.0f;
    f16_exact[2] = ldexpf(1.0f, -14);
    f16_exact[3] = ldexpf(1.0f, -24);
    f16_exact[4] = -0.0f;
    f16_exact[5] = 2048.0f;

    struct {
        const char *name;
        Dtype dtype;
        int ndim;
        int shape[4];
        const float *data;
    } specs[] = {
        {"vec", DTYPE_F32, 1, {48}, f32_values},
        {"enc.l0.w_ih", DTYPE_F32, 2, {6, 8}, f32_values},
        {"cube_f16", DTYPE_F16, 3, {2, 3, 8}, f16_exact},
        {"conv/kernel:0", DTYPE_F16, 4, {2, 2, 3, 4}, f16_rounded},
        {"odd", DTYPE_F16, 1, {3}, f16_exact},
        {"a23456789012345678901234567890123456789012345678901234567890123", DTYPE_F32, 1, {1},
         f32_values},
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    const char *unicode = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac "
                          "\xf0\x9f\x8e\x89";

    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "arch", "lstm-2x64", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "unicode", unicode, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(tkw_writer_meta(w, "multi", "line 1\nline 2\ttab", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "empty", "", &st), TK_OK);
    for (int s = 0; s < n_specs; s++)
        cr_assert_eq(tkw_writer_tensor(w, specs[s].name, specs[s].dtype, specs[s].ndim,
                                       specs[s].shape, specs[s].data, &st),
                     TK_OK, "%s: %s", specs[s].name, st.msg);
    const char *path = test_scratch_path("model.tkw");
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);

    TkwFile f;
    cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(f.n_meta, 4);
    cr_assert_str_eq(tkw_meta(&f, "arch"), "lstm-2x64");
    cr_assert_str_eq(tkw_meta(&f, "unicode"), unicode);
    cr_assert_str_eq(tkw_meta(&f, "multi"), "line 1\nline 2\ttab");
    cr_assert_str_eq(tkw_meta(&f, "empty"), "");
    cr_assert_null(tkw_meta(&f, "missing"));
    cr_assert_eq(f.n_tensors, n_specs);
    cr_assert_null(tkw_find(&f, "missing"));

    for (int s = 0; s < n_specs; s++) {
        const TkwTensor *t = tkw_find(&f, specs[s].name);
        cr_assert_not_null(t, "tensor %s missing", specs[s].name);
        cr_assert_eq(t, &f.tensors[s], "tensors keep their order");
        cr_assert_eq(t->dtype, specs[s].dtype);
        cr_assert_eq(t->ndim, specs[s].ndim);
        size_t count = 1;
        for (int d = 0; d < 4; d++) {
            int expected = d < specs[s].ndim ? specs[s].shape[d] : 1;
            cr_assert_eq(t->shape[d], expected, "%s shape[%d]", t->name, d);
            count *= (size_t)expected;
        }
        cr_assert_eq(t->count, count);
        cr_assert_eq(t->bytes, count * (t->dtype == DTYPE_F16 ? 2 : 4));
        cr_assert_eq(t->offset % 64, 0);
        cr_assert_eq((uintptr_t)t->data % 64, 0, "%s: data not 64-byte aligned", t->name);

        float got[N];
        cr_assert_eq(tkw_read_f32(&f, t->name, got, count, &st), TK_OK, "%s", st.msg);
        for (size_t i = 0; i < count; i++) {
            float want = specs[s].data[i];
            if (specs[s].data != f16_rounded) {
                cr_assert(!memcmp(&got[i], &want, sizeof want), "%s[%zu]: %g, wrote %g",
                          t->name, i, (double)got[i], (double)want);
            } else {
                /* Nearest-even rounding to 11 significant bits: within half a unit. */
                cr_assert(fabsf(got[i] - want) <= fabsf(want) * 0x1p-11f + 0x1p-25f,
                          "%s[%zu]: %g, wrote %g", t->name, i, (double)got[i], (double)want);
            }
        }
    }
    tkw_close(&f);
}

Test(weights, header_fields_and_crcs_are_where_the_spec_puts_them) {
    size_t size;
    unsigned char *file = build_sample(&size);
    cr_assert(!memcmp(file, "TAKTW\0\0\0", 8));
    cr_assert_eq(le32(file + 8), TKW_VERSION);
    cr_assert_eq(le32(file + 12), 0x01020304u);
    cr_assert_eq(le32(file + 16), 4);
    cr_assert_eq(le32(file + 20), 3);
    cr_assert_eq(le32(file + 60), crc32_bitwise(file, 60));
    uint64_t data_off = le64(file + 48);
    cr_assert_eq(data_off % 64, 0);
    for (int i = 0; i < 3; i++) {
        const unsigned char *e = table_entry(file, i);
        uint64_t off = le64(e + 88), bytes = le64(e + 96);
        cr_assert_eq(off % 64, 0);
        cr_assert_eq(le32(e + 104), crc32_bitwise(file + data_off + off, bytes));
    }
    free(file);
}

Test(weights, empty_file_without_tensors_or_metadata_round_trips) {
    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    const char *path = test_scratch_path("empty.tkw");
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    TkwFile f;
    cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(f.n_meta, 0);
    cr_assert_eq(f.n_tensors, 0);
    tkw_close(&f);
}

Test(weights, save_replaces_an_existing_file_and_leaves_no_temporary) {
    const char *path = test_scratch_path("model.tkw");
    write_whole_file(path, "not a weight file", 17);
    Status st = {0};
    float one = 1.0f;
    int shape = 1;
    for (int round = 0; round < 2; round++) {
        TkwWriter *w;
        cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
        cr_assert_eq(tkw_writer_tensor(w, round ? "second" : "first", DTYPE_F32, 1, &shape,
                                       &one, &st),
                     TK_OK);
        cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
        tkw_writer_free(w);
        cr_assert_eq(dir_entry_count(), 1, "a .tmp file was left behind");
        TkwFile f;
        cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(f.n_tensors, 1);
        cr_assert_str_eq(f.tensors[0].name, round ? "second" : "first");
        tkw_close(&f);
    }
}

Test(weights, save_into_a_missing_directory_names_the_path) {
    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    const char *path = test_scratch_path("missing/model.tkw");
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_EIO);
    cr_assert(strstr(st.msg, path) != NULL, "message: %s", st.msg);
    tkw_writer_free(w);
}

Test(weights, writer_refuses_bad_input) {
    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    float data[8] = {0};
    int good[4] = {2, 2, 2, 1}, zero[2] = {3, 0}, negative[2] = {-1, 2};
    char long_name[80];
    memset(long_name, 'x', 64);
    long_name[64] = '\0';
    cr_assert_eq(tkw_writer_tensor(w, "ok", DTYPE_F32, 2, good, data, &st), TK_OK);

    struct {
        const char *what, *name;
        Dtype dtype;
        int ndim;
        const int *shape;
        const char *in_msg;
    } bad[] = {
        {"empty name", "", DTYPE_F32, 1, good, "empty"},
        {"NULL name", NULL, DTYPE_F32, 1, good, "empty"},
        {"64-byte name", long_name, DTYPE_F32, 1, good, "longer than 63"},
        {"control character", "a\nb", DTYPE_F32, 1, good, "control"},
        {"invalid UTF-8", "bad\xff", DTYPE_F32, 1, good, "UTF-8"},
        {"duplicate", "ok", DTYPE_F32, 1, good, "'ok'"},
        {"ndim 0", "t", DTYPE_F32, 0, good, "ndim 0"},
        {"ndim 5", "t", DTYPE_F32, 5, good, "ndim 5"},
        {"zero dim", "t", DTYPE_F32, 2, zero, "shape[1] = 0"},
        {"negative dim", "t", DTYPE_F32, 2, negative, "shape[0] = -1"},
        {"unknown dtype", "t", (Dtype)7, 1, good, "dtype 7"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st.msg[0] = '\0';
        StatusCode code = tkw_writer_tensor(w, bad[i].name, bad[i].dtype, bad[i].ndim,
                                            bad[i].shape, data, &st);
        cr_assert_eq(code, TK_EINVAL, "%s: accepted", bad[i].what);
        cr_assert(strstr(st.msg, bad[i].in_msg) != NULL, "%s: message '%s'", bad[i].what,
                  st.msg);
    }
    float too_big[2] = {1.0f, 70000.0f};
    cr_assert_eq(tkw_writer_tensor(w, "big", DTYPE_F16, 1, (int[]){2}, too_big, &st),
                 TK_EINVAL, "a finite value that float16 turns into infinity must be refused");
    cr_assert(strstr(st.msg, "index 1") != NULL, "message: %s", st.msg);

    cr_assert_eq(tkw_writer_meta(w, "k", "v", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "k", "again", &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "'k'") != NULL, "message: %s", st.msg);
    cr_assert_eq(tkw_writer_meta(w, "", "v", &st), TK_EINVAL);
    cr_assert_eq(tkw_writer_meta(w, "tab\tkey", "v", &st), TK_EINVAL);
    cr_assert_eq(tkw_writer_meta(w, "k2", "\xc0\x80", &st), TK_EINVAL, "overlong NUL");

    /* The refusals left the writer usable and unchanged. */
    const char *path = test_scratch_path("after.tkw");
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    TkwFile f;
    cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(f.n_tensors, 1);
    cr_assert_eq(f.n_meta, 1);
    tkw_close(&f);
}

Test(weights, read_f32_names_the_tensor_on_error) {
    size_t size;
    unsigned char *bytes = build_sample(&size);
    TkwFile f;
    Status st = {0};
    cr_assert_eq(tkw_open_memory(&f, bytes, size, "sample.tkw", &st), TK_OK, "%s", st.msg);
    float dst[12];
    cr_assert_eq(tkw_read_f32(&f, "enc.l0.w_ih", dst, 11, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "'enc.l0.w_ih'") && strstr(st.msg, "12") && strstr(st.msg, "11"),
              "message: %s", st.msg);
    cr_assert(strstr(st.msg, "sample.tkw") != NULL, "message: %s", st.msg);
    cr_assert_eq(tkw_read_f32(&f, "dec.w", dst, 12, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "'dec.w'") != NULL, "message: %s", st.msg);
    cr_assert_eq(tkw_read_f32(&f, "enc.l0.w_ih", dst, 12, &st), TK_OK);
    for (size_t i = 0; i < 12; i++)
        cr_assert_eq(dst[i], sample_value(1, i), "eighths are exact in float16");
    tkw_close(&f);
    free(bytes);
}

Test(weights, every_truncation_is_refused) {
    size_t size;
    unsigned char *bytes = build_sample(&size);
    Status st;
    cr_assert_eq(open_copy(bytes, size, &st), TK_OK, "%s", st.msg);
    for (size_t len = 0; len < size; len++) {
        memset(&st, 0, sizeof st);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", len, size);
        assert_format_error(open_copy(bytes, len, &st), &st, what);
    }
    free(bytes);
}

Test(weights, every_single_byte_corruption_is_detected) {
    size_t size;
    unsigned char *bytes = build_sample(&size);
    unsigned char *copy = malloc(size);
    cr_assert_not_null(copy);
    static const unsigned char masks[] = {0xFF, 0x01, 0x80};
    for (size_t pos = 0; pos < size; pos++)
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, bytes, size);
            copy[pos] ^= masks[m];
            Status st = {0};
            char what[64];
            snprintf(what, sizeof what, "byte %zu ^ 0x%02x", pos, masks[m]);
            assert_format_error(open_copy(copy, size, &st), &st, what);
        }
    free(copy);
    free(bytes);
}

Test(weights, corruption_messages_name_the_field) {
    size_t size;
    unsigned char *good = build_sample(&size);
    unsigned char *file = malloc(size);
    Status st;
    struct {
        const char *what, *in_msg;
    } expect;

#define EXPECT(description, needle)                                                         \
    do {                                                                                    \
        expect.what = (description);                                                        \
        expect.in_msg = (needle);                                                           \
        memset(&st, 0, sizeof st);                                                          \
        assert_format_error(open_copy(file, size, &st), &st, expect.what);                  \
        cr_assert(strstr(st.msg, expect.in_msg) != NULL, "%s: message '%s' lacks '%s'",     \
                  expect.what, st.msg, expect.in_msg);                                      \
        memcpy(file, good, size);                                                           \
    } while (0)

    memcpy(file, good, size);
    set_le32(file + 8, 7);
    EXPECT("version", "header: version 7 (this takt reads version 1)");
    file[0] = 'X';
    EXPECT("magic", "magic");
    set_le32(file + 12, 0x04030201u);
    EXPECT("byte order", "big-endian");
    file[30] ^= 1;
    EXPECT("header CRC", "header: CRC mismatch (stored 0x");
    uint64_t data_off = le64(file + 48);
    file[data_off + 64 + 3] ^= 1; /* inside tensor 1 */
    EXPECT("data CRC", "tensor 1 'enc.l0.w_ih': CRC mismatch (stored 0x");
    table_entry(file, 0)[70] ^= 1;
    EXPECT("table CRC", "metadata and tensor table: CRC mismatch");

    /* Edited fields with the CRCs recomputed, so that the field's own check must fire. */
    memset(table_entry(file, 1), 0, 64);
    memcpy(table_entry(file, 1), "enc.bias", 8);
    reseal(file, size);
    EXPECT("duplicate name", "'enc.bias' appears twice");
    set_le32(file + 20, 0x7FFFFFFF);
    reseal(file, size);
    EXPECT("huge tensor count", "tensor table");
    set_le32(file + 16, 0x7FFFFFFF);
    reseal(file, size);
    EXPECT("huge metadata count", "metadata entries");
    set_le32(table_entry(file, 2) + 64, 9);
    reseal(file, size);
    EXPECT("dtype", "tensor 2 'head.kernel': unknown dtype 9");
    set_le32(table_entry(file, 2) + 68, 5);
    reseal(file, size);
    EXPECT("ndim", "ndim 5");
    set_le32(table_entry(file, 0) + 72, 0);
    reseal(file, size);
    EXPECT("zero dim", "shape[0] = 0");
    set_le32(table_entry(file, 0) + 76, 2);
    reseal(file, size);
    EXPECT("unused dim", "unused shape[1] = 2");
    set_le32(table_entry(file, 0) + 72, 0xFFFFFFFFu);
    reseal(file, size);
    EXPECT("dim past INT_MAX", "shape[0] = 4294967295");
    set_le64(table_entry(file, 1) + 96, 4);
    reseal(file, size);
    EXPECT("bytes", "4 bytes, but shape 3x4 of f16 needs 24");
    set_le64(table_entry(file, 1) + 88, 8);
    reseal(file, size);
    EXPECT("unaligned offset", "not 64-byte aligned");
    set_le64(table_entry(file, 1) + 88, 0xFFFFFFFFFFFFFFC0u);
    reseal(file, size);
    EXPECT("offset past the end", "extends past the end of the file");
    set_le64(table_entry(file, 1) + 88, 0);
    reseal(file, size);
    EXPECT("overlap", "overlaps tensor 0 'enc.bias'");
    table_entry(file, 2)[127] = 1;
    reseal(file, size);
    EXPECT("reserved", "reserved bytes are not zero");
    table_entry(file, 0)[63] = 'x';
    reseal(file, size);
    EXPECT("name padding", "bytes after the name are not zero");
    memset(table_entry(file, 0), 'n', 64);
    reseal(file, size);
    EXPECT("unterminated name", "tensor 0: name is not NUL-terminated");
    table_entry(file, 0)[0] = 0;
    reseal(file, size);
    EXPECT("empty name", "tensor 0: empty name");
    set_le64(file + 24, 32);
    reseal(file, size);
    EXPECT("metadata inside header", "overlaps the 64-byte header");
    set_le64(file + 48, le64(file + 40));
    reseal(file, size);
    EXPECT("data over table", "overlaps the tensor table");
    /* Metadata entry 0 is "arch" = "lstm": its key length field starts the section. */
    set_le32(file + 64, 3);
    reseal(file, size);
    EXPECT("key length", "metadata entry 0");
    {
        /* Entry 1 starts at byte 16 of the section: key "classes" (7 bytes), then its value. */
        unsigned char *entry1 = file + 64 + 16;
        memcpy(entry1 + 4, "cl\0sses", 7);
        reseal(file, size);
        EXPECT("NUL inside key", "metadata entry 1: key");
        entry1[4 + 7 + 4 + 1] = '\0';
        reseal(file, size);
        EXPECT("NUL inside value", "metadata entry 1 'classes': value");
        entry1[4 + 7 + 4 + 1] = 0xC3; /* a lead byte followed by ASCII */
        reseal(file, size);
        EXPECT("invalid UTF-8 value", "metadata entry 1 'classes': value");
    }
    set_le64(file + 32, le64(file + 32) + 1);
    set_le64(file + 40, le64(file + 40) + 1);
    reseal(file, size);
    EXPECT("metadata trailing byte", "bytes after its 4 entries");
#undef EXPECT
    free(file);
    free(good);
}

Test(weights, duplicate_metadata_key_is_refused) {
    size_t size;
    unsigned char *file = build_sample(&size);
    /* Entries: "arch"="lstm", "classes"=..., "note"=..., "empty"="". Rename "note" (4
     * bytes) to "arch". */
    unsigned char *meta = file + le64(file + 24);
    size_t pos = 0;
    for (int entry = 0; entry < 2; entry++)
        for (int part = 0; part < 2; part++)
            pos += 4 + le32(meta + pos);
    cr_assert(!memcmp(meta + pos + 4, "note", 4));
    memcpy(meta + pos + 4, "arch", 4);
    reseal(file, size);
    Status st = {0};
    assert_format_error(open_copy(file, size, &st), &st, "duplicate key");
    cr_assert(strstr(st.msg, "metadata key 'arch' appears twice") != NULL, "message: %s",
              st.msg);
    free(file);
}

Test(weights, open_reports_missing_short_and_truncated_files) {
    Status st = {0};
    TkwFile f;
    const char *missing = test_scratch_path("nothing-here.tkw");
    cr_assert_eq(tkw_open(&f, missing, &st), TK_EIO);
    cr_assert(strstr(st.msg, missing) && strstr(st.msg, "No such file"), "message: %s",
              st.msg);
    tkw_close(&f); /* safe after a failed open */

    cr_assert_eq(tkw_open(&f, test_scratch_dir(), &st), TK_EIO, "a directory is not a weight file");

    size_t size;
    unsigned char *bytes = build_sample(&size);
    const char *path = test_scratch_path("sample.tkw");
    cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
    tkw_close(&f);

    cr_assert_eq(truncate(path, (off_t)size - 10), 0);
    cr_assert_eq(tkw_open(&f, path, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, path) && strstr(st.msg, "extends past the end"), "message: %s",
              st.msg);

    cr_assert_eq(truncate(path, 37), 0);
    cr_assert_eq(tkw_open(&f, path, &st), TK_EFORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s: file is 37 bytes, shorter than the 64-byte header", path);
    cr_assert_str_eq(st.msg, want);

    cr_assert_eq(truncate(path, 0), 0);
    cr_assert_eq(tkw_open(&f, path, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "file is 0 bytes") != NULL, "message: %s", st.msg);

    /* Appended bytes are refused too: the file must end where its data ends. */
    write_whole_file(path, bytes, size);
    FILE *fp = fopen(path, "ab");
    fputc(0, fp);
    fclose(fp);
    cr_assert_eq(tkw_open(&f, path, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "1 unexpected bytes after the end") != NULL, "message: %s",
              st.msg);
    free(bytes);
}

/* ---------------------------------------------------------------- takt weights (process) */

TestSuite(weights_cli, .init = test_scratch_begin, .fini = test_scratch_end);

/* `$TAKT_BIN <args>` with stdout and stderr into the test's out and err; the exit code. */
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

Test(weights_cli, info_lists_a_good_file) {
    size_t size;
    free(build_sample(&size));
    char args[600], out[8192], err[1024];
    snprintf(args, sizeof args, "weights info '%s'", test_scratch_path("sample.tkw"));
    int code = takt("%s", args);
    cr_assert_eq(code, 0, "exit %d, stderr: %s", code, err);
    cr_assert_str_eq(err, "");
    const char *needles[] = {"sample.tkw", "version 1", "arch = lstm", "enc.bias",
                             "enc.l0.w_ih", "head.kernel", "3x4", "2x1x3x2", "f16",
                             "total: 3 tensors, 29 parameters"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        cr_assert(strstr(out, needles[i]) != NULL, "output lacks '%s':\n%s", needles[i], out);
}

Test(weights_cli, info_on_a_corrupt_file_exits_1_naming_the_file) {
    size_t size;
    unsigned char *bytes = build_sample(&size);
    bytes[size - 1] ^= 0x55;
    const char *path = test_scratch_path("corrupt.tkw");
    write_whole_file(path, bytes, size);
    free(bytes);
    char args[600], out[8192], err[1024];
    snprintf(args, sizeof args, "weights info '%s'", path);
    int code = takt("%s", args);
    cr_assert_eq(code, 1, "exit %d", code);
    cr_assert(!strncmp(err, "takt: ", 6), "stderr: %s", err);
    cr_assert(strstr(err, path) && strstr(err, "CRC mismatch"), "stderr: %s", err);
    cr_assert_str_eq(out, "");
}

Test(weights_cli, help_and_usage_errors) {
    char out[8192], err[1024];
    cr_assert_eq(takt("weights --help"), 0);
    cr_assert(strstr(out, "info") != NULL, "help: %s", out);
    cr_assert_eq(takt("weights info --help"), 0);
    cr_assert(strstr(out, "takt weights info FILE") != NULL, "help: %s", out);
    cr_assert_eq(takt("weights"), 2);
    cr_assert_eq(takt("weights frobnicate"), 2);
    cr_assert(strstr(err, "frobnicate") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("weights info"), 2);
    cr_assert(strstr(err, "missing FILE") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("weights info a.tkw b.tkw"), 2);
    cr_assert_eq(takt("weights info /nonexistent/x.tkw"), 1);
    cr_assert(!strncmp(err, "takt: /nonexistent/x.tkw: ", 26), "stderr: %s", err);
}
