/* test_posenet.c — the pose network: every optimised kernel against its naive twin on random
 * shapes (odd sizes, both strides, SAME and VALID, with and without residual) at each SIMD
 * level the CPU has, the 1x1 convolution packed dense and sparse; 1 and 2 threads
 * bit-identical; the committed .tkw files of weights/ run by our
 * kernels against the outputs of the real TFLite runtime (tests/data/pose, copied from
 * ../shared/pose/tensors; the full-size outputs read from ../shared when present) with the
 * tolerances of issue 3; skipping the segmentation branch; malformed graphs. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "../io/io.h"
#include "../pose/kernels.h"
#include "../pose/pose.h"
#include "testutil.h"

/* ---------------------------------------------------------------- kernels */

static float *random_floats(Rng *rng, size_t n, float lo, float hi)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * rng_uniform(rng);
    return v;
}

static int n_levels(SimdLevel *levels)
{
    int n = 0;
    levels[n++] = SIMD_SCALAR;
    if (simd_detected() >= SIMD_AVX2)
        levels[n++] = SIMD_AVX2;
    return n;
}

/* |a - b| <= tol * (1 + |b|) everywhere; reports the first element that is not. */
static void assert_close(const float *a, const float *b, size_t n, float tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(a[i] - b[i]) <= tol * (1.0f + fabsf(b[i])),
                  "%s: element %zu: %.9g vs reference %.9g", what, i, a[i], b[i]);
}

typedef struct {
    int ih, iw, ic, oc, k, s, same, relu6, residual;
} ConvCase;

static ConvGeom geom_of(const ConvCase *c, int kh, int kw)
{
    ConvGeom g = {.ih = c->ih, .iw = c->iw, .ic = c->ic, .kh = kh, .kw = kw, .sh = c->s,
                  .sw = c->s, .relu6 = c->relu6};
    conv_geom_padding(&g, c->same);
    g.oc = c->oc;
    return g;
}

Test(posenet, conv2d_matches_reference)
{
    static const ConvCase cases[] = {
        {7, 9, 13, 21, 1, 1, 1, 0, 1},   /* 1x1 pointwise with residual */
        {5, 6, 24, 16, 1, 1, 1, 1, 0},   /* pointwise, RELU6 */
        {4, 3, 40, 35, 1, 1, 1, 1, 1},   /* residual then RELU6 */
        {1, 1, 5, 3, 1, 1, 1, 0, 0},
        {13, 11, 3, 24, 3, 2, 0, 1, 0},  /* the first conv: 3x3 stride 2 VALID after PAD */
        {9, 7, 5, 37, 3, 2, 1, 0, 0},    /* SAME, stride 2, odd sizes */
        {6, 5, 8, 1, 3, 1, 1, 0, 0},     /* segmentation head: one output channel */
        {2, 2, 17, 11, 2, 1, 0, 0, 0},   /* landmark heads: 2x2 VALID to 1x1 */
        {8, 8, 6, 44, 3, 1, 1, 1, 1},    /* 44 = 32 + 8 + 4 output channels */
        {30, 29, 3, 37, 3, 2, 1, 0, 1},  /* SAME, 24 + 13 channels, residual */
    };
    SimdLevel levels[2];
    int nl = n_levels(levels);
    Rng rng;
    rng_seed(&rng, 11, 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const ConvCase *cc = &cases[c];
        ConvGeom g = geom_of(cc, cc->k, cc->k);
        size_t n_in = (size_t)g.ih * g.iw * g.ic, n_out = (size_t)g.oh * g.ow * g.oc;
        float *in = random_floats(&rng, n_in, -1, 1);
        float *w = random_floats(&rng, (size_t)g.kh * g.kw * g.ic * g.oc, -0.5f, 0.5f);
        float *b = random_floats(&rng, (size_t)g.oc, -1, 1);
        float *res = cc->residual ? random_floats(&rng, n_out, -2, 2) : NULL;
        float *ref = malloc(n_out * sizeof *ref), *got = malloc(n_out * sizeof *got);
        cr_assert(ref && got);
        conv2d_ref(&g, in, w, b, res, ref);
        for (int l = 0; l < nl; l++) {
            memset(got, 0xff, n_out * sizeof *got);
            conv2d(levels[l], &g, in, w, b, res, got);
            char what[96];
            snprintf(what, sizeof what, "conv case %zu at %s", c, simd_name(levels[l]));
            assert_close(got, ref, n_out, 2e-5f, what);
        }
        free(in), free(w), free(b), free(res), free(ref), free(got);
    }
}

/* Weights with about `density` of them non-zero (and output channel 0 all zero when
 * density < 1, the empty list of a sparse channel). */
