/* test_classify_tta.c — test-time views (ClfTta, `--tta-rotate`, `--tta-crop`): a prediction
 * is the mean over the members of the probabilities of the sequence as it is, turned one way
 * and the other about the vertical axis, and its first and last parts — checked against views
 * made by hand from the raw frames; the accuracies training reports use the same views; the
 * model file keeps them, `predict` can change them, and turning is refused without a centre
 * joint. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "../app/classify.h"

enum { N_SEQ = 24, JOINTS = 3, F = 3 * JOINTS };

/* Three joints in 3-D: the third circles the second one way (class 0) or the other (class 1)
 * over 9..20 frames, the body turned any way and somewhere in the room. */
static void circling_set(SeqSet *s)
{
    Rng rng;
    rng_seed(&rng, 5, 0);
    test_two_class_set(s, N_SEQ, F, "one_way", "other_way");
    for (int i = 0; i < N_SEQ; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 9 + (int)rng_below(&rng, 12));
        const float turn = 6.2831853f * rng_uniform(&rng), start = 6.2831853f * rng_uniform(&rng);
        for (int f = 0; f < q->n_frames; f++) {
            const float a = start + (q->label ? 3.0f : -3.0f) * (float)f / (float)q->n_frames;
            const float body[F] = {0, 0, 0, 1, 0.1f * rng_uniform(&rng), 0,
                                   1 + 0.5f * cosf(a), 0.2f, 0.5f * sinf(a)};
            for (int j = 0; j < JOINTS; j++) {
                const float *p = body + 3 * j;
                q->x[F * f + 3 * j] = cosf(turn) * p[0] + sinf(turn) * p[2] + 1.5f;
                q->x[F * f + 3 * j + 1] = p[1];
                q->x[F * f + 3 * j + 2] = -sinf(turn) * p[0] + cosf(turn) * p[2] + 2.5f;
            }
        }
    }
}

static ClfConfig tta_config(void)
{
    ClfConfig c = clf_default_config();
    c.hidden = 8;
    c.time_steps = 8;
    c.epochs = 10;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 2;
    c.center = 0;
    c.velocity = 1;
    c.ensemble = 2;
    c.tta = (ClfTta){.rotate_deg = 25, .crop = 0.3f};
    return c;
}

/* Raw frames x [n x F] turned by deg about the vertical axis through the origin (the centre
 * joint turns with the others, so this is a turn about it once centred). */
static void turn_frames(const float *x, int n, float deg, float *out)
{
    const float a = deg * 3.14159265358979f / 180.0f, c = cosf(a), s = sinf(a);
    for (int i = 0; i < n * JOINTS; i++) {
        const float px = x[3 * i], pz = x[3 * i + 2];
        out[3 * i] = c * px + s * pz;
        out[3 * i + 1] = x[3 * i + 1];
        out[3 * i + 2] = -s * px + c * pz;
    }
}

