/* test_classify_regularise.c — what keeps the skeleton-sequence classifier from overfitting:
 * dropout between LSTM layers and before fc (gradients against central finite differences
 * with the masks held fixed, reading the last step or the mean over the steps; the
 * layer-by-layer path against the stacked one; evaluation untouched), body-size normalisation and the per-frame feature order, and training with
 * random rotation, scale and temporal crop (learns, repeats bit-exactly, refuses what it
 * cannot do); mixup (its loss and gradients blend those of the two labelings; training with
 * it); the temporal-pyramid read-out through the model file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "../app/classify.h"

/* ---------------------------------------------------------------- dropout in the LSTM */

enum { DF = 3, DH = 5, DL = 2, DC = 3, DT = 4, DB = 2 };

typedef struct {
    LstmClassifier m;
    LstmClassifierWork w;
    Arena arena;
    float x[DB * DT * DF];
    int y[DB];
} Net;

static void net_make(Net *n, float dropout)
{
    const LstmClassifierConfig cfg = {.features = DF, .hidden = DH, .layers = DL, .classes = DC};
    Status st = {0};
    cr_assert_eq(lstm_classifier_init(&n->m, &cfg, &st), TK_OK, "%s", st.msg);
    n->m.dropout = dropout;
    Rng rng;
    rng_seed(&rng, 11, 0);
    lstm_classifier_init_params(&n->m, &rng);
    /* Larger weights than the default, so that every gate is far from linear. */
    vec_scale(n->m.params, 2.0f, n->m.n_params);
    for (int i = 0; i < DB * DT * DF; i++)
        n->x[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    n->y[0] = 2;
    n->y[1] = 0;
    Arena measure;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&n->m, &n->w, &measure, DT, DB, &st);
    cr_assert_eq(arena_init(&n->arena, measure.peak, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(lstm_classifier_work_plan(&n->m, &n->w, &n->arena, DT, DB, &st), TK_OK, "%s",
                 st.msg);
}

static void net_free(Net *n)
{
    arena_free(&n->arena);
    lstm_classifier_free(&n->m);
}

/* One training step with the masks of dropout stream (5, 1): the same masks every call. */
static float fixed_mask_step(Net *n)
{
    rng_seed(&n->w.rng, 5, 1);
    memset(n->m.grads, 0, n->m.n_params * sizeof(float));
    return lstm_classifier_step(&n->m, &n->w, n->x, n->y, DT, DB, 1);
}

/* pool_mean: fc reads the last step (0) or the mean over the steps (1). */
static void check_gradients(int pool_mean)
{
    Net n;
    net_make(&n, 0.3f);
    n.m.pool_mean = pool_mean;
    fixed_mask_step(&n);
    /* Something must have been dropped in both places, or the test proves nothing. */
    int inner = 0, before_fc = 0;
    for (int i = 0; i < DT * DB * DH; i++)
        inner += n.w.masks[i] == 0.0f;
    for (int i = 0; i < DB * DH; i++)
        before_fc += n.w.fc_mask[i] == 0.0f;
    cr_assert(inner > 0 && before_fc > 0, "dropped %d between layers, %d before fc", inner,
              before_fc);
    float *analytic = malloc(n.m.n_params * sizeof(float));
    cr_assert_not_null(analytic);
    memcpy(analytic, n.m.grads, n.m.n_params * sizeof(float));
    const float eps = 1e-2f;
    int checked = 0;
    for (size_t i = 0; i < n.m.n_params; i++) {
        const float keep = n.m.params[i];
        n.m.params[i] = keep + eps;
        const float up = fixed_mask_step(&n);
        n.m.params[i] = keep - eps;
        const float down = fixed_mask_step(&n);
        n.m.params[i] = keep;
        const float numeric = (up - down) / (2 * eps);
        cr_assert(fabsf(numeric - analytic[i]) <= 2e-3f + 0.03f * fabsf(analytic[i]),
                  "pool %d, parameter %zu: analytic %g, finite differences %g", pool_mean, i,
                  analytic[i], numeric);
        checked += analytic[i] != 0.0f;
    }
    /* Dropped units give zero gradients to some weights, but most must carry one. */
    cr_assert_gt(checked, (int)n.m.n_params / 2);
    free(analytic);
    net_free(&n);
}

Test(classify_dropout, gradients_match_finite_differences_with_fixed_masks)
{
    check_gradients(0);
}

Test(classify_dropout, mean_pooled_gradients_match_finite_differences)
{
    check_gradients(1);
}

Test(classify_dropout, layer_by_layer_path_matches_the_stack_when_nothing_is_dropped)
{
    Net a, b;
    net_make(&a, 0.0f);
    net_make(&b, 1e-7f); /* takes the dropout path; keeps every value (scale 1 + 1e-7) */
    const float la = fixed_mask_step(&a), lb = fixed_mask_step(&b);
    for (int i = 0; i < DT * DB * DH; i++)
        cr_assert_neq(b.w.masks[i], 0.0f);
    cr_assert_float_eq(la, lb, 1e-5f, "loss %g vs %g", la, lb);
    for (int i = 0; i < DB * DC; i++)
        cr_assert_float_eq(a.w.logits[i], b.w.logits[i], 1e-5f);
    for (size_t i = 0; i < a.m.n_params; i++)
        cr_assert_float_eq(a.m.grads[i], b.m.grads[i], 1e-5f + 1e-4f * fabsf(a.m.grads[i]),
                           "gradient %zu: %g vs %g", i, a.m.grads[i], b.m.grads[i]);
    net_free(&a);
    net_free(&b);
}

Test(classify_dropout, evaluation_never_drops)
{
    Net a, b;
    net_make(&a, 0.0f);
    net_make(&b, 0.5f);
    lstm_classifier_step(&a.m, &a.w, a.x, NULL, DT, DB, 0);
    lstm_classifier_step(&b.m, &b.w, b.x, NULL, DT, DB, 0);
    cr_assert(!memcmp(a.w.logits, b.w.logits, sizeof(float) * DB * DC));
    /* ... while a training step with p = 0.5 does change them. */
    fixed_mask_step(&b);
    cr_assert(memcmp(a.w.logits, b.w.logits, sizeof(float) * DB * DC));
    net_free(&a);
    net_free(&b);
}

/* ---------------------------------------------------------------- body-centred features */

Test(classify_features, torso_scale_divides_by_the_mean_joint_distance)
{
    /* Two frames of two joints: distances 2 and 4, mean 3. */
    float x[12] = {0, 0, 0, 0, 2, 0, 1, 1, 1, 1, 1, 5};
    Status st = {0};
    cr_assert_eq(clf_torso_scale_frames(x, 2, 6, 3, 0, 1, &st), TK_OK, "%s", st.msg);
    const float want[12] = {0, 0, 0, 0, 2, 0, 1, 1, 1, 1, 1, 5};
    for (int i = 0; i < 12; i++)
        cr_assert_float_eq(x[i], want[i] / 3.0f, 1e-6f, "value %d: %g", i, x[i]);
    float zeros[6] = {0};
    cr_assert_eq(clf_torso_scale_frames(zeros, 1, 6, 3, 0, 1, &st), TK_OK);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(zeros[i], 0.0f);
    cr_assert_eq(clf_torso_scale_frames(x, 2, 6, 3, 0, 2, &st), TK_EINVAL);
    cr_assert_eq(clf_torso_scale_frames(x, 2, 6, 3, 1, 1, &st), TK_EINVAL);
}

Test(classify_features, frames_are_centred_then_scaled_then_differentiated)
{
    ClfModel m;
    memset(&m, 0, sizeof m);
    m.center = 0;
    m.torso = 1;
    m.velocity = 1;
    /* Joint 0 moves by (1, 0, 0) per frame; joint 1 stays 2 above it, then 4. */
    float x[2 * 12] = {0, 0, 0, 0, 2, 0, 1, 0, 0, 1, 4, 0};
    Status st = {0};
    cr_assert_eq(clf_frame_features(&m, x, 2, 6, &st), TK_OK, "%s", st.msg);
    const float third = 1.0f / 3.0f;
    const float want[24] = {0, 0, 0, 0, 2 * third, 0, 0, 0, 0, 0, 0, 0,
                            0, 0, 0, 0, 4 * third, 0, 0, 0, 0, 0, 2 * third, 0};
    for (int i = 0; i < 24; i++)
        cr_assert_float_eq(x[i], want[i], 1e-6f, "value %d: %g, expected %g", i, x[i], want[i]);
}

/* ---------------------------------------------------------------- augmented training */

/* Two joints in 3-D, somewhere in the room and turned any way about the vertical: the second
 * rises above the first (class 0) or sinks towards it (class 1) over 10..21 frames, with a
 * body size that differs per sequence. */
static void synthetic_bodies(SeqSet *s, int n)
{
    Rng rng;
    rng_seed(&rng, 43, 0);
    test_two_class_set(s, n, 6, "rise", "sink");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 10 + (int)rng_below(&rng, 12));
        const float ox = 4 * rng_uniform(&rng), oz = 2 + 2 * rng_uniform(&rng);
        const float size = 0.5f + rng_uniform(&rng), turn = 6.2831853f * rng_uniform(&rng);
        for (int f = 0; f < q->n_frames; f++) {
            const float t = (float)f / (float)(q->n_frames - 1);
            const float h = size * (1.0f + 0.5f * (q->label ? 1.0f - t : t));
            const float lean = 0.1f * size * (2.0f * rng_uniform(&rng) - 1.0f);
            float *row = q->x + 6 * f;
            row[0] = ox;
            row[1] = 0.1f * rng_uniform(&rng);
            row[2] = oz;
            row[3] = ox + lean * cosf(turn);
            row[4] = row[1] + h;
            row[5] = oz + lean * sinf(turn);
        }
    }
}