static float *random_weights(Rng *rng, int K, int N, double density)
{
    float *w = random_floats(rng, (size_t)K * N, -0.5f, 0.5f);
    for (size_t i = 0; i < (size_t)K * N; i++)
        if (rng_uniform(rng) >= density || (density < 1 && i % N == 0))
            w[i] = 0.0f;
    return w;
}

static void *pack(PointwiseWeights *pw, const float *w, const float *b, int K, int N,
                  PointwiseForm form)
{
    void *mem = aligned_alloc(64, (pointwise_pack_bytes(w, K, N, form) + 63) / 64 * 64);
    cr_assert_not_null(mem);
    pointwise_pack(pw, mem, w, b, K, N, form);
    return mem;
}

/* pixels, K, N, residual, relu6, density (1 = dense) */
typedef struct {
    int pixels, K, N, residual, relu6;
    double density;
} PointwiseCase;

Test(posenet, pointwise_packed_dense_and_sparse_match_reference)
{
    static const PointwiseCase cases[] = {
        {63, 13, 21, 1, 0, 1},  {30, 24, 16, 0, 1, 1},   {12, 40, 35, 1, 1, 1},
        {1, 5, 3, 0, 0, 1},     {9, 1, 49, 0, 1, 1},     {200, 48, 2, 1, 0, 1},
        {4, 288, 288, 1, 1, 1}, /* the landmark models' 2x2 maps */
        {49, 144, 40, 1, 1, 0.25}, {100, 300, 37, 0, 1, 0.25}, /* sparse, chunks of 128 */
        {33, 64, 8, 1, 0, 0.3},    {7, 129, 300, 1, 1, 0.2},   /* > 256 channels: 2 groups */
        {196, 40, 24, 0, 0, 0.0},                               /* no non-zero at all */
    };
    SimdLevel levels[2];
    int nl = n_levels(levels);
    Rng rng;
    rng_seed(&rng, 15, 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const PointwiseCase *pc = &cases[c];
        ConvGeom g = {.ih = 1, .iw = pc->pixels, .ic = pc->K, .oh = 1, .ow = pc->pixels,
                      .oc = pc->N, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .relu6 = pc->relu6};
        size_t n_out = (size_t)pc->pixels * pc->N;
        float *in = random_floats(&rng, (size_t)pc->pixels * pc->K, -1, 1);
        float *w = random_weights(&rng, pc->K, pc->N, pc->density);
        /* float16 values, as MediaPipe's weights are, so that every form can take them */
        for (size_t i = 0; i < (size_t)pc->K * pc->N; i++)
            w[i] = f16_to_f32(f32_to_f16(w[i]));
        cr_assert(pointwise_fits_half(w, (size_t)pc->K * pc->N));
        float *b = random_floats(&rng, (size_t)pc->N, -1, 1);
        float *res = pc->residual ? random_floats(&rng, n_out, -2, 2) : NULL;
        float *ref = malloc(n_out * sizeof *ref), *got = malloc(n_out * sizeof *got);
        float *dense = malloc(n_out * sizeof *dense);
        cr_assert(ref && got && dense);
        conv2d_ref(&g, in, w, b, res, ref);
        static const char *const form_name[] = {"dense", "half", "sparse"};
        const int last_form = pc->density < 1 ? POINTWISE_SPARSE : POINTWISE_HALF;
        for (int form = POINTWISE_DENSE; form <= last_form; form++) {
            PointwiseWeights pw;
            void *mem = pack(&pw, w, b, pc->K, pc->N, (PointwiseForm)form);
            for (int l = 0; l < nl; l++) {
                memset(got, 0xff, n_out * sizeof *got); /* NaNs where nothing is written */
                pointwise_conv(levels[l], &g, in, &pw, res, got, NULL, 0);
                char what[96];
                snprintf(what, sizeof what, "pointwise case %zu %s at %s", c, form_name[form],
                         simd_name(levels[l]));
                assert_close(got, ref, n_out, 2e-5f, what);
                /* float16 panels hold the same values: the same sums in the same order */
                if (form == POINTWISE_DENSE && l == nl - 1)
                    memcpy(dense, got, n_out * sizeof *dense);
                if (form == POINTWISE_HALF && l == nl - 1) {
                    cr_assert_arr_eq(got, dense, n_out * sizeof *got,
                                     "case %zu: half and dense panels differ", c);
                    /* panels widened once into scratch (one slice: a single thread) */
                    float *wide = malloc(POINTWISE_WIDE_FLOATS(pc->K) * sizeof *wide);
                    cr_assert_not_null(wide);
                    memset(got, 0xff, n_out * sizeof *got);
                    pointwise_conv(levels[l], &g, in, &pw, res, got, wide, 1);
                    cr_assert_arr_eq(got, dense, n_out * sizeof *got,
                                     "case %zu: widened half panels differ", c);
                    free(wide);
                }
            }
            free(mem);
        }
        free(dense);
        free(in), free(w), free(b), free(res), free(ref), free(got);
    }
}

