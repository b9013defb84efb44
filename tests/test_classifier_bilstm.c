/* test_classifier_bilstm.c — the bidirectional LSTM classifier against PyTorch
 * (tests/data/classifier/make_bilstm_golden.py: nn.LSTM(bidirectional=True), fc on both
 * directions' final states, on the mean over the steps, or on the final states and a temporal
 * pyramid of means): logits, loss, every gradient, three Adam steps; and its layer-by-layer
 * dropout path against the stacked one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/data/classifier/"

enum { BF = 5, BH = 6, BL = 2, BC = 4, BT = 7, BB = 3 };

static float *golden(const char *name, size_t count)
{
    return test_golden_f32(GOLDEN_DIR, name, count);
}

typedef struct {
    LstmClassifier m;
    LstmClassifierWork w;
    Arena arena;
    float *p0, *x;
    int *y;
} Bi;

static void bi_make(Bi *b, float dropout)
{
    const LstmClassifierConfig cfg = {.features = BF, .hidden = BH, .layers = BL, .classes = BC};
    Status st = {0};
    cr_assert_eq(lstm_classifier_init_dirs(&b->m, &cfg, 1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(b->m.n_params, 1636u); /* PyTorch's count for this model */
    b->m.dropout = dropout;
    b->p0 = golden("bilstm_params.bin", b->m.n_params);
    memcpy(b->m.params, b->p0, b->m.n_params * sizeof(float));
    b->x = golden("bilstm_x.bin", (size_t)BB * BT * BF);
    b->y = test_read_i32(GOLDEN_DIR "bilstm_y.bin", BB);
    cr_assert_not_null(b->y);
    Arena measure;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&b->m, &b->w, &measure, BT, BB, &st);
    cr_assert_eq(arena_init(&b->arena, measure.peak, &st), TK_OK);
    cr_assert_eq(lstm_classifier_work_plan(&b->m, &b->w, &b->arena, BT, BB, &st), TK_OK, "%s",
                 st.msg);
}

static void bi_free(Bi *b)
{
    free(b->p0);
    free(b->x);
    free(b->y);
    arena_free(&b->arena);
    lstm_classifier_free(&b->m);
}

static void check_step(int pool_mean)
{
    Bi b;
    bi_make(&b, 0.0f);
    b.m.pool_mean = pool_mean;
    const char *prefix = pool_mean ? "bilstm_mean" : "bilstm";
    char name[64];
    memset(b.m.grads, 0, b.m.n_params * sizeof(float));
    const float loss = lstm_classifier_step(&b.m, &b.w, b.x, b.y, BT, BB, 1);
    snprintf(name, sizeof name, "%s_loss.bin", prefix);
    float *want_loss = golden(name, 1);
    test_expect_torch_close("loss", &loss, want_loss, 1);
    snprintf(name, sizeof name, "%s_out.bin", prefix);
    float *want_out = golden(name, BB * BC);
    test_expect_torch_close("logits", b.w.logits, want_out, BB * BC);
    snprintf(name, sizeof name, "%s_grads.bin", prefix);
    float *want_grads = golden(name, b.m.n_params);
    test_expect_torch_close("gradients", b.m.grads, want_grads, b.m.n_params);
    free(want_loss);
    free(want_out);
    free(want_grads);
    bi_free(&b);
}

Test(classifier_bilstm, final_states_of_both_directions_match_pytorch)
{
    check_step(0);
}

Test(classifier_bilstm, mean_over_the_steps_matches_pytorch)
{
    check_step(1);
}

Test(classifier_bilstm, adam_with_weight_decay_matches_pytorch)
{
    Bi b;
    bi_make(&b, 0.0f);
    float *mom = calloc(b.m.n_params, sizeof(float)), *var = calloc(b.m.n_params, sizeof(float));
    cr_assert(mom && var);
    Adam adam;
    adam_init(&adam, 1e-2f, mom, var, b.m.n_params);
    adam.weight_decay = 0.01f;
    for (int s = 0; s < 3; s++) {
        memset(b.m.grads, 0, b.m.n_params * sizeof(float));
        lstm_classifier_step(&b.m, &b.w, b.x, b.y, BT, BB, 1);
        adam_step(&adam, b.m.params, b.m.grads);
    }
    float *want = golden("bilstm_adam3.bin", b.m.n_params);
    test_expect_torch_close("parameters after 3 Adam steps", b.m.params, want, b.m.n_params);
    free(want);
    free(mom);
    free(var);
    bi_free(&b);
}

