/* test_classify.c — the skeleton-sequence classifier (app/classify.c): it learns a small
 * synthetic two-class problem to 100 %, the model file round-trips bit-exactly and refuses
 * other kinds, and `takt classify` runs as a real process ($TAKT_BIN): train on a labelled
 * CSV and on a folder of BVH files per class, predict, curves, determinism (same seed, same
 * bytes), bad input and usage errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "../app/classify.h"

/* ---------------------------------------------------------------- synthetic data */

/* Class 0 rises, class 1 falls, over 10..21 frames, with noise and a second feature of pure
 * noise: only the direction in time separates them. */
static float synthetic_value(int label, int frame, int n_frames, int feature, Rng *rng)
{
    const float t = (float)frame / (float)(n_frames - 1);
    const float noise = 0.15f * (2.0f * rng_uniform(rng) - 1.0f);
    if (feature == 1)
        return 3.0f * noise;
    return (label ? 1.0f - t : t) + noise;
}

static void synthetic_set(SeqSet *s, int n)
{
    Rng rng;
    rng_seed(&rng, 42, 0);
    test_two_class_set(s, n, 2, "rise", "fall");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 10 + (int)rng_below(&rng, 12));
        for (int f = 0; f < q->n_frames; f++)
            for (int k = 0; k < 2; k++)
                q->x[2 * f + k] = synthetic_value(q->label, f, q->n_frames, k, &rng);
    }
}

static ClfConfig small_config(void)
{
    ClfConfig c = clf_default_config();
    c.hidden = 12;
    c.time_steps = 12;
    c.epochs = 60;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 7;
    return c;
}