Test(posenet, pointwise_sparse_choice_and_packing)
{
    Rng rng;
    rng_seed(&rng, 16, 0);
    float *dense = random_weights(&rng, 64, 40, 1), *sparse = random_weights(&rng, 64, 40, 0.25);
    float *narrow = random_weights(&rng, POINTWISE_SPARSE_MIN_K - 8, 40, 0.25);
    cr_assert(!pointwise_prefers_sparse(dense, 64, 40));
    cr_assert(pointwise_prefers_sparse(sparse, 64, 40));
    cr_assert(!pointwise_prefers_sparse(narrow, POINTWISE_SPARSE_MIN_K - 8, 40),
              "few input channels stay dense");
    /* 0.1 has no float16 form (the nearest one is 0.0999755859375); 0.5 and -2048 do */
    cr_assert(!pointwise_fits_half((const float[]){0.5f, 0.1f}, 2));
    cr_assert(pointwise_fits_half((const float[]){0.5f, -2048.0f}, 2));
    /* The lists hold every non-zero once, in their input-channel chunks, and nothing else. */
    const int K = 300, N = 19;
    float *w = random_weights(&rng, K, N, 0.3), *b = random_floats(&rng, N, -1, 1);
    PointwiseWeights pw;
    void *mem = pack(&pw, w, b, K, N, POINTWISE_SPARSE);
    cr_assert_eq(pw.chunks, (K + POINTWISE_SPARSE_KC - 1) / POINTWISE_SPARSE_KC);
    float *back = calloc((size_t)K * N, sizeof *back);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < pw.chunks; c++)
            for (int j = pw.start[n * pw.chunks + c]; j < pw.start[n * pw.chunks + c + 1]; j++) {
                cr_assert(pw.channel[j] / POINTWISE_SPARSE_KC == c && pw.value[j] != 0.0f);
                back[(size_t)pw.channel[j] * N + n] = pw.value[j];
            }
    cr_assert_arr_eq(back, w, (size_t)K * N * sizeof *w);
    free(mem), free(back), free(w), free(b), free(dense), free(sparse), free(narrow);
}

Test(posenet, dwconv_matches_reference)
{
    static const ConvCase cases[] = {
        {9, 7, 24, 24, 3, 1, 1, 1, 0}, {11, 10, 13, 13, 3, 2, 1, 1, 0},
        {10, 12, 8, 8, 3, 2, 0, 1, 0}, {12, 9, 19, 19, 5, 1, 1, 0, 0},
        {13, 13, 16, 16, 5, 2, 0, 1, 0}, {6, 5, 3, 3, 5, 2, 1, 0, 0},
        {3, 2, 40, 40, 5, 1, 1, 1, 0},
        /* groups of 8 pixels: along the row (short rows, tail block of 5 channels, 72
         * channels), group by group (a 100-pixel row of 24 channels), stride 2 */
        {20, 21, 24, 24, 3, 1, 1, 1, 0}, {7, 23, 13, 13, 5, 1, 1, 0, 0},
        {9, 18, 72, 72, 5, 1, 1, 1, 0},  {6, 100, 24, 24, 3, 1, 1, 1, 0},
        {12, 40, 20, 20, 3, 2, 1, 0, 0},
        /* spans of 8, 4 and 1 pixels, border columns inside a span: 5x5 stride 2 on 17 output
         * columns, a whole 8-wide row in one span, VALID, two output columns, 16 + 5 channels;
         * 3x3 stride 2 on multiples of 16 channels (two blocks a span), SAME and VALID */
        {17, 33, 24, 24, 5, 2, 1, 1, 0}, {8, 8, 64, 64, 5, 1, 1, 1, 0},
        {6, 20, 16, 16, 3, 1, 0, 0, 0},  {5, 4, 32, 32, 3, 2, 1, 1, 0},
        {23, 24, 21, 21, 5, 2, 1, 0, 0}, {19, 18, 32, 32, 3, 2, 1, 1, 0},
        {15, 17, 48, 48, 3, 2, 0, 0, 0},
    };
    SimdLevel levels[2];
    int nl = n_levels(levels);
    Rng rng;
    rng_seed(&rng, 12, 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ConvGeom g = geom_of(&cases[c], cases[c].k, cases[c].k);
        size_t n_in = (size_t)g.ih * g.iw * g.ic, n_out = (size_t)g.oh * g.ow * g.oc;
        float *in = random_floats(&rng, n_in, -1, 3);
        float *w = random_floats(&rng, (size_t)g.kh * g.kw * g.oc, -1, 1);
        float *b = random_floats(&rng, (size_t)g.oc, -1, 1);
        float *ref = malloc(n_out * sizeof *ref), *got = malloc(n_out * sizeof *got);
        cr_assert(ref && got);
        dwconv_ref(&g, in, w, b, ref);
        for (int l = 0; l < nl; l++) {
            memset(got, 0xff, n_out * sizeof *got); /* NaNs where nothing is written */
            dwconv(levels[l], &g, in, w, b, got);
            char what[96];
            snprintf(what, sizeof what, "dwconv case %zu at %s", c, simd_name(levels[l]));
            assert_close(got, ref, n_out, 1e-5f, what);
        }
        free(in), free(w), free(b), free(ref), free(got);
    }
}

