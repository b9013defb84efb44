/* test_study_windows.c — sequences shorter than a window (nn/dataset.c, app/study_votes.c):
 * one edge-padded window each, whose votes stay inside its sequence, so that a short
 * sequence's frames carry their own label rather than a neighbour's; and the normalisation a
 * model file records (nn/checkpoint.c), which `takt study --ae` follows and will not contradict;
 * and `--augment` on the same short input, which must leave the baselines as they were. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/study.h"
#include "../io/io.h"
#include "testutil.h"

/* Frames of one feature whose value is the row number, in sequences of the given lengths. */
static void numbered_frames(Keypoints *k, const int *lengths, int n_seqs)
{
    int n = 0;
    for (int s = 0; s < n_seqs; s++)
        n += lengths[s];
    Status st;
    cr_assert_eq(keypoints_alloc(k, n, 1, &st), TK_OK);
    for (int s = 0, r = 0; s < n_seqs; s++)
        for (int i = 0; i < lengths[s]; i++, r++) {
            k->x[r] = (float)r;
            k->seq[r] = 10 + s;
            k->present[r] = 1;
        }
}

TestSuite(study_windows);

Test(study_windows, a_short_sequence_gets_one_window_padded_with_its_last_frame)
{
    /* Sequences [0, 6), [6, 8), [8, 14), [14, 15); windows of 4 at stride 2. */
    const int lengths[] = {6, 2, 6, 1};
    Keypoints k;
    numbered_frames(&k, lengths, 4);
    int *starts, n;
    Status st = {0};
    cr_assert_eq(windows_make(&k, 0, k.n_frames, 4, 2, &starts, &n, &st), TK_OK, "%s", st.msg);
    const int want[] = {0, 2, 6, 8, 10, 14};
    cr_assert_eq(n, 6, "%d windows", n);
    for (int i = 0; i < n; i++)
        cr_expect_eq(starts[i], want[i], "window %d starts at %d, want %d", i, starts[i], want[i]);
    cr_expect_eq(window_frames(&k, 6, 4), 2);
    cr_expect_eq(window_frames(&k, 14, 4), 1, "the last sequence ends with the file");
    cr_expect_eq(window_frames(&k, 10, 4), 4);

    float x[6 * 4];
    windows_gather(&k, starts, NULL, n, 4, x);
    const float padded[2][4] = {{6, 7, 7, 7}, {14, 14, 14, 14}};
    for (int t = 0; t < 4; t++) {
        cr_expect_eq(x[2 * 4 + t], padded[0][t], "window at 6, frame %d: %g", t, x[2 * 4 + t]);
        cr_expect_eq(x[5 * 4 + t], padded[1][t], "window at 14, frame %d: %g", t, x[5 * 4 + t]);
        cr_expect_eq(x[4 * 4 + t], 10 + t, "a full window is copied as it is");
    }
    free(starts);

    /* A range that cuts a sequence pads nothing into it: [0, 7) holds only part of [6, 8). */
    cr_assert_eq(windows_make(&k, 0, 7, 4, 2, &starts, &n, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(n, 2, "windows at 0 and 2 only (got %d)", n);
    free(starts);
    /* ... but a short sequence wholly inside the range gets its window. */
    cr_assert_eq(windows_make(&k, 5, 9, 4, 2, &starts, &n, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(n, 1, "the window of [6, 8) only (got %d)", n);
    cr_expect_eq(starts[0], 6);
    free(starts);
    keypoints_free(&k);
}

Test(study_windows, a_padded_window_votes_only_for_its_own_sequence)
{
    /* Windows of 4 at stride 1: [0, 6) labelled 0, the short [6, 8) labelled 1, [8, 14) 0. */
    const int lengths[] = {6, 2, 6};
    Keypoints k;
    numbered_frames(&k, lengths, 3);
    int *starts, n;
    Status st = {0};
    cr_assert_eq(windows_make(&k, 0, k.n_frames, 4, 1, &starts, &n, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(n, 3 + 1 + 3);
    int win[7], votes[2], label[14];
    float conf[14];
    for (int i = 0; i < n; i++)
        win[i] = starts[i] == 6;
    study_vote_frames(starts, n, 4, win, 2, &k, votes, label, conf);
    for (int f = 0; f < 14; f++) {
        cr_expect_eq(label[f], f == 6 || f == 7, "frame %d: label %d", f, label[f]);
        cr_expect_float_eq(conf[f], 1.0f, 1e-6, "frame %d: confidence %g (a vote from another "
                           "sequence)", f, conf[f]);
    }
    free(starts);
    keypoints_free(&k);
}

Test(study_windows, a_piece_of_a_longer_sequence_is_not_padded)
{
    /* [0, 3) is marked (negative id) as cut from a longer sequence; [3, 5) is whole. */
    const int lengths[] = {3, 2, 6};
    Keypoints k;
    numbered_frames(&k, lengths, 3);
    for (int r = 0; r < 3; r++)
        k.seq[r] = -k.seq[r];
    int *starts, n;
    Status st = {0};
    cr_assert_eq(windows_make(&k, 0, k.n_frames, 4, 1, &starts, &n, &st), TK_OK, "%s", st.msg);
    const int want[] = {3, 5, 6, 7};
    cr_assert_eq(n, 4, "%d windows", n);
    for (int i = 0; i < n; i++)
        cr_expect_eq(starts[i], want[i], "window %d starts at %d", i, starts[i]);
    free(starts);
    keypoints_free(&k);
}

TestSuite(study_sample, .init = test_scratch_begin, .fini = test_scratch_end);

Test(study_sample, blocks_cutting_long_sequences_add_no_padded_window)
{
    /* 30 sequences of 100 frames; the training sample's blocks of 49 frames cut most of them,
     * and every piece must stay a piece: no window of the sample may be padded. */
    static char text[1 << 17];
    int len = snprintf(text, sizeof text, "seq_id,frame,label,x0,y0\n");
    for (int r = 0; r < 3000; r++)
        len += snprintf(text + len, sizeof text - len, "%d,%d,a,%d,%d\n", r / 100, r % 100, r,
                        r % 7);
    cr_assert_lt(len, (int)sizeof text - 1);
    StudyFrames f;
    Status st = {0};
    cr_assert_eq(study_frames_open(&f, test_scratch_write("long.csv", text), 0, &st), TK_OK,
                 "%s", st.msg);
    StudySample plan;
    study_sample_plan(f.meta.n_frames, 70, 40, 1, &plan);
    cr_assert(plan.sampled && plan.block_len == 49, "block of %d frames", plan.block_len);
    Keypoints sample;
    cr_assert_eq(study_frames_sample(&f, &plan, 5, &sample, &st), TK_OK, "%s", st.msg);
    int pieces = 0;
    for (int r = 0; r < sample.n_frames; r++)
        pieces += sample.seq[r] < 0;
    cr_expect_gt(pieces, 0, "no block cut a sequence: the test shows nothing");
    int *starts, n;
    cr_assert_eq(windows_make(&sample, 0, sample.n_frames, 40, 1, &starts, &n, &st), TK_OK);
    cr_expect_gt(n, 0);
    for (int i = 0; i < n; i++)
        cr_expect_eq(window_frames(&sample, starts[i], 40), 40, "window at %d is padded",
                     starts[i]);
    free(starts);
    keypoints_free(&sample);
    study_frames_close(&f);
}

/* ---------------------------------------------------------------- whole studies */

TestSuite(study_short, .init = test_scratch_begin, .fini = test_scratch_end, .timeout = 300);

/* Long sequences of one pose (a horizontal row of 4 joints, "reach") between short ones of
 * another (a vertical column, "hold"), with a little movement in both. */
#define SHORT_SEQS 8
static const int short_lengths[SHORT_SEQS] = {60, 15, 60, 20, 60, 10, 60, 12};

static const char *write_short_input(void)
{
    static char text[65536];
    int len = snprintf(text, sizeof text, "seq_id,frame,label,x0,y0,x1,y1,x2,y2,x3,y3\n");
    for (int s = 0; s < SHORT_SEQS; s++)
        for (int f = 0; f < short_lengths[s]; f++) {
            len += snprintf(text + len, sizeof text - len, "%d,%d,%s", s, f,
                            s % 2 ? "hold" : "reach");
            for (int j = 0; j < 4; j++) {
                const double along = j - 1.5, wobble = 0.05 * sin(0.7 * f + j);
                len += snprintf(text + len, sizeof text - len, ",%.5f,%.5f",
                                s % 2 ? wobble : along, s % 2 ? along : wobble);
            }
            len += snprintf(text + len, sizeof text - len, "\n");
        }
    cr_assert_lt(len, (int)sizeof text - 1);
    return test_scratch_write("short.csv", text);
}

static StudyOptions short_options(const char *input, const char *outdir)
{
    return (StudyOptions){.input = input, .outdir = outdir, .method = STUDY_KMEANS, .k = 2,
                          .epochs = 2, .min_duration = 0.1, .seed = 3, .quiet = 1};
}

static char *read_output(const char *outdir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    size_t size;
    char *text = test_read_file(path, &size);
    cr_assert_not_null(text, "%s missing", path);
    return text;
}

/* The number after "key": in text, after the first occurrence of after. */
static double number_after(const char *text, const char *after, const char *key)
{
    const char *p = strstr(text, after);
    cr_assert_not_null(p, "no %s", after);
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    p = strstr(p, pattern);
    cr_assert_not_null(p, "no %s after %s", key, after);
    return strtod(p + strlen(pattern), NULL);
}

Test(study_short, short_sequences_get_their_own_label)
{
    const char *out = test_scratch_path("out");
    StudyOptions o = short_options(write_short_input(), out);
    Status st = {0};
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    char *json = read_output(out, "report.json");
    /* 57 of the 297 frames are in sequences shorter than a window: taking their neighbours'
     * label would cap the accuracy at 0.81. */
    const double acc = number_after(json, "\"evaluation\"", "accuracy");
    const double raw = number_after(json, "\"raw_kmeans\"", "accuracy");
    const double pca = number_after(json, "\"pca_kmeans\"", "accuracy");
    cr_expect_gt(acc, 0.99, "autoencoder accuracy %g", acc);
    cr_expect_gt(raw, 0.99, "raw k-means accuracy %g", raw);
    cr_expect_gt(pca, 0.99, "PCA k-means accuracy %g", pca);
    /* 7 full windows of 40 in each of the 60-frame sequences, one per short one. */
    cr_expect_eq((int)number_after(json, "\"data\"", "windows"), 4 * 21 + 4);
    cr_expect_eq((int)number_after(json, "\"parameters\"", "epochs"), 2);
    cr_expect_not_null(strstr(json, "\"epochs_from_budget\": false"));
    free(json);
    /* Segments follow the sequences: one per sequence, alternating actions. */
    char *csv = read_output(out, "segments.csv");
    int rows = 0, prev = -1;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double s, e, d;
        int action;
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf,%*[^,],", &s, &e, &d), 3, "row %.40s", line);
        const char *name = strchr(strchr(strchr(line, ',') + 1, ',') + 1, ',') + 1;
        cr_assert_eq(sscanf(name, "action %d", &action), 1, "row %.40s", line);
        cr_expect_neq(action, prev, "segment %d has the action of the one before", rows);
        prev = action;
        rows++;
    }
    cr_expect_eq(rows, SHORT_SEQS, "%d segments for %d sequences", rows, SHORT_SEQS);
    free(csv);
}

Test(study_short, augment_trains_on_speed_copies_and_leaves_the_baselines_alone)
{
    const char *input = write_short_input();
    const char *plain = test_scratch_path("plain"), *aug = test_scratch_path("aug");
    StudyOptions o = short_options(input, plain);
    Status st = {0};
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    o.outdir = aug;
    o.augment = 1;
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    char *a = read_output(plain, "report.json"), *b = read_output(aug, "report.json");
    cr_expect_not_null(strstr(a, "\"augmented\": false"));
    cr_expect_not_null(strstr(b, "\"augmented\": true"));
    /* Each training sequence comes three times (0.75x and 1.33x: more frames, more windows). */
    const double wa = number_after(a, "\"training\"", "windows_per_epoch");
    const double wb = number_after(b, "\"training\"", "windows_per_epoch");
    cr_expect_gt(wb, 2.5 * wa, "%g training windows with copies, %g without", wb, wa);
    /* The scaling is fitted on the input's own frames, so the baselines see the same windows. */
    cr_expect_eq(number_after(a, "\"raw_kmeans\"", "accuracy"),
                 number_after(b, "\"raw_kmeans\"", "accuracy"));
    cr_expect_eq(number_after(a, "\"pca_kmeans\"", "ari"),
                 number_after(b, "\"pca_kmeans\"", "ari"));
    cr_expect_gt(number_after(b, "\"evaluation\"", "accuracy"), 0.99);
    free(a);
    free(b);
}

Test(study_short, a_reused_model_keeps_its_normalisation_and_labels)
{
    const char *input = write_short_input();
    const char *first = test_scratch_path("first"), *again = test_scratch_path("again");
    StudyOptions o = short_options(input, first);
    Status st = {0};
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    char model[1024];
    snprintf(model, sizeof model, "%s/model.tkw", first);
    char name[16];
    cr_assert_eq(seqae_normalisation(model, name, sizeof name, &st), TK_OK, "%s", st.msg);
    cr_expect_str_eq(name, "body", "the study body-centres by default");

    /* The same study through the saved model: the same windows give the same labels. */
    StudyOptions reuse = short_options(input, again);
    reuse.ae_path = model;
    cr_assert_eq(study_run(&reuse, &st), TK_OK, "%s", st.msg);
    char *a = read_output(first, "segments.csv"), *b = read_output(again, "segments.csv");
    cr_expect_str_eq(a, b, "segments differ when the model is reused");
    free(a);
    free(b);
    char *json = read_output(again, "report.json");
    cr_expect_not_null(strstr(json, "\"normalise\": \"body\""));
    cr_expect_not_null(strstr(json, "\"epochs\": null"), "no training with --ae");
    free(json);

    /* An explicit --normalise that contradicts the model is refused before any output. */
    reuse.outdir = test_scratch_path("refused");
    reuse.normalise = STUDY_NORMALISE_MINMAX;
    reuse.normalise_given = 1;
    cr_expect_eq(study_run(&reuse, &st), TK_EINVAL);
    cr_expect_not_null(strstr(st.msg, "body"), "message: %s", st.msg);
    cr_expect_not_null(strstr(st.msg, model), "message names the model: %s", st.msg);

    /* `takt embed` only min-max scales: it refuses the body model instead of misusing it. */
    char out[256], err[1024];
    const int code = test_run_takt(out, sizeof out, err, sizeof err, "embed '%s' '%s' -o '%s'",
                                   model, input, test_scratch_path("latent.csv"));
    cr_expect_eq(code, 1, "exit %d: %s", code, err);
    cr_expect_not_null(strstr(err, "--ae"), "the message says what to do: %s", err);
}

Test(study_short, a_takt_train_model_is_minmax_and_body_is_refused)
{
    /* What `takt train` saves (seqae_save_trained), untrained is enough for the metadata. */
    const char *input = write_short_input();
    Keypoints k;
    Status st = {0};
    cr_assert_eq(keypoints_read(&k, input, 0, &st), TK_OK, "%s", st.msg);
    TrainConfig cfg = train_default_config();
    cfg.epochs = 1;
    TrainState s;
    cr_assert_eq(train_state_new(&s, &cfg, &k, &st), TK_OK, "%s", st.msg);
    const char *model = test_scratch_path("train.tkw");
    cr_assert_eq(seqae_save_trained(&s, model, &st), TK_OK, "%s", st.msg);
    train_state_free(&s);
    keypoints_free(&k);
    char name[16];
    cr_assert_eq(seqae_normalisation(model, name, sizeof name, &st), TK_OK, "%s", st.msg);
    cr_expect_str_eq(name, "minmax");

    StudyOptions o = short_options(input, test_scratch_path("body"));
    o.ae_path = model;
    o.normalise = STUDY_NORMALISE_BODY;
    o.normalise_given = 1;
    cr_expect_eq(study_run(&o, &st), TK_EINVAL);
    cr_expect_not_null(strstr(st.msg, "minmax"), "message: %s", st.msg);
    /* Without --normalise the model's own setting applies. */
    o.outdir = test_scratch_path("own");
    o.normalise_given = 0;
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    char *json = read_output(o.outdir, "report.json");
    cr_expect_not_null(strstr(json, "\"normalise\": \"minmax\""), "the model's setting is used");
    free(json);
}

Test(study_short, a_model_file_without_the_key_is_minmax)
{
    TkwWriter *w;
    Status st = {0};
    const char *path = test_scratch_path("old.tkw");
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "kind", "takt.seqae", &st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    char name[16] = "";
    cr_assert_eq(seqae_normalisation(path, name, sizeof name, &st), TK_OK, "%s", st.msg);
    cr_expect_str_eq(name, "minmax");

    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "kind", "takt.seqae", &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "normalise", "zscore", &st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    cr_expect_eq(seqae_normalisation(path, name, sizeof name, &st), TK_EFORMAT);
    cr_expect_not_null(strstr(st.msg, "zscore"), "message: %s", st.msg);
}