static void train_synthetic(SeqSet *s, ClfModel *m, ClfHistory *h)
{
    synthetic_set(s, 32);
    unsigned char is_val[32];
    for (int i = 0; i < 32; i++)
        is_val[i] = i % 4 >= 2 && i >= 24; /* the last 4 of each class's 16 validate */
    Status st = {0};
    int stopped = 1;
    const ClfConfig cfg = small_config();
    cr_assert_eq(clf_train(m, &cfg, s, is_val, "csv", 0, NULL, h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(stopped, 0);
}

Test(classify, learns_two_classes_to_100_percent)
{
    SeqSet s;
    ClfModel m;
    ClfHistory h;
    train_synthetic(&s, &m, &h);
    cr_assert_eq(h.n_val, 4);
    cr_assert_eq(h.n_train, 28);
    cr_assert_float_eq(h.train_accuracy, 1.0f, 1e-6, "training accuracy %.3f", h.train_accuracy);
    cr_assert_float_eq(h.val_accuracy, 1.0f, 1e-6, "validation accuracy %.3f", h.val_accuracy);
    /* The first epoch cannot already be perfect: the curve must show learning. */
    cr_assert_lt(h.train_acc[0], 0.99f);
    cr_assert_lt(h.train_loss[h.epochs - 1], h.train_loss[0]);
    for (int i = 0; i < h.n_val; i++)
        cr_assert_eq(h.val_pred[i], s.seqs[h.val_index[i]].label);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

Test(classify, model_file_round_trip_predicts_the_same)
{
    SeqSet s;
    ClfModel m, back;
    ClfHistory h;
    train_synthetic(&s, &m, &h);
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/m.tkw", dir);
    Status st = {0};
    cr_assert_eq(clf_save(&m, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_str_eq(back.features, "csv");
    cr_assert_eq(back.time_steps, 12);
    cr_assert_eq(back.net[0].cfg.classes, 2);
    cr_assert_str_eq(back.class_names[1], "fall");
    cr_assert_eq(back.best_epoch, h.best_epoch);
    for (int i = 0; i < s.n; i++) {
        float p1[2], p2[2];
        const Sequence *q = &s.seqs[i];
        cr_assert_eq(clf_predict(&m, q->x, q->n_frames, 2, p1, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_predict(&back, q->x, q->n_frames, 2, p2, &st), TK_OK, "%s", st.msg);
        cr_assert(p1[0] == p2[0] && p1[1] == p2[1], "sequence %d: %g %g vs %g %g", i, p1[0],
                  p1[1], p2[0], p2[1]);
        cr_assert_float_eq(p1[0] + p1[1], 1.0f, 1e-5);
        cr_assert_eq(p1[1] > p1[0], q->label == 1, "sequence %d misclassified", i);
    }
    float p[2];
    cr_assert_eq(clf_predict(&back, s.seqs[0].x, s.seqs[0].n_frames, 3, p, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "3 features"), "%s", st.msg);
    clf_free(&back);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
    unlink(path);
    rmdir(dir);
}

Test(classify, load_refuses_another_kind_naming_the_file)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/other.tkw", dir);
    Status st = {0};
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "kind", "takt.seqae", &st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK, "%s", st.msg);
    tkw_writer_free(w);
    ClfModel m;
    cr_assert_eq(clf_load(&m, path, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "other.tkw") && strstr(st.msg, "takt.seqae"), "%s", st.msg);
    unlink(path);
    rmdir(dir);
}

Test(classify, centering_subtracts_the_joint_and_refuses_a_bad_one)
{
    float x[2][6] = {{1, 2, 3, 10, 20, 30}, {-1, 0, 5, 4, 4, 4}};
    Status st = {0};
    cr_assert_eq(clf_center_frames(&x[0][0], 2, 6, 3, 1, &st), TK_OK, "%s", st.msg);
    const float want[2][6] = {{-9, -18, -27, 0, 0, 0}, {-5, -4, 1, 0, 0, 0}};
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 6; j++)
            cr_assert_eq(x[r][j], want[r][j], "row %d col %d: %g", r, j, x[r][j]);
    cr_assert_eq(clf_center_frames(&x[0][0], 2, 6, 3, 2, &st), TK_EINVAL);
    cr_assert_eq(clf_center_frames(&x[0][0], 2, 6, 4, 0, &st), TK_EINVAL);
}

Test(classify, velocity_appends_frame_differences_in_place)
{
    float x[3 * 4] = {1, 10, 4, 13, 2, 7}; /* 3 frames of 2 features, room for 3 x 4 */
    clf_velocity_frames(x, 3, 2);
    const float want[12] = {1, 10, 0, 0, 4, 13, 3, 3, 2, 7, -2, -6};
    for (int i = 0; i < 12; i++)
        cr_assert_eq(x[i], want[i], "value %d: %g, expected %g", i, x[i], want[i]);
}

Test(classify, acceleration_appends_second_differences_in_place)
{
    /* 4 frames of 2 features, room for 4 x 6: velocities (0 0) (3 3) (-2 -6) (4 -1), their
     * changes (0 0) (3 3) (-5 -9) (6 5) (numpy.diff twice, a zero first row at each step). */
    float x[4 * 6] = {1, 10, 4, 13, 2, 7, 6, 6};
    clf_velocity_frames(x, 4, 2);
    clf_acceleration_frames(x, 4, 2);
    const float want[24] = {1, 10, 0, 0, 0, 0,   4, 13, 3, 3, 3, 3,
                            2, 7, -2, -6, -5, -9, 6, 6, 4, -1, 6, 5};
    for (int i = 0; i < 24; i++)
        cr_assert_eq(x[i], want[i], "value %d: %g, expected %g", i, x[i], want[i]);
    ClfModel m = {.velocity = 2, .center = -1, .torso = -1};
    cr_assert_eq(clf_feature_count(&m, 60), 180);
}

/* ---------------------------------------------------------------- the command line */

static const char *dir;
static char out[65536], err[8192];

/* `$TAKT_BIN <args>` with stdout and stderr into out and err; returns the exit code. */
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

static void make_dir(void)
{
    test_scratch_begin();
    dir = test_scratch_dir();
}

TestSuite(classify_cli, .init = make_dir, .fini = test_scratch_end);

/* The synthetic set as a labelled CSV with labels.txt beside it. */
static void write_labelled_csv(void)
{
    SeqSet s;
    synthetic_set(&s, 32);
    char path[512];
    snprintf(path, sizeof path, "%s/data.csv", dir);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "seq_id,frame,label,x0,y0\n");
    for (int i = 0; i < s.n; i++)
        for (int f = 0; f < s.seqs[i].n_frames; f++)
            fprintf(fp, "%d,%d,%d,%.5f,%.5f\n", i, f, s.seqs[i].label, s.seqs[i].x[2 * f],
                    s.seqs[i].x[2 * f + 1]);
    fclose(fp);
    snprintf(path, sizeof path, "%s/labels.txt", dir);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "0 rise\n1 fall\n");
    fclose(fp);
    snprintf(path, sizeof path, "%s/val.txt", dir);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "# validation seq_ids\n26 27 30\n31\n");
    fclose(fp);
    seqset_free(&s);
}

