/* test_classify_mirror.c — `takt classify train --augment-mirror`: the mirror image of a
 * frame, that training really sees mirrored bodies (a task whose classes are left and right
 * can no longer be fitted, one whose classes are not still is learnt), bit-exact repeats,
 * the pairs recorded in the model file, and the pair lists it refuses. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "../app/classify.h"

TestSuite(classify_mirror, .init = test_scratch_begin, .fini = test_scratch_end);

Test(classify_mirror, negates_x_and_swaps_the_pairs)
{
    ClfAugment a = {0};
    Status st = {0};
    cr_assert_eq(clf_parse_joint_pairs("1-2", "mirror", a.mirror, &a.n_mirror, &st), TK_OK,
                 "%s", st.msg);
    /* Two frames of three joints: centre, left, right. */
    const float in[18] = {0.5f, 1, 2, -0.2f, 1.5f, 2.1f, 0.3f, 1.4f, 1.9f,
                          0.6f, 1, 2, -0.1f, 1.6f, 2.2f, 0.4f, 1.3f, 1.8f};
    float x[18];
    memcpy(x, in, sizeof x);
    clf_mirror_frames(&a, x, 2, 9);
    const float want[18] = {-0.5f, 1, 2, -0.3f, 1.4f, 1.9f, 0.2f, 1.5f, 2.1f,
                            -0.6f, 1, 2, -0.4f, 1.3f, 1.8f, 0.1f, 1.6f, 2.2f};
    for (int i = 0; i < 18; i++)
        cr_assert_eq(x[i], want[i], "value %d: %g, not %g", i, x[i], want[i]);
    clf_mirror_frames(&a, x, 2, 9);
    cr_assert(!memcmp(x, in, sizeof x), "mirrored twice is not the original");
}

/* Three joints (centre, left hand, right hand) standing symmetric about the centre. Class 0
 * raises one hand and class 1 lowers it; `sided` makes the classes left and right instead
 * (the left hand or the right hand rises, exactly), which a mirrored body swaps. */
static void hands(SeqSet *s, int n, int sided)
{
    Rng rng;
    rng_seed(&rng, 17, 0);
    test_two_class_set(s, n, 9, sided ? "left" : "up", sided ? "right" : "down");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 12 + (int)rng_below(&rng, 8));
        /* Unsided: either hand moves, chosen at random, so side says nothing of the class. */
        const int hand = sided ? 1 + q->label : 1 + (int)rng_below(&rng, 2);
        const float dir = sided || q->label == 0 ? 1.0f : -1.0f;
        for (int f = 0; f < q->n_frames; f++) {
            const float t = (float)f / (float)(q->n_frames - 1);
            float *row = q->x + 9 * f;
            /* Noise only where side is not the class: with it, a network can tell a
             * mirrored sequence from the one it mirrors and learn the labels by heart. */
            for (int j = 0; j < 9; j++)
                row[j] = sided ? 0.0f : 0.02f * (2.0f * rng_uniform(&rng) - 1.0f);
            row[1] += 1.0f;
            row[2] += 3.0f;
            row[3] -= 0.3f;
            row[6] += 0.3f;
            row[4] += 1.0f;
            row[7] += 1.0f;
            row[5] += 3.0f;
            row[8] += 3.0f;
            row[3 * hand + 1] += dir * 0.5f * t;
        }
    }
}

/* Validation accuracy of the kept epoch; *late_loss: mean training loss of the last 10
 * epochs (the batches as training saw them, mirrored or not). */
static float train_hands(int sided, int mirror, float *late_loss, ClfModel *keep)
{
    SeqSet s;
    hands(&s, 48, sided);
    unsigned char is_val[48];
    for (int i = 0; i < 48; i++)
        is_val[i] = i >= 32;
    ClfConfig c = clf_default_config();
    c.hidden = 8;
    c.time_steps = 10;
    c.epochs = 40;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 5;
    c.center = 0;
    Status st = {0};
    if (mirror)
        cr_assert_eq(clf_parse_joint_pairs("1-2", "mirror", c.augment.mirror,
                                           &c.augment.n_mirror, &st), TK_OK, "%s", st.msg);
    ClfModel m;
    ClfHistory h;
    int stopped = 1;
    cr_assert_eq(clf_train(&m, &c, &s, is_val, "csv", 0, NULL, &h, &stopped, &st), TK_OK,
                 "%s", st.msg);
    const float acc = h.val_accuracy;
    *late_loss = 0;
    for (int e = h.epochs - 10; e < h.epochs; e++)
        *late_loss += h.train_loss[e] / 10;
    clf_history_free(&h);
    if (keep)
        *keep = m;
    else
        clf_free(&m);
    seqset_free(&s);
    return acc;
}