static ClfConfig augmented_config(void)
{
    ClfConfig c = clf_default_config();
    c.hidden = 12;
    c.layers = 2;
    c.time_steps = 12;
    c.epochs = 60;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 9;
    c.center = 0;
    c.torso = 1;
    c.velocity = 1;
    c.dropout = 0.2f;
    c.augment = (ClfAugment){.rotate_deg = 20, .scale = 0.1f, .crop = 0.2f};
    c.pool_mean = 1;
    return c;
}

Test(classify_augment, learns_with_every_regulariser_and_repeats_bit_exactly)
{
    SeqSet s;
    synthetic_bodies(&s, 32);
    unsigned char is_val[32];
    for (int i = 0; i < 32; i++)
        is_val[i] = i >= 24;
    const ClfConfig cfg = augmented_config();
    ClfModel m[2];
    ClfHistory h[2];
    for (int r = 0; r < 2; r++) {
        Status st = {0};
        int stopped = 1;
        cr_assert_eq(clf_train(&m[r], &cfg, &s, is_val, "csv", 0, NULL, &h[r], &stopped, &st),
                     TK_OK, "%s", st.msg);
        cr_assert_eq(stopped, 0);
    }
    cr_assert_float_eq(h[0].val_accuracy, 1.0f, 1e-6f, "validation accuracy %.3f",
                       h[0].val_accuracy);
    cr_assert_lt(h[0].train_acc[0], 0.99f);
    cr_assert_eq(m[0].torso, 1);
    cr_assert_eq(m[0].net[0].dropout, 0.2f);
    cr_assert(!memcmp(m[0].net[0].params, m[1].net[0].params,
                      m[0].net[0].n_params * sizeof(float)),
              "same seed, different parameters");
    /* Prediction builds the same features from raw frames: a validation sequence, turned by
     * 90 degrees and twice the size, is still classified as it was. */
    const Sequence *q = &s.seqs[24];
    float *turned = malloc(sizeof(float) * 6 * (size_t)q->n_frames);
    cr_assert_not_null(turned);
    for (int f = 0; f < q->n_frames * 2; f++) {
        const float *p = q->x + 3 * f;
        turned[3 * f] = 2 * p[2];
        turned[3 * f + 1] = 2 * p[1];
        turned[3 * f + 2] = -2 * p[0];
    }
    float p1[2], p2[2];
    Status st = {0};
    cr_assert_eq(clf_predict(&m[0], q->x, q->n_frames, 6, p1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_predict(&m[0], turned, q->n_frames, 6, p2, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(p1[1] > p1[0], q->label == 1);
    cr_assert_eq(p2[1] > p2[0], q->label == 1, "turned: %g %g", p2[0], p2[1]);
    free(turned);
    /* The model file keeps the body scaling and the pooling: the same probabilities back. */
    const char *tmp = test_tmpdir();
    cr_assert_not_null(tmp);
    char path[512];
    snprintf(path, sizeof path, "%s/aug.tkw", tmp);
    ClfModel back;
    cr_assert_eq(clf_save(&m[0], path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.torso, 1);
    cr_assert_eq(back.net[0].pool_mean, 1);
    cr_assert_eq(clf_predict(&back, q->x, q->n_frames, 6, p2, &st), TK_OK, "%s", st.msg);
    cr_assert(p1[0] == p2[0] && p1[1] == p2[1], "%g %g vs %g %g", p1[0], p1[1], p2[0], p2[1]);
    clf_free(&back);
    unlink(path);
    rmdir(tmp);
    for (int r = 0; r < 2; r++) {
        clf_free(&m[r]);
        clf_history_free(&h[r]);
    }
    seqset_free(&s);
}

Test(classify_augment, refuses_what_the_features_cannot_take)
{
    SeqSet s;
    synthetic_bodies(&s, 8);
    ClfConfig cfg = augmented_config();
    cfg.epochs = 1;
    ClfModel m;
    ClfHistory h;
    Status st = {0};
    int stopped;
    cfg.center = -1;
    cfg.torso = -1;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "centre"), "%s", st.msg);
    cfg = augmented_config();
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "bvh_rotations", 0, NULL, &h, &stopped, &st),
                 TK_EINVAL);
    cr_assert(strstr(st.msg, "bvh_rotations"), "%s", st.msg);
    cfg = augmented_config();
    cfg.augment.crop = 1.0f;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cfg = augmented_config();
    cfg.dropout = 1.0f;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "dropout"), "%s", st.msg);
    seqset_free(&s);
}

