/* test_nn_grad.c — every layer's backward pass against central finite differences of an
 * independent double-precision forward written here from PyTorch's documented equations:
 * linear, LSTM and GRU stacks (one and two directions, one to three layers, several shapes,
 * T = 1 included, the same input at every step), MSE, softmax cross-entropy and dropout. The loss is sum(out ⊙ R) for a
 * random R, so every output element carries its own weight. Run at every SIMD level. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* ---------------------------------------------------------------- double reference */

/* Forward of a stack in double, parameters in state_dict order (same layout as rnn_bind),
 * x [T, B, I] -> out [T, B, dirs*H]. */
static void ref_rnn(RnnKind kind, int I, int H, int layers, int dirs, const double *p,
                    const double *x, double *out, int T, int B)
{
    const int G = kind == RNN_LSTM ? 4 : 3;
    const int D = dirs * H;
    double *in = malloc(sizeof(double) * T * B * (I > D ? I : D));
    double *h = malloc(sizeof(double) * H), *c = malloc(sizeof(double) * H);
    double *a = malloc(sizeof(double) * G * H), *ah = malloc(sizeof(double) * G * H);
    memcpy(in, x, sizeof(double) * T * B * I);
    int in_dim = I;
    for (int l = 0; l < layers; l++) {
        for (int d = 0; d < dirs; d++) {
            const double *wih = p, *whh = wih + G * H * in_dim, *bih = whh + G * H * H,
                         *bhh = bih + G * H;
            p = bhh + G * H;
            for (int b = 0; b < B; b++) {
                memset(h, 0, sizeof(double) * H);
                memset(c, 0, sizeof(double) * H);
                for (int k = 0; k < T; k++) {
                    const int t = d ? T - 1 - k : k;
                    const double *xt = in + ((size_t)t * B + b) * in_dim;
                    for (int r = 0; r < G * H; r++) {
                        double sx = bih[r], sh = bhh[r];
                        for (int j = 0; j < in_dim; j++)
                            sx += wih[r * in_dim + j] * xt[j];
                        for (int j = 0; j < H; j++)
                            sh += whh[r * H + j] * h[j];
                        a[r] = sx;
                        ah[r] = sh;
                    }
                    for (int j = 0; j < H; j++) {
                        if (kind == RNN_LSTM) {
                            const double ig = sigm(a[j] + ah[j]), fg = sigm(a[H + j] + ah[H + j]);
                            const double gg = tanh(a[2 * H + j] + ah[2 * H + j]);
                            const double og = sigm(a[3 * H + j] + ah[3 * H + j]);
                            c[j] = fg * c[j] + ig * gg;
                            h[j] = og * tanh(c[j]);
                        } else {
                            const double r = sigm(a[j] + ah[j]), z = sigm(a[H + j] + ah[H + j]);
                            const double n = tanh(a[2 * H + j] + r * ah[2 * H + j]);
                            h[j] = (1 - z) * n + z * h[j];
                        }
                    }
                    memcpy(out + ((size_t)t * B + b) * D + d * H, h, sizeof(double) * H);
                }
            }
        }
        memcpy(in, out, sizeof(double) * T * B * D);
        in_dim = D;
    }
    free(in);
    free(h);
    free(c);
    free(a);
    free(ah);
}

static double weighted_sum(const double *v, const double *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * r[i];
    return s;
}

/* |analytic - numeric| within 1e-3 of the largest numeric gradient plus 1e-3 relative: float
 * backward against a double reference whose own error is ~1e-9. */
static void expect_grads(const char *what, const float *got, const double *want, size_t n)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= 1e-3 * scale + 1e-3 * fabs(want[i]),
                  "%s[%zu]: backward %.7g, finite differences %.7g (scale %.3g)", what, i,
                  got[i], want[i], scale);
}

/* The reference on x [T, B, I], or on x [B, I] repeated T times when const_input. */
static void ref_rnn_input(RnnKind kind, int I, int H, int layers, int dirs, const double *p,
                          const double *x, int const_input, double *x_full, double *out, int T,
                          int B)
{
    if (const_input)
        for (int t = 0; t < T; t++)
            memcpy(x_full + (size_t)t * B * I, x, sizeof(double) * B * I);
    ref_rnn(kind, I, H, layers, dirs, p, const_input ? x_full : x, out, T, B);
}