Test(posenet, data_movement_kernels_match_reference)
{
    Rng rng;
    rng_seed(&rng, 13, 0);
    SimdLevel levels[2];
    int nl = n_levels(levels);
    /* add */
    size_t n = 1000 + 4096 + 3;
    float *a = random_floats(&rng, n, -5, 9), *b = random_floats(&rng, n, -5, 5);
    float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    for (int relu6 = 0; relu6 < 2; relu6++) {
        add_ref(a, b, ref, n, relu6);
        for (int l = 0; l < nl; l++) {
            add(levels[l], a, b, got, n, relu6);
            cr_assert_arr_eq(got, ref, n * sizeof *got, "add relu6=%d at %s", relu6,
                             simd_name(levels[l]));
        }
    }
    logistic_ref(a, ref, n);
    logistic(a, got, n);
    assert_close(got, ref, n, 1e-6f, "logistic");
    free(a), free(b), free(ref), free(got);

    /* pad (spatial and channel), depth-to-space, max-pool, resize, concat */
    int h = 7, w = 5, c = 12;
    float *img = random_floats(&rng, (size_t)h * w * c, -3, 3);
    static const int pad_cases[][6] = {{1, 1, 1, 1, 0, 0}, {2, 2, 2, 2, 0, 0}, {0, 1, 3, 0, 2, 5}};
    for (size_t k = 0; k < 3; k++) {
        const int *p = pad_cases[k];
        size_t m = (size_t)(h + p[0] + p[1]) * (w + p[2] + p[3]) * (c + p[4] + p[5]);
        float *r = malloc(m * sizeof *r), *o = malloc(m * sizeof *o);
        pad_ref(img, h, w, c, p, r);
        pad(img, h, w, c, p, o);
        cr_assert_arr_eq(o, r, m * sizeof *o, "pad case %zu", k);
        free(r), free(o);
    }
    for (int block = 1; block <= 2; block++) {
        size_t m = (size_t)h * w * c;
        float *r = malloc(m * sizeof *r), *o = malloc(m * sizeof *o);
        depth_to_space_ref(img, h, w, c, block, r);
        depth_to_space(img, h, w, c, block, o);
        cr_assert_arr_eq(o, r, m * sizeof *o, "depth_to_space block %d", block);
        free(r), free(o);
    }
    static const int pool_cases[][4] = {{2, 2, 0, 0}, {3, 2, 1, 0}, {2, 1, 1, 0}};
    for (size_t k = 0; k < 3; k++) {
        ConvGeom g = {.ih = h, .iw = w, .ic = c, .kh = pool_cases[k][0], .kw = pool_cases[k][0],
                      .sh = pool_cases[k][1], .sw = pool_cases[k][1]};
        conv_geom_padding(&g, pool_cases[k][2]);
        g.oc = c;
        size_t m = (size_t)g.oh * g.ow * c;
        float *r = malloc(m * sizeof *r), *o = malloc(m * sizeof *o);
        maxpool_ref(&g, img, r);
        maxpool(&g, img, o);
        cr_assert_arr_eq(o, r, m * sizeof *o, "maxpool case %zu", k);
        free(r), free(o);
    }
    static const int resize_cases[][4] = {{14, 10, 0, 1}, {13, 11, 0, 1}, {14, 10, 1, 0},
                                          {9, 4, 0, 0}, {3, 3, 0, 1}};
    for (size_t k = 0; k < 5; k++) {
        int oh = resize_cases[k][0], ow = resize_cases[k][1];
        size_t m = (size_t)oh * ow * c;
        float *r = malloc(m * sizeof *r), *o = malloc(m * sizeof *o);
        float *addend = random_floats(&rng, m, -4, 6), *sum = malloc(m * sizeof *sum);
        cr_assert(r && o && sum);
        resize_bilinear_ref(img, h, w, c, r, oh, ow, resize_cases[k][2], resize_cases[k][3]);
        for (int l = 0; l < nl; l++) {
            resize_bilinear(levels[l], img, h, w, c, o, oh, ow, resize_cases[k][2],
                            resize_cases[k][3], NULL, 0);
            assert_close(o, r, m, 1e-6f, "resize");
            /* with the ADD that follows (and its RELU6): the bits of resize, then add */
            for (int relu6 = 0; relu6 <= 1; relu6++) {
                resize_bilinear(levels[l], img, h, w, c, o, oh, ow, resize_cases[k][2],
                                resize_cases[k][3], NULL, 0);
                add(levels[l], o, addend, sum, m, relu6);
                resize_bilinear(levels[l], img, h, w, c, o, oh, ow, resize_cases[k][2],
                                resize_cases[k][3], addend, relu6);
                cr_assert_arr_eq(o, sum, m * sizeof *o, "resize + add case %zu relu6 %d at %s",
                                 k, relu6, simd_name(levels[l]));
            }
        }
        free(r), free(o), free(addend), free(sum);
    }
    const float *parts[3] = {img, img + 30, img + 100};
    const size_t inner[3] = {6, 2, 12};
    float r[5 * 20], o[5 * 20];
    concat_ref(parts, inner, 3, 5, r);
    concat(parts, inner, 3, 5, o);
    cr_assert_arr_eq(o, r, sizeof o, "concat");
    free(img);
}

