/* test_mtm.c — MTM-2 classification: 1-NN predictions identical to scikit-learn's on mtm6
 * (tests/data/mtm/, made by make_golden.py there), SVM and MLP accuracies beside scikit-learn's,
 * model files that reload to the same predictions and refuse what is not theirs, motion
 * elements (flicker absorbed, TMU, risks against variations, each written as soon as it is
 * final), work cycles and their exposure on hand-made element sequences, the ergonomics config,
 * the whole `takt mtm label | fit | run` chain on a synthetic skeleton, `run` on the squat
 * video against `takt pose` + `run` on its CSV, and the event stream through a local mosquitto
 * broker when Debian's mosquitto is installed. */
#include <criterion/criterion.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../app/mtm.h"
#include "../pose/pose.h"
#include "testutil.h"

#define DATA "tests/data/mtm/"
#define MTM6_TRAIN 8919
#define MTM6_TEST 10000

typedef struct {
    float *xtr, *xte;
    int *ytr, *yte;
} Mtm6;

static int load_mtm6(Mtm6 *m)
{
    char a[1024], b[1024], c[1024], d[1024];
    if (!test_shared_path(a, sizeof a, "bench/mtm6_train_x.bin") ||
        !test_shared_path(b, sizeof b, "bench/mtm6_train_y.bin") ||
        !test_shared_path(c, sizeof c, "bench/mtm6_test_x.bin") ||
        !test_shared_path(d, sizeof d, "bench/mtm6_test_y.bin"))
        return 0;
    m->xtr = test_read_f32(a, (size_t)MTM6_TRAIN * 6);
    m->ytr = test_read_i32(b, MTM6_TRAIN);
    m->xte = test_read_f32(c, (size_t)MTM6_TEST * 6);
    m->yte = test_read_i32(d, MTM6_TEST);
    cr_assert(m->xtr && m->ytr && m->xte && m->yte, "mtm6 files have unexpected sizes");
    return 1;
}

static void free_mtm6(Mtm6 *m) { free(m->xtr), free(m->ytr), free(m->xte), free(m->yte); }

static double test_accuracy(MtmKind kind, const Mtm6 *d, int *pred_out)
{
    MtmModel m;
    Status st = {0};
    cr_assert_eq(mtm_model_fit(&m, kind, d->xtr, d->ytr, MTM6_TRAIN, 6, 5, NULL, NULL, 0, &st),
                 TK_OK, "%s", st.msg);
    float *scratch = malloc(sizeof(float) * MTM6_TEST * 6);
    int *pred = pred_out ? pred_out : malloc(sizeof(int) * MTM6_TEST);
    cr_assert_eq(mtm_model_predict(&m, d->xte, MTM6_TEST, scratch, pred, NULL, &st), TK_OK, "%s",
                 st.msg);
    int right = 0;
    for (int i = 0; i < MTM6_TEST; i++)
        right += pred[i] == d->yte[i];
    free(scratch);
    if (!pred_out)
        free(pred);
    mtm_model_free(&m);
    return right / (double)MTM6_TEST;
}

Test(mtm, knn_identical_to_sklearn_on_mtm6)
{
    Mtm6 d;
    if (!load_mtm6(&d))
        cr_skip_test("../shared not found (bench/mtm6_*)");
    int *want = test_read_i32(DATA "knn_pred_mtm6.bin", MTM6_TEST);
    cr_assert_not_null(want);
    int *pred = malloc(sizeof(int) * MTM6_TEST);
    const double acc = test_accuracy(MTM_KNN, &d, pred);
    int differ = 0, first = -1;
    for (int i = 0; i < MTM6_TEST; i++)
        if (pred[i] != want[i] && differ++ == 0)
            first = i;
    cr_assert_eq(differ, 0, "%d of %d predictions differ from scikit-learn's, first row %d",
                 differ, MTM6_TEST, first);
    cr_assert_float_eq(acc, 0.8321, 1e-9); /* golden.json: knn_accuracy */
    free(pred), free(want);
    free_mtm6(&d);
}

Test(mtm, svm_and_mlp_accuracy_beside_sklearn_on_mtm6)
{
    Mtm6 d;
    if (!load_mtm6(&d))
        cr_skip_test("../shared not found (bench/mtm6_*)");
    /* golden.json: LinearSVC 0.8796, MLPClassifier(50, early stopping) 0.8863. Different
     * solvers and random starts: within a point or so of theirs. */
    const double svm = test_accuracy(MTM_SVM, &d, NULL), mlp = test_accuracy(MTM_MLP, &d, NULL);
    cr_log_info("mtm6 test accuracy: svm %.4f (sklearn 0.8796), mlp %.4f (sklearn 0.8863)", svm,
                mlp);
    cr_assert(fabs(svm - 0.8796) < 0.01, "svm accuracy %.4f", svm);
    cr_assert(fabs(mlp - 0.8863) < 0.015, "mlp accuracy %.4f", mlp);
    free_mtm6(&d);
}

