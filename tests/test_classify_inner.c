/* test_classify_inner.c — inner folds (ClfConfig.inner_folds, `--inner-folds`): each model of
 * the ensemble keeps the epoch that does best on its own held-out training subjects, so the
 * reported validation subjects never choose anything: changing their labels changes the
 * reported accuracy and nothing else (while without inner folds it changes the model), the
 * kept epoch is the best one on the right subjects, and what cannot be split is refused.
 * With refit (`--refit`) the same holds, and the models are retrained for the median of the
 * epochs the inner folds chose. Weight averaging (`--ema`), which changes what is kept, is
 * checked here too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "../app/classify.h"
#include "../io/io.h"

enum { N_SEQ = 40, SUBJECTS = 5 };

/* Two values per frame: class 0 rises, class 1 falls, with a noisy second value; subject
 * 1 + i / 8, so that subjects 1..5 each hold 4 sequences of each class. Noisy enough that
 * accuracies move between epochs. */
static void subject_set(SeqSet *s)
{
    Rng rng;
    rng_seed(&rng, 17, 0);
    test_two_class_set(s, N_SEQ, 2, "rise", "fall");
    for (int i = 0; i < N_SEQ; i++) {
        Sequence *q = &s->seqs[i];
        q->subject = 1 + i / 8;
        test_sequence_frames(s, i, 8 + (int)rng_below(&rng, 10));
        for (int f = 0; f < q->n_frames; f++) {
            const float t = (float)f / (float)(q->n_frames - 1);
            q->x[2 * f] = 0.3f * (q->label ? 1.0f - t : t) + 0.5f * (rng_uniform(&rng) - 0.5f);
            q->x[2 * f + 1] = rng_uniform(&rng) - 0.5f;
        }
    }
}

/* Pixels of the plot colour of series `series` in a PNG: is that curve drawn? */
static long series_pixels(const char *png, int series)
{
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_load(&img, png, &st), TK_OK, "%s", st.msg);
    const Rgb c = plot_palette(series);
    long n = 0;
    for (long i = 0; i < (long)img.width * img.height; i++)
        n += img.rgb[3 * i] == c.r && img.rgb[3 * i + 1] == c.g && img.rgb[3 * i + 2] == c.b;
    image_free(&img);
    return n;
}

/* The last subject's sequences are the reported ones; the others train. */
static void last_subject_reported(const SeqSet *s, unsigned char *is_val)
{
    for (int i = 0; i < s->n; i++)
        is_val[i] = s->seqs[i].subject == SUBJECTS;
}

static ClfConfig inner_config(int inner_folds)
{
    ClfConfig c = clf_default_config();
    c.hidden = 8;
    c.time_steps = 10;
    c.epochs = 12;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 3;
    c.ensemble = 2;
    c.inner_folds = inner_folds;
    return c;
}