Test(posenet, kernels_bit_identical_for_1_and_2_threads)
{
    Rng rng;
    rng_seed(&rng, 14, 0);
    /* 7x7 = 49 pixels: the sparse kernel splits the channels between threads there */
    ConvCase pw = {19, 17, 48, 40, 1, 1, 1, 1, 1}, sp = {7, 7, 144, 200, 1, 1, 1, 1, 1};
    ConvCase dw = {19, 17, 48, 48, 5, 2, 1, 1, 0}, full = {21, 19, 3, 24, 3, 2, 0, 1, 0};
    const ConvCase *cases[5] = {&pw, &sp, &dw, &full, &pw}; /* the last: float16 panels */
    int saved = omp_get_max_threads();
    for (int k = 0; k < 5; k++) {
        ConvGeom g = geom_of(cases[k], cases[k]->k, cases[k]->k);
        size_t n_in = (size_t)g.ih * g.iw * g.ic, n_out = (size_t)g.oh * g.ow * g.oc;
        float *in = random_floats(&rng, n_in, -1, 1);
        const int pointwise = k < 2 || k == 4;
        float *w = pointwise ? random_weights(&rng, g.ic, g.oc, k == 1 ? 0.25 : 1)
                             : random_floats(&rng, (size_t)g.kh * g.kw * g.ic * g.oc, -1, 1);
        for (size_t i = 0; k == 4 && i < (size_t)g.ic * g.oc; i++)
            w[i] = f16_to_f32(f32_to_f16(w[i]));
        float *b = random_floats(&rng, (size_t)g.oc, -1, 1);
        float *res = random_floats(&rng, n_out, -1, 1);
        float *one = malloc(n_out * sizeof *one), *two = malloc(n_out * sizeof *two);
        PointwiseWeights packed;
        const PointwiseForm form = k == 1 ? POINTWISE_SPARSE
                                   : k == 4 ? POINTWISE_HALF
                                            : POINTWISE_DENSE;
        void *mem = pointwise ? pack(&packed, w, b, g.ic, g.oc, form) : NULL;
        /* float16 panels widened into two threads' slices, split by pixels */
        float *wide = malloc(2 * POINTWISE_WIDE_FLOATS(g.ic) * sizeof *wide);
        cr_assert(one && two && wide);
        for (int t = 1; t <= 2; t++) {
            omp_set_num_threads(t);
            float *out = t == 1 ? one : two;
            if (pointwise)
                pointwise_conv(simd_active(), &g, in, &packed, res, out, k == 4 ? wide : NULL,
                               2);
            else if (k == 2)
                dwconv(simd_active(), &g, in, w, b, out);
            else
                conv2d(simd_active(), &g, in, w, b, NULL, out);
        }
        cr_assert_arr_eq(one, two, n_out * sizeof *one, "case %d: 1 and 2 threads differ", k);
        free(mem), free(in), free(w), free(b), free(res), free(one), free(two), free(wide);
    }
    omp_set_num_threads(saved);
}

/* ---------------------------------------------------------------- networks vs TFLite */

typedef struct {
    const char *model;  /* "detector", "lite", "full" */
    const char *weights;
} ModelInfo;

static const ModelInfo models[] = {
    {"detector", "weights/pose_detection.tkw"},
    {"lite", "weights/pose_landmark_lite.tkw"},
    {"full", "weights/pose_landmark_full.tkw"},
};

