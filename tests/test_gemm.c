/* test_gemm.c — SGEMM against the naive reference: odd shapes, all transpose pairs, padded
 * leading dimensions with NaN sentinels, alpha/beta special cases, every SIMD level the CPU has,
 * 1 and several threads, and bit-identical results whatever the thread count; products the
 * driver computes transposed (to pad less) in both orientations; the kernels that read A in
 * place give their packed twins' bits. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "../core/gemm_internal.h"

/* A NaN with a payload of its own, so that "untouched" means these exact bits. */
static float sentinel(void)
{
    const uint32_t bits = 0x7fc0dead;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int is_sentinel(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits == 0x7fc0dead;
}

/* A rows x cols row-major matrix with leading dimension ld. The allocation ends right after the
 * last valid element of the last row, so AddressSanitizer catches a read past the matrix; the
 * padding between rows holds the sentinel. */
typedef struct {
    int rows, cols, ld;
    size_t len;
    float *v;
} Matrix;

static Matrix matrix_random(int rows, int cols, int pad, Rng *rng)
{
    Matrix a = {rows, cols, cols + pad, 0, NULL};
    a.len = rows > 0 && cols > 0 ? (size_t)(rows - 1) * a.ld + cols : 1;
    a.v = malloc(a.len * sizeof(float));
    cr_assert_not_null(a.v);
    for (size_t i = 0; i < a.len; i++)
        a.v[i] = sentinel();
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            a.v[(size_t)i * a.ld + j] = 2.0f * rng_uniform(rng) - 1.0f;
    return a;
}

static void matrix_free(Matrix *a)
{
    free(a->v);
    a->v = NULL;
}

/* The same matrix with every element replaced by its magnitude (sentinels stay NaN). */
static Matrix matrix_abs(const Matrix *a)
{
    Matrix r = *a;
    r.v = malloc(a->len * sizeof(float));
    cr_assert_not_null(r.v);
    for (size_t i = 0; i < a->len; i++)
        r.v[i] = fabsf(a->v[i]);
    return r;
}

static Matrix matrix_copy(const Matrix *a)
{
    Matrix r = *a;
    r.v = malloc(a->len * sizeof(float));
    cr_assert_not_null(r.v);
    memcpy(r.v, a->v, a->len * sizeof(float));
    return r;
}

/* One product: operands, the initial C, the naive result and a bound on its rounding error. */
typedef struct {
    GemmTrans ta, tb;
    int m, n, k;
    float alpha, beta;
    Matrix A, B, C0, expected, tolerance;
} Problem;

static const char *trans_name(GemmTrans ta, GemmTrans tb)
{
    static const char *names[2][2] = {{"NN", "NT"}, {"TN", "TT"}};
    return names[ta][tb];
}

/* pad is added to every leading dimension. With beta == 0 the initial C is all NaN, to prove
 * that it is not read. */
static Problem problem_make(GemmTrans ta, GemmTrans tb, int m, int n, int k, float alpha,
                            float beta, int pad, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, (uint64_t)m * 1000003u + (uint64_t)n * 1009u + (uint64_t)k);
    Problem p = {ta, tb, m, n, k, alpha, beta, {0}, {0}, {0}, {0}, {0}};
    p.A = ta == GEMM_N ? matrix_random(m, k, pad, &rng) : matrix_random(k, m, pad, &rng);
    p.B = tb == GEMM_N ? matrix_random(k, n, pad, &rng) : matrix_random(n, k, pad, &rng);
    p.C0 = matrix_random(m, n, pad, &rng);
    if (beta == 0.0f)
        for (size_t i = 0; i < p.C0.len; i++)
            p.C0.v[i] = NAN;

    p.expected = matrix_copy(&p.C0);
    sgemm_naive(ta, tb, m, n, k, alpha, p.A.v, p.A.ld, p.B.v, p.B.ld, beta, p.expected.v,
                p.expected.ld);

    /* Higham's bound for a sum of k products in float, gamma_(k+2) * (|alpha| |A||B| +
     * |beta| |C|), with u = FLT_EPSILON (twice the unit roundoff, for margin). */
    Matrix abs_a = matrix_abs(&p.A), abs_b = matrix_abs(&p.B);
    p.tolerance = matrix_abs(&p.C0);
    sgemm_naive(ta, tb, m, n, k, fabsf(alpha), abs_a.v, abs_a.ld, abs_b.v, abs_b.ld, fabsf(beta),
                p.tolerance.v, p.tolerance.ld);
    const float gamma = (float)(k + 2) * FLT_EPSILON;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            p.tolerance.v[(size_t)i * p.tolerance.ld + j] *= gamma;
    matrix_free(&abs_a);
    matrix_free(&abs_b);
    return p;
}

