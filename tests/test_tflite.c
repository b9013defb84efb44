/* test_tflite.c — SHA-256 against FIPS 180-2's examples, the TFLite reader on MediaPipe's
 * models (operator counts as listed in ../shared/pose/models/MODELS.md), sparse-tensor
 * densification on a hand-made CSR matrix, truncated and byte-flipped models (errors, never
 * crashes), and the importer: provenance metadata, and the committed .tkw files in weights/ being
 * exactly what the converter makes from the shared .tflite files. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io.h"
#include "testutil.h"

static void check_sha(const char *msg, size_t n, const char *want)
{
    char hex[65];
    sha256_hex(msg, n, hex);
    cr_assert_str_eq(hex, want, "sha256 of a %zu-byte message", n);
}

Test(tflite, sha256_fips_examples)
{
    /* FIPS 180-2, appendix B.1, B.2 and B.3; the empty message from NIST's example values. */
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(m448, strlen(m448),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    cr_assert_not_null(million);
    memset(million, 'a', 1000000);
    check_sha(million, 1000000,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

Test(tflite, sha256_incremental_equals_one_shot)
{
    unsigned char msg[300];
    for (int i = 0; i < 300; i++)
        msg[i] = (unsigned char)(i * 37 + 11);
    char whole[65];
    sha256_hex(msg, sizeof msg, whole);
    for (size_t split = 0; split <= sizeof msg; split += 7) {
        Sha256 s;
        unsigned char d[32];
        char hex[65];
        sha256_init(&s);
        sha256_update(&s, msg, split);
        sha256_update(&s, msg + split, sizeof msg - split);
        sha256_final(&s, d);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        cr_assert_str_eq(hex, whole, "split at %zu", split);
    }
}

static unsigned char *shared_model(const char *file, size_t *size)
{
    char rel[256], buf[1024];
    snprintf(rel, sizeof rel, "pose/models/%s", file);
    const char *path = test_shared_path(buf, sizeof buf, rel);
    if (!path)
        return NULL;
    return test_read_file(path, size);
}

static int count_ops(const TfliteModel *m, int builtin)
{
    int n = 0;
    for (int i = 0; i < m->n_ops; i++)
        n += m->ops[i].builtin == builtin;
    return n;
}

Test(tflite, parses_mediapipe_models)
{
    /* Counts from ../shared/pose/models/MODELS.md (made with flatc-generated Python). */
    static const struct {
        const char *file;
        int tensors, ops, dequantize, densify, conv, dw, add, pad, resize, reshape, maxpool;
    } models[] = {
        {"pose_detection.tflite", 442, 291, 144, 38, 45, 28, 15, 8, 2, 6, 0},
        {"pose_landmark_lite.tflite", -1, 305, 176, 0, 54, 34, 25, 5, 5, 3, 2},
        {"pose_landmark_full.tflite", -1, 332, 192, 0, 58, 38, 28, 5, 5, 3, 2},
    };
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        size_t size;
        unsigned char *bytes = shared_model(models[k].file, &size);
        if (!bytes)
            cr_skip_test("../shared not found (pose/models)");
        TfliteModel m;
        Status st = {0};
        cr_assert_eq(tflite_parse(&m, bytes, size, models[k].file, &st), TK_OK, "%s", st.msg);
        if (models[k].tensors > 0)
            cr_expect_eq(m.n_tensors, models[k].tensors, "%s", models[k].file);
        cr_expect_eq(m.n_ops, models[k].ops, "%s", models[k].file);
        cr_expect_eq(count_ops(&m, TFL_OP_DEQUANTIZE), models[k].dequantize);
        cr_expect_eq(count_ops(&m, TFL_OP_DENSIFY), models[k].densify);
        cr_expect_eq(count_ops(&m, TFL_OP_CONV_2D), models[k].conv);
        cr_expect_eq(count_ops(&m, TFL_OP_DEPTHWISE_CONV_2D), models[k].dw);
        cr_expect_eq(count_ops(&m, TFL_OP_ADD), models[k].add);
        cr_expect_eq(count_ops(&m, TFL_OP_PAD), models[k].pad);
        cr_expect_eq(count_ops(&m, TFL_OP_RESIZE_BILINEAR), models[k].resize);
        cr_expect_eq(count_ops(&m, TFL_OP_RESHAPE), models[k].reshape);
        cr_expect_eq(count_ops(&m, TFL_OP_MAX_POOL_2D), models[k].maxpool);
        cr_assert_eq(m.n_inputs, 1);
        const TfliteTensor *in = &m.tensors[m.inputs[0]];
        cr_expect_str_eq(in->name, "input_1");
        cr_expect_eq(in->shape[1], k == 0 ? 224 : 256);
        cr_expect_eq(m.n_outputs, k == 0 ? 2 : 5);
        cr_expect_str_eq(m.tensors[m.outputs[0]].name, "Identity");
        int sparse = 0;
        for (int i = 0; i < m.n_tensors; i++)
            sparse += m.tensors[i].has_sparsity;
        cr_expect_eq(sparse, k == 0 ? 38 : 0);
        /* MODELS.md: the first conv is 24x3x3x3, stride 2, VALID after an explicit PAD. */
        for (int i = 0; i < m.n_ops; i++)
            if (m.ops[i].builtin == TFL_OP_CONV_2D) {
                cr_expect_eq(m.ops[i].stride_h, 2);
                cr_expect_eq(m.ops[i].padding, TFL_PAD_VALID);
                cr_expect_eq(m.ops[i].activation, TFL_ACT_RELU6);
                break;
            }
        for (int i = 0; i < m.n_ops; i++)
            if (m.ops[i].builtin == TFL_OP_RESIZE_BILINEAR) {
                cr_expect_eq(m.ops[i].half_pixel_centers, 1);
                cr_expect_eq(m.ops[i].align_corners, 0);
            }
        tflite_free(&m);
        free(bytes);
    }
}

/* A 3x4 matrix, row 0 = {0, 1, 0, 2}, row 1 empty, row 2 = {3, 0, 0, 0}, stored as TFLite's
 * sparsity does it: dim 0 DENSE, dim 1 SPARSE_CSR with uint8 segments and indices. */
Test(tflite, densify_csr_matrix)
{
    static const unsigned char segments[] = {0, 2, 2, 3};
    static const unsigned char indices[] = {1, 3, 0};
    static const float values[] = {1, 2, 3};
    TfliteTensor t = {.name = "w", .type = TFL_FLOAT32, .ndim = 2, .shape = {3, 4},
                      .data = (const unsigned char *)values, .bytes = sizeof values,
                      .has_sparsity = 1};
    t.sparsity.n_order = 2;
    t.sparsity.order[1] = 1;
    t.sparsity.n_dims = 2;
    t.sparsity.dims[0].dense_size = 3;
    t.sparsity.dims[1] = (TfliteDimMeta){.sparse = 1, .segments_type = 3, .indices_type = 3,
                                         .segments = segments, .indices = indices,
                                         .n_segments = 4, .n_indices = 3};
    TfliteModel m = {.name = "hand-made", .n_tensors = 1, .tensors = &t};
    float dense[12];
    Status st = {0};
    cr_assert_eq(tflite_densify(&m, 0, dense, 4, 12, &st), TK_OK, "%s", st.msg);
    const float want[12] = {0, 1, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0};
    cr_assert_arr_eq(dense, want, sizeof want);

    /* An index beyond the row, or segments past the indices, are errors, not writes. */
    static const unsigned char bad_indices[] = {1, 4, 0};
    t.sparsity.dims[1].indices = bad_indices;
    cr_assert_eq(tflite_densify(&m, 0, dense, 4, 12, &st), TK_EFORMAT);
    static const unsigned char bad_segments[] = {0, 2, 2, 9};
    t.sparsity.dims[1].indices = indices;
    t.sparsity.dims[1].segments = bad_segments;
    cr_assert_eq(tflite_densify(&m, 0, dense, 4, 12, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "hand-made") != NULL, "message names the model: %s", st.msg);
}

Test(tflite, rejects_garbage)
{
    TfliteModel m;
    Status st = {0};
    cr_assert_eq(tflite_parse(&m, "hello", 5, "junk.tflite", &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "junk.tflite") != NULL, "%s", st.msg);
    unsigned char tiny[16] = {12, 0, 0, 0, 'T', 'F', 'L', '3'};
    cr_assert_eq(tflite_parse(&m, tiny, sizeof tiny, "tiny.tflite", &st), TK_EFORMAT);
}

/* Parses a damaged copy, then densifies whatever sparse tensors it still finds: each must end
 * in TK_OK or an error with a message, never a crash or an out-of-bounds read (ASan). */
static int parse_damaged(const unsigned char *bytes, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1); /* exact size, so ASan sees overreads */
    cr_assert_not_null(copy);
    memcpy(copy, bytes, size);
    TfliteModel m;
    Status st = {0};
    StatusCode rc = tflite_parse(&m, copy, size, "damaged.tflite", &st);
    if (rc == TK_OK) {
        for (int i = 0; i < m.n_tensors; i++) {
            const TfliteTensor *t = &m.tensors[i];
            size_t count = 1;
            for (int d = 0; d < t->ndim; d++)
                count *= (size_t)t->shape[d];
            if (!t->has_sparsity || count > (1u << 22))
                continue;
            unsigned char *dst = malloc(count * 2 + 1);
            cr_assert_not_null(dst);
            if (tflite_densify(&m, i, dst, 2, count, &st) != TK_OK)
                cr_assert(st.msg[0] != '\0');
            free(dst);
        }
        tflite_free(&m);
    } else {
        cr_assert(rc == TK_EFORMAT || rc == TK_EUNSUPPORTED, "code %d", rc);
        cr_assert(strstr(st.msg, "damaged.tflite") != NULL, "%s", st.msg);
    }
    free(copy);
    return rc == TK_OK;
}