/* The synthetic pattern of ../shared/pose/tensors/manifest.json. */
static void synthetic_input(float *x, int h, int w, int detector)
{
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++)
            for (int c = 0; c < 3; c++) {
                double v = 0.5 + 0.5 * sin(2 * M_PI * (i * (c + 1) / 64.0 + y / 48.0)) *
                                     cos(2 * M_PI * y * (3 - c) / 97.0);
                x[((size_t)y * w + i) * 3 + c] = detector ? (float)(2 * v - 1) : (float)v;
            }
}

static void yoga_input(float *x, size_t count, int detector)
{
    size_t size = 0;
    unsigned char *u = test_read_file(detector ? "tests/data/pose/yoga_det_input.u8"
                                               : "tests/data/pose/yoga_lmk_input.u8", &size);
    cr_assert(u && size == count, "tests/data/pose input missing or of the wrong size");
    for (size_t i = 0; i < count; i++)
        x[i] = detector ? (float)u[i] / 127.5f - 1.0f : (float)u[i] / 255.0f;
    free(u);
}

static PoseNet *load_model(const ModelInfo *m, const char *const *skip)
{
    PoseNet *net = NULL;
    Status st = {0};
    cr_assert_eq(posenet_load_ex(&net, m->weights, skip, &st), TK_OK, "%s", st.msg);
    return net;
}

static void run_on(PoseNet *net, const char *model, int synthetic)
{
    int h, w, c;
    posenet_input_shape(net, &h, &w, &c);
    cr_assert_eq(c, 3);
    int det = !strcmp(model, "detector");
    if (synthetic)
        synthetic_input(posenet_input(net), h, w, det);
    else
        yoga_input(posenet_input(net), (size_t)h * w * c, det);
    Status st = {0};
    cr_assert_eq(posenet_run(net, &st), TK_OK, "%s", st.msg);
}

/* The bound for one output: absolute, or relative to the largest magnitude (mask). */
static double tolerance(const char *model, const char *output, int synthetic, int *relative)
{
    *relative = 0;
    if (!strcmp(model, "detector"))
        return 5e-3;
    if (!strcmp(output, "Identity"))
        return synthetic ? 2e-2 : 2e-3;
    if (!strcmp(output, "Identity_1"))
        return 1e-5;
    if (!strcmp(output, "Identity_3"))
        return 1e-3;
    if (!strcmp(output, "Identity_4"))
        return 1e-4;
    *relative = 1;
    return 1e-2; /* Identity_2, segmentation logits */
}

/* Compares output `name` with the reference (every `stride`-th element of it). */
static void compare_output(PoseNet *net, const char *model, const char *image, const char *name,
                           const float *ref, size_t ref_count, size_t stride)
{
    const Tensor *t = posenet_output(net, name);
    cr_assert_not_null(t, "%s: no output %s", model, name);
    size_t count = tensor_count(t);
    cr_assert_eq((count + stride - 1) / stride, ref_count, "%s %s: %zu values", model, name, count);
    int relative;
    double tol = tolerance(model, name, !strcmp(image, "synthetic"), &relative);
    double biggest = 0, worst = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < ref_count; i++)
        biggest = fmax(biggest, fabs(ref[i]));
    if (relative)
        tol *= biggest;
    for (size_t i = 0; i < ref_count; i++) {
        double d = fabs((double)t->data[i * stride] - ref[i]);
        if (d > worst || isnan(d)) {
            worst = isnan(d) ? INFINITY : d;
            worst_at = i * stride;
        }
    }
    cr_expect_leq(worst, tol, "%s on %s, %s: max |diff| %.3g at %zu > %.3g", model, image, name,
                  worst, worst_at, tol);
}

static const char *const output_names[] = {"Identity", "Identity_1", "Identity_2", "Identity_3",
                                           "Identity_4"};

Test(posenet, outputs_match_tflite_on_committed_data)
{
    const char *images[] = {"yoga_warrior_beach", "synthetic"};
    for (size_t m = 0; m < 3; m++) {
        PoseNet *net = load_model(&models[m], NULL);
        cr_assert_str_eq(posenet_kind(net), m == 0 ? "blazepose_detector"
                                             : m == 1 ? "blazepose_landmark_lite"
                                                      : "blazepose_landmark_full");
        for (int im = 0; im < 2; im++) {
            run_on(net, models[m].model, im == 1);
            for (int k = 0; k < (m == 0 ? 2 : 5); k++) {
                char path[256];
                snprintf(path, sizeof path, "tests/data/pose/%s__%s.%s.f32", models[m].model,
                         images[im], output_names[k]);
                size_t size = 0;
                float *ref = test_read_file(path, &size);
                cr_assert_not_null(ref, "%s missing", path);
                size_t stride = m > 0 && (k == 2 || k == 3) ? 7 : 1;
                compare_output(net, models[m].model, images[im], output_names[k], ref,
                               size / 4, stride);
                free(ref);
            }
        }
        posenet_free(net);
    }
}