static int file_equal(const char *a, const char *b)
{
    size_t na, nb;
    char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    const int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void expect_png(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n = 0;
    unsigned char *png = test_read_file(path, &n);
    cr_assert(png && n > 1000 && !memcmp(png + 1, "PNG", 3), "%s is not a PNG", path);
    free(png);
}

#define TRAIN_ARGS "--time-steps 12 --hidden 12 --batch 4 --epochs 60 --lr 0.01 --seed 7"

Test(classify_cli, train_predict_curves_and_same_bytes_for_same_seed)
{
    write_labelled_csv();
    cr_assert_eq(takt("classify train %s/data.csv -o %s/m.tkw --split %s/val.txt " TRAIN_ARGS
                      " --json --curves %s/curves",
                      dir, dir, dir, dir),
                 0, "%s", err);
    const char *last = strrchr(out, '{');
    cr_assert_not_null(last, "no JSON in: %s", out);
    cr_assert(strstr(last, "\"train_accuracy\":1.000000"), "%s", out);
    cr_assert(strstr(last, "\"val_accuracy\":1.000000"), "%s", out);
    cr_assert(strstr(last, "\"epochs\":60"), "%s", out);
    cr_assert(strstr(err, "28 train, 4 validation"), "%s", err);
    expect_png("curves/accuracy.png");
    expect_png("curves/loss.png");
    expect_png("curves/confusion.png");

    cr_assert_eq(takt("classify train %s/data.csv -o %s/m2.tkw --split %s/val.txt " TRAIN_ARGS,
                      dir, dir, dir),
                 0, "%s", err);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/m.tkw", dir);
    snprintf(b, sizeof b, "%s/m2.tkw", dir);
    cr_assert(file_equal(a, b), "same seed, different model files");

    cr_assert_eq(takt("classify predict %s/m.tkw %s/data.csv", dir, dir), 0, "%s", err);
    cr_assert(!strncmp(out, "file,seq_id,class,rise,fall\n", 28), "%s", out);
    int lines = 0, right = 0;
    for (const char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        int id;
        char cls[16];
        const char *comma = strchr(p + 1, ',');
        cr_assert_not_null(comma);
        cr_assert_eq(sscanf(comma + 1, "%d,%15[a-z]", &id, cls), 2, "%s", p + 1);
        lines++;
        right += !strcmp(cls, id % 2 ? "fall" : "rise");
    }
    cr_assert_eq(lines, 32);
    cr_assert_eq(right, 32, "%d of 32 right:\n%s", right, out);

    cr_assert_eq(takt("classify predict %s/m.tkw %s/data.csv --json", dir, dir), 0, "%s", err);
    cr_assert(strstr(out, "\"probabilities\":{\"rise\":"), "%s", out);

    /* Two copies of one member merged: an ensemble whose mean is that member's output. */
    char *alone = strdup(out);
    cr_assert_not_null(alone);
    cr_assert_eq(takt("classify merge %s/m.tkw %s/m2.tkw -o %s/m12.tkw", dir, dir, dir), 0, "%s",
                 err);
    cr_assert(strstr(err, "2 members from 2 files"), "%s", err);
    cr_assert_eq(takt("classify predict %s/m12.tkw %s/data.csv --json", dir, dir), 0, "%s", err);
    cr_assert_str_eq(out, alone);
    free(alone);
}

/* A one-joint BVH whose root rotates up (class 0) or down (class 1) about Z. */
static void write_bvh(const char *path, int down, int frames, float phase)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition "
                "Zposition Zrotation Xrotation Yrotation\n  JOINT Arm\n  {\n    OFFSET 10 0 0\n"
                "    CHANNELS 3 Zrotation Xrotation Yrotation\n    End Site\n    {\n"
                "      OFFSET 5 0 0\n    }\n  }\n}\nMOTION\nFrames: %d\nFrame Time: 0.033333\n",
            frames);
    for (int f = 0; f < frames; f++) {
        const float a = 80.0f * f / (frames - 1) * (down ? -1.0f : 1.0f) + phase;
        fprintf(fp, "0 0 0 %.3f 0 0 %.3f 0 0\n", a, 0.5f * a);
    }
    fclose(fp);
}

