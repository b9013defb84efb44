/* test_nn_kernels.c — the per-step recurrent product rnn_matmul: its scalar and AVX2 twins
 * against a double-precision reference on odd shapes (depth 0 too), padded strides, every
 * starting value (zeros, in place, another buffer) with and without a bias, and the dispatcher
 * falling back to scalar for N % 8 != 0. The fused LSTM/GRU step kernels (activations, cell
 * update, gate gradients, bias sums): both twins and the dispatcher against a double-precision
 * reference, with and without a previous state. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "../nn/nn_internal.h"

typedef void (*MatmulFn)(const float *, int, const float *, int, const float *, int,
                         const float *, float *, int, int, int, int);

/* mode: bits 0-1 the starting value (0 none, 1 out itself, 2 another buffer), bit 2 a bias */
static void check(MatmulFn fn, const char *name, int B, int K, int N, int mode)
{
    const int ldh = K + 3, ldw = N + 5, ldo = N + 7, ldi = N + 2, start = mode & 3;
    float *h = malloc(sizeof(float) * B * ldh), *w = malloc(sizeof(float) * (K + 1) * ldw);
    float *out = malloc(sizeof(float) * B * ldo), *bias = malloc(sizeof(float) * N);
    float *other = malloc(sizeof(float) * B * ldi);
    Rng rng;
    rng_seed(&rng, (uint64_t)(B * 1000 + K * 10 + N), 0);
    for (int i = 0; i < B * ldh; i++)
        h[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < K * ldw; i++)
        w[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < B * ldo; i++)
        out[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < B * ldi; i++)
        other[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < N; i++)
        bias[i] = 2 * rng_uniform(&rng) - 1;
    const float *init = start == 1 ? out : start == 2 ? other : NULL;
    const int ld_init = start == 1 ? ldo : ldi;
    const float *use_bias = mode & 4 ? bias : NULL;
    double *want = malloc(sizeof(double) * B * N);
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++) {
            double s = (init ? init[b * ld_init + n] : 0.0) + (use_bias ? bias[n] : 0.0);
            for (int k = 0; k < K; k++)
                s += (double)h[b * ldh + k] * w[k * ldw + n];
            want[b * N + n] = s;
        }
    const float pad = out[ldo - 1];
    fn(h, ldh, w, ldw, init, ld_init, use_bias, out, ldo, B, K, N);
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++)
            cr_assert(fabs(out[b * ldo + n] - want[b * N + n]) <= 1e-5 * (K + 2),
                      "%s B=%d K=%d N=%d mode=%d [%d][%d]: %g vs %g", name, B, K, N, mode, b, n,
                      out[b * ldo + n], want[b * N + n]);
    cr_assert_eq(out[ldo - 1], pad, "%s wrote past N into the row padding", name);
    free(h), free(w), free(out), free(bias), free(other), free(want);
}

static const int shapes[][3] = {{1, 1, 8},    {3, 5, 16},   {4, 32, 128}, {7, 32, 96},
                                {64, 32, 128}, {9, 40, 24}, {5, 128, 32}, {2, 3, 40},
                                {7, 0, 32}};

Test(nn_kernels, rnn_matmul_scalar_matches_reference)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int mode = 0; mode < 8; mode++)
            check(rnn_matmul_scalar, "scalar", shapes[i][0], shapes[i][1], shapes[i][2], mode);
    check(rnn_matmul_scalar, "scalar", 3, 4, 5, 6); /* any N */
}

Test(nn_kernels, rnn_matmul_avx2_matches_reference)
{
    if (simd_detected() < SIMD_AVX2)
        cr_skip_test("this CPU has no AVX2/FMA");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int mode = 0; mode < 8; mode++)
            check(rnn_matmul_avx2, "avx2", shapes[i][0], shapes[i][1], shapes[i][2], mode);
}

Test(nn_kernels, rnn_matmul_dispatch_handles_any_width)
{
    check(rnn_matmul, "dispatch", 6, 7, 13, 0);
    check(rnn_matmul, "dispatch", 6, 7, 13, 5);
    check(rnn_matmul, "dispatch", 6, 7, 32, 1);
    check(rnn_matmul, "dispatch", 6, 7, 32, 6);
}