static void problem_free(Problem *p)
{
    matrix_free(&p->A);
    matrix_free(&p->B);
    matrix_free(&p->C0);
    matrix_free(&p->expected);
    matrix_free(&p->tolerance);
}

/* Runs sgemm_ex on a fresh copy of C0 and checks every element against the reference and every
 * padding slot of C against the sentinel; the copy is returned for bitwise comparisons. */
static Matrix problem_check(const Problem *p, SimdLevel level, int threads)
{
    Matrix c = matrix_copy(&p->C0);
    /* Padding of C gets the sentinel even where C0 is all NaN. */
    for (int i = 0; i < p->m; i++)
        for (int j = p->n; j < c.ld && (size_t)i * c.ld + j < c.len; j++)
            c.v[(size_t)i * c.ld + j] = sentinel();
    sgemm_ex(level, threads, p->ta, p->tb, p->m, p->n, p->k, p->alpha, p->A.v, p->A.ld, p->B.v,
             p->B.ld, p->beta, c.v, c.ld);
    for (int i = 0; i < p->m; i++) {
        for (int j = 0; j < c.ld && (size_t)i * c.ld + j < c.len; j++) {
            const size_t at = (size_t)i * c.ld + j;
            if (j >= p->n) {
                cr_assert(is_sentinel(c.v[at]),
                          "%s %dx%dx%d level %s, %d threads: padding C[%d][%d] was written",
                          trans_name(p->ta, p->tb), p->m, p->n, p->k, simd_name(level), threads,
                          i, j);
                continue;
            }
            const float got = c.v[at], want = p->expected.v[at], tol = p->tolerance.v[at];
            cr_assert(fabsf(got - want) <= tol + FLT_MIN,
                      "%s %dx%dx%d alpha %g beta %g level %s, %d threads: C[%d][%d] = %.9g, "
                      "expected %.9g (tolerance %.3g)",
                      trans_name(p->ta, p->tb), p->m, p->n, p->k, (double)p->alpha,
                      (double)p->beta, simd_name(level), threads, i, j, (double)got,
                      (double)want, (double)tol);
        }
    }
    return c;
}

/* Checks one problem on every level the CPU has, on 1 and 2 threads. */
static void problem_check_everywhere(const Problem *p)
{
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++)
        for (int threads = 1; threads <= 2; threads++) {
            Matrix c = problem_check(p, (SimdLevel)level, threads);
            matrix_free(&c);
        }
}

static const float alphas[] = {1.0f, -0.5f, 0.0f};
static const float betas[] = {0.0f, 1.0f, 0.25f};

Test(gemm, naive_reference_matches_a_hand_computed_product)
{
    /* op(A) = [1 2 3; 4 5 6], op(B) = [7 8; 9 10; 11 12], op(A) op(B) = [58 64; 139 154]. */
    const float a[] = {1, 2, 3, 4, 5, 6}, a_t[] = {1, 4, 2, 5, 3, 6};
    const float b[] = {7, 8, 9, 10, 11, 12}, b_t[] = {7, 9, 11, 8, 10, 12};
    float c[4] = {1, 1, 1, 1};
    sgemm_naive(GEMM_N, GEMM_N, 2, 2, 3, 1.0f, a, 3, b, 2, 0.5f, c, 2);
    cr_assert(c[0] == 58.5f && c[1] == 64.5f && c[2] == 139.5f && c[3] == 154.5f);
    float c_t[4] = {NAN, NAN, NAN, NAN};
    sgemm_naive(GEMM_T, GEMM_T, 2, 2, 3, 2.0f, a_t, 2, b_t, 3, 0.0f, c_t, 2);
    cr_assert(c_t[0] == 116.0f && c_t[1] == 128.0f && c_t[2] == 278.0f && c_t[3] == 308.0f);
}