/* ---------------------------------------------------------------- mixup */

/* A mixed step with the masks of dropout stream (5, 1); grads into g. */
static float fixed_mask_mixed_step(Net *n, const int *y2, float lambda, float *g)
{
    rng_seed(&n->w.rng, 5, 1);
    memset(n->m.grads, 0, n->m.n_params * sizeof(float));
    const float loss = lstm_classifier_step_mixed(&n->m, &n->w, n->x, n->y, y2, lambda, DT, DB);
    memcpy(g, n->m.grads, n->m.n_params * sizeof(float));
    return loss;
}

Test(classify_mixup, loss_and_gradients_blend_those_of_the_two_labelings)
{
    Net n;
    net_make(&n, 0.3f);
    n.m.label_smoothing = 0.1f;
    const size_t P = n.m.n_params;
    float *ga = malloc(P * sizeof(float)), *gb = malloc(P * sizeof(float));
    float *gm = malloc(P * sizeof(float));
    cr_assert(ga && gb && gm);
    const int y2[DB] = {1, 2};
    const float la = fixed_mask_step(&n);
    memcpy(ga, n.m.grads, P * sizeof(float));
    const int y1[DB] = {n.y[0], n.y[1]};
    n.y[0] = y2[0];
    n.y[1] = y2[1];
    const float lb = fixed_mask_step(&n);
    memcpy(gb, n.m.grads, P * sizeof(float));
    n.y[0] = y1[0];
    n.y[1] = y1[1];
    const float lm = fixed_mask_mixed_step(&n, y2, 0.3f, gm);
    cr_assert_float_eq(lm, 0.3f * la + 0.7f * lb, 1e-6f * fabsf(lm), "loss %g, %g and %g", lm,
                       la, lb);
    int moved = 0;
    for (size_t i = 0; i < P; i++) {
        const float want = 0.3f * ga[i] + 0.7f * gb[i];
        cr_assert_float_eq(gm[i], want, 1e-6f + 1e-5f * fabsf(want), "gradient %zu: %g, not %g",
                           i, gm[i], want);
        moved += ga[i] != gb[i];
    }
    cr_assert_gt(moved, (int)P / 10, "the two labelings should give other gradients");
    /* lambda 1: the plain step, bit for bit. */
    cr_assert_eq(fixed_mask_mixed_step(&n, y2, 1.0f, gm), la);
    cr_assert(!memcmp(gm, ga, P * sizeof(float)));
    free(ga);
    free(gb);
    free(gm);
    net_free(&n);
}