static void check_rnn(RnnKind kind, int T, int B, int I, int H, int layers, int dirs,
                      int const_input, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    const size_t np = rnn_param_count(kind, I, H, layers, dirs);
    const size_t nx = (size_t)(const_input ? 1 : T) * B * I, ny = (size_t)T * B * dirs * H;
    double *x_full = malloc(sizeof(double) * T * B * I);
    float *p = malloc(np * sizeof(float)), *g = calloc(np, sizeof(float));
    float *x = malloc(nx * sizeof(float)), *dx = malloc(nx * sizeof(float));
    float *dy = malloc(ny * sizeof(float));
    double *pd = malloc(np * sizeof(double)), *xd = malloc(nx * sizeof(double));
    double *yd = malloc(ny * sizeof(double)), *rd = malloc(ny * sizeof(double));
    double *gp = malloc(np * sizeof(double)), *gx = malloc(nx * sizeof(double));
    for (size_t i = 0; i < np; i++)
        pd[i] = p[i] = 0.6f * (2 * rng_uniform(&rng) - 1);
    for (size_t i = 0; i < nx; i++)
        xd[i] = x[i] = 2 * rng_uniform(&rng) - 1;
    for (size_t i = 0; i < ny; i++)
        rd[i] = dy[i] = 2 * rng_uniform(&rng) - 1;

    Rnn r;
    cr_assert_eq(rnn_bind(&r, kind, I, H, layers, dirs, p, g), np);
    r.const_input = const_input;
    Status st = {0};
    Arena measure, arena;
    RnnBuffers buf;
    arena_init_measure(&measure);
    rnn_plan(&r, &buf, &measure, T, B, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(rnn_plan(&r, &buf, &arena, T, B, &st), TK_OK, "%s", st.msg);
    rnn_forward(&r, &buf, x, T, B);

    /* The forward pass itself against the reference. */
    ref_rnn_input(kind, I, H, layers, dirs, pd, xd, const_input, x_full, yd, T, B);
    const float *y = rnn_output(&r, &buf);
    for (size_t i = 0; i < ny; i++)
        cr_assert(fabs(y[i] - yd[i]) < 1e-5, "%s forward [%zu]: %.7g vs %.7g",
                  kind == RNN_LSTM ? "lstm" : "gru", i, y[i], yd[i]);
    rnn_backward(&r, &buf, x, dy, dx, T, B);

    const double h = 1e-6;
    for (size_t i = 0; i < np; i++) {
        const double keep = pd[i];
        pd[i] = keep + h;
        ref_rnn_input(kind, I, H, layers, dirs, pd, xd, const_input, x_full, yd, T, B);
        const double up = weighted_sum(yd, rd, ny);
        pd[i] = keep - h;
        ref_rnn_input(kind, I, H, layers, dirs, pd, xd, const_input, x_full, yd, T, B);
        gp[i] = (up - weighted_sum(yd, rd, ny)) / (2 * h);
        pd[i] = keep;
    }
    for (size_t i = 0; i < nx; i++) {
        const double keep = xd[i];
        xd[i] = keep + h;
        ref_rnn_input(kind, I, H, layers, dirs, pd, xd, const_input, x_full, yd, T, B);
        const double up = weighted_sum(yd, rd, ny);
        xd[i] = keep - h;
        ref_rnn_input(kind, I, H, layers, dirs, pd, xd, const_input, x_full, yd, T, B);
        gx[i] = (up - weighted_sum(yd, rd, ny)) / (2 * h);
        xd[i] = keep;
    }
    expect_grads("d params", g, gp, np);
    expect_grads("d input", dx, gx, nx);

    arena_free(&arena);
    free(p), free(g), free(x), free(dx), free(dy), free(pd), free(xd), free(yd), free(rd);
    free(gp), free(gx), free(x_full);
}

/* Shapes: bidirectional and not, 1-3 layers, a single step, batch 1, hidden not a multiple of
 * the SIMD width, hidden 8 (the AVX2 step product), and the same input at every step. */
static const int rnn_shapes[][7] = {
    /* T, B, I, H, layers, dirs, const_input */
    {5, 3, 3, 4, 2, 2, 0}, {1, 2, 2, 3, 1, 1, 0}, {4, 1, 5, 2, 3, 1, 0}, {6, 2, 4, 9, 1, 2, 0},
    {3, 4, 7, 5, 2, 1, 0}, {4, 7, 3, 8, 2, 2, 0}, {5, 3, 4, 8, 2, 2, 1}, {1, 2, 3, 3, 1, 1, 1},
};

static void check_all_levels(RnnKind kind)
{
    const SimdLevel saved = simd_active();
    for (int level = SIMD_SCALAR; level <= (int)simd_detected(); level++) {
        simd_force((SimdLevel)level);
        for (size_t s = 0; s < sizeof rnn_shapes / sizeof rnn_shapes[0]; s++) {
            const int *sh = rnn_shapes[s];
            check_rnn(kind, sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], sh[6], 100 + s);
        }
    }
    simd_force(saved);
}

Test(nn_grad, lstm_stack_matches_finite_differences) { check_all_levels(RNN_LSTM); }
Test(nn_grad, gru_stack_matches_finite_differences) { check_all_levels(RNN_GRU); }