Test(tflite, truncated_and_flipped_models_fail_cleanly)
{
    size_t size;
    unsigned char *bytes = shared_model("pose_detection.tflite", &size);
    if (!bytes)
        cr_skip_test("../shared not found (pose/models/pose_detection.tflite)");
    Rng rng;
    rng_seed(&rng, 3, 0);
    /* Truncation anywhere cuts off the root table, a vtable or a buffer's end. */
    for (int i = 0; i < 80; i++) {
        size_t cut = i < 30 ? (size_t)i * 3 : (size_t)rng_below(&rng, size);
        cr_assert_eq(parse_damaged(bytes, cut), 0, "truncated to %zu bytes", cut);
    }
    /* Flips: the structure (tables, vectors, offsets) sits around the big weight buffers, so
     * half of the flips go to the first and last 64 KiB. */
    unsigned char *flipped = malloc(size);
    cr_assert_not_null(flipped);
    int parsed = 0;
    for (int i = 0; i < 120; i++) {
        size_t at = (size_t)rng_below(&rng, size);
        if (i % 2)
            at = i % 4 == 1 ? at % 65536 : size - 1 - at % 65536;
        memcpy(flipped, bytes, size);
        flipped[at] ^= (unsigned char)(1u << rng_below(&rng, 8));
        if (i % 3 == 0)
            flipped[at] = 0xff;
        parsed += parse_damaged(flipped, size);
    }
    cr_expect_gt(parsed, 0, "some flips (in weight data) leave the model readable");
    free(flipped);
    free(bytes);
}

