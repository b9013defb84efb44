/* test_mtm.c — MTM-2 classification: 1-NN predictions identical to scikit-learn's on mtm6
 * (tests/data/mtm/, made by make_golden.py there), SVM and MLP accuracies beside scikit-learn's,
 * model files that reload to the same predictions and refuse what is not theirs, motion
 * elements (flicker absorbed, TMU, risks against variations), the ergonomics config, the whole
 * `takt mtm label | fit | run` chain on a synthetic skeleton, and the event stream through a
 * local mosquitto broker when Debian's mosquitto is installed. */
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

/* Frames of one code per run, angles fixed per run. */
static void fill_frames(MtmFrames *f, int n, const int *pred, const float *pose_a,
                        const float *pose_b)
{
    f->n = n;
    f->frame = malloc(sizeof(int) * n);
    f->time_s = malloc(sizeof(double) * n);
    f->angles = malloc(sizeof(float) * n * POSE_ANGLES);
    f->pred = malloc(sizeof(int) * n);
    f->neighbour = NULL;
    for (int i = 0; i < n; i++) {
        f->frame[i] = 100 + i;
        f->time_s[i] = i / 30.0;
        f->pred[i] = pred[i];
        memcpy(f->angles + i * POSE_ANGLES, pred[i] == 0 ? pose_a : pose_b,
               sizeof(float) * POSE_ANGLES);
    }
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
    MtmFrames f;
    fill_frames(&f, N, pred, a, b);
    /* Frames 0..8 of element 1 bend the left shoulder to 35: 9 of 30, a variation. */
    for (int i = 0; i < 9; i++)
        f.angles[i * POSE_ANGLES + ANGLE_L_SHOULDER] = 35;
    MtmModel m = {.n_classes = 2};
    char *names[2] = {"R30A", "G1A"};
    m.class_names = names;
    MtmErgo e = mtm_ergo_default();
    char *buf = NULL, *sbuf = NULL;
    size_t len = 0, slen = 0;
    FILE *out = open_memstream(&buf, &len), *sum = open_memstream(&sbuf, &slen);
    Status st = {0};
    cr_assert_eq(mtm_events_write(&f, &m, &e, out, sum, &st), TK_OK, "%s", st.msg);
    fclose(out), fclose(sum);
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2, "flicker made extra elements:\n%s", buf);
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
    free(f.frame), free(f.time_s), free(f.angles), free(f.pred);
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