Test(nn_grad, linear_matches_finite_differences)
{
    enum { N = 4, IN = 5, OUT = 3 };
    Rng rng;
    rng_seed(&rng, 7, 0);
    float w[OUT * IN + OUT], g[OUT * IN + OUT] = {0}, x[N * IN], y[N * OUT], dy[N * OUT],
        dx[N * IN];
    for (int i = 0; i < OUT * IN + OUT; i++)
        w[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < N * IN; i++)
        x[i] = 2 * rng_uniform(&rng) - 1;
    for (int i = 0; i < N * OUT; i++)
        dy[i] = 2 * rng_uniform(&rng) - 1;
    const Linear l = {IN, OUT, w, w + OUT * IN, g, g + OUT * IN};
    linear_forward(&l, x, y, N);
    linear_backward(&l, x, dy, dx, N);
    /* The layer is linear in each argument, so the derivative is exact in double. */
    double want_w[OUT * IN + OUT] = {0}, want_x[N * IN] = {0};
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OUT; o++) {
            double yo = w[OUT * IN + o];
            for (int i = 0; i < IN; i++) {
                yo += (double)w[o * IN + i] * x[n * IN + i];
                want_w[o * IN + i] += (double)dy[n * OUT + o] * x[n * IN + i];
                want_x[n * IN + i] += (double)dy[n * OUT + o] * w[o * IN + i];
            }
            want_w[OUT * IN + o] += dy[n * OUT + o];
            cr_assert(fabs(y[n * OUT + o] - yo) < 1e-6);
        }
    expect_grads("linear d params", g, want_w, OUT * IN + OUT);
    expect_grads("linear d input", dx, want_x, N * IN);
}

Test(nn_grad, mse_and_cross_entropy_match_finite_differences)
{
    enum { N = 3, C = 4 };
    Rng rng;
    rng_seed(&rng, 9, 0);
    float z[N * C], t[N * C], dz[N * C], probs[N * C];
    const int labels[N] = {2, 0, 3};
    for (int i = 0; i < N * C; i++) {
        z[i] = 3 * (2 * rng_uniform(&rng) - 1);
        t[i] = rng_uniform(&rng);
    }
    double want[N * C];
    /* MSE in double: mean((z - t)^2) */
    mse_loss(z, t, N * C, dz);
    for (int i = 0; i < N * C; i++)
        want[i] = 2.0 * ((double)z[i] - t[i]) / (N * C);
    expect_grads("mse", dz, want, N * C);
    const float loss = softmax_xent_loss(z, labels, N, C, probs, dz);
    double ref_loss = 0;
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < C; j++) {
            /* d/dz_j of log-sum-exp - z_label by central differences in double. */
            const double h = 1e-6;
            double lse[2];
            for (int s = 0; s < 2; s++) {
                double sum = 0;
                for (int k = 0; k < C; k++)
                    sum += exp((double)z[n * C + k] + (k == j ? (s ? -h : h) : 0));
                lse[s] = log(sum) - ((double)z[n * C + labels[n]] +
                                     (j == labels[n] ? (s ? -h : h) : 0));
            }
            want[n * C + j] = (lse[0] - lse[1]) / (2 * h) / N;
        }
        double sum = 0;
        for (int k = 0; k < C; k++)
            sum += exp((double)z[n * C + k]);
        ref_loss += (log(sum) - z[n * C + labels[n]]) / N;
    }
    cr_assert(fabs(loss - ref_loss) < 1e-6, "cross-entropy %.8g vs %.8g", loss, ref_loss);
    expect_grads("cross-entropy", dz, want, N * C);
}

Test(nn_grad, dropout_scales_kept_values_and_routes_gradients)
{
    enum { N = 20000 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    float *mask = malloc(N * sizeof(float)), *dx = malloc(N * sizeof(float));
    Rng rng;
    rng_seed(&rng, 3, 0);
    for (int i = 0; i < N; i++)
        x[i] = 1.0f + rng_uniform(&rng);
    dropout_forward(x, y, mask, N, 0.25f, &rng);
    int dropped = 0;
    for (int i = 0; i < N; i++) {
        if (mask[i] == 0.0f) {
            dropped++;
            cr_assert_eq(y[i], 0.0f);
        } else {
            cr_assert_float_eq(y[i], x[i] / 0.75f, 1e-6);
        }
    }
    /* 25 % of 20000 dropped, within 5 standard deviations (sqrt(20000 * .25 * .75) = 61). */
    cr_assert(abs(dropped - N / 4) < 5 * 61, "dropped %d of %d", dropped, N);
    dropout_backward(x, mask, dx, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(dx[i], x[i] * mask[i]);
    dropout_forward(x, y, mask, N, 0.0f, &rng);
    cr_assert_eq(memcmp(x, y, N * sizeof(float)), 0);
    free(x), free(y), free(mask), free(dx);
}
