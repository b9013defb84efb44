/* test_nn_kernels.c — the per-step recurrent product rnn_matmul: its scalar and AVX2 twins
 * against a double-precision reference on odd shapes, padded strides and both modes
 * (overwrite, accumulate), and the dispatcher falling back to scalar for N % 8 != 0; the
 * bias-gradient column sums, both twins, against double sums. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "../nn/nn.h"
#include "../nn/nn_internal.h"

typedef void (*MatmulFn)(const float *, int, const float *, int, float *, int, int, int, int,
                         int);

static void check(MatmulFn fn, const char *name, int B, int K, int N, int accumulate)
{
    const int ldh = K + 3, ldw = N + 5, ldo = N + 7;
    float *h = malloc(sizeof(float) * B * ldh), *w = malloc(sizeof(float) * K * ldw);
    float *out = malloc(sizeof(float) * B * ldo);
    Rng rng;
    rng_seed(&rng, (uint64_t)(B * 1000 + K * 10 + N), 0);
    for (int i = 0; i < B * ldh; i++)
        h[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < K * ldw; i++)
        w[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < B * ldo; i++)
        out[i] = 2 * rng_uniform(&rng) - 1;
    double *want = malloc(sizeof(double) * B * N);
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            double s = accumulate ? out[b * ldo + n] : 0.0;
            for (int k = 0; k < K; k++)
                s += (double)h[b * ldh + k] * w[k * ldw + n];
            want[b * N + n] = s;
        }
    const float pad = out[ldo - 1];
    fn(h, ldh, w, ldw, out, ldo, B, K, N, accumulate);
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++)
            cr_assert(fabs(out[b * ldo + n] - want[b * N + n]) <= 1e-5 * (K + 1),
                      "%s B=%d K=%d N=%d acc=%d [%d][%d]: %g vs %g", name, B, K, N, accumulate, b,
                      n, out[b * ldo + n], want[b * N + n]);
    cr_assert_eq(out[ldo - 1], pad, "%s wrote past N into the row padding", name);
    free(h), free(w), free(out), free(want);
}

static const int shapes[][3] = {{1, 1, 8}, {3, 5, 16}, {4, 32, 128}, {7, 32, 96},
                                {64, 32, 128}, {9, 40, 24}, {5, 128, 32}, {2, 3, 40}};

Test(nn_kernels, rnn_matmul_scalar_matches_reference)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int acc = 0; acc < 2; acc++)
            check(rnn_matmul_scalar, "scalar", shapes[i][0], shapes[i][1], shapes[i][2], acc);
    check(rnn_matmul_scalar, "scalar", 3, 4, 5, 1); /* any N */
}

Test(nn_kernels, rnn_matmul_avx2_matches_reference)
{
    if (simd_detected() < SIMD_AVX2)
        cr_skip_test("this CPU has no AVX2/FMA");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int acc = 0; acc < 2; acc++)
            check(rnn_matmul_avx2, "avx2", shapes[i][0], shapes[i][1], shapes[i][2], acc);
}

Test(nn_kernels, rnn_matmul_dispatch_handles_any_width)
{
    check(rnn_matmul, "dispatch", 6, 7, 13, 0);
    check(rnn_matmul, "dispatch", 6, 7, 13, 1);
    check(rnn_matmul, "dispatch", 6, 7, 32, 1);
}

Test(nn_kernels, column_sums_twins_match_reference)
{
    enum { ROWS = 37, COLS = 29 };
    float x[ROWS * COLS];
    Rng rng;
    rng_seed(&rng, 5, 0);
    for (int i = 0; i < ROWS * COLS; i++)
        x[i] = 2 * rng_uniform(&rng) - 1;
    for (int twin = 0; twin < 2; twin++) {
        if (twin == 1 && simd_detected() < SIMD_AVX2)
            break;
        float acc[COLS];
        for (int c = 0; c < COLS; c++)
            acc[c] = (float)c;
        (twin ? column_sums_avx2 : column_sums_scalar)(acc, x, ROWS, COLS);
        for (int c = 0; c < COLS; c++) {
            double want = c;
            for (int r = 0; r < ROWS; r++)
                want += x[r * COLS + c];
            cr_assert(fabs(acc[c] - want) < 1e-5, "%s column %d: %g vs %g",
                      twin ? "avx2" : "scalar", c, acc[c], want);
        }
    }
}