Test(posenet, outputs_match_tflite_in_shared)
{
    char buf[1024];
    if (!test_shared_path(buf, sizeof buf, "pose/tensors/manifest.json"))
        cr_skip_test("../shared not found (pose/tensors)");
    const char *images[] = {"yoga_warrior_beach", "synthetic"};
    for (size_t m = 0; m < 3; m++) {
        PoseNet *net = load_model(&models[m], NULL);
        for (int im = 0; im < 2; im++) {
            run_on(net, models[m].model, im == 1);
            /* The shared float input must be what run_on computed (same pixels). */
            char rel[256];
            int h, w, c;
            posenet_input_shape(net, &h, &w, &c);
            snprintf(rel, sizeof rel, "pose/tensors/%s_input_%s.bin", m == 0 ? "det" : "lmk",
                     images[im]);
            float *input = test_read_f32(test_shared_path(buf, sizeof buf, rel),
                                         (size_t)h * w * c);
            cr_assert_not_null(input, "%s", rel);
            assert_close(posenet_input(net), input, (size_t)h * w * c, 1e-6f, rel);
            free(input);
            for (int k = 0; k < (m == 0 ? 2 : 5); k++) {
                snprintf(rel, sizeof rel, "pose/tensors/%s__%s__out%d_%s.bin", models[m].model,
                         images[im], k, output_names[k]);
                size_t size = 0;
                const char *path = test_shared_path(buf, sizeof buf, rel);
                float *ref = path ? test_read_file(path, &size) : NULL;
                cr_assert_not_null(ref, "%s", rel);
                compare_output(net, models[m].model, images[im], output_names[k], ref, size / 4,
                               1);
                free(ref);
            }
        }
        posenet_free(net);
    }
}

Test(posenet, skipping_segmentation_changes_nothing_else)
{
    const char *skip[] = {"Identity_2", NULL};
    PoseNet *all = load_model(&models[1], NULL), *some = load_model(&models[1], skip);
    run_on(all, "lite", 0);
    run_on(some, "lite", 0);
    cr_assert_null(posenet_output(some, "Identity_2"));
    cr_assert_not_null(posenet_output(all, "Identity_2"));
    for (int k = 0; k < 5; k++) {
        if (k == 2)
            continue;
        const Tensor *a = posenet_output(all, output_names[k]);
        const Tensor *b = posenet_output(some, output_names[k]);
        cr_assert(a && b);
        cr_assert_arr_eq(a->data, b->data, tensor_count(a) * sizeof(float), "%s",
                         output_names[k]);
    }
    size_t act_all, act_some;
    posenet_memory(all, &act_all);
    posenet_memory(some, &act_some);
    cr_expect_lt(act_some, act_all, "the skipped branch's activations are not planned");
    posenet_free(all);
    posenet_free(some);
}

Test(posenet, network_bit_identical_for_1_and_2_threads)
{
    PoseNet *net = load_model(&models[1], NULL);
    int saved = omp_get_max_threads();
    float *first[5] = {0};
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        run_on(net, "lite", 0);
        for (int k = 0; k < 5; k++) {
            const Tensor *o = posenet_output(net, output_names[k]);
            size_t bytes = tensor_count(o) * sizeof(float);
            if (t == 1) {
                first[k] = malloc(bytes);
                memcpy(first[k], o->data, bytes);
            } else {
                cr_assert_arr_eq(o->data, first[k], bytes, "%s differs", output_names[k]);
                free(first[k]);
            }
        }
    }
    omp_set_num_threads(saved);
    posenet_free(net);
}

/* The per-operator profile adds up to the per-kind one and to posenet_flops, names each
 * 1x1 convolution as such with its shapes, and profiling leaves the outputs unchanged. */