/* ---------------------------------------------------------------- fused step kernels */

enum { CELL_B = 5, CELL_PAD = 3 };

static void fill(float *x, int n, float lo, float hi, Rng *rng)
{
    for (int i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rng_uniform(rng);
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef void (*LstmFwdFn)(float *, const float *, float *, float *, float *, int, int, int);

/* One LSTM step from pre-activations: h, c, tanh(c) and the activated gates against double
 * precision; with and without a previous cell state. */
static void check_lstm_forward(LstmFwdFn fn, const char *name, int H, int first, double tol)
{
    const int B = CELL_B, ldh = H + CELL_PAD;
    float g[CELL_B * 128], cp[CELL_B * 32], c[CELL_B * 32], tc[CELL_B * 32];
    float h[CELL_B * (32 + CELL_PAD)], g0[CELL_B * 128];
    Rng rng;
    rng_seed(&rng, (uint64_t)H * 7 + first, 1);
    fill(g0, B * 4 * H, -4, 4, &rng);
    fill(cp, B * H, -2, 2, &rng);
    fill(h, B * ldh, 9, 9, &rng);
    memcpy(g, g0, sizeof(float) * B * 4 * H);
    fn(g, first ? NULL : cp, c, tc, h, ldh, B, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            const float *p = g0 + b * 4 * H;
            const double i = sigm(p[j]), f = sigm(p[H + j]), gg = tanh(p[2 * H + j]);
            const double o = sigm(p[3 * H + j]);
            const double cv = (first ? 0.0 : f * cp[b * H + j]) + i * gg, hv = o * tanh(cv);
            const float *a = g + b * 4 * H;
            cr_assert(fabs(a[j] - i) < tol && fabs(a[H + j] - f) < tol &&
                          fabs(a[2 * H + j] - gg) < tol && fabs(a[3 * H + j] - o) < tol,
                      "%s H=%d gates [%d][%d]", name, H, b, j);
            cr_assert(fabs(c[b * H + j] - cv) < tol && fabs(tc[b * H + j] - tanh(cv)) < tol,
                      "%s H=%d c [%d][%d]: %g vs %g", name, H, b, j, c[b * H + j], cv);
            cr_assert(fabs(h[b * ldh + j] - hv) < tol, "%s H=%d h [%d][%d]: %g vs %g", name, H,
                      b, j, h[b * ldh + j], hv);
        }
    for (int b = 0; b < B; b++)
        for (int j = H; j < ldh; j++)
            cr_assert_eq(h[b * ldh + j], 9.0f, "%s wrote into the row padding of h", name);
}

typedef void (*LstmBwdFn)(const float *, const float *, const float *, const float *, int,
                          const float *, float *, float *, float *, int, int);

/* One LSTM backward step from activated gates: gate gradients, dc and the bias sums against
 * double precision. */
static void check_lstm_backward(LstmBwdFn fn, const char *name, int H, int first, double tol)
{
    const int B = CELL_B, ldy = H + CELL_PAD;
    float g[CELL_B * 128], tc[CELL_B * 32], cp[CELL_B * 32], dy[CELL_B * (32 + CELL_PAD)];
    float dhn[CELL_B * 32], dc[CELL_B * 32], dc0[CELL_B * 32], dg[CELL_B * 128], db[128];
    Rng rng;
    rng_seed(&rng, (uint64_t)H * 11 + first, 2);
    fill(g, B * 4 * H, 0.02f, 0.98f, &rng); /* sigmoid outputs; the g gate is a tanh output */
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++)
            g[b * 4 * H + 2 * H + j] = 2 * g[b * 4 * H + 2 * H + j] - 1;
    fill(tc, B * H, -0.95f, 0.95f, &rng);
    fill(cp, B * H, -2, 2, &rng);
    fill(dy, B * ldy, -1, 1, &rng);
    fill(dhn, B * H, -1, 1, &rng);
    fill(dc0, B * H, -1, 1, &rng);
    fill(db, 4 * H, -1, 1, &rng);
    double want_db[128];
    for (int j = 0; j < 4 * H; j++)
        want_db[j] = db[j];
    memcpy(dc, dc0, sizeof dc);
    fn(g, tc, first ? NULL : cp, dy, ldy, dhn, dc, dg, db, B, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            const float *p = g + b * 4 * H;
            const double i = p[j], f = p[H + j], gg = p[2 * H + j], o = p[3 * H + j];
            const double t = tc[b * H + j], dh = (double)dy[b * ldy + j] + dhn[b * H + j];
            const double dcv = dc0[b * H + j] + dh * o * (1 - t * t);
            const double want[4] = {dcv * gg * i * (1 - i),
                                    dcv * (first ? 0.0 : cp[b * H + j]) * f * (1 - f),
                                    dcv * i * (1 - gg * gg), dh * t * o * (1 - o)};
            for (int q = 0; q < 4; q++) {
                cr_assert(fabs(dg[b * 4 * H + q * H + j] - want[q]) < tol,
                          "%s H=%d dgate %d [%d][%d]: %g vs %g", name, H, q, b, j,
                          dg[b * 4 * H + q * H + j], want[q]);
                want_db[q * H + j] += want[q];
            }
            cr_assert(fabs(dc[b * H + j] - dcv * f) < tol, "%s H=%d dc [%d][%d]", name, H, b, j);
        }
    for (int j = 0; j < 4 * H; j++)
        cr_assert(fabs(db[j] - want_db[j]) < tol * B, "%s H=%d dbias[%d]: %g vs %g", name, H, j,
                  db[j], want_db[j]);
}

typedef void (*GruFwdFn)(float *, const float *, const float *, float *, int, int, int);

static void check_gru_forward(GruFwdFn fn, const char *name, int H, int first, double tol)
{
    const int B = CELL_B, ldh = H + CELL_PAD;
    float g[CELL_B * 96], g0[CELL_B * 96], hn[CELL_B * 32];
    float hp[CELL_B * (32 + CELL_PAD)], h[CELL_B * (32 + CELL_PAD)];
    Rng rng;
    rng_seed(&rng, (uint64_t)H * 13 + first, 3);
    fill(g0, B * 3 * H, -4, 4, &rng);
    fill(hn, B * H, -2, 2, &rng);
    fill(hp, B * ldh, -1, 1, &rng);
    fill(h, B * ldh, 9, 9, &rng);
    memcpy(g, g0, sizeof(float) * B * 3 * H);
    fn(g, hn, first ? NULL : hp, h, ldh, B, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            const float *p = g0 + b * 3 * H;
            const double r = sigm(p[j]), z = sigm(p[H + j]);
            const double n = tanh(p[2 * H + j] + r * hn[b * H + j]);
            const double hv = (1 - z) * n + (first ? 0.0 : z * hp[b * ldh + j]);
            const float *a = g + b * 3 * H;
            cr_assert(fabs(a[j] - r) < tol && fabs(a[H + j] - z) < tol &&
                          fabs(a[2 * H + j] - n) < tol,
                      "%s H=%d gates [%d][%d]", name, H, b, j);
            cr_assert(fabs(h[b * ldh + j] - hv) < tol, "%s H=%d h [%d][%d]: %g vs %g", name, H,
                      b, j, h[b * ldh + j], hv);
        }
    for (int b = 0; b < B; b++)
        for (int j = H; j < ldh; j++)
            cr_assert_eq(h[b * ldh + j], 9.0f, "%s wrote into the row padding of h", name);
}

typedef void (*GruBwdFn)(const float *, const float *, const float *, const float *, int, float *,
                         float *, float *, float *, int, int);

static void check_gru_backward(GruBwdFn fn, const char *name, int H, int first, double tol)
{
    const int B = CELL_B, ldh = H + CELL_PAD;
    float g[CELL_B * 96], hn[CELL_B * 32], hp[CELL_B * (32 + CELL_PAD)];
    float dy[CELL_B * (32 + CELL_PAD)], dh[CELL_B * 32], dh0[CELL_B * 32];
    float dgx[CELL_B * 96], dhn[CELL_B * 32], db[128];
    Rng rng;
    rng_seed(&rng, (uint64_t)H * 17 + first, 4);
    fill(g, B * 3 * H, 0.02f, 0.98f, &rng);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++)
            g[b * 3 * H + 2 * H + j] = 2 * g[b * 3 * H + 2 * H + j] - 1;
    fill(hn, B * H, -2, 2, &rng);
    fill(hp, B * ldh, -1, 1, &rng);
    fill(dy, B * ldh, -1, 1, &rng);
    fill(dh0, B * H, -1, 1, &rng);
    fill(db, 4 * H, -1, 1, &rng);
    double want_db[128];
    for (int j = 0; j < 4 * H; j++)
        want_db[j] = db[j];
    memcpy(dh, dh0, sizeof dh);
    fn(g, hn, first ? NULL : hp, dy, ldh, dh, dgx, dhn, db, B, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            const float *p = g + b * 3 * H;
            const double r = p[j], z = p[H + j], n = p[2 * H + j];
            const double d = (double)dy[b * ldh + j] + dh0[b * H + j];
            const double hprev = first ? 0.0 : hp[b * ldh + j];
            const double dn = d * (1 - z) * (1 - n * n), dz = d * (hprev - n) * z * (1 - z);
            const double dr = dn * hn[b * H + j] * r * (1 - r);
            const double wx[3] = {dr, dz, dn}, whn = dn * r;
            for (int q = 0; q < 3; q++) {
                cr_assert(fabs(dgx[b * 3 * H + q * H + j] - wx[q]) < tol,
                          "%s H=%d gate %d [%d][%d]", name, H, q, b, j);
                want_db[q * H + j] += wx[q];
            }
            cr_assert(fabs(dhn[b * H + j] - whn) < tol, "%s H=%d dhn [%d][%d]", name, H, b, j);
            want_db[3 * H + j] += whn;
            cr_assert(fabs(dh[b * H + j] - d * z) < tol, "%s H=%d dh [%d][%d]", name, H, b, j);
        }
    for (int j = 0; j < 4 * H; j++)
        cr_assert(fabs(db[j] - want_db[j]) < tol * B, "%s H=%d dbias[%d]", name, H, j);
}

