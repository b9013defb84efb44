/* test_classifier_smoothing.c — label smoothing (softmax_xent_smooth,
 * LstmClassifier.label_smoothing, `--label-smoothing`) against PyTorch's
 * CrossEntropyLoss(label_smoothing=eps) (tests/data/classifier/make_smoothing_golden.py): the
 * loss and its gradient on wide logits, and the bidirectional LSTM classifier's loss and every
 * gradient; without smoothing the step is unchanged. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/nn.h"
#include "testutil.h"

#define GOLDEN_DIR "tests/data/classifier/"

static float *golden(const char *name, size_t count)
{
    return test_golden_f32(GOLDEN_DIR, name, count);
}

Test(classifier_smoothing, loss_and_gradient_match_torch)
{
    enum { N = 5, C = 7 };
    float *logits = golden("smooth_logits.bin", N * C);
    int *y = test_read_i32(GOLDEN_DIR "smooth_y.bin", N);
    float *want_loss = golden("smooth_loss.bin", 1), *want_grad = golden("smooth_grad.bin", N * C);
    cr_assert_not_null(y);
    float probs[N * C], grad[N * C];
    const float xent = softmax_xent_loss(logits, y, N, C, probs, grad);
    const float loss = softmax_xent_smooth(logits, y, N, C, 0.2f, xent, grad);
    test_expect_torch_close("loss", &loss, want_loss, 1);
    test_expect_torch_close("gradient", grad, want_grad, N * C);
    /* The plain loss is not within reach: the test would catch a smoothing left out. */
    cr_assert(fabsf(xent - want_loss[0]) > 0.05f, "%g %g", xent, want_loss[0]);
    /* Without a gradient buffer the loss is the same. */
    cr_assert_eq(softmax_xent_smooth(logits, y, N, C, 0.2f, xent, NULL), loss);
    free(logits);
    free(y);
    free(want_loss);
    free(want_grad);
}

enum { BF = 5, BH = 6, BL = 2, BC = 4, BT = 7, BB = 3 };

/* Loss and gradients of one training step of the golden bidirectional classifier. */
static float bilstm_step(float smoothing, float *grads)
{
    const LstmClassifierConfig cfg = {.features = BF, .hidden = BH, .layers = BL, .classes = BC};
    LstmClassifier m;
    Status st = {0};
    cr_assert_eq(lstm_classifier_init_dirs(&m, &cfg, 1, &st), TK_OK, "%s", st.msg);
    m.label_smoothing = smoothing;
    float *p = golden("bilstm_params.bin", m.n_params), *x = golden("bilstm_x.bin", BB * BT * BF);
    int *y = test_read_i32(GOLDEN_DIR "bilstm_y.bin", BB);
    cr_assert_not_null(y);
    memcpy(m.params, p, m.n_params * sizeof(float));
    LstmClassifierWork w;
    Arena measure, arena;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&m, &w, &measure, BT, BB, &st);
    cr_assert_eq(arena_init(&arena, measure.peak, &st), TK_OK);
    cr_assert_eq(lstm_classifier_work_plan(&m, &w, &arena, BT, BB, &st), TK_OK, "%s", st.msg);
    memset(m.grads, 0, m.n_params * sizeof(float));
    const float loss = lstm_classifier_step(&m, &w, x, y, BT, BB, 1);
    memcpy(grads, m.grads, m.n_params * sizeof(float));
    arena_free(&arena);
    lstm_classifier_free(&m);
    free(p);
    free(x);
    free(y);
    return loss;
}

Test(classifier_smoothing, bilstm_step_matches_torch)
{
    enum { P = 1636 }; /* PyTorch's parameter count for this model */
    static float grads[P], plain[P];
    const float loss = bilstm_step(0.1f, grads);
    float *want_loss = golden("bilstm_smooth_loss.bin", 1);
    float *want_grads = golden("bilstm_smooth_grads.bin", P);
    test_expect_torch_close("loss", &loss, want_loss, 1);
    test_expect_torch_close("gradients", grads, want_grads, P);
    /* Smoothing 0 is the plain step, whose golden make_bilstm_golden.py wrote. */
    const float plain_loss = bilstm_step(0.0f, plain);
    float *want_plain = golden("bilstm_loss.bin", 1);
    test_expect_torch_close("plain loss", &plain_loss, want_plain, 1);
    cr_assert_neq(plain_loss, loss);
    free(want_loss);
    free(want_grads);
    free(want_plain);
}

static char out[65536], err[8192];
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

TestSuite(classifier_smoothing_cli, .init = test_scratch_begin, .fini = test_scratch_end);

Test(classifier_smoothing_cli, command_line_takes_it_as_the_help_says)
{
    cr_assert_eq(takt("classify --help"), 0);
    cr_assert(strstr(out, "--label-smoothing E"), "%s", out);
    cr_assert_eq(takt("classify train none.csv -o none.tkw --label-smoothing 1"), 2);
    cr_assert(strstr(err, "--label-smoothing: 1 is out of range"), "%s", err);
}