Test(classify_mixup, learns_repeats_bit_exactly_and_refuses_what_it_cannot_do)
{
    SeqSet s;
    synthetic_bodies(&s, 32);
    unsigned char is_val[32];
    for (int i = 0; i < 32; i++)
        is_val[i] = i >= 24;
    ClfConfig cfg = augmented_config();
    cfg.mixup = 0.4f;
    ClfModel m[2];
    ClfHistory h[2];
    Status st = {0};
    int stopped;
    for (int r = 0; r < 2; r++)
        cr_assert_eq(clf_train(&m[r], &cfg, &s, is_val, "csv", 0, NULL, &h[r], &stopped, &st),
                     TK_OK, "%s", st.msg);
    cr_assert_float_eq(h[0].val_accuracy, 1.0f, 1e-6f, "validation accuracy %.3f",
                       h[0].val_accuracy);
    cr_assert(!memcmp(m[0].net[0].params, m[1].net[0].params,
                      m[0].net[0].n_params * sizeof(float)), "same seed, different parameters");
    /* Mixing changes the training: not the run without it. */
    ClfModel plain;
    ClfHistory hp;
    cfg.mixup = 0;
    cr_assert_eq(clf_train(&plain, &cfg, &s, is_val, "csv", 0, NULL, &hp, &stopped, &st), TK_OK,
                 "%s", st.msg);
    cr_assert(memcmp(plain.net[0].params, m[0].net[0].params,
                     plain.net[0].n_params * sizeof(float)), "mixup changed nothing");
    clf_free(&plain);
    clf_history_free(&hp);
    for (int r = 0; r < 2; r++) {
        clf_free(&m[r]);
        clf_history_free(&h[r]);
    }
    cfg.mixup = 1.5f;
    cr_assert_eq(clf_train(&m[0], &cfg, &s, is_val, "csv", 0, NULL, &h[0], &stopped, &st),
                 TK_EINVAL);
    cr_assert(strstr(st.msg, "mixup"), "%s", st.msg);
    cfg.mixup = 0.4f;
    cfg.batch = 1;
    cr_assert_eq(clf_train(&m[0], &cfg, &s, is_val, "csv", 0, NULL, &h[0], &stopped, &st),
                 TK_EINVAL);
    seqset_free(&s);
}