/* Scalar twins (and the dispatcher, which takes them for H % 8 != 0) against double; AVX2
 * twins on H = 8, 16, 32 against double at the tolerance of their exp approximation. */
Test(nn_kernels, fused_cells_match_double_reference)
{
    static const int scalar_h[] = {1, 5, 12, 32}, avx2_h[] = {8, 16, 32};
    for (int first = 0; first < 2; first++) {
        for (size_t i = 0; i < sizeof scalar_h / sizeof scalar_h[0]; i++) {
            const int H = scalar_h[i];
            check_lstm_forward(lstm_cell_forward_scalar, "lstm fwd scalar", H, first, 1e-6);
            check_lstm_backward(lstm_cell_backward_scalar, "lstm bwd scalar", H, first, 1e-6);
            check_gru_forward(gru_cell_forward_scalar, "gru fwd scalar", H, first, 1e-6);
            check_gru_backward(gru_cell_backward_scalar, "gru bwd scalar", H, first, 1e-6);
            check_lstm_forward(lstm_cell_forward, "lstm fwd dispatch", H, first, 1e-6);
            check_gru_backward(gru_cell_backward, "gru bwd dispatch", H, first, 1e-6);
        }
        if (simd_detected() < SIMD_AVX2)
            continue;
        for (size_t i = 0; i < sizeof avx2_h / sizeof avx2_h[0]; i++) {
            const int H = avx2_h[i];
            check_lstm_forward(lstm_cell_forward_avx2, "lstm fwd avx2", H, first, 1e-6);
            check_lstm_backward(lstm_cell_backward_avx2, "lstm bwd avx2", H, first, 1e-6);
            check_gru_forward(gru_cell_forward_avx2, "gru fwd avx2", H, first, 1e-6);
            check_gru_backward(gru_cell_backward_avx2, "gru bwd avx2", H, first, 1e-6);
        }
    }
}