Test(posenet, profile_per_layer_adds_up)
{
    PoseNet *net = load_model(&models[1], NULL);
    run_on(net, "lite", 1);
    const Tensor *o = posenet_output(net, "Identity");
    const size_t bytes = tensor_count(o) * sizeof(float);
    float *plain = malloc(bytes);
    memcpy(plain, o->data, bytes);
    posenet_profile(net, 1);
    run_on(net, "lite", 1);
    run_on(net, "lite", 1);
    cr_assert_arr_eq(posenet_output(net, "Identity")->data, plain, bytes);
    free(plain);

    const int n = posenet_profile_layers(net, NULL, 0);
    cr_assert_gt(n, 10);
    PoseNetLayerProfile *layers = malloc((size_t)n * sizeof *layers);
    cr_assert_eq(posenet_profile_layers(net, layers, n), n);
    PoseNetProfile kinds[POSENET_PROFILE_KINDS];
    const int n_kinds = posenet_profile_get(net, kinds);
    double flops = 0, seconds = 0;
    int pointwise = 0;
    for (int i = 0; i < n; i++) {
        const PoseNetLayerProfile *l = &layers[i];
        flops += l->flops;
        seconds += l->seconds;
        cr_expect_geq(l->seconds, 0.0);
        if (!strcmp(l->name, "conv1x1")) {
            pointwise++;
            cr_expect_eq(l->kernel, 1);
            cr_expect_eq(l->in_shape[0], l->out_shape[0]);
            cr_expect_float_eq(l->flops, 2.0 * l->out_shape[0] * l->out_shape[1] *
                                             l->in_shape[2] * l->out_shape[2], 1e-9 * l->flops);
        }
    }
    cr_expect_gt(pointwise, 10);
    cr_expect_float_eq(flops, posenet_flops(net), 1e-9 * flops);
    double kind_seconds = 0, kind_flops = 0;
    for (int k = 0; k < n_kinds; k++) {
        kind_seconds += kinds[k].seconds;
        kind_flops += kinds[k].flops;
    }
    cr_expect_float_eq(kind_flops, 2.0 * flops, 1e-9 * kind_flops, "two profiled runs");
    cr_expect_float_eq(kind_seconds, seconds, 1e-9 * seconds);
    posenet_profile(net, 0);
    cr_expect_eq(posenet_profile_layers(net, layers, n), n);
    cr_expect_eq(layers[0].seconds, 0.0, "posenet_profile clears the per-layer totals");
    free(layers);
    posenet_free(net);
}

static StatusCode load_graph(const char *graph, Status *st)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/g.tkw", dir);
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, st), TK_OK);
    if (graph)
        cr_assert_eq(tkw_writer_meta(w, "graph", graph, st), TK_OK);
    const float zeros[2 * 2 * 3 * 4] = {0};
    int ws[4] = {1, 1, 3, 4}, bs[1] = {4};
    cr_assert_eq(tkw_writer_tensor(w, "op0.w", DTYPE_F32, 4, ws, zeros, st), TK_OK);
    cr_assert_eq(tkw_writer_tensor(w, "op0.b", DTYPE_F32, 1, bs, zeros, st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, path, st), TK_OK);
    tkw_writer_free(w);
    PoseNet *net = NULL;
    StatusCode rc = posenet_load(&net, path, st);
    if (rc == TK_OK) {
        cr_assert_eq(posenet_run(net, st), TK_OK);
        posenet_free(net);
    }
    return rc;
}

Test(posenet, malformed_graphs_are_refused)
{
    Status st = {0};
    const char *head = "tensor 0 1x4x4x3\ntensor 1 1x4x4x4\ninput 0 x\noutput 1 y\n";
    char g[512];
    snprintf(g, sizeof g, "%sconv in=0 out=1 w=op0.w b=op0.b k=1x1 s=1x1 pad=same act=relu6\n",
             head);
    cr_assert_eq(load_graph(g, &st), TK_OK, "a well-formed one-conv graph: %s", st.msg);
    cr_assert_eq(load_graph(NULL, &st), TK_EFORMAT);
    static const char *const bad_ops[] = {
        "conv in=0 out=7 w=op0.w b=op0.b k=1x1 s=1x1 pad=same act=none",  /* no tensor 7 */
        "conv in=0 out=1 w=op0.w b=op0.b k=3x3 s=1x1 pad=same act=none",  /* weights 1x1 */
        "conv in=0 out=1 w=op9.w b=op0.b k=1x1 s=1x1 pad=same act=none",  /* no such weights */
        "conv in=0 out=1 w=op0.w b=op0.b k=1x1 s=2x2 pad=same act=none",  /* output 2x2 */
        "conv in=0 out=1 w=op0.w b=op0.b k=1x1 s=1x1 pad=odd act=none",
        "conv in=0 out=1 w=op0.w b=op0.b k=1x1 s=1x1 pad=same act=tanh",
        "frobnicate in=0 out=1",
        "add in=0,1 out=1 act=none",                                      /* writes its input */
        "logistic in=0 out=1",                                            /* counts differ */
        "  tensor 2 1x4x4x4",                     /* a tensor line the count did not see */
    };
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        snprintf(g, sizeof g, "%s%s\n", head, bad_ops[i]);
        cr_assert_eq(load_graph(g, &st), TK_EFORMAT, "accepted: %s", bad_ops[i]);
        cr_assert(strstr(st.msg, "g.tkw") != NULL, "message names the file: %s", st.msg);
    }
    Status st2 = {0};
    PoseNet *net;
    cr_assert_eq(posenet_load(&net, "/nonexistent/model.tkw", &st2), TK_EIO);
}