/* Three well separated classes in 3-D, n / 3 rows each. */
static void blobs(float *x, int *y, int n, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed, 0);
    for (int i = 0; i < n; i++) {
        y[i] = i % 3;
        for (int j = 0; j < 3; j++)
            x[i * 3 + j] = 10.0f * (j == y[i]) + 40.0f * j + 0.5f * rng_normal(&r);
    }
}

Test(mtm, save_load_same_predictions_and_names)
{
    /* Enough rows that the MLP's early stopping sees several batches per epoch. */
    enum { N = 900 };
    static float x[N * 3], q[N * 3], scratch[N * 3];
    static int y[N], qy[N], p1[N], p2[N];
    blobs(x, y, N, 1);
    blobs(q, qy, N, 2);
    const char *feat[3] = {"l_elbow", "r_elbow", "l_wrist"};
    const char *cls[3] = {"G1A", "PA15", "R30A"};
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/m.tkw", dir);
    for (int k = 0; k < 3; k++) {
        Status st = {0};
        MtmModel m, l;
        cr_assert_eq(mtm_model_fit(&m, (MtmKind)k, x, y, N, 3, 3, feat, cls, 7, &st), TK_OK,
                     "%s", st.msg);
        cr_assert_eq(mtm_model_predict(&m, q, N, scratch, p1, NULL, &st), TK_OK);
        cr_assert_eq(mtm_model_save(&m, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(mtm_model_load(&l, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(l.kind, (MtmKind)k);
        cr_assert_str_eq(l.feature_names[2], "l_wrist");
        cr_assert_str_eq(l.class_names[1], "PA15");
        cr_assert_eq(mtm_model_predict(&l, q, N, scratch, p2, NULL, &st), TK_OK);
        int right = 0;
        for (int i = 0; i < N; i++) {
            cr_assert_eq(p1[i], p2[i], "%s row %d: %d before saving, %d after",
                         mtm_kind_name((MtmKind)k), i, p1[i], p2[i]);
            right += p1[i] == qy[i];
        }
        cr_assert_geq(right, N * 99 / 100, "%s: %d of %d right on separated blobs",
                      mtm_kind_name((MtmKind)k),
                     right, N);
        int map[POSE_ANGLE_FEATURES];
        cr_assert_eq(mtm_feature_map(&l, path, map, &st), TK_OK);
        cr_assert_eq(map[2], ANGLE_L_WRIST);
        mtm_model_free(&m);
        mtm_model_free(&l);
    }
    unlink(path);
    rmdir(dir);
}

Test(mtm, refuses_other_models_features_and_codes)
{
    enum { N = 60 };
    float x[N * 3];
    int y[N];
    blobs(x, y, N, 3);
    const char *feat[3] = {"l_elbow", "latent_7", "r_wrist"};
    Status st = {0};
    MtmModel m;
    cr_assert_eq(mtm_model_fit(&m, MTM_KNN, x, y, N, 3, 3, feat, NULL, 0, &st), TK_OK);
    int map[POSE_ANGLE_FEATURES];
    cr_assert_neq(mtm_feature_map(&m, "m.tkw", map, &st), TK_OK);
    cr_assert(strstr(st.msg, "latent_7") && strstr(st.msg, "m.tkw"), "%s", st.msg);
    mtm_model_free(&m);

    /* A .tkw of another kind. */
    const char *dir = test_tmpdir();
    char path[512], csv[512];
    snprintf(path, sizeof path, "%s/other.tkw", dir);
    TkwWriter *w;
    cr_assert_eq(tkw_writer_new(&w, &st), TK_OK);
    cr_assert_eq(tkw_writer_meta(w, "kind", "takt.seqae", &st), TK_OK);
    cr_assert_eq(tkw_writer_save(w, path, &st), TK_OK);
    tkw_writer_free(w);
    cr_assert_neq(mtm_model_load(&m, path, &st), TK_OK);
    cr_assert(strstr(st.msg, "not an mtm_classifier"), "%s", st.msg);

    /* Labels that are no MTM-2 code. */
    snprintf(csv, sizeof csv, "%s/f.csv", dir);
    FILE *fp = fopen(csv, "w");
    fprintf(fp, "label,l_elbow\nR30A,1\nR30A,2\nG1A,3\nreach-far,4\n");
    fclose(fp);
    MtmTable t;
    cr_assert_neq(mtm_table_load(&t, csv, &st), TK_OK);
    cr_assert(strstr(st.msg, "reach-far") && strstr(st.msg, "row 4"), "%s", st.msg);
    cr_assert(mtm_code_valid("R30A") && mtm_code_valid("12") && !mtm_code_valid("3x!"));
    unlink(path), unlink(csv), rmdir(dir);
}

/* The events (out) and summary (sum) of frames pushed one by one into a stream: frame numbers
 * from 100, 30 fps, angles[i] per frame (NULL: pose_a for code 0, else pose_b). */
typedef struct {
    char *events, *summary;
    size_t events_len, summary_len;
} Stream;

static MtmModel two_codes(void)
{
    static char *names[3] = {"R30A", "G1A", "PA15"};
    return (MtmModel){.n_classes = 3, .class_names = names};
}

static void run_stream(Stream *s, const MtmModel *m, const MtmErgo *e, int n, const int *pred,
                       const float *angles, int cycle_start)
{
    FILE *out = open_memstream(&s->events, &s->events_len);
    FILE *sum = open_memstream(&s->summary, &s->summary_len);
    MtmEvents *ev;
    Status st = {0};
    cr_assert_eq(mtm_events_new(&ev, m, e, out, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < n; i++)
        cr_assert_eq(mtm_events_push(ev, 100 + i, i / 30.0, angles + (size_t)i * POSE_ANGLES,
                                     pred[i], -1, &st),
                     TK_OK, "%s", st.msg);
    cr_assert_eq(mtm_events_finish(ev, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(mtm_events_summary(ev, cycle_start, sum, &st), TK_OK, "%s", st.msg);
    mtm_events_free(ev);
    fclose(out), fclose(sum);
}

static int count_lines(const char *text)
{
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    return lines;
}

Test(mtm, elements_tmu_risks_and_variations)
{
    enum { N = 60 };
    int pred[N];
    for (int i = 0; i < N; i++)
        pred[i] = i < 30 ? 0 : 1;
    pred[10] = 1;            /* one-frame flicker inside the first element */
    pred[40] = pred[41] = 0; /* two frames of code 0 inside the second */
    /* Pose a neutral; pose b: left wrist bent to 120, elbows at 90. */
    const float a[POSE_ANGLES] = {170, 170, 10, 10, 178, 178};
    const float b[POSE_ANGLES] = {90, 90, 10, 10, 120, 178};
    float angles[N * POSE_ANGLES];
    for (int i = 0; i < N; i++)
        memcpy(angles + i * POSE_ANGLES, pred[i] == 0 ? a : b, sizeof a);
    /* Frames 0..8 of element 1 bend the left shoulder to 35: 9 of 30, a variation. */
    for (int i = 0; i < 9; i++)
        angles[i * POSE_ANGLES + ANGLE_L_SHOULDER] = 35;
    const MtmModel m = two_codes();
    const MtmErgo e = mtm_ergo_default();
    Stream s;
    run_stream(&s, &m, &e, N, pred, angles, -1);
    char *buf = s.events, *sbuf = s.summary;
    cr_assert_eq(count_lines(buf), 2, "flicker made extra elements:\n%s", buf);
    char *second = strchr(buf, '\n') + 1;
    cr_assert(strstr(buf, "\"code\":\"R30A\""), "%s", buf);
    cr_assert(strstr(buf, "\"t_start\":0.000,\"t_end\":1.000"), "%s", buf);
    cr_assert(strstr(buf, "\"tmu\":27.8"), "1 s is 27.8 TMU:\n%s", buf);
    cr_assert(strstr(buf, "\"confidence\":0.967"), "29 of 30 frames agree:\n%s", buf);
    cr_assert(strstr(buf, "\"frames\":[100,129]"), "%s", buf);
    /* Element 1: the shoulder excursion is a variation, not a risk. */
    cr_assert(strstr(buf, "\"risks\":[{\"type\":\"l_wrist_extension\",\"share\":0.03") ||
              strstr(buf, "\"risks\":[],\"variations\":[{\"type\":\"l_wrist_extension\""),
              "%s", buf);
    char *v1 = strstr(buf, "\"variations\"");
    cr_assert(v1 && v1 < second && strstr(v1, "l_shoulder_non_neutral"), "%s", buf);
    char *r1 = strstr(buf, "\"risks\"");
    cr_assert(strncmp(r1, "\"risks\":[]", 10) == 0, "element 1 has no held risk:\n%s", buf);
    /* Element 2: bent wrist and elbows held through 28 of 30 frames. */
    char *r2 = strstr(second, "\"risks\"");
    char *v2 = strstr(second, "\"variations\"");
    cr_assert(strstr(r2, "l_wrist_extension") && strstr(r2, "l_wrist_extension") < v2, "%s",
              second);
    cr_assert(strstr(r2, "l_elbow_non_neutral") < v2 && strstr(r2, "r_elbow_non_neutral") < v2);
    cr_assert(strstr(second, "\"share\":0.93"), "%s", second);
    /* Summary: one element per code, 27.8 TMU each; the wrist held 28 frames = 0.93 s. */
    cr_assert(strstr(sbuf, "R30A") && strstr(sbuf, "27.8"), "%s", sbuf);
    cr_assert(strstr(sbuf, "l_wrist_extension 0.93"), "%s", sbuf);
    cr_assert(strstr(sbuf, "l_shoulder_non_neutral 0.00"), "%s", sbuf);
    /* The first 5 s include pose b: the mean left elbow (about 130) is not neutral. */
    cr_assert(strstr(sbuf, "l_elbow") && strstr(sbuf, "outside neutral"), "%s", sbuf);
    free(buf), free(sbuf);
}

/* Streaming: an element is written once min_frames frames of the next code have come, not at
 * the end of the input; a short run at the start joins the element after it; frames without
 * features make a gap that ends an element; without gaps the durations add up to the input. */
Test(mtm, stream_writes_each_element_when_final)
{
    const MtmModel m = two_codes();
    const MtmErgo e = mtm_ergo_default(); /* min_frames 3 */
    const float neutral[POSE_ANGLES] = {170, 170, 10, 10, 178, 178};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    MtmEvents *ev;
    Status st = {0};
    cr_assert_eq(mtm_events_new(&ev, &m, &e, out, &st), TK_OK, "%s", st.msg);
    /* frames 0-1: code 1 (short, at the start), 2-11: code 0, 12-13: code 1 (short), 14: code
     * 0 again, 15-19: code 2, 20-21: nobody, 22-29: code 1. */
    int pred[30];
    for (int i = 0; i < 30; i++)
        pred[i] = i < 2 ? 1 : i < 12 ? 0 : i < 14 ? 1 : i < 15 ? 0 : i < 20 ? 2 : i < 22 ? -1 : 1;
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(mtm_events_push(ev, i, i / 10.0, neutral, pred[i], -1, &st), TK_OK, "%s",
                     st.msg);
        fflush(out);
        const int lines = count_lines(len ? buf : "");
        /* The first element (0-14, code 0) is final at frame 17, the third of code 2; the
         * second (15-19) when the gap begins at frame 20. */
        const int expected = i < 17 ? 0 : i < 20 ? 1 : 2;
        cr_assert_eq(lines, expected, "after frame %d: %d lines:\n%s", i, lines, len ? buf : "");
    }
    cr_assert_eq(mtm_events_finish(ev, &st), TK_OK, "%s", st.msg);
    fclose(out);
    cr_assert_eq(count_lines(buf), 3, "%s", buf);
    cr_assert(strstr(buf, "{\"t_start\":0.000,\"t_end\":1.500,\"code\":\"R30A\""), "%s", buf);
    cr_assert(strstr(buf, "\"confidence\":0.733"), "11 of 15 frames say R30A:\n%s", buf);
    cr_assert(strstr(buf, "\"frames\":[0,14]"), "%s", buf);
    cr_assert(strstr(buf, "{\"t_start\":1.500,\"t_end\":2.000,\"code\":\"PA15\""), "%s", buf);
    /* The last element lasts to its last frame plus one frame interval. */
    cr_assert(strstr(buf, "{\"t_start\":2.200,\"t_end\":3.000,\"code\":\"G1A\""), "%s", buf);
    int n;
    const MtmElement *el = mtm_events_elements(ev, &n);
    cr_assert_eq(n, 4, "three elements and one gap");
    cr_assert(el[0].code == 0 && el[1].code == 2 && el[2].code == -1 && el[3].code == 1);
    cr_assert_float_eq(el[2].t_start, 2.0, 1e-12);
    cr_assert_float_eq(el[2].t_end, 2.2, 1e-12);
    for (int i = 1; i < n; i++)
        cr_assert_float_eq(el[i].t_start, el[i - 1].t_end, 1e-12, "element %d", i);
    mtm_events_free(ev);
    free(buf);

    /* Times that go backwards and classes the model does not have are refused. */
    FILE *sink = fopen("/dev/null", "w");
    cr_assert_eq(mtm_events_new(&ev, &m, &e, sink, &st), TK_OK);
    cr_assert_eq(mtm_events_push(ev, 0, 1.0, neutral, 0, -1, &st), TK_OK);
    cr_assert_neq(mtm_events_push(ev, 1, 0.5, neutral, 0, -1, &st), TK_OK);
    cr_assert(strstr(st.msg, "frame 1"), "%s", st.msg);
    cr_assert_neq(mtm_events_push(ev, 2, 2.0, neutral, 3, -1, &st), TK_OK);
    mtm_events_free(ev);
    fclose(sink);
}

/* Cycles on a hand-made element sequence: R30A G1A PA15 three times, then R30A. */
Test(mtm, cycles_from_a_start_code_and_from_the_repeating_sequence)
{
    enum { N = 10 };
    MtmElement el[N];
    const int codes[N] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    const double len[3] = {0.36, 0.72, 1.08}; /* 10, 20 and 30 TMU */
    double t = 0;
    for (int i = 0; i < N; i++) {
        el[i] = (MtmElement){.code = codes[i], .t_start = t, .t_end = t + len[codes[i]]};
        t = el[i].t_end;
        if (codes[i] == 1) /* G1A holds a bent wrist, longer each cycle */
            el[i].held_s[MTM_RISK_L_WRIST] = 0.1 * (i + 1);
    }
    MtmCycle *c;
    int n;
    Status st = {0};
    cr_assert_eq(mtm_cycles(el, N, 0, &c, &n, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(n, 3, "three whole cycles start at R30A; the last R30A begins no whole one");
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(c[k].first, 3 * k);
        cr_assert_eq(c[k].last, 3 * k + 2);
        cr_assert_float_eq(c[k].t_start, 2.16 * k, 1e-9);
        cr_assert_float_eq(c[k].t_end, 2.16 * (k + 1), 1e-9);
        cr_assert_float_eq(c[k].tmu, 60.0, 1e-9);
        cr_assert_float_eq(c[k].held_s[MTM_RISK_L_WRIST], 0.1 * (3 * k + 2), 1e-9);
        cr_assert_float_eq(c[k].held_s[MTM_RISK_R_WRIST], 0.0, 0);
    }
    free(c);
    /* Starting at G1A: G1A PA15 R30A, twice (the third G1A has no next one). */
    cr_assert_eq(mtm_cycles(el, N, 1, &c, &n, &st), TK_OK);
    cr_assert_eq(n, 2);
    cr_assert(c[0].first == 1 && c[0].last == 3 && c[1].first == 4 && c[1].last == 6);
    free(c);
    /* Without a start code: the repeating sequence R30A G1A PA15. */
    cr_assert_eq(mtm_cycles(el, N, -1, &c, &n, &st), TK_OK);
    cr_assert_eq(n, 3);
    cr_assert(c[0].first == 0 && c[0].last == 2 && c[2].first == 6 && c[2].last == 8);
    free(c);
    /* A gap breaks a repetition: no cycle spans it. */
    el[4].code = -1;
    cr_assert_eq(mtm_cycles(el, N, -1, &c, &n, &st), TK_OK);
    cr_assert_geq(n, 2);
    for (int k = 0; k < n; k++)
        cr_assert(c[k].last < 4 || c[k].first > 4, "cycle %d spans the gap", k);
    free(c);
    /* A code that never occurs: no cycle. */
    cr_assert_eq(mtm_cycles(el, N, 7, &c, &n, &st), TK_OK);
    cr_assert(n == 0 && c == NULL);
}

/* The summary of a stream with cycles: per-cycle rows with TMU and seconds held, and the mean. */
Test(mtm, summary_per_cycle_exposure)
{
    enum { N = 90 };
    int pred[N];
    float angles[N * POSE_ANGLES];
    const float a[POSE_ANGLES] = {170, 170, 10, 10, 178, 178};
    const float b[POSE_ANGLES] = {170, 170, 10, 10, 120, 178}; /* left wrist bent */
    /* Three cycles of 1 s: 15 frames R30A (neutral), 15 frames G1A (wrist bent). */
    for (int i = 0; i < N; i++) {
        pred[i] = (i % 30) < 15 ? 0 : 1;
        memcpy(angles + i * POSE_ANGLES, pred[i] ? b : a, sizeof a);
    }
    const MtmModel m = two_codes();
    const MtmErgo e = mtm_ergo_default();
    Stream s;
    run_stream(&s, &m, &e, N, pred, angles, 0);
    cr_assert_eq(count_lines(s.events), 6, "%s", s.events);
    /* Cycles from R30A to the next R30A: two whole ones (the third has no next start). */
    cr_assert(strstr(s.summary, "work cycles (each starts at R30A): 2"), "%s", s.summary);
    for (int k = 1; k <= 2; k++) {
        char row[16];
        snprintf(row, sizeof row, "\n%d ", k);
        const char *line = strstr(s.summary, row);
        int index;
        double t0, t1, tmu, held;
        cr_assert(line && sscanf(line, "%d %lf %lf %lf %lf", &index, &t0, &t1, &tmu, &held) == 5,
                  "%s", s.summary);
        cr_assert(t0 == k - 1 && t1 == k && tmu == 27.8 && held == 0.5, "cycle %d:\n%s", k,
                  s.summary);
    }
    cr_assert(strstr(s.summary, "mean cycle time 1.000 s"), "%s", s.summary);
    /* Per cycle the wrist is held bent for the 15 G1A frames: 0.50 s. */
    char *mean = strstr(s.summary, "mean  ");
    cr_assert(mean && strstr(mean, " 0.50 "), "%s", s.summary);
    cr_assert(strstr(s.summary, "l_wrist_extension 1.50;"), "all three G1A: %s", s.summary);
    free(s.events), free(s.summary);
    /* Without a start code the repeating pair R30A G1A gives three cycles. */
    run_stream(&s, &m, &e, N, pred, angles, -1);
    cr_assert(strstr(s.summary, "repeating sequence of 2 elements): 3"), "%s", s.summary);
    free(s.events), free(s.summary);
}

Test(mtm, ergonomics_config)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/e.conf", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "# test\nwrist_extension_deg = 150\n\nhold_share=0.5  # half\nmin_frames = 5\n");
    fclose(fp);
    MtmErgo e;
    Status st = {0};
    cr_assert_eq(mtm_ergo_load(&e, path, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(e.wrist_extension, 150.0, 1e-12);
    cr_assert_float_eq(e.hold_share, 0.5, 1e-12);
    cr_assert_eq(e.min_frames, 5);
    cr_assert_float_eq(e.elbow_lo, 150.0, 1e-12); /* default kept */
    fp = fopen(path, "w");
    fprintf(fp, "elbow_neutral_min = 140\nwirst = 3\n");
    fclose(fp);
    cr_assert_neq(mtm_ergo_load(&e, path, &st), TK_OK);
    cr_assert(strstr(st.msg, "line 2") && strstr(st.msg, "wirst"), "%s", st.msg);
    fp = fopen(path, "w");
    fprintf(fp, "hold_share = lots\n");
    fclose(fp);
    cr_assert_neq(mtm_ergo_load(&e, path, &st), TK_OK);
    cr_assert(strstr(st.msg, "line 1"), "%s", st.msg);
    unlink(path), rmdir(dir);
}

/* ---------------------------------------------------------------- the command line */

static char cmd_out[1 << 16];

/* `$TAKT_BIN args` through the shell; stdout+stderr into cmd_out; returns the exit code. */
static int shell(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int shell(const char *dir, const char *fmt, ...)
{
    const char *rel = getenv("TAKT_BIN");
    if (!rel || !rel[0])
        cr_skip_test("TAKT_BIN is not set (make test sets it to the built takt binary)");
    char bin[4096];
    cr_assert_not_null(realpath(rel, bin), "TAKT_BIN %s not found", rel);
    char line[2048], command[8192], log[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(command, sizeof command, "TAKT=%s; export TAKT; ( %s ) >%s 2>&1", bin, line, log);
    const int status = system(command);
    size_t size = 0;
    char *text = test_read_file(log, &size);
    snprintf(cmd_out, sizeof cmd_out, "%.*s", (int)size, text ? text : "");
    free(text);
    unlink(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A keypoints CSV of 90 frames at 30 fps: arms out straight (frames 0-29 and 60-89, with one
 * frame of the other pose at 75) and left forearm raised, wrist bent (30-59). */
static void write_keypoints(const char *path)
{
    FILE *fp = fopen(path, "w");
    fprintf(fp, "frame,time_s,pose");
    for (int j = 0; j < POSE_LANDMARKS; j++)
        fprintf(fp, ",x%d,y%d,z%d,v%d", j, j, j, j);
    fputc('\n', fp);
    for (int i = 0; i < 90; i++) {
        const int bent = (i >= 30 && i < 60) || i == 75;
        float lm[4 * POSE_LANDMARKS] = {0};
        for (int j = 0; j < POSE_LANDMARKS; j++)
            lm[4 * j + 3] = 0.9f;
        const float jx[] = {[11] = .6f, [12] = .4f, [13] = .7f, [14] = .3f, [15] = .8f,
                            [16] = .2f, [17] = .9f, [18] = .1f, [23] = .6f, [24] = .4f};
        const float jy[] = {[11] = .3f, [12] = .3f, [13] = .3f, [14] = .3f, [15] = .3f,
                            [16] = .3f, [17] = .3f, [18] = .3f, [23] = .6f, [24] = .6f};
        for (int j = 11; j <= 24; j++)
            lm[4 * j] = jx[j], lm[4 * j + 1] = jy[j];
        if (bent) {
            lm[4 * 15] = .7f, lm[4 * 15 + 1] = .1f;  /* wrist above the elbow */
            lm[4 * 17] = .75f, lm[4 * 17 + 1] = .05f; /* hand bent outwards */
        }
        lm[4 * 5 + 3] = 0.1f; /* an eye out of view: not needed, must not matter */
        fprintf(fp, "%d,%.4f,1", i, i / 30.0);
        for (int k = 0; k < 4 * POSE_LANDMARKS; k++)
            fprintf(fp, ",%g", lm[k]);
        fputc('\n', fp);
    }
    fclose(fp);
}

Test(mtm_cli, label_fit_run_chain)
{
    const char *dir = test_tmpdir();
    char kp[512], seg[512];
    snprintf(kp, sizeof kp, "%s/k.csv", dir);
    snprintf(seg, sizeof seg, "%s/s.csv", dir);
    write_keypoints(kp);
    FILE *fp = fopen(seg, "w");
    fprintf(fp, "start_frame,end_frame,code\n0,29,R30A\n30,59,G1A\n");
    fclose(fp);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm label k.csv s.csv -o f.csv", dir), 0, "%s",
                 cmd_out);
    cr_assert(strstr(cmd_out, "60 rows written"), "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm fit f.csv -o m.tkw --classifier knn", dir), 0,
                 "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm run k.csv --model m.tkw -o - 2>err.txt | "
                       "tee ev.jsonl", dir), 0, "%s", cmd_out);
    /* Three elements: the one-frame pose at 75 is absorbed. */
    int lines = 0;
    for (char *p = cmd_out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 3, "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"code\":\"R30A\",\"tmu\":27.8"), "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"code\":\"G1A\""), "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"frames\":[60,89]"), "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"l_elbow\":90.0"), "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"neighbours\":["), "%s", cmd_out);
    cr_assert_eq(shell(dir, "cat %s/err.txt", dir), 0);
    cr_assert(strstr(cmd_out, "R30A") && strstr(cmd_out, "55.6"), "summary:\n%s", cmd_out);

    /* Bad input: a features file as the model, an unknown code, a missing option. */
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm run k.csv --model f.csv -o -", dir), 1);
    cr_assert(strstr(cmd_out, "takt: f.csv"), "%s", cmd_out);
    fp = fopen(seg, "w");
    fprintf(fp, "start_frame,end_frame,code\n0,29,R30A\n30,59,G1A?\n");
    fclose(fp);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm label k.csv s.csv -o g.csv", dir), 1);
    cr_assert(strstr(cmd_out, "segment 2") && strstr(cmd_out, "G1A?"), "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm fit f.csv -o m.tkw", dir), 2, "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && rm -f k.csv s.csv f.csv m.tkw ev.jsonl err.txt g.csv*",
                       dir), 0);
    rmdir(dir);
}

/* The first 8 frames of the squat clip (ffmpeg makes the Y4M): a KNN model fitted on the
 * clip's own keypoints (frames 0-3 R30A, 4-7 G1A), then `takt mtm run` on the video itself —
 * pose pipeline and classification frame by frame — must give exactly the events of
 * `takt pose` followed by `takt mtm run` on its CSV; the lines are valid JSON, in time order,
 * each element starting where the one before ended, and the TMU add up to the clip. */
Test(mtm_cli, video_in_equals_pose_csv_in, .timeout = 240)
{
    char rel[1024], mp4[PATH_MAX];
    if (!test_shared_path(rel, sizeof rel, "pose/video/pose_squats.mp4"))
        cr_skip_test("../shared not found (pose/video)");
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0)
        cr_skip_test("ffmpeg not installed: no Y4M of the squat video (apt-get install ffmpeg)");
    cr_assert_not_null(realpath(rel, mp4)); /* the commands run in the scratch folder */
    const char *dir = test_tmpdir();
    cr_assert_eq(shell(dir, "cd %s && ffmpeg -v error -i '%s' -frames:v 8 -f yuv4mpegpipe "
                       "sq.y4m && $TAKT pose sq.y4m --model lite -o k.csv && "
                       "printf 'start_frame,end_frame,code\\n0,3,R30A\\n4,7,G1A\\n' >s.csv && "
                       "$TAKT mtm label k.csv s.csv -o f.csv && "
                       "$TAKT mtm fit f.csv -o m.tkw --classifier knn", dir, mp4),
                 0, "%s", cmd_out);
    cr_assert(strstr(cmd_out, "8 rows written"), "every frame has its angles:\n%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm run sq.y4m --pose-model lite --model m.tkw "
                       "-o - >video.jsonl && $TAKT mtm run k.csv --model m.tkw -o csv.jsonl && "
                       "cmp video.jsonl csv.jsonl", dir),
                 0, "video and CSV events differ:\n%s", cmd_out);
    char path[600];
    snprintf(path, sizeof path, "%s/video.jsonl", dir);
    size_t size;
    char *text = test_read_file(path, &size);
    cr_assert(text && size > 0);
    cr_assert_eq(count_lines(text), 2, "%s", text);
    cr_assert(strstr(text, "\"code\":\"R30A\"") < strstr(text, "\"code\":\"G1A\""), "%s", text);
    double prev_end = 0, tmu_sum = 0, first_start = -1;
    for (char *line = text; *line; line = strchr(line, '\n') + 1) {
        double t0, t1, tmu;
        cr_assert_eq(sscanf(line, "{\"t_start\":%lf,\"t_end\":%lf,\"code\":\"%*[^\"]\",\"tmu\":%lf",
                            &t0, &t1, &tmu), 3, "%s", line);
        if (first_start < 0)
            first_start = prev_end = t0;
        cr_assert(t1 > t0, "%s", line);
        cr_assert_float_eq(t0, prev_end, 1e-9, "each element starts where the last ended");
        cr_assert_float_eq(tmu, (t1 - t0) / 0.036, 0.05, "%s", line);
        prev_end = t1;
        tmu_sum += tmu;
    }
    cr_assert_float_eq(tmu_sum * 0.036, prev_end - first_start, 0.1 * 0.036 * 2);
    free(text);
    if (system("command -v python3 >/dev/null 2>&1") == 0)
        cr_assert_eq(shell(dir, "python3 -c 'import json,sys; [json.loads(l) for l in "
                           "open(sys.argv[1])]' %s", path), 0, "not JSON lines:\n%s", cmd_out);
    shell(dir, "cd %s && rm -f sq.y4m k.csv s.csv f.csv m.tkw video.jsonl csv.jsonl", dir);
    rmdir(dir);
}