/* ---------------------------------------------------------------- Adam, vec_add */

/* The AVX2 update does PyTorch's float operations in the same order, unfused: same bits as the
 * scalar twin, with and without weight decay, over a length that leaves a scalar tail. */
Test(nn_kernels, adam_update_twins_give_the_same_bits)
{
    if (simd_detected() < SIMD_AVX2)
        cr_skip_test("this CPU has no AVX2/FMA");
    enum { N = 203 };
    for (int decay = 0; decay < 2; decay++) {
        float p[2][N], p0[N], g[N], m[2][N], v[2][N];
        Rng rng;
        rng_seed(&rng, 21 + decay, 0);
        fill(p[0], N, -1, 1, &rng);
        fill(g, N, -1e-2f, 1e-2f, &rng);
        fill(m[0], N, -1e-3f, 1e-3f, &rng);
        fill(v[0], N, 0, 1e-5f, &rng);
        memcpy(p[1], p[0], sizeof p[0]);
        memcpy(p0, p[0], sizeof p0);
        memcpy(m[1], m[0], sizeof m[0]);
        memcpy(v[1], v[0], sizeof v[0]);
        const AdamCoefs c = {0.9f, 0.999f, 0.1f, 0.001f, 0.0031f, 0.0447f, 1e-8f,
                             decay ? 1e-2f : 0.0f};
        adam_update_scalar(p[0], g, m[0], v[0], N, &c);
        const size_t done = adam_update_avx2(p[1], g, m[1], v[1], N, &c);
        cr_assert_eq(done, N - N % 8);
        adam_update_scalar(p[1] + done, g + done, m[1] + done, v[1] + done, N - done, &c);
        cr_assert(!memcmp(p[0], p[1], sizeof p[0]) && !memcmp(m[0], m[1], sizeof m[0]) &&
                      !memcmp(v[0], v[1], sizeof v[0]),
                  "Adam twins differ (weight decay %d)", decay);
        for (int i = 0; i < N; i++)
            cr_assert(p[0][i] != p0[i], "parameter %d did not move", i);
    }
}