/* ---------------------------------------------------------------- temporal pyramid */

Test(classify_pyramid, model_file_keeps_the_pyramid_and_predicts_the_same)
{
    SeqSet s;
    synthetic_bodies(&s, 16);
    ClfConfig cfg = augmented_config();
    cfg.epochs = 3;
    cfg.pool_mean = 0;
    cfg.pool_pyramid = 1;
    ClfModel m, back;
    ClfHistory h;
    Status st = {0};
    int stopped;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(m.net[0].fc.in, 8 * cfg.hidden, "fc reads %d values", m.net[0].fc.in);
    const char *tmp = test_tmpdir();
    cr_assert_not_null(tmp);
    char path[512];
    snprintf(path, sizeof path, "%s/pyramid.tkw", tmp);
    cr_assert_eq(clf_save(&m, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.net[0].cfg.pyramid, 1);
    const Sequence *q = &s.seqs[3];
    float p1[2], p2[2];
    cr_assert_eq(clf_predict(&m, q->x, q->n_frames, 6, p1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_predict(&back, q->x, q->n_frames, 6, p2, &st), TK_OK, "%s", st.msg);
    cr_assert(p1[0] == p2[0] && p1[1] == p2[1], "%g %g vs %g %g", p1[0], p1[1], p2[0], p2[1]);
    clf_free(&back);
    clf_free(&m);
    clf_history_free(&h);
    unlink(path);
    rmdir(tmp);
    cfg.time_steps = 3; /* fewer steps than quarters */
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "4 steps"), "%s", st.msg);
    seqset_free(&s);
}