/* --cycle-start must name one of the model's codes. */
Test(mtm_cli, cycle_start_unknown_code)
{
    const char *dir = test_tmpdir();
    char kp[512], seg[512];
    snprintf(kp, sizeof kp, "%s/k.csv", dir);
    snprintf(seg, sizeof seg, "%s/s.csv", dir);
    write_keypoints(kp);
    FILE *fp = fopen(seg, "w");
    fprintf(fp, "start_frame,end_frame,code\n0,29,R30A\n30,59,G1A\n");
    fclose(fp);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm label k.csv s.csv -o f.csv && $TAKT mtm fit f.csv "
                       "-o m.tkw --classifier knn", dir), 0, "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm run k.csv --model m.tkw -o - --cycle-start M5A",
                       dir), 2, "%s", cmd_out);
    cr_assert(strstr(cmd_out, "M5A") && strstr(cmd_out, "G1A, R30A"), "%s", cmd_out);
    cr_assert_eq(shell(dir, "cd %s && $TAKT mtm run k.csv --model m.tkw -o ev.jsonl "
                       "--cycle-start G1A", dir), 0, "%s", cmd_out);
    cr_assert(strstr(cmd_out, "work cycles (each starts at G1A): 0"), "one G1A, no whole cycle:\n%s",
              cmd_out);
    shell(dir, "cd %s && rm -f k.csv s.csv f.csv m.tkw ev.jsonl", dir);
    rmdir(dir);
}