Test(nn_kernels, vec_add_is_exact_at_every_level)
{
    enum { N = 45 };
    float x[N], y0[N], y[N];
    Rng rng;
    rng_seed(&rng, 3, 0);
    fill(x, N, -1, 1, &rng);
    fill(y0, N, -1, 1, &rng);
    const SimdLevel saved = simd_active();
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        simd_force((SimdLevel)level);
        memcpy(y, y0, sizeof y);
        vec_add(y, x, N);
        for (int i = 0; i < N; i++)
            cr_assert_eq(y[i], y0[i] + x[i], "level %d, element %d", level, i);
    }
    simd_force(saved);
}

/* The MSE's AVX2 twin: the same gradient bits as the scalar loop, the loss equal up to the
 * rounding of its double sum. */
Test(nn_kernels, mse_twins_agree)
{
    if (simd_detected() < SIMD_AVX2)
        cr_skip_test("this CPU has no AVX2/FMA");
    enum { N = 1003 };
    static float pred[N], target[N], d0[N], d1[N];
    Rng rng;
    rng_seed(&rng, 8, 0);
    fill(pred, N, 0, 1, &rng);
    fill(target, N, 0, 1, &rng);
    const float scale = 2.0f / N;
    const double want = mse_sum_scalar(pred, target, N, scale, d0);
    size_t done = 0;
    double got = mse_sum_avx2(pred, target, N, scale, d1, &done);
    cr_assert_eq(done, N - N % 8);
    got += mse_sum_scalar(pred + done, target + done, N - done, scale, d1 + done);
    cr_assert(fabs(got - want) <= 1e-12 * want, "sum %.17g vs %.17g", got, want);
    cr_assert(!memcmp(d0, d1, sizeof d0), "the gradients differ");
    cr_assert(want > 0);
}