/* Every (m, n, k) from the odd sizes, in every transpose pair; the (alpha, beta) pair and the
 * padding rotate with the shape so that each combination meets many shapes. */
Test(gemm, odd_shapes_in_every_transpose_pair, .timeout = 120)
{
    static const int sizes[] = {1, 3, 17, 63, 65, 129};
    const int count = (int)(sizeof sizes / sizeof sizes[0]);
    int combination = 0;
    for (int mi = 0; mi < count; mi++)
        for (int ni = 0; ni < count; ni++)
            for (int ki = 0; ki < count; ki++)
                for (int t = 0; t < 4; t++, combination++) {
                    const float alpha = alphas[combination % 3];
                    const float beta = betas[(combination / 3) % 3];
                    const int pad = (combination / 9) % 3 * 3;
                    Problem p = problem_make((GemmTrans)(t >> 1), (GemmTrans)(t & 1), sizes[mi],
                                             sizes[ni], sizes[ki], alpha, beta, pad, 1);
                    problem_check_everywhere(&p);
                    problem_free(&p);
                }
}

Test(gemm, shapes_with_a_thousand, .timeout = 120)
{
    static const int shapes[][3] = {{1000, 65, 129}, {17, 1000, 63}, {129, 129, 1000}};
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < 4; t++) {
            const float alpha = alphas[(s + t) % 2], beta = betas[(s + t) % 3];
            Problem p = problem_make((GemmTrans)(t >> 1), (GemmTrans)(t & 1), shapes[s][0],
                                     shapes[s][1], shapes[s][2], alpha, beta, 1 + s, 2);
            problem_check_everywhere(&p);
            problem_free(&p);
        }
}

/* A shape large enough to be split between threads, with every (alpha, beta) pair. */
Test(gemm, every_alpha_beta_pair, .timeout = 120)
{
    for (int ai = 0; ai < 3; ai++)
        for (int bi = 0; bi < 3; bi++)
            for (int t = 0; t < 4; t++) {
                Problem p = problem_make((GemmTrans)(t >> 1), (GemmTrans)(t & 1), 129, 65, 129,
                                         alphas[ai], betas[bi], 7, 3);
                problem_check_everywhere(&p);
                problem_free(&p);
            }
}

Test(gemm, results_are_bit_identical_for_any_thread_count, .timeout = 120)
{
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++)
        for (int t = 0; t < 4; t++) {
            Problem p = problem_make((GemmTrans)(t >> 1), (GemmTrans)(t & 1), 300, 257, 129,
                                     1.0f, 0.25f, 0, 4);
            Matrix one = problem_check(&p, (SimdLevel)level, 1);
            /* 2 and 3 split one dimension, 4 makes a 2 x 2 grid, 7 a prime-sized strip. */
            static const int thread_counts[] = {2, 3, 4, 7};
            for (int t_i = 0; t_i < 4; t_i++) {
                const int threads = thread_counts[t_i];
                Matrix many = problem_check(&p, (SimdLevel)level, threads);
                cr_assert(memcmp(one.v, many.v, one.len * sizeof(float)) == 0,
                          "%s level %s: 1 and %d threads differ", trans_name(p.ta, p.tb),
                          simd_name((SimdLevel)level), threads);
                matrix_free(&many);
            }
            matrix_free(&one);
            problem_free(&p);
        }
}

/* Shapes that pad much less transposed (66 columns, a weight gradient's 128 x 66), which the
 * driver computes as C^T: every transpose pair and (alpha, beta), and with alpha = 1 the same
 * bits as the same product cut into blocks of 6 rows, each computed the usual way. */