Test(classifier_bilstm, dropout_path_matches_the_stack_when_nothing_is_dropped)
{
    /* p = 1e-7 takes the layer-by-layer path and keeps every value (scale 1 + 1e-7). */
    Bi b;
    bi_make(&b, 1e-7f);
    float *want_grads = golden("bilstm_grads.bin", b.m.n_params);
    float *want_out = golden("bilstm_out.bin", BB * BC);
    memset(b.m.grads, 0, b.m.n_params * sizeof(float));
    lstm_classifier_step(&b.m, &b.w, b.x, b.y, BT, BB, 1);
    for (int i = 0; i < BT * BB * 2 * BH; i++)
        cr_assert_neq(b.w.masks[i], 0.0f);
    for (int i = 0; i < BB * BC; i++)
        cr_assert_float_eq(b.w.logits[i], want_out[i], 1e-5f);
    for (size_t i = 0; i < b.m.n_params; i++)
        cr_assert_float_eq(b.m.grads[i], want_grads[i], 1e-5f + 1e-4f * fabsf(want_grads[i]),
                           "gradient %zu: %g, PyTorch %g", i, b.m.grads[i], want_grads[i]);
    free(want_grads);
    free(want_out);
    bi_free(&b);
}

/* fc on the final states and the means over the whole sequence, its halves and quarters (7
 * steps: uneven parts), through the stacked path and, with p = 1e-7, the dropout path. */
static void check_pyramid(float dropout)
{
    const LstmClassifierConfig cfg = {.features = BF, .hidden = BH, .layers = BL, .classes = BC,
                                      .pyramid = 1};
    LstmClassifier m;
    LstmClassifierWork w;
    Arena arena;
    Status st = {0};
    cr_assert_eq(lstm_classifier_init_dirs(&m, &cfg, 1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(m.n_params, 1972u); /* PyTorch's count: fc reads 8 x 12 values */
    m.dropout = dropout;
    float *p0 = golden("bilstm_pyr_params.bin", m.n_params);
    float *x = golden("bilstm_x.bin", (size_t)BB * BT * BF);
    int *y = test_read_i32(GOLDEN_DIR "bilstm_y.bin", BB);
    cr_assert_not_null(y);
    memcpy(m.params, p0, m.n_params * sizeof(float));
    Arena measure;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&m, &w, &measure, BT, BB, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(lstm_classifier_work_plan(&m, &w, &arena, BT, BB, &st), TK_OK, "%s", st.msg);
    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = lstm_classifier_step(&m, &w, x, y, BT, BB, 1);
    float *want_loss = golden("bilstm_pyr_loss.bin", 1);
    float *want_out = golden("bilstm_pyr_out.bin", BB * BC);
    float *want_grads = golden("bilstm_pyr_grads.bin", m.n_params);
    if (dropout == 0.0f) {
        test_expect_torch_close("loss", &loss, want_loss, 1);
        test_expect_torch_close("logits", w.logits, want_out, BB * BC);
        test_expect_torch_close("gradients", m.grads, want_grads, m.n_params);
    } else {
        for (int i = 0; i < BB * BC; i++)
            cr_assert_float_eq(w.logits[i], want_out[i], 1e-5f);
        for (size_t i = 0; i < m.n_params; i++)
            cr_assert_float_eq(m.grads[i], want_grads[i], 1e-5f + 1e-4f * fabsf(want_grads[i]),
                               "gradient %zu: %g, PyTorch %g", i, m.grads[i], want_grads[i]);
    }
    /* Fewer steps than quarters would leave a part empty: refused. */
    cr_assert_eq(lstm_classifier_work_plan(&m, &w, &measure, 3, BB, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "4 steps"), "%s", st.msg);
    free(want_loss);
    free(want_out);
    free(want_grads);
    free(p0);
    free(x);
    free(y);
    arena_free(&arena);
    lstm_classifier_free(&m);
}

Test(classifier_bilstm, final_states_and_temporal_pyramid_match_pytorch)
{
    check_pyramid(0.0f);
}

Test(classifier_bilstm, temporal_pyramid_through_the_dropout_path_matches_pytorch)
{
    check_pyramid(1e-7f);
}