Test(classify_cli, bvh_class_folders_train_and_predict)
{
    char path[512];
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/bvh/%s", dir, c ? "down" : "up");
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
        cr_assert_eq(system(cmd), 0);
        for (int i = 0; i < 8; i++) {
            snprintf(path, sizeof path, "%s/bvh/%s/take%02d.bvh", dir, c ? "down" : "up", i);
            write_bvh(path, c, 12 + i, 4.0f * i - 14.0f);
        }
    }
    cr_assert_eq(takt("classify train %s/bvh -o %s/b.tkw --val 0.25 --center 1 --velocity " TRAIN_ARGS
                      " --json", dir,
                      dir),
                 0, "%s", err);
    cr_assert(strstr(out, "\"train_accuracy\":1.000000"), "%s", out);
    snprintf(path, sizeof path, "%s/new_down.bvh", dir);
    write_bvh(path, 1, 15, 3.0f);
    cr_assert_eq(takt("classify predict %s/b.tkw %s", dir, path), 0, "%s", err);
    cr_assert(strstr(out, "new_down.bvh,0,down,"), "%s", out);
    /* A BVH model refuses a labelled CSV, naming the file. */
    write_labelled_csv();
    cr_assert_eq(takt("classify predict %s/b.tkw %s/data.csv", dir, dir), 1);
    cr_assert(strstr(err, "takt: ") && strstr(err, "data.csv") && strstr(err, "bvh_positions"),
              "%s", err);
}

/* A `takt pose` keypoints CSV: 33 landmarks whose y rises (lift) or falls (lower) within each
 * segment of 12 frames; segments alternate. */
static void write_keypoints(const char *path, int segments, int first_lower)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "frame,time_s,pose");
    for (int j = 0; j < 33; j++)
        fprintf(fp, ",x%d,y%d,z%d,v%d", j, j, j, j);
    fprintf(fp, "\n");
    Rng rng;
    rng_seed(&rng, 5, 0);
    for (int f = 0; f < segments * 12; f++) {
        const int lower = (f / 12 + first_lower) % 2;
        const float t = (float)(f % 12) / 11.0f;
        fprintf(fp, "%d,%.4f,1", f, f / 30.0);
        for (int j = 0; j < 33; j++)
            fprintf(fp, ",%.4f,%.4f,%.4f,0.9", 0.3f + 0.01f * j + 0.02f * rng_uniform(&rng),
                    0.2f + 0.01f * j + 0.5f * (lower ? 1.0f - t : t), 0.01f * rng_uniform(&rng));
        fprintf(fp, "\n");
    }
    fclose(fp);
}