Test(gemm, transposed_products_match_reference_and_direct_bits, .timeout = 120)
{
    const int m = 128, n = 66, k = 300;
    cr_assert(gemm_transposes_c(GEMM_AVX2_MR, GEMM_AVX2_NR, m, n, k),
              "the AVX2 driver no longer transposes %dx%dx%d: pick another shape", m, n, k);
    cr_assert(!gemm_transposes_c(GEMM_AVX2_MR, GEMM_AVX2_NR, m, 64, k));
    for (int t = 0; t < 4; t++)
        for (int ab = 0; ab < 3; ab++) {
            Problem p = problem_make((GemmTrans)(t >> 1), (GemmTrans)(t & 1), m, n, k,
                                     alphas[ab % 2], betas[ab], 2, 9 + t);
            problem_check_everywhere(&p);
            if (p.alpha == 1.0f && p.beta != 0.25f) {
                Matrix whole = problem_check(&p, simd_active(), 1);
                Matrix parts = matrix_copy(&p.C0);
                for (int row0 = 0; row0 < m; row0 += 6) {
                    const int rows = m - row0 < 6 ? m - row0 : 6;
                    cr_assert(!gemm_transposes_c(GEMM_AVX2_MR, GEMM_AVX2_NR, rows, n, k));
                    const float *a = p.ta == GEMM_N ? p.A.v + (size_t)row0 * p.A.ld : p.A.v + row0;
                    sgemm(p.ta, p.tb, rows, n, k, p.alpha, a, p.A.ld, p.B.v, p.B.ld, p.beta,
                          parts.v + (size_t)row0 * parts.ld, parts.ld);
                }
                for (int i = 0; i < m; i++)
                    cr_assert(memcmp(whole.v + (size_t)i * whole.ld,
                                     parts.v + (size_t)i * parts.ld, n * sizeof(float)) == 0,
                              "%s: row %d differs between the two orientations",
                              trans_name(p.ta, p.tb), i);
                matrix_free(&whole);
                matrix_free(&parts);
            }
            problem_free(&p);
        }
}

/* Reads A rows rows x kc at stride lda into the packed panel layout of the kernels (depth-major,
 * mr values per depth step). */
static void pack_panel(const float *a, int lda, int mr, int kc, float *panel)
{
    for (int p = 0; p < kc; p++)
        for (int i = 0; i < mr; i++)
            panel[p * mr + i] = a[(size_t)i * lda + p];
}

/* The kernels that read A in place against their packed twins: the same bits for every depth
 * (both sides of the 4-step unrolling), beta 0 / 1 / other, whole and partial tiles; A is
 * allocated to end at its last element so AddressSanitizer sees a read past a row. */
Test(gemm, in_place_kernels_give_the_packed_bits)
{
    typedef struct {
        GemmMicroKernel packed;
        GemmMicroKernelRows rows;
        int mr, nr;
        SimdLevel level;
    } Pair;
    const Pair pairs[] = {{gemm_kernel_scalar, gemm_kernel_rows_scalar, GEMM_SCALAR_MR,
                           GEMM_SCALAR_NR, SIMD_SCALAR},
                          {gemm_kernel_avx2, gemm_kernel_rows_avx2, GEMM_AVX2_MR, GEMM_AVX2_NR,
                           SIMD_AVX2}};
    static const int depths[] = {1, 3, 4, 7, 66, 129};
    Rng rng;
    rng_seed(&rng, 11, 0);
    int checked = 0;
    for (int pi = 0; pi < 2; pi++) {
        const Pair *k = &pairs[pi];
        if (k->level > simd_detected())
            continue;
        for (int di = 0; di < 6; di++) {
            const int kc = depths[di], lda = kc + 5;
            const size_t a_len = (size_t)(k->mr - 1) * lda + kc;
            float *a = malloc(a_len * sizeof(float));
            /* aligned_alloc wants a multiple of the alignment; B panels are loaded aligned */
            const size_t panel_bytes = ((size_t)kc * k->mr * sizeof(float) + 63) / 64 * 64;
            const size_t b_bytes = ((size_t)kc * k->nr * sizeof(float) + 63) / 64 * 64;
            float *panel = aligned_alloc(64, panel_bytes);
            float *b = aligned_alloc(64, b_bytes);
            cr_assert(a && panel && b);
            for (size_t i = 0; i < a_len; i++)
                a[i] = 2.0f * rng_uniform(&rng) - 1.0f;
            for (int i = 0; i < kc * k->nr; i++)
                b[i] = 2.0f * rng_uniform(&rng) - 1.0f;
            pack_panel(a, lda, k->mr, kc, panel);
            for (int bi = 0; bi < 3; bi++) {
                const int rows = bi == 2 ? k->mr - 1 : k->mr, cols = bi == 2 ? k->nr - 3 : k->nr;
                float c_packed[GEMM_AVX2_MR * GEMM_AVX2_NR], c_rows[GEMM_AVX2_MR * GEMM_AVX2_NR];
                for (int i = 0; i < k->mr * k->nr; i++)
                    c_packed[i] = c_rows[i] = 2.0f * rng_uniform(&rng) - 1.0f;
                k->packed(kc, panel, b, 1.0f, betas[bi], c_packed, k->nr, rows, cols);
                k->rows(kc, a, lda, b, 1.0f, betas[bi], c_rows, k->nr, rows, cols);
                cr_assert(memcmp(c_packed, c_rows, (size_t)k->mr * k->nr * sizeof(float)) == 0,
                          "%s kc %d beta %g: in-place A differs from the packed panel",
                          simd_name(k->level), kc, (double)betas[bi]);
                checked++;
            }
            free(a);
            free(panel);
            free(b);
        }
    }
    cr_assert(checked >= 18);
}

