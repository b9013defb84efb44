/* test_idec.c — IDEC's clustering loss (nn/dec_loss.c) against PyTorch (soft assignment,
 * target, torch's kl_div and its autograd gradients: tests/data/idec/make_golden.py) and
 * against central finite differences of a double-precision KL written here; the latent
 * gradient hook of the SeqAE (seqae_forward + seqae_backward) against seqae_step and finite
 * differences; and idec_fit's determinism and what it reports. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/data/idec/"
#define GN 7
#define GD 5
#define GK 3

Test(idec_loss, matches_pytorch_kl_div_and_autograd)
{
    float *z = test_golden_f32(GOLDEN_DIR, "z.bin", GN * GD);
    float *mu = test_golden_f32(GOLDEN_DIR, "mu.bin", GK * GD);
    float q[GN * GK], p[GN * GK], q2[GN * GK], dz[GN * GD], dmu[GK * GD];
    double f[GK];
    dec_soft_assign(z, GN, GD, mu, GK, q);
    test_expect_torch_close("q", q, test_golden_f32(GOLDEN_DIR, "q.bin", GN * GK), GN * GK);
    dec_target(q, GN, GK, f, p);
    float *want_p = test_golden_f32(GOLDEN_DIR, "p.bin", GN * GK);
    test_expect_torch_close("p", p, want_p, GN * GK);
    /* The loss and gradients on PyTorch's P, so that they are checked on their own. */
    for (size_t i = 0; i < GK * GD; i++)
        dmu[i] = 1.0f; /* accumulated into */
    const float kl = dec_kl_loss(z, GN, GD, mu, GK, want_p, 1.0f, q2, dz, dmu);
    test_expect_torch_close("kl", &kl, test_golden_f32(GOLDEN_DIR, "kl.bin", 1), 1);
    test_expect_torch_close("dz", dz, test_golden_f32(GOLDEN_DIR, "dz.bin", GN * GD), GN * GD);
    float *want_dmu = test_golden_f32(GOLDEN_DIR, "dmu.bin", GK * GD);
    for (size_t i = 0; i < GK * GD; i++)
        dmu[i] -= 1.0f;
    for (size_t i = 0; i < GK * GD; i++)
        cr_expect(fabsf(dmu[i] - want_dmu[i]) <= 1e-5f * fabsf(want_dmu[i]) + 2e-6f,
                  "dmu[%zu] %g, PyTorch %g", i, dmu[i], want_dmu[i]);
    cr_expect_eq(memcmp(q, q2, sizeof q), 0, "dec_kl_loss's q is dec_soft_assign's");
    for (int i = 0; i < GN; i++)
        cr_expect_float_eq(p[i * GK] + p[i * GK + 1] + p[i * GK + 2], 1.0f, 1e-6f);
}

/* KL(P || Q) of the mean over rows, all in double: the reference the differences are taken of. */
static double kl_double(const double *z, int n, int d, const double *mu, int k, const float *p)
{
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double w[8], sum = 0;
        for (int j = 0; j < k; j++) {
            double d2 = 0;
            for (int c = 0; c < d; c++)
                d2 += (z[i * d + c] - mu[j * d + c]) * (z[i * d + c] - mu[j * d + c]);
            w[j] = 1 / (1 + d2);
            sum += w[j];
        }
        for (int j = 0; j < k; j++)
            loss += p[i * k + j] * log(p[i * k + j] / (w[j] / sum));
    }
    return loss / n;
}

Test(idec_loss, gradients_match_finite_differences)
{
    enum { N = 9, D = 4, K = 5 };
    const float scale = 0.7f;
    Rng rng;
    rng_seed(&rng, 11, 0);
    float z[N * D], mu[K * D], q[N * K], p[N * K], dz[N * D], dmu[K * D] = {0};
    double zd[N * D], mud[K * D], f[K];
    for (int i = 0; i < N * D; i++)
        zd[i] = z[i] = rng_normal(&rng);
    for (int i = 0; i < K * D; i++)
        mud[i] = mu[i] = rng_normal(&rng);
    /* A target from other latent rows, so that P is not Q's own sharpening only. */
    float other[N * D];
    for (int i = 0; i < N * D; i++)
        other[i] = z[i] + 0.5f * rng_normal(&rng);
    dec_soft_assign(other, N, D, mu, K, q);
    dec_target(q, N, K, f, p);
    const float kl = dec_kl_loss(z, N, D, mu, K, p, scale, q, dz, dmu);
    cr_expect(fabs(kl - kl_double(zd, N, D, mud, K, p)) < 1e-6, "loss %g, double %g", kl,
              kl_double(zd, N, D, mud, K, p));
    const double h = 1e-6;
    double worst = 0;
    for (int i = 0; i < N * D + K * D; i++) {
        double *v = i < N * D ? &zd[i] : &mud[i - N * D];
        const double keep = *v;
        *v = keep + h;
        const double up = kl_double(zd, N, D, mud, K, p);
        *v = keep - h;
        const double down = kl_double(zd, N, D, mud, K, p);
        *v = keep;
        const double want = scale * (up - down) / (2 * h);
        const double got = i < N * D ? dz[i] : dmu[i - N * D];
        const double err = fabs(got - want) / (fabs(want) + 1e-4);
        worst = err > worst ? err : worst;
        cr_expect(err < 1e-4, "%s[%d]: %g, finite differences %g", i < N * D ? "dz" : "dmu",
                  i < N * D ? i : i - N * D, got, want);
    }
    cr_log_info("worst relative error %.2g", worst);
}