static void train(ClfModel *m, ClfHistory *h, const ClfConfig *cfg, const SeqSet *s,
                  const unsigned char *is_val)
{
    Status st = {0};
    int stopped = 1;
    cr_assert_eq(clf_train(m, cfg, s, is_val, "csv", 0, NULL, h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(stopped, 0);
}

/* Whether any member's parameters differ between a and b. */
static int models_differ(const ClfModel *a, const ClfModel *b)
{
    int differ = 0;
    for (int k = 0; k < a->members; k++)
        differ |= memcmp(a->net[k].params, b->net[k].params,
                         sizeof(float) * a->net[k].n_params) != 0;
    return differ;
}

/* Trains with subject 5 reported, then again with its labels swapped; fills whether the
 * models differ and both reported accuracies. */
static void train_with_swapped_reported_labels(int inner_folds, int refit, int *differ,
                                               float acc[2])
{
    SeqSet s;
    subject_set(&s);
    unsigned char is_val[N_SEQ];
    last_subject_reported(&s, is_val);
    ClfConfig cfg = inner_config(inner_folds);
    cfg.refit = refit;
    ClfModel m[2];
    ClfHistory h[2];
    for (int r = 0; r < 2; r++) {
        if (r)
            for (int i = 0; i < N_SEQ; i++)
                if (is_val[i])
                    s.seqs[i].label = 1 - s.seqs[i].label;
        train(&m[r], &h[r], &cfg, &s, is_val);
        cr_assert_eq(h[r].n_val, 8);
        cr_assert_eq(h[r].refit_epochs > 0, refit);
        acc[r] = h[r].val_accuracy;
    }
    *differ = models_differ(&m[0], &m[1]);
    for (int r = 0; r < 2; r++) {
        clf_free(&m[r]);
        clf_history_free(&h[r]);
    }
    seqset_free(&s);
}

Test(classify_inner, reported_labels_change_the_figure_and_nothing_else)
{
    int differ;
    float acc[2];
    for (int refit = 0; refit < 2; refit++) {
        train_with_swapped_reported_labels(2, refit, &differ, acc);
        cr_assert(!differ, "the reported subject's labels changed the models (refit %d)", refit);
        /* The same predictions scored against swapped labels: the accuracies add up to 1. */
        cr_assert_float_eq(acc[0] + acc[1], 1.0f, 1e-6f, "reported %.3f, swapped %.3f",
                           acc[0], acc[1]);
        cr_assert_neq(acc[0], acc[1]);
    }
    /* Without inner folds the reported subject chooses the epoch: the models change. */
    train_with_swapped_reported_labels(0, 0, &differ, acc);
    cr_assert(differ, "without inner folds the reported labels should choose the epoch");
}

Test(classify_inner, refit_trains_every_model_for_the_median_inner_epoch_on_all_subjects)
{
    SeqSet s;
    subject_set(&s);
    unsigned char is_val[N_SEQ];
    last_subject_reported(&s, is_val);
    ClfConfig cfg = inner_config(2);
    cfg.ensemble = 3;
    ClfModel plain, refit;
    ClfHistory hp, hr;
    train(&plain, &hp, &cfg, &s, is_val);
    cfg.refit = 1;
    train(&refit, &hr, &cfg, &s, is_val);
    /* The inner folds ran as without refit: same epochs chosen, and the accuracy reported
     * before the refit is the plain run's. */
    int sorted[3];
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(hr.inner_epochs[k], hp.inner_epochs[k], "model %d", k);
        cr_assert(hr.inner_epochs[k] >= 1 && hr.inner_epochs[k] <= cfg.epochs);
        sorted[k] = hp.inner_epochs[k];
    }
    cr_assert_eq(hr.inner_val_accuracy, hp.val_accuracy);
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (sorted[j] < sorted[i]) {
                const int x = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = x;
            }
    cr_assert_eq(hr.refit_epochs, sorted[1], "refit %d epochs, inner epochs %d %d %d",
                 hr.refit_epochs, hp.inner_epochs[0], hp.inner_epochs[1], hp.inner_epochs[2]);
    /* Every model was retrained for that many epochs and kept its last. */
    cr_assert_eq(hr.epochs, hr.refit_epochs);
    cr_assert_eq(hr.best_epoch, hr.refit_epochs);
    cr_assert_eq(hr.member, 2);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(refit.inner_epochs[k], hp.inner_epochs[k]);
    cr_assert(models_differ(&plain, &refit));
    clf_free(&plain);
    clf_free(&refit);
    clf_history_free(&hp);
    clf_history_free(&hr);
    seqset_free(&s);
}

Test(classify_inner, each_model_keeps_its_best_epoch_on_its_held_out_subjects)
{
    SeqSet s;
    subject_set(&s);
    const ClfConfig cfg = inner_config(2);
    ClfModel m;
    ClfHistory h;
    train(&m, &h, &cfg, &s, NULL); /* nothing reported: all five subjects train */
    cr_assert_eq(h.inner_folds, 2);
    cr_assert_eq(h.member, 1);
    cr_assert_eq(h.epochs, cfg.epochs);
    /* Subjects 1..5 sorted and dealt round robin: fold 1 = subjects 2 and 4, which the second
     * model held out. Its curve is of them, and it kept their best epoch. */
    float best = 0;
    for (int e = 0; e < h.epochs; e++)
        best = h.val_acc[e] > best ? h.val_acc[e] : best;
    const float kept = h.val_acc[h.best_epoch - 1];
    cr_assert_eq(kept, best, "kept epoch %d scores %.3f, the best %.3f", h.best_epoch, kept,
                 best);
    ClfModel second = m; /* a view of the second model alone; m keeps ownership */
    second.members = 1;
    second.net[0] = m.net[1];
    int right[2] = {0}, seen[2] = {0};
    for (int i = 0; i < N_SEQ; i++) {
        const Sequence *q = &s.seqs[i];
        float p[2];
        Status st = {0};
        cr_assert_eq(clf_predict(&second, q->x, q->n_frames, 2, p, &st), TK_OK, "%s", st.msg);
        const int held_out = q->subject == 2 || q->subject == 4;
        seen[held_out]++;
        right[held_out] += (p[1] > p[0]) == (q->label == 1);
    }
    cr_assert_eq(seen[1], 16);
    const float held_out_acc = (float)right[1] / (float)seen[1];
    cr_assert_float_eq(kept, held_out_acc, 1e-6f, "curve %.4f, subjects 2 and 4: %.4f", kept,
                       held_out_acc);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

Test(classify_inner, refuses_too_few_subjects_and_sequences_without_one)
{
    SeqSet s;
    subject_set(&s);
    unsigned char is_val[N_SEQ];
    for (int i = 0; i < N_SEQ; i++)
        is_val[i] = s.seqs[i].subject >= 4; /* three training subjects are left */
    ClfConfig cfg = inner_config(4);
    cfg.epochs = 1;
    ClfModel m;
    ClfHistory h;
    Status st = {0};
    int stopped;
    cr_assert_eq(clf_train(&m, &cfg, &s, is_val, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "4 inner folds") && strstr(st.msg, "there are 3"), "%s", st.msg);
    cfg.inner_folds = 3;
    train(&m, &h, &cfg, &s, is_val);
    clf_free(&m);
    clf_history_free(&h);
    s.seqs[5].subject = -1;
    cr_assert_eq(clf_train(&m, &cfg, &s, is_val, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "sequence 5 has none"), "%s", st.msg);
    seqset_free(&s);
}

/* ---------------------------------------------------------------- the command line */

static char out[65536], err[8192];
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

TestSuite(classify_inner_cli, .init = test_scratch_begin, .fini = test_scratch_end);

Test(classify_inner_cli, trains_reports_and_refuses_as_the_help_says)
{
    SeqSet s;
    subject_set(&s);
    char *csv = malloc(1 << 16), *subjects = malloc(1 << 12);
    cr_assert(csv && subjects);
    size_t used = (size_t)sprintf(csv, "seq_id,frame,label,x0,y0\n");
    int used_s = sprintf(subjects, "seq_id,subject\n");
    for (int i = 0; i < s.n; i++) {
        for (int f = 0; f < s.seqs[i].n_frames; f++)
            used += (size_t)sprintf(csv + used, "%d,%d,%d,%.5f,%.5f\n", i, f, s.seqs[i].label,
                                    s.seqs[i].x[2 * f], s.seqs[i].x[2 * f + 1]);
        used_s += sprintf(subjects + used_s, "%d,%d\n", i, s.seqs[i].subject);
    }
    const char *data = test_scratch_write("data.csv", csv);
    test_scratch_write("sequences.csv", subjects);
    test_scratch_write("labels.txt", "0 rise\n1 fall\n");
    free(csv);
    free(subjects);
    seqset_free(&s);
    const char *model = test_scratch_path("m.tkw");
    const char *curves = test_scratch_path("curves");
    cr_assert_eq(takt("classify train %s -o %s --val-subjects 5 --inner-folds 2 --ensemble 2 "
                      "--time-steps 10 --hidden 8 --batch 4 --epochs 5 --lr 0.01 --json "
                      "--curves %s",
                      data, model, curves),
                 0, "%s", err);
    /* The held-out subjects' accuracy, which chose the epoch, is the second curve. */
    char png[1024];
    snprintf(png, sizeof png, "%s/accuracy.png", curves);
    cr_assert_gt(series_pixels(png, 1), 100, "the held-out curve is missing");
    cr_assert(strstr(err, "32 train, 8 validation"), "%s", err);
    cr_assert(strstr(out, "\"val_accuracy\":"), "%s", out);
    cr_assert_eq(takt("weights info %s", model), 0, "%s", err);
    cr_assert(strstr(out, "train.inner_folds") && strstr(out, "members"), "%s", out);
    cr_assert_eq(takt("classify train %s -o %s --val-subjects \"4 5\" --inner-folds 4 --epochs 1",
                      data, model),
                 1);
    cr_assert(strstr(err, "takt: ") && strstr(err, "4 inner folds"), "%s", err);
    cr_assert_eq(takt("classify train %s -o %s --inner-folds -1", data, model), 2);
    cr_assert_eq(takt("classify train %s -o %s --val-subjects 5 --inner-folds 2 --ensemble 3 "
                      "--refit --time-steps 10 --hidden 8 --batch 4 --epochs 4 --lr 0.01 --json "
                      "--acceleration --label-smoothing 0.05 --ema 0.5 --curves %s",
                      data, model, curves),
                 0, "%s", err);
    /* A refit member scores nothing while it trains: no held-out curve, not an empty one. */
    cr_assert_eq(series_pixels(png, 1), 0, "a refit run drew a held-out curve");
    cr_assert_gt(series_pixels(png, 0), 100, "the training curve is missing");
    cr_assert(strstr(out, "\"refit_epochs\":") && strstr(out, "\"inner_val_accuracy\":") &&
                  !strstr(out, "null"),
              "%s", out);
    cr_assert(strstr(err, "refit on all training subjects for"), "%s", err);
    cr_assert_eq(takt("weights info %s", model), 0, "%s", err);
    cr_assert(strstr(out, "train.refit") && strstr(out, "train.inner_epochs") &&
              strstr(out, "train.label_smoothing") && strstr(out, "train.ema"), "%s", out);
    /* Velocities and accelerations: 3 x 2 features per step, rebuilt the same by predict. */
    cr_assert(strstr(out, "velocity = 2") && strstr(out, "32x6"), "%s", out);
    cr_assert_eq(takt("classify predict %s %s", model, data), 0, "%s", err);
    cr_assert(strstr(out, ",rise,") || strstr(out, ",fall,"), "%s", out);
    cr_assert_eq(takt("classify train %s -o %s --refit --epochs 1", data, model), 1);
    cr_assert(strstr(err, "refitting needs inner folds"), "%s", err);
    cr_assert_eq(takt("classify --help"), 0);
    cr_assert(strstr(out, "--inner-folds K") && strstr(out, "--refit"), "%s", out);
}

/* ---------------------------------------------------------------- weight averaging (--ema) */

/* One step of one model on all 40 sequences (one batch), no validation: with EMA decay d the
 * model kept is d w0 + (1 - d) w1, w0 the initial weights, w1 those the plain run keeps. */
Test(classify_ema, one_step_keeps_the_average_of_the_initial_and_trained_weights)
{
    SeqSet s;
    subject_set(&s);
    ClfConfig cfg = inner_config(0);
    cfg.ensemble = 1;
    cfg.epochs = 1;
    cfg.batch = N_SEQ;
    ClfModel plain, avg;
    ClfHistory hp, ha;
    train(&plain, &hp, &cfg, &s, NULL);
    cfg.ema = 0.75f;
    train(&avg, &ha, &cfg, &s, NULL);
    LstmClassifier *net = &plain.net[0];
    const size_t n = net->n_params;
    float *w1 = malloc(sizeof(float) * n);
    cr_assert_not_null(w1);
    memcpy(w1, net->params, sizeof(float) * n);
    Rng rng;
    rng_seed(&rng, cfg.seed, 0); /* the initialisation stream of model 0 */
    lstm_classifier_init_params(net, &rng);
    int moved = 0;
    for (size_t i = 0; i < n; i++) {
        const float want = 0.75f * net->params[i] + 0.25f * w1[i];
        cr_assert_float_eq(avg.net[0].params[i], want, 1e-6f, "weight %zu: %g, expected %g", i,
                           avg.net[0].params[i], want);
        moved += w1[i] != net->params[i];
    }
    cr_assert_gt(moved, (int)n / 2, "the step changed only %d of %zu weights", moved, n);
    free(w1);
    clf_free(&plain);
    clf_free(&avg);
    clf_history_free(&hp);
    clf_history_free(&ha);
    seqset_free(&s);
}

/* Over many steps, with early stopping and refit: a negligible decay is the plain run bit for
 * bit (scoring the average and going on from the live weights leaves training as it was),
 * and a real one keeps other weights while the reported labels still change nothing. */
Test(classify_ema, averaging_changes_only_what_is_kept)
{
    SeqSet s;
    subject_set(&s);
    unsigned char is_val[N_SEQ];
    last_subject_reported(&s, is_val);
    ClfConfig cfg = inner_config(2);
    cfg.refit = 1;
    ClfModel m[3];
    ClfHistory h[3];
    train(&m[0], &h[0], &cfg, &s, is_val);
    cfg.ema = 1e-30f;
    train(&m[1], &h[1], &cfg, &s, is_val);
    cr_assert(!models_differ(&m[0], &m[1]));
    cr_assert_eq(h[1].refit_epochs, h[0].refit_epochs);
    cfg.ema = 0.9f;
    train(&m[2], &h[2], &cfg, &s, is_val);
    cr_assert(models_differ(&m[0], &m[2]));
    clf_free(&m[1]);
    clf_history_free(&h[1]);
    for (int i = 0; i < N_SEQ; i++)
        if (is_val[i])
            s.seqs[i].label = 1 - s.seqs[i].label;
    train(&m[1], &h[1], &cfg, &s, is_val);
    cr_assert(!models_differ(&m[1], &m[2]), "the reported labels changed the averaged models");
    for (int r = 0; r < 3; r++) {
        clf_free(&m[r]);
        clf_history_free(&h[r]);
    }
    seqset_free(&s);
}