Test(classify_mirror, training_sees_mirrored_bodies)
{
    /* Left against right: fitted without the mirror; with it, every sequence also comes with
     * the other label, so the loss stays near ln 2. (Not the validation accuracy: the epoch
     * kept is the best of 40 coin flips on a task that is trivial once leaning the right way.) */
    float loss, mirrored_loss, updown_loss, again_loss;
    const float sided = train_hands(1, 0, &loss, NULL);
    train_hands(1, 1, &mirrored_loss, NULL);
    cr_assert_eq(sided, 1.0f, "left / right without mirror: %.3f", sided);
    cr_assert_lt(loss, 0.1f, "left / right without mirror: loss %.3f", loss);
    cr_assert_gt(mirrored_loss, 0.6f, "left / right with mirror: loss %.3f", mirrored_loss);
    /* Up against down with either hand: the mirror keeps the classes. */
    ClfModel a, b;
    const float updown = train_hands(0, 1, &updown_loss, &a);
    cr_assert_eq(updown, 1.0f, "up / down with mirror: %.3f", updown);
    cr_assert_lt(updown_loss, 0.1f, "up / down with mirror: loss %.3f", updown_loss);
    cr_assert_eq(train_hands(0, 1, &again_loss, &b), updown);
    cr_assert_eq(again_loss, updown_loss);
    cr_assert(!memcmp(a.net[0].params, b.net[0].params, a.net[0].n_params * sizeof(float)),
              "same seed, different parameters");
    /* The model file says how it was trained. */
    const char *path = test_scratch_path("mirror.tkw");
    Status st = {0};
    cr_assert_eq(clf_save(&a, path, &st), TK_OK, "%s", st.msg);
    TkwFile f;
    cr_assert_eq(tkw_open(&f, path, &st), TK_OK, "%s", st.msg);
    const char *pairs = tkw_meta(&f, "train.augment_mirror");
    cr_assert(pairs && !strcmp(pairs, "1-2"), "train.augment_mirror: %s", pairs ? pairs : "none");
    tkw_close(&f);
    clf_free(&a);
    clf_free(&b);
}

Test(classify_mirror, refuses_pairs_that_do_not_fit)
{
    SeqSet s;
    hands(&s, 8, 1);
    ClfConfig c = clf_default_config();
    c.epochs = 1;
    c.time_steps = 4;
    c.center = 0;
    ClfModel m;
    ClfHistory h;
    int stopped;
    Status st = {0};
    const char *bad[] = {"1-3", "1-1", "1-2 2-0"};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(clf_parse_joint_pairs(bad[k], "mirror", c.augment.mirror,
                                           &c.augment.n_mirror, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_train(&m, &c, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL,
                     "%s accepted", bad[k]);
        cr_assert(strstr(st.msg, "mirror pair"), "%s", st.msg);
    }
    cr_assert_eq(clf_parse_joint_pairs("1-2", "mirror", c.augment.mirror, &c.augment.n_mirror,
                                       &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_train(&m, &c, &s, NULL, "csv", 1, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "3-D"), "%s", st.msg);
    cr_assert_eq(clf_train(&m, &c, &s, NULL, "bvh_rotations", 0, NULL, &h, &stopped, &st),
                 TK_EINVAL);
    cr_assert(strstr(st.msg, "mirroring"), "%s", st.msg);
    cr_assert_eq(clf_parse_joint_pairs("1-x", "mirror", c.augment.mirror, &c.augment.n_mirror,
                                       &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "mirror: '1-x'"), "%s", st.msg);
    seqset_free(&s);
}