/* ---------------------------------------------------------------- the SeqAE's latent hook */

static const SeqAEConfig small = {.features = 5, .seq_len = 6, .hidden = 8, .latent = 4,
                                  .enc_layers = 2, .dec_layers = 2};

typedef struct {
    SeqAE m;
    SeqAEWork w;
    Arena arena;
    float x[3 * 6 * 5];
} Small;

static void small_init(Small *s, int B)
{
    Status st = {0};
    cr_assert_eq(seqae_init(&s->m, &small, &st), TK_OK, "%s", st.msg);
    Rng rng;
    rng_seed(&rng, 5, 0);
    seqae_init_params(&s->m, &rng);
    for (size_t i = 0; i < sizeof s->x / sizeof s->x[0]; i++)
        s->x[i] = rng_uniform(&rng);
    Arena measure;
    arena_init_measure(&measure);
    seqae_work_plan(&s->m, &s->w, &measure, B, 1, &st);
    cr_assert_eq(arena_init(&s->arena, measure.peak, &st), TK_OK);
    cr_assert_eq(seqae_work_plan(&s->m, &s->w, &s->arena, B, 1, &st), TK_OK, "%s", st.msg);
}

/* MSE + sum(z * e): the loss whose gradient seqae_backward(e) gives. */
static double hooked_loss(Small *s, int B, const float *e)
{
    const float mse = seqae_forward(&s->m, &s->w, s->x, B, 0);
    double dot = 0;
    for (int i = 0; i < B * small.latent; i++)
        dot += (double)s->w.z[i] * e[i];
    return mse + dot;
}

Test(idec_seqae, split_step_is_seqae_step_and_the_latent_gradient_joins)
{
    enum { B = 3 };
    Small s;
    small_init(&s, B);
    const size_t n = s.m.n_params;
    float *g_step = malloc(n * sizeof(float)), *g_split = malloc(n * sizeof(float));
    memset(s.m.grads, 0, n * sizeof(float));
    const float l1 = seqae_step(&s.m, &s.w, s.x, B, 1);
    memcpy(g_step, s.m.grads, n * sizeof(float));
    memset(s.m.grads, 0, n * sizeof(float));
    const float l2 = seqae_forward(&s.m, &s.w, s.x, B, 1);
    seqae_backward(&s.m, &s.w, B, NULL);
    cr_expect_eq(l1, l2);
    cr_expect_eq(memcmp(g_step, s.m.grads, n * sizeof(float)), 0,
                 "forward + backward(NULL) is seqae_step bit for bit");

    float e[B * 4];
    Rng rng;
    rng_seed(&rng, 9, 0);
    for (int i = 0; i < B * 4; i++)
        e[i] = rng_normal(&rng);
    memset(s.m.grads, 0, n * sizeof(float));
    seqae_forward(&s.m, &s.w, s.x, B, 1);
    seqae_backward(&s.m, &s.w, B, e);
    memcpy(g_split, s.m.grads, n * sizeof(float));
    /* to_latent's bias gradient grows by e summed over the batch; the decoder's is unchanged. */
    const size_t bias = (size_t)(s.m.to_latent.db - s.m.grads);
    for (int c = 0; c < 4; c++) {
        const float extra = e[c] + e[4 + c] + e[8 + c];
        cr_expect(fabsf(g_split[bias + c] - g_step[bias + c] - extra) < 1e-5f,
                  "to_latent.bias[%d]", c);
    }
    const size_t dec = (size_t)(s.m.dec.w[0][0].w_ih - s.m.params);
    const size_t dec_n = rnn_param_count(RNN_GRU, 4, 8, 2, 2);
    cr_expect_eq(memcmp(g_split + dec, g_step + dec, dec_n * sizeof(float)), 0);
    /* Finite differences of MSE + sum(z * e) on a few encoder weights (float: loose). */
    const size_t probe[] = {0, 7, 130, (size_t)(s.m.to_latent.w - s.m.params) + 3};
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        const float keep = s.m.params[probe[i]], h = 1e-2f;
        s.m.params[probe[i]] = keep + h;
        const double up = hooked_loss(&s, B, e);
        s.m.params[probe[i]] = keep - h;
        const double down = hooked_loss(&s, B, e);
        s.m.params[probe[i]] = keep;
        const double want = (up - down) / (2 * h), got = g_split[probe[i]];
        cr_expect(fabs(got - want) <= 0.02 * fabs(want) + 2e-4, "param %zu: %g, differences %g",
                  probe[i], got, want);
        cr_expect(fabs(got - g_step[probe[i]]) > 1e-6, "param %zu: e changed nothing", probe[i]);
    }
    free(g_step);
    free(g_split);
    arena_free(&s.arena);
    seqae_free(&s.m);
}