Test(gemm, sgemm_runs_the_active_level_on_all_threads)
{
    Problem p = problem_make(GEMM_N, GEMM_T, 200, 150, 100, 1.0f, 0.0f, 0, 5);
    Matrix via_ex = problem_check(&p, simd_active(), 0);
    Matrix c = matrix_copy(&p.C0);
    sgemm(p.ta, p.tb, p.m, p.n, p.k, p.alpha, p.A.v, p.A.ld, p.B.v, p.B.ld, p.beta, c.v, c.ld);
    cr_assert(memcmp(c.v, via_ex.v, c.len * sizeof(float)) == 0);
    matrix_free(&c);
    matrix_free(&via_ex);
    problem_free(&p);
}

Test(gemm, empty_shapes_and_zero_alpha)
{
    Rng rng;
    rng_seed(&rng, 6, 0);
    Matrix c = matrix_random(5, 4, 2, &rng);
    Matrix before = matrix_copy(&c);
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        /* m == 0 or n == 0: nothing to compute, nothing read or written. */
        sgemm_ex((SimdLevel)level, 1, GEMM_N, GEMM_N, 0, 4, 3, 1.0f, NULL, 3, NULL, 4, 0.0f, c.v,
                 c.ld);
        sgemm_ex((SimdLevel)level, 1, GEMM_N, GEMM_N, 5, 0, 3, 1.0f, NULL, 3, NULL, 1, 0.0f, c.v,
                 c.ld);
        cr_assert(memcmp(c.v, before.v, c.len * sizeof(float)) == 0);
    }

    /* k == 0 and alpha == 0: C = beta * C without touching A or B (NaN there must not leak). */
    float nan_operand[64];
    for (int i = 0; i < 64; i++)
        nan_operand[i] = NAN;
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        for (int bi = 0; bi < 3; bi++) {
            Matrix k0 = matrix_copy(&before), a0 = matrix_copy(&before);
            sgemm_ex((SimdLevel)level, 2, GEMM_N, GEMM_N, 5, 4, 0, 1.0f, NULL, 1, NULL, 4,
                     betas[bi], k0.v, k0.ld);
            sgemm_ex((SimdLevel)level, 2, GEMM_T, GEMM_N, 5, 4, 3, 0.0f, nan_operand, 5,
                     nan_operand, 4, betas[bi], a0.v, a0.ld);
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < c.ld && (size_t)i * c.ld + j < c.len; j++) {
                    const size_t at = (size_t)i * c.ld + j;
                    const float scaled = betas[bi] == 0.0f ? 0.0f : betas[bi] * before.v[at];
                    const float want = j < 4 ? scaled : before.v[at];
                    cr_assert(memcmp(&k0.v[at], &want, sizeof want) == 0,
                              "k = 0, beta %g: C[%d][%d] = %g, expected %g", (double)betas[bi],
                              i, j, (double)k0.v[at], (double)want);
                    cr_assert(memcmp(&a0.v[at], &want, sizeof want) == 0,
                              "alpha = 0, beta %g: C[%d][%d] = %g, expected %g",
                              (double)betas[bi], i, j, (double)a0.v[at], (double)want);
                }
            matrix_free(&k0);
            matrix_free(&a0);
        }
    }
    matrix_free(&c);
    matrix_free(&before);
}