Test(classify_tta, predictions_average_the_views_made_by_hand)
{
    SeqSet s;
    circling_set(&s);
    unsigned char is_val[N_SEQ];
    for (int i = 0; i < N_SEQ; i++)
        is_val[i] = i >= 16;
    const ClfConfig cfg = tta_config();
    ClfModel m;
    ClfHistory h;
    Status st = {0};
    int stopped = 1;
    cr_assert_eq(clf_train(&m, &cfg, &s, is_val, "csv", 0, NULL, &h, &stopped, &st), TK_OK,
                 "%s", st.msg);
    cr_assert_eq(m.tta.rotate_deg, 25.0f);
    int right = 0;
    float spread = 0; /* how much the views disagree: 0 would make the check empty */
    for (int i = 0; i < N_SEQ; i++) {
        const Sequence *q = &s.seqs[i];
        const int n = q->n_frames, keep = (int)lroundf(0.7f * (float)n);
        float *turned = malloc(sizeof(float) * F * (size_t)n);
        cr_assert_not_null(turned);
        float with[2], p[5][2];
        cr_assert_eq(clf_predict(&m, q->x, n, F, with, &st), TK_OK, "%s", st.msg);
        m.tta = (ClfTta){0};
        cr_assert_eq(clf_predict(&m, q->x, n, F, p[0], &st), TK_OK, "%s", st.msg);
        turn_frames(q->x, n, -25.0f, turned);
        cr_assert_eq(clf_predict(&m, turned, n, F, p[1], &st), TK_OK, "%s", st.msg);
        turn_frames(q->x, n, 25.0f, turned);
        cr_assert_eq(clf_predict(&m, turned, n, F, p[2], &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_predict(&m, q->x, keep, F, p[3], &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_predict(&m, q->x + (size_t)(n - keep) * F, keep, F, p[4], &st), TK_OK,
                     "%s", st.msg);
        m.tta = cfg.tta;
        for (int c = 0; c < 2; c++) {
            const float mean = (p[0][c] + p[1][c] + p[2][c] + p[3][c] + p[4][c]) / 5.0f;
            cr_assert_float_eq(with[c], mean, 2e-5f, "sequence %d class %d: %g, by hand %g", i,
                               c, with[c], mean);
            for (int v = 1; v < 5; v++)
                spread = fmaxf(spread, fabsf(p[v][c] - p[0][c]));
        }
        if (is_val[i])
            right += (with[1] > with[0]) == (q->label == 1);
        free(turned);
    }
    cr_assert_gt(spread, 1e-3f);
    /* Training reports the accuracy of the same views. */
    cr_assert_float_eq(h.val_accuracy, (float)right / 8.0f, 1e-6f, "reported %.3f, by hand %d/8",
                       h.val_accuracy, right);
    /* The model file keeps them. */
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/tta.tkw", dir);
    ClfModel back;
    cr_assert_eq(clf_save(&m, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.tta.rotate_deg, 25.0f);
    cr_assert_eq(back.tta.crop, 0.3f);
    clf_free(&back);
    remove(path);
    remove(dir);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

Test(classify_tta, turning_needs_a_centre_joint_and_views_stay_in_range)
{
    SeqSet s;
    circling_set(&s);
    ClfConfig cfg = tta_config();
    cfg.epochs = 1;
    cfg.center = -1;
    ClfModel m;
    ClfHistory h;
    Status st = {0};
    int stopped;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "centre joint"), "%s", st.msg);
    cfg.tta.rotate_deg = 0; /* cut views alone need no centre */
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    ClfTta bad = {.crop = 1.0f};
    cr_assert_eq(clf_check_tta(&m, &bad, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "out of range"), "%s", st.msg);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

/* ---------------------------------------------------------------- the command line */

static char out[65536], err[8192];
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

TestSuite(classify_tta_cli, .init = test_scratch_begin, .fini = test_scratch_end);

/* The probabilities of the first sequence in `classify predict` output. */
static void first_probs(float p[2])
{
    const char *line = strchr(out, '\n');
    cr_assert_not_null(line, "%s", out);
    cr_assert_eq(sscanf(line + 1, "%*[^,],%*d,%*[^,],%f,%f", &p[0], &p[1]), 2, "%s", out);
}

Test(classify_tta_cli, predict_takes_the_models_views_or_the_ones_asked_for)
{
    SeqSet s;
    circling_set(&s);
    char *csv = malloc(1 << 17);
    cr_assert_not_null(csv);
    size_t used = (size_t)sprintf(csv, "seq_id,frame,label");
    for (int j = 0; j < JOINTS; j++)
        used += (size_t)sprintf(csv + used, ",x%d,y%d,z%d", j, j, j);
    used += (size_t)sprintf(csv + used, "\n");
    for (int i = 0; i < s.n; i++)
        for (int f = 0; f < s.seqs[i].n_frames; f++) {
            used += (size_t)sprintf(csv + used, "%d,%d,%d", i, f, s.seqs[i].label);
            for (int k = 0; k < F; k++)
                used += (size_t)sprintf(csv + used, ",%.5f", s.seqs[i].x[F * f + k]);
            used += (size_t)sprintf(csv + used, "\n");
        }
    seqset_free(&s);
    const char *data = test_scratch_write("data.csv", csv);
    free(csv);
    char model[512], plain[512];
    snprintf(model, sizeof model, "%s", test_scratch_path("m.tkw"));
    snprintf(plain, sizeof plain, "%s", test_scratch_path("plain.tkw"));
    const char *args = "--time-steps 8 --hidden 8 --batch 4 --epochs 4 --lr 0.01 --center 0 "
                       "--velocity --seed 2 --val 0";
    cr_assert_eq(takt("classify train %s -o %s %s --tta-rotate 25 --tta-crop 0.3", data, model,
                      args),
                 0, "%s", err);
    cr_assert_eq(takt("classify train %s -o %s %s", data, plain, args), 0, "%s", err);
    float with[2], without[2], asked[2], off[2];
    cr_assert_eq(takt("classify predict %s %s", model, data), 0, "%s", err);
    first_probs(with);
    cr_assert_eq(takt("classify predict %s %s", plain, data), 0, "%s", err);
    first_probs(without);
    /* Views change nothing in training: the same weights, other probabilities. */
    cr_assert(fabsf(with[0] - without[0]) > 1e-6f, "%g %g", with[0], without[0]);
    cr_assert_eq(takt("classify predict %s %s --tta-rotate 25 --tta-crop 0.3", plain, data), 0,
                 "%s", err);
    first_probs(asked);
    cr_assert_eq(takt("classify predict %s %s --tta-rotate 0 --tta-crop 0", model, data), 0,
                 "%s", err);
    first_probs(off);
    for (int c = 0; c < 2; c++) {
        cr_assert_eq(asked[c], with[c], "class %d: asked %g, trained with %g", c, asked[c],
                     with[c]);
        cr_assert_eq(off[c], without[c], "class %d: off %g, trained without %g", c, off[c],
                     without[c]);
    }
    cr_assert_eq(takt("classify predict %s %s --tta-crop 1.5", model, data), 2);
    cr_assert_eq(takt("classify train %s -o %s --tta-rotate 10 --epochs 1", data, model), 1);
    cr_assert(strstr(err, "centre joint"), "%s", err);
}