/* ---------------------------------------------------------------- the refinement loop */

/* Frames of three kinds of motion, one sequence each, repeated. */
static void make_frames(Keypoints *k, int n, int F)
{
    Status st;
    cr_assert_eq(keypoints_alloc(k, n, F, &st), TK_OK);
    for (int t = 0; t < n; t++) {
        const int kind = (t / 30) % 3;
        for (int c = 0; c < F; c++)
            k->x[(size_t)t * F + c] =
                0.5f + 0.4f * sinf(0.2f * (kind + 1) * t + c) * (kind == 2 ? 0.3f : 1.0f);
        k->frame[t] = t;
        k->time_s[t] = t / 30.0f;
        k->seq[t] = t / 30;
        k->present[t] = 1;
    }
}

static void run_fit(const Keypoints *k, const int *starts, int n, float *params, float *centers,
                    IdecResult *res)
{
    Status st = {0};
    SeqAE m;
    cr_assert_eq(seqae_init(&m, &small, &st), TK_OK, "%s", st.msg);
    Rng rng;
    rng_seed(&rng, 3, 0);
    seqae_init_params(&m, &rng);
    IdecConfig c = idec_default_config(3);
    c.max_steps = 12;
    c.update_interval = 5;
    c.batch = 8;
    c.seed = 4;
    for (int j = 0; j < 3 * small.latent; j++)
        centers[j] = 0.1f * (float)(j % 5) - 0.2f * (float)(j / small.latent);
    cr_assert_eq(idec_fit(&m, k, starts, n, &c, centers, NULL, NULL, res, &st), TK_OK, "%s",
                 st.msg);
    memcpy(params, m.params, m.n_params * sizeof(float));
    seqae_free(&m);
}

Test(idec_fit, is_deterministic_moves_model_and_centres_and_counts_updates)
{
    Keypoints k;
    make_frames(&k, 180, 5);
    int *starts, n;
    Status st = {0};
    cr_assert_eq(windows_make(&k, 0, k.n_frames, 6, 3, &starts, &n, &st), TK_OK);
    SeqAE probe;
    cr_assert_eq(seqae_init(&probe, &small, &st), TK_OK);
    const size_t np = probe.n_params;
    float *a = malloc(np * sizeof(float)), *b = malloc(np * sizeof(float));
    float ca[12], cb[12], c0[12];
    IdecResult ra, rb;
    run_fit(&k, starts, n, a, ca, &ra);
    run_fit(&k, starts, n, b, cb, &rb);
    cr_expect_eq(memcmp(a, b, np * sizeof(float)), 0, "same seed, same parameters");
    cr_expect_eq(memcmp(ca, cb, sizeof ca), 0, "same seed, same centres");
    Rng rng;
    rng_seed(&rng, 3, 0);
    seqae_init_params(&probe, &rng);
    cr_expect_neq(memcmp(a, probe.params, np * sizeof(float)), 0, "the model was trained");
    for (int j = 0; j < 12; j++)
        c0[j] = 0.1f * (float)(j % 5) - 0.2f * (float)(j / small.latent);
    cr_expect_neq(memcmp(ca, c0, sizeof ca), 0, "the centres moved");
    /* Updates at steps 0, 5, 10 and 12, unless the labels settled at one before the last. */
    cr_expect(ra.steps == 12 ? ra.updates == 4 : ra.converged && ra.updates == ra.steps / 5 + 1,
              "%d steps, %d updates, converged %d", ra.steps, ra.updates, ra.converged);
    cr_expect(isfinite(ra.kl_loss) && ra.kl_loss >= 0 && isfinite(ra.rec_loss));
    IdecConfig bad = idec_default_config(DEC_MAX_K + 1);
    cr_expect_eq(idec_fit(&probe, &k, starts, n, &bad, ca, NULL, NULL, &ra, &st), TK_EINVAL);
    cr_expect(strstr(st.msg, "idec") != NULL, "%s", st.msg);
    free(a);
    free(b);
    free(starts);
    keypoints_free(&k);
    seqae_free(&probe);
}
