/* test_nn_golden.c — our SeqAE, LSTM classifier and MLP against PyTorch on small models with
 * fixed weights and inputs (tests/data/nn/make_golden.py): outputs, loss, every parameter
 * gradient, and the parameters after 3 Adam steps must agree to 1e-5 relative with a 1e-6
 * absolute floor. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/data/nn/"

static float *golden(const char *name, size_t count)
{
    return test_golden_f32(GOLDEN_DIR, name, count);
}

/* Three Adam steps on the same batch, each recomputing the gradient from zero. */
#define ADAM_STEPS 3

Test(nn_golden, seqae_outputs_gradients_and_adam)
{
    const SeqAEConfig cfg = {.features = 5, .seq_len = 6, .hidden = 8, .latent = 4,
                             .enc_layers = 2, .dec_layers = 2};
    const int B = 3, T = 6, F = 5;
    Status st = {0};
    SeqAE m;
    cr_assert_eq(seqae_init(&m, &cfg, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.n_params, 4697u);
    float *p0 = golden("seqae_params.bin", m.n_params);
    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *x = golden("seqae_x.bin", (size_t)B * T * F);

    Arena measure, arena;
    SeqAEWork w;
    arena_init_measure(&measure);
    seqae_work_plan(&m, &w, &measure, B, 1, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(seqae_work_plan(&m, &w, &arena, B, 1, &st), TK_OK, "%s", st.msg);

    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = seqae_step(&m, &w, x, B, 1);
    float *want_loss = golden("seqae_loss.bin", 1);
    test_expect_torch_close("loss", &loss, want_loss, 1);

    /* Our reconstruction is time-major [T, B, F]; PyTorch's is [B, T, F]. */
    float *want_out = golden("seqae_out.bin", (size_t)B * T * F);
    float recon[3 * 6 * 5];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(recon + ((size_t)b * T + t) * F, w.recon + ((size_t)t * B + b) * F,
                   F * sizeof(float));
    test_expect_torch_close("reconstruction", recon, want_out, (size_t)B * T * F);

    float *want_grads = golden("seqae_grads.bin", m.n_params);
    for (int i = 0;; i++) {
        char name[64];
        int ndim, shape[2];
        size_t off;
        if (seqae_tensor_info(&m, i, name, sizeof name, &ndim, shape, &off) < 0)
            break;
        test_expect_torch_close(name, m.grads + off, want_grads + off, (size_t)shape[0] * shape[1]);
    }

    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *mom = calloc(m.n_params, sizeof(float)), *var = calloc(m.n_params, sizeof(float));
    Adam adam;
    adam_init(&adam, 1e-2f, mom, var, m.n_params);
    for (int s = 0; s < ADAM_STEPS; s++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        seqae_step(&m, &w, x, B, 1);
        adam_step(&adam, m.params, m.grads);
    }
    float *want_adam = golden("seqae_adam3.bin", m.n_params);
    test_expect_torch_close("params after 3 Adam steps", m.params, want_adam, m.n_params);

    free(mom);
    free(var);
    free(p0);
    free(x);
    free(want_loss);
    free(want_out);
    free(want_grads);
    free(want_adam);
    arena_free(&arena);
    seqae_free(&m);
}

Test(nn_golden, lstm_classifier_outputs_gradients_and_adam_with_weight_decay)
{
    const LstmClassifierConfig cfg = {.features = 5, .hidden = 6, .layers = 2, .classes = 4};
    const int B = 3, T = 7;
    Status st = {0};
    LstmClassifier m;
    cr_assert_eq(lstm_classifier_init(&m, &cfg, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.n_params, 676u);
    float *p0 = golden("lstmclf_params.bin", m.n_params);
    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *x = golden("lstmclf_x.bin", (size_t)B * T * cfg.features);
    int *y = test_read_i32(GOLDEN_DIR "lstmclf_y.bin", B);
    cr_assert_not_null(y);

    Arena measure, arena;
    LstmClassifierWork w;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&m, &w, &measure, T, B, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(lstm_classifier_work_plan(&m, &w, &arena, T, B, &st), TK_OK, "%s", st.msg);

    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = lstm_classifier_step(&m, &w, x, y, T, B, 1);
    float *want_loss = golden("lstmclf_loss.bin", 1);
    test_expect_torch_close("loss", &loss, want_loss, 1);
    float *want_out = golden("lstmclf_out.bin", (size_t)B * cfg.classes);
    test_expect_torch_close("logits", w.logits, want_out, (size_t)B * cfg.classes);
    float *want_grads = golden("lstmclf_grads.bin", m.n_params);
    test_expect_torch_close("gradients", m.grads, want_grads, m.n_params);

    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *mom = calloc(m.n_params, sizeof(float)), *var = calloc(m.n_params, sizeof(float));
    Adam adam;
    adam_init(&adam, 1e-2f, mom, var, m.n_params);
    adam.weight_decay = 0.01f;
    for (int s = 0; s < ADAM_STEPS; s++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        lstm_classifier_step(&m, &w, x, y, T, B, 1);
        adam_step(&adam, m.params, m.grads);
    }
    float *want_adam = golden("lstmclf_adam3.bin", m.n_params);
    test_expect_torch_close("params after 3 Adam steps", m.params, want_adam, m.n_params);

    free(mom);
    free(var);
    free(p0);
    free(x);
    free(y);
    free(want_loss);
    free(want_out);
    free(want_grads);
    free(want_adam);
    arena_free(&arena);
    lstm_classifier_free(&m);
}

Test(nn_golden, mlp_outputs_gradients_and_adam)
{
    const MlpConfig cfg = {.in = 6, .hidden = 10, .classes = 5};
    const int B = 8;
    Status st = {0};
    Mlp m;
    cr_assert_eq(mlp_init(&m, &cfg, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.n_params, 125u);
    float *p0 = golden("mlp_params.bin", m.n_params);
    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *x = golden("mlp_x.bin", (size_t)B * cfg.in);
    int *y = test_read_i32(GOLDEN_DIR "mlp_y.bin", B);
    cr_assert_not_null(y);

    Arena measure, arena;
    MlpWork w;
    arena_init_measure(&measure);
    mlp_work_plan(&m, &w, &measure, B, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(mlp_work_plan(&m, &w, &arena, B, &st), TK_OK, "%s", st.msg);

    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = mlp_step(&m, &w, x, y, B, 1);
    float *want_loss = golden("mlp_loss.bin", 1);
    test_expect_torch_close("loss", &loss, want_loss, 1);
    float *want_out = golden("mlp_out.bin", (size_t)B * cfg.classes);
    test_expect_torch_close("logits", w.logits, want_out, (size_t)B * cfg.classes);
    float *want_grads = golden("mlp_grads.bin", m.n_params);
    test_expect_torch_close("gradients", m.grads, want_grads, m.n_params);

    memcpy(m.params, p0, m.n_params * sizeof(float));
    float *mom = calloc(m.n_params, sizeof(float)), *var = calloc(m.n_params, sizeof(float));
    Adam adam;
    adam_init(&adam, 1e-2f, mom, var, m.n_params);
    for (int s = 0; s < ADAM_STEPS; s++) {
        memset(m.grads, 0, m.n_params * sizeof(float));
        mlp_step(&m, &w, x, y, B, 1);
        adam_step(&adam, m.params, m.grads);
    }
    float *want_adam = golden("mlp_adam3.bin", m.n_params);
    test_expect_torch_close("params after 3 Adam steps", m.params, want_adam, m.n_params);

    free(mom);
    free(var);
    free(p0);
    free(x);
    free(y);
    free(want_loss);
    free(want_out);
    free(want_grads);
    free(want_adam);
    arena_free(&arena);
    mlp_free(&m);
}