Test(classify_cli, keypoints_with_segments_train_and_predict)
{
    char path[512];
    snprintf(path, sizeof path, "%s/k.csv", dir);
    write_keypoints(path, 16, 0);
    snprintf(path, sizeof path, "%s/seg.csv", dir);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "start_frame,end_frame,label\n");
    for (int i = 0; i < 16; i++)
        fprintf(fp, "%d,%d,%s\n", 12 * i, 12 * i + 11, i % 2 ? "lower" : "lift");
    fclose(fp);
    cr_assert_eq(takt("classify train %s/k.csv --segments %s/seg.csv -o %s/k.tkw --xy --val 0 "
                      TRAIN_ARGS " --json",
                      dir, dir, dir),
                 0, "%s", err);
    cr_assert(strstr(out, "\"train_accuracy\":1.000000,\"val_accuracy\":null"), "%s", out);
    cr_assert(strstr(err, "66 features"), "%s", err);
    snprintf(path, sizeof path, "%s/one.csv", dir);
    write_keypoints(path, 1, 1);
    cr_assert_eq(takt("classify predict %s/k.tkw %s", dir, path), 0, "%s", err);
    cr_assert(strstr(out, "one.csv,0,lower,"), "%s", out);
}

Test(classify_cli, grid_writes_the_layers_by_batch_table)
{
    write_labelled_csv();
    cr_assert_eq(takt("classify grid %s/data.csv -o %s/grid --split %s/val.txt --time-steps 8 "
                      "--hidden 4 --epochs 2",
                      dir, dir, dir),
                 0, "%s", err);
    char path[512];
    snprintf(path, sizeof path, "%s/grid.csv", dir);
    test_capture_file(path, out, sizeof out);
    cr_assert(!strncmp(out, "layers,batch,train_accuracy,val_accuracy,epochs,seconds\n", 56),
              "%s", out);
    int rows = 0;
    for (int l = 1; l <= 3; l++)
        for (int b = 4; b <= 16; b *= 2) {
            char key[32];
            snprintf(key, sizeof key, "\n%d,%d,", l, b);
            const char *p = strstr(out, key);
            cr_assert_not_null(p, "no row for %d layers, batch %d:\n%s", l, b, out);
            double train, val;
            int epochs;
            cr_assert_eq(sscanf(p + strlen(key), "%lf,%lf,%d", &train, &val, &epochs), 3);
            cr_assert(train >= 0 && train <= 1 && val >= 0 && val <= 1);
            cr_assert_eq(epochs, 2);
            rows++;
        }
    cr_assert_eq(rows, 9);
    snprintf(path, sizeof path, "%s/grid.md", dir);
    test_capture_file(path, out, sizeof out);
    cr_assert(strstr(out, "| layers | batch |") && strstr(out, "\n| 3 | 16 | "), "%s", out);
}

Test(classify_cli, bad_input_and_usage)
{
    cr_assert_eq(takt("classify train %s/absent.csv -o %s/m.tkw", dir, dir), 1);
    cr_assert(strstr(err, "takt: ") && strstr(err, "absent.csv"), "%s", err);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "seq_id,frame,label,x0,y0\n0,0,0,1.0,2.0\n0,1,0,abc,2.0\n");
    fclose(fp);
    cr_assert_eq(takt("classify train %s -o %s/m.tkw", path, dir), 1);
    cr_assert(strstr(err, "bad.csv") && strstr(err, "line 3"), "%s", err);
    cr_assert_eq(takt("classify train %s", path), 2);
    cr_assert_eq(takt("classify train %s -o %s/m.tkw --layers 9", path, dir), 2);
    cr_assert_eq(takt("classify train %s -o %s/m.tkw --features bones", path, dir), 2);
    cr_assert_eq(takt("classify fly"), 2);
    cr_assert_eq(takt("classify predict %s/absent.tkw %s", dir, path), 1);
    cr_assert(strstr(err, "absent.tkw"), "%s", err);
    cr_assert_eq(takt("classify predict %s", path), 2);
    cr_assert_eq(takt("classify merge %s/absent.tkw -o %s/m.tkw", dir, dir), 2);
    cr_assert_eq(takt("classify merge %s/absent.tkw %s/absent2.tkw", dir, dir), 2);
    cr_assert_eq(takt("classify merge %s/absent.tkw %s/absent2.tkw -o %s/m.tkw", dir, dir, dir),
                 1);
    cr_assert(strstr(err, "absent.tkw"), "%s", err);
}