static char *file_text(const char *path, size_t *size) { return test_read_file(path, size); }

Test(tflite, import_reproduces_committed_weights)
{
    char buf[1024];
    const char *src = test_shared_path(buf, sizeof buf, "pose/models/pose_landmark_lite.tflite");
    if (!src)
        cr_skip_test("../shared not found (pose/models/pose_landmark_lite.tflite)");
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char out16[512], out32[512];
    snprintf(out16, sizeof out16, "%s/lite.tkw", dir);
    snprintf(out32, sizeof out32, "%s/lite32.tkw", dir);
    Status st = {0};
    cr_assert_eq(tflite_import(src, out16, DTYPE_F16, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(tflite_import(src, out32, DTYPE_F32, &st), TK_OK, "%s", st.msg);

    size_t n_made, n_committed;
    char *made = file_text(out16, &n_made);
    char *committed = file_text("weights/pose_landmark_lite.tkw", &n_committed);
    cr_assert_not_null(made);
    cr_assert_not_null(committed, "weights/pose_landmark_lite.tkw missing");
    cr_expect(n_made == n_committed && !memcmp(made, committed, n_made),
              "weights/pose_landmark_lite.tkw differs from a fresh conversion");
    free(made);
    free(committed);

    TkwFile f16, f32;
    cr_assert_eq(tkw_open(&f16, out16, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(tkw_open(&f32, out32, &st), TK_OK, "%s", st.msg);
    cr_expect_str_eq(tkw_meta(&f16, "kind"), "blazepose_landmark_lite");
    cr_expect_str_eq(tkw_meta(&f16, "source"), "pose_landmark_lite.tflite");
    /* sha256 from ../shared/pose/models/MODELS.md */
    cr_expect_str_eq(tkw_meta(&f16, "source_sha256"),
                     "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61");
    cr_expect_str_eq(tkw_meta(&f16, "input_shape"), "1x256x256x3");
    cr_expect_str_eq(tkw_meta(&f16, "outputs"),
                     "Identity,Identity_1,Identity_2,Identity_3,Identity_4");
    cr_expect_str_eq(tkw_meta(&f16, "weights_dtype"), "f16");
    cr_expect_str_eq(tkw_meta(&f32, "weights_dtype"), "f32");
    cr_expect_str_eq(tkw_meta(&f16, "graph"), tkw_meta(&f32, "graph"));
    cr_assert_eq(f16.n_tensors, f32.n_tensors);
    /* float16 weights widen exactly, so both files hold the same numbers. */
    for (int i = 0; i < f16.n_tensors; i++) {
        const TkwTensor *a = &f16.tensors[i], *b = tkw_find(&f32, a->name);
        cr_assert_not_null(b);
        cr_assert_eq(a->dtype, DTYPE_F16);
        cr_assert_eq(b->dtype, DTYPE_F32);
        float *va = malloc(a->count * sizeof *va), *vb = malloc(a->count * sizeof *vb);
        cr_assert_eq(tkw_read_f32(&f16, a->name, va, a->count, &st), TK_OK);
        cr_assert_eq(tkw_read_f32(&f32, a->name, vb, a->count, &st), TK_OK);
        cr_assert_arr_eq(va, vb, a->count * sizeof *va, "tensor %s", a->name);
        free(va);
        free(vb);
    }
    tkw_close(&f16);
    tkw_close(&f32);
}

Test(tflite, import_errors_name_the_file)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char in[512], out[512];
    snprintf(in, sizeof in, "%s/broken.tflite", dir);
    snprintf(out, sizeof out, "%s/broken.tkw", dir);
    FILE *fp = fopen(in, "wb");
    cr_assert_not_null(fp);
    fputs("not a model at all", fp);
    fclose(fp);
    Status st = {0};
    cr_assert_eq(tflite_import(in, out, DTYPE_F16, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "broken.tflite") != NULL, "%s", st.msg);
    cr_assert_eq(tflite_import("/nonexistent/x.tflite", out, DTYPE_F16, &st), TK_EIO);
}