Test(mtm_cli, events_through_local_mosquitto, .timeout = 30)
{
    /* The broker is in /usr/sbin, which a non-root PATH may lack. */
    const int broker = system("command -v mosquitto >/dev/null 2>&1") == 0 ||
                       access("/usr/sbin/mosquitto", X_OK) == 0;
    const int clients = system("command -v mosquitto_pub >/dev/null 2>&1 && "
                               "command -v mosquitto_sub >/dev/null 2>&1") == 0;
    if (!broker || !clients)
        cr_skip_test("mosquitto / mosquitto-clients not installed (apt-get install mosquitto "
                     "mosquitto-clients)");
    const char *dir = test_tmpdir();
    char kp[512], seg[512];
    snprintf(kp, sizeof kp, "%s/k.csv", dir);
    snprintf(seg, sizeof seg, "%s/s.csv", dir);
    write_keypoints(kp);
    FILE *fp = fopen(seg, "w");
    fprintf(fp, "start_frame,end_frame,code\n0,29,R30A\n30,59,G1A\n");
    fclose(fp);
    /* A port from the process id, so parallel runs do not collide; the broker listens on
     * 127.0.0.1 only, with a config of its own. */
    const int port = 20000 + (int)(getpid() % 20000);
    char conf[512];
    snprintf(conf, sizeof conf, "%s/mosq.conf", dir);
    fp = fopen(conf, "w");
    fprintf(fp, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port);
    fclose(fp);
    const int rc = shell(
        dir,
        "cd %s && $TAKT mtm label k.csv s.csv -o f.csv 2>/dev/null && "
        "$TAKT mtm fit f.csv -o m.tkw --classifier knn 2>/dev/null && "
        "MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto); "
        "$MOSQ -c mosq.conf >broker.log 2>&1 & B=$!; sleep 0.5; "
        "timeout 10 mosquitto_sub -h 127.0.0.1 -p %d -t takt/test -C 3 >got.txt & S=$!; "
        "sleep 0.5; "
        "$TAKT mtm run k.csv --model m.tkw -o - 2>/dev/null | "
        "timeout 10 mosquitto_pub -h 127.0.0.1 -p %d -t takt/test -l; "
        "wait $S; R=$?; kill $B; wait $B 2>/dev/null; cat got.txt; exit $R",
        dir, port, port);
    cr_assert_eq(rc, 0, "subscriber did not get 3 messages:\n%s", cmd_out);
    int lines = 0;
    for (char *p = cmd_out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 3, "%s", cmd_out);
    cr_assert(strstr(cmd_out, "\"code\":\"G1A\""), "%s", cmd_out);
    shell(dir, "cd %s && rm -f k.csv s.csv f.csv m.tkw mosq.conf broker.log got.txt", dir);
    rmdir(dir);
}
