/* cmd_mtm.c — `takt mtm fit|compare|noise|label|run`: MTM-2 motion classification from joint
 * angles (the classifier and protocol live in mtm_model.c, mtm_mlp.c, mtm_protocol.c; the event
 * stream in mtm_events.c). This file parses options and prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omp.h>

#include "../pose/pose.h"
#include "mtm.h"

#define MTM_VERB "mtm"

static void mtm_usage(void)
{
    printf("usage: takt mtm fit FEATURES.csv -o MODEL.tkw --classifier knn|svm|mlp [--seed S]\n"
           "       takt mtm compare FEATURES.csv [--classifier C] [--json] [--seed S]\n"
           "       takt mtm noise FEATURES.csv [--classifier C] [--runs 5] [--json] [--seed S]\n"
           "       takt mtm label KEYPOINTS.csv SEGMENTS.csv -o FEATURES.csv\n"
           "       takt mtm run INPUT --model MODEL.tkw -o EVENTS.jsonl|- [options]\n\n"
           "FEATURES.csv: a 'label' column (MTM-2 code such as R30A, or a class number) and\n"
           "numeric feature columns; all classifiers work on min-max scaled features.\n"
           "compare: stratified 80/20 split, 10-fold stratified CV on the 80 %%, refit, test on\n"
           "the 20 %%. noise: Gaussian noise sigma 0..0.5 on the scaled features, weighted\n"
           "accuracy/precision/recall/F1 mean +- sd. Without --classifier: knn, svm and mlp.\n"
           "label: SEGMENTS.csv has start_frame,end_frame,code (inclusive frames); frames whose\n"
           "angles are not all visible are left out.\n"
           "run: INPUT is a keypoints CSV of `takt pose` (*.csv) or anything `takt pose` reads\n"
           "(image, folder or glob of images, Y4M file or - for stdin, raw RGB24 with --size and\n"
           "--fps), run through the pose pipeline and classified frame by frame as it arrives.\n"
           "One JSON line per motion element, written as soon as the element is over (-o -\n"
           "writes to stdout, flushed per line, e.g. | mosquitto_pub -l -t takt/mtm); the\n"
           "summary (per code, exposure per risk, per work cycle, neutral posture) goes to stderr.\n"
           "  --visibility V      joints below this visibility are not used (0.5)\n"
           "  --config FILE       ergonomic thresholds, key = value (app/ergonomics.conf.example)\n"
           "  --cycle-start CODE  a work cycle begins at each element of CODE (default: the\n"
           "                      sequence of codes that repeats back to back)\n"
           "  --pose-model M, --weights DIR, --size WxH, --fps F, --no-smooth, --threads N:\n"
           "                      as for `takt pose` (its --model is --pose-model here)\n");
}

typedef struct {
    const char *inputs[2];
    int n_inputs;
    const char *out, *model, *config, *cycle_start;
    PoseSourceOptions source; /* run on video or images */
    int kind; /* -1: all three */
    int json, runs;
    double visibility;
    uint64_t seed;
} MtmArgs;

static int parse_args(int argc, char **argv, MtmArgs *a)
{
    *a = (MtmArgs){.kind = -1, .runs = 5, .visibility = POSE_VISIBILITY_MIN,
                   .source = {.model = "full"}};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v;
        int rc, matched;
        if ((rc = pose_source_option(MTM_VERB, "--pose-model", argc, argv, &i, &a->source,
                                     &matched)) != EXIT_OK)
            return rc;
        if (matched)
            continue;
        if (!strcmp(o, "--json"))
            a->json = 1;
        else if (!strcmp(o, "-o") || !strcmp(o, "--model") || !strcmp(o, "--config")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            *(o[1] == 'o' ? &a->out : o[2] == 'm' ? &a->model : &a->config) = v;
        } else if (!strcmp(o, "--classifier")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            if ((a->kind = mtm_kind_parse(v)) < 0)
                return app_usage_error(MTM_VERB, "--classifier: '%s' is not knn, svm or mlp", v);
        } else if (!strcmp(o, "--seed")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            rc = app_parse_seed(MTM_VERB, v, &a->seed);
        } else if (!strcmp(o, "--cycle-start")) {
            if (!(a->cycle_start = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(o, "--threads")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            int threads;
            if ((rc = app_parse_int(MTM_VERB, "--threads", v, 1, 1024, &threads)) == EXIT_OK)
                omp_set_num_threads(threads);
        } else if (!strcmp(o, "--runs")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            rc = app_parse_int(MTM_VERB, "--runs", v, 1, 1000, &a->runs);
        } else if (!strcmp(o, "--visibility")) {
            if (!(v = app_option_value(MTM_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            rc = app_parse_double(MTM_VERB, "--visibility", v, &a->visibility);
        } else if (o[0] == '-' && o[1])
            return app_usage_error(MTM_VERB, "unknown option '%s'", o);
        else if (a->n_inputs < 2)
            a->inputs[a->n_inputs++] = o;
        else
            return app_usage_error(MTM_VERB, "unexpected argument '%s'", o);
        if (rc != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

static int fail_file(Status *st, const char *file)
{
    if (file && strncmp(st->msg, file, strlen(file)) != 0)
        app_status_prefix(st, file);
    return app_fail(st);
}

static int mtm_fit(const MtmArgs *a)
{
    if (a->n_inputs != 1 || !a->out || a->kind < 0)
        return app_usage_error(MTM_VERB, "fit needs FEATURES.csv, -o MODEL.tkw and --classifier");
    Status st = {0};
    MtmTable t;
    if (mtm_table_load(&t, a->inputs[0], &st))
        return app_fail(&st);
    MtmModel m;
    const double t0 = time_now();
    StatusCode rc = mtm_model_fit(&m, (MtmKind)a->kind, t.f.x, t.y, t.f.n, t.f.d, t.n_classes,
                                  t.feature_names, (const char *const *)t.class_names, a->seed,
                                  &st);
    if (!rc) {
        fprintf(stderr, "mtm fit: %s on %d rows x %d features, %d classes, %.3f s\n",
                mtm_kind_name(m.kind), t.f.n, t.f.d, t.n_classes, time_now() - t0);
        rc = mtm_model_save(&m, a->out, &st);
        mtm_model_free(&m);
    }
    mtm_table_free(&t);
    return rc ? fail_file(&st, rc == TK_EIO ? NULL : a->inputs[0]) : EXIT_OK;
}

static int mtm_compare_verb(const MtmArgs *a, int noise)
{
    if (a->n_inputs != 1)
        return app_usage_error(MTM_VERB, "%s needs FEATURES.csv", noise ? "noise" : "compare");
    Status st = {0};
    MtmTable t;
    if (mtm_table_load(&t, a->inputs[0], &st))
        return app_fail(&st);
    StatusCode rc = TK_OK;
    const int first = a->kind < 0 ? 0 : a->kind, last = a->kind < 0 ? 2 : a->kind;
    if (!a->json && !noise)
        printf("%-4s %9s %18s %9s %12s\n", "clf", "test_acc", "cv_mean +- sd", "fit_s",
               "infer_us");
    for (int k = first; !rc && k <= last; k++) {
        if (!noise) {
            MtmCompareRow r;
            Progress p;
            progress_start(&p, mtm_kind_name((MtmKind)k), 0, "folds");
            rc = mtm_compare((MtmKind)k, t.f.x, t.y, t.f.n, t.f.d, t.n_classes, a->seed, &r, &st);
            progress_end(&p, NULL);
            if (rc)
                break;
            if (a->json)
                printf("{\"classifier\":\"%s\",\"test_accuracy\":%.6f,\"cv_mean\":%.6f,"
                       "\"cv_sd\":%.6f,\"fit_s\":%.6f,\"infer_us_per_sample\":%.4f}\n",
                       mtm_kind_name((MtmKind)k), r.test_accuracy, r.cv_mean, r.cv_sd, r.fit_s,
                       r.infer_us_per_sample);
            else
                printf("%-4s %9.4f %9.4f +- %6.4f %9.3f %12.3f\n", mtm_kind_name((MtmKind)k),
                       r.test_accuracy, r.cv_mean, r.cv_sd, r.fit_s, r.infer_us_per_sample);
            continue;
        }
        MtmNoiseRow rows[11];
        Progress p;
        progress_start(&p, mtm_kind_name((MtmKind)k), 0, "runs");
        rc = mtm_noise((MtmKind)k, t.f.x, t.y, t.f.n, t.f.d, t.n_classes, a->runs, a->seed, rows,
                       &st);
        progress_end(&p, NULL);
        if (rc)
            break;
        static const char *const names[4] = {"accuracy", "precision", "recall", "f1"};
        if (!a->json)
            printf("%s\n%-6s %17s %17s %17s %17s\n", mtm_kind_name((MtmKind)k), "sigma",
                   "accuracy", "w-precision", "w-recall", "w-f1");
        for (int s = 0; s < 11; s++) {
            if (a->json) {
                printf("{\"classifier\":\"%s\",\"sigma\":%.2f", mtm_kind_name((MtmKind)k),
                       rows[s].sigma);
                for (int q = 0; q < 4; q++)
                    printf(",\"%s_mean\":%.6f,\"%s_sd\":%.6f", names[q], rows[s].mean[q],
                           names[q], rows[s].sd[q]);
                printf("}\n");
            } else {
                printf("%-6.2f", rows[s].sigma);
                for (int q = 0; q < 4; q++)
                    printf("  %7.4f +- %6.4f", rows[s].mean[q], rows[s].sd[q]);
                printf("\n");
            }
        }
    }
    mtm_table_free(&t);
    return rc ? fail_file(&st, a->inputs[0]) : EXIT_OK;
}

/* ---------------------------------------------------------------- label */

typedef struct {
    int start, end;
    char code[32];
} Segment;

static StatusCode read_segments(const char *path, Segment **out, int *count, Status *st)
{
    const char *text_cols[] = {"code", NULL};
    CsvTable t;
    StatusCode rc = csv_read(&t, path, text_cols, st);
    if (rc)
        return rc;
    const int cs = csv_column(&t, "start_frame"), ce = csv_column(&t, "end_frame");
    const int cc = csv_column(&t, "code");
    Segment *seg = malloc(sizeof(Segment) * (size_t)(t.rows > 0 ? t.rows : 1));
    if (cs < 0 || ce < 0 || cc < 0)
        rc = status_fail(st, TK_EFORMAT, "%s: needs the columns start_frame,end_frame,code", path);
    else if (!seg)
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    for (int i = 0; !rc && i < t.rows; i++) {
        const char *code = t.text[cc][i];
        seg[i].start = (int)t.data[(size_t)i * t.cols + cs];
        seg[i].end = (int)t.data[(size_t)i * t.cols + ce];
        if (!mtm_code_valid(code) || strlen(code) >= sizeof seg[i].code)
            rc = status_fail(st, TK_EFORMAT, "%s: segment %d: '%s' is not an MTM-2 code (letters "
                             "and digits, e.g. R30A)", path, i + 1, code);
        else if (seg[i].end < seg[i].start)
            rc = status_fail(st, TK_EFORMAT, "%s: segment %d: end_frame %d before start_frame %d",
                             path, i + 1, seg[i].end, seg[i].start);
        else
            snprintf(seg[i].code, sizeof seg[i].code, "%s", code);
        for (int j = 0; !rc && j < i; j++)
            if (seg[j].start <= seg[i].end && seg[i].start <= seg[j].end)
                rc = status_fail(st, TK_EFORMAT, "%s: segments %d and %d overlap", path, j + 1,
                                 i + 1);
    }
    *count = t.rows;
    csv_free(&t);
    if (rc)
        free(seg);
    else
        *out = seg;
    return rc;
}

static int mtm_label(const MtmArgs *a)
{
    if (a->n_inputs != 2 || !a->out)
        return app_usage_error(MTM_VERB, "label needs KEYPOINTS.csv SEGMENTS.csv -o FEATURES.csv");
    Status st = {0};
    MtmAngleFrames fr;
    Segment *seg = NULL;
    int n_seg = 0;
    if (mtm_keypoints_angles(a->inputs[0], (float)a->visibility, &fr, &st))
        return app_fail(&st);
    if (read_segments(a->inputs[1], &seg, &n_seg, &st)) {
        mtm_angle_frames_free(&fr);
        return app_fail(&st);
    }
    AtomicFile f;
    StatusCode rc = atomic_open(&f, a->out, &st);
    int written = 0, skipped = 0;
    if (!rc) {
        fprintf(f.fp, "frame,time_s,label");
        for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
            fprintf(f.fp, ",%s", pose_angle_name(k));
        fputc('\n', f.fp);
        for (int i = 0; i < fr.n; i++) {
            const Segment *s = NULL;
            for (int j = 0; j < n_seg && !s; j++)
                if (fr.frame[i] >= seg[j].start && fr.frame[i] <= seg[j].end)
                    s = &seg[j];
            if (!s)
                continue;
            const float *v = fr.feat + (size_t)i * POSE_ANGLE_FEATURES;
            int ok = 1;
            for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
                ok &= !isnan(v[k]);
            if (!ok) {
                skipped++;
                continue;
            }
            fprintf(f.fp, "%d,%.6f,%s", fr.frame[i], fr.time_s[i], s->code);
            for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
                fprintf(f.fp, ",%.6g", v[k]);
            fputc('\n', f.fp);
            written++;
        }
        rc = atomic_commit(&f, &st);
    }
    if (!rc)
        fprintf(stderr, "mtm label: %d rows written, %d labelled frames left out (joints not "
                "visible)\n", written, skipped);
    free(seg);
    mtm_angle_frames_free(&fr);
    return rc ? app_fail(&st) : EXIT_OK;
}

/* ---------------------------------------------------------------- run */

/* What every frame goes through: the model's features, a prediction (and for KNN the nearest
 * training row, the evidence), then the event stream. One row at a time, so a live video and
 * its keypoints CSV take the same path. */
typedef struct {
    const MtmModel *m;
    int map[POSE_ANGLE_FEATURES];
    float q[POSE_ANGLE_FEATURES], scaled[POSE_ANGLE_FEATURES];
    MtmEvents *events;
    long frames, used;
} MtmRun;

static StatusCode run_frame(MtmRun *r, int frame, double time_s, const float *feat, Status *st)
{
    const MtmModel *m = r->m;
    int ok = 1, pred = -1, neighbour = -1;
    for (int j = 0; j < m->d; j++)
        ok &= !isnan(r->q[j] = feat[r->map[j]]);
    StatusCode rc = TK_OK;
    if (ok)
        rc = mtm_model_predict(m, r->q, 1, r->scaled, &pred, NULL, st);
    if (!rc && ok && m->kind == MTM_KNN)
        rc = knn_kneighbors(&m->knn, r->scaled, 1, &neighbour, NULL, st);
    r->frames++;
    r->used += ok;
    return rc ? rc : mtm_events_push(r->events, frame, time_s, feat, pred, neighbour, st);
}

static int has_csv_suffix(const char *path)
{
    const size_t n = strlen(path);
    return n > 4 && !strcasecmp(path + n - 4, ".csv");
}

static StatusCode run_keypoints_csv(const MtmArgs *a, MtmRun *r, Status *st)
{
    MtmAngleFrames fr;
    StatusCode rc = mtm_keypoints_angles(a->inputs[0], (float)a->visibility, &fr, st);
    for (int i = 0; !rc && i < fr.n; i++)
        rc = run_frame(r, fr.frame[i], fr.time_s[i], fr.feat + (size_t)i * POSE_ANGLE_FEATURES,
                       st);
    mtm_angle_frames_free(&fr);
    return rc;
}

/* Video or images through the pose pipeline, classified frame by frame as they arrive. */
static StatusCode run_video(const MtmArgs *a, MtmRun *r, Status *st)
{
    PoseSource *src;
    StatusCode rc = pose_source_open(&src, a->inputs[0], &a->source, st);
    if (rc)
        return rc;
    const long total = video_frame_count(pose_source_video(src));
    Progress progress;
    progress_start(&progress, "mtm run", total > 0 ? (double)total : 0.0, "frames");
    long bad = 0;
    for (;;) {
        VideoRead what;
        PoseSourceFrame f;
        if ((rc = pose_source_next(src, &f, &what, st)) != TK_OK || what == VIDEO_END)
            break;
        if (what == VIDEO_BAD_FRAME) {
            bad++;
            fprintf(stderr, "%stakt: warning: %s\n", progress.tty ? "\r\033[K" : "", st->msg);
            continue;
        }
        float feat[POSE_ANGLE_FEATURES];
        mtm_pose_features(&f.pose, (float)a->visibility, feat);
        if ((rc = run_frame(r, (int)f.index, mtm_as_in_csv(f.time_s), feat, st)) != TK_OK)
            break;
        progress_update(&progress, (double)(r->frames + bad), NULL);
    }
    char note[64];
    snprintf(note, sizeof note, "%ld frames, %ld bad", r->frames, bad);
    progress_end(&progress, note);
    pose_source_close(src);
    return rc;
}

static int mtm_run(const MtmArgs *a)
{
    if (a->n_inputs != 1 || !a->model || !a->out)
        return app_usage_error(MTM_VERB, "run needs INPUT (video, images or keypoints CSV), "
                               "--model MODEL.tkw and -o FILE|-");
    Status st = {0};
    MtmErgo ergo = mtm_ergo_default();
    if (a->config && mtm_ergo_load(&ergo, a->config, &st))
        return app_fail(&st);
    MtmModel m;
    if (mtm_model_load(&m, a->model, &st))
        return app_fail(&st);
    MtmRun r = {.m = &m};
    int cycle_start = -1;
    if (a->cycle_start) {
        for (int c = 0; c < m.n_classes; c++)
            if (!strcmp(m.class_names[c], a->cycle_start))
                cycle_start = c;
        if (cycle_start < 0) {
            char codes[512] = "";
            for (int c = 0; c < m.n_classes && strlen(codes) < 400; c++)
                snprintf(codes + strlen(codes), sizeof codes - strlen(codes), "%s%s",
                         c ? ", " : "", m.class_names[c]);
            mtm_model_free(&m);
            return app_usage_error(MTM_VERB, "--cycle-start '%s': not a code of %s (its codes: "
                                   "%s)", a->cycle_start, a->model, codes);
        }
    }
    StatusCode rc = TK_OK;
    if (m.d > POSE_ANGLE_FEATURES)
        rc = status_fail(&st, TK_EINVAL, "%s: the model has %d features; joint angles give at "
                         "most %d", a->model, m.d, POSE_ANGLE_FEATURES);
    if (!rc)
        rc = mtm_feature_map(&m, a->model, r.map, &st);
    FILE *out = NULL;
    AtomicFile af;
    const int to_stdout = !strcmp(a->out, "-");
    if (!rc) {
        if (to_stdout)
            out = stdout;
        else if (!(rc = atomic_open(&af, a->out, &st)))
            out = af.fp;
    }
    if (!rc && !(rc = mtm_events_new(&r.events, &m, &ergo, out, &st))) {
        rc = has_csv_suffix(a->inputs[0]) ? run_keypoints_csv(a, &r, &st) : run_video(a, &r, &st);
        if (!rc)
            rc = mtm_events_finish(r.events, &st);
    }
    if (out && !to_stdout) {
        if (rc)
            atomic_abort(&af);
        else
            rc = atomic_commit(&af, &st);
    }
    if (!rc) {
        fprintf(stderr, "mtm run: %ld frames, %ld with every feature the model needs\n",
                r.frames, r.used);
        rc = mtm_events_summary(r.events, cycle_start, stderr, &st);
    }
    mtm_events_free(r.events);
    mtm_model_free(&m);
    return rc ? app_fail(&st) : EXIT_OK;
}

int cmd_mtm(int argc, char **argv)
{
    argc--, argv++; /* argv[0] is the verb itself; the subcommand comes next */
    if (argc < 1 || app_wants_help(argc, argv)) {
        mtm_usage();
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    MtmArgs a;
    const int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc;
    const char *sub = argv[0];
    if (!strcmp(sub, "fit"))
        return mtm_fit(&a);
    if (!strcmp(sub, "compare"))
        return mtm_compare_verb(&a, 0);
    if (!strcmp(sub, "noise"))
        return mtm_compare_verb(&a, 1);
    if (!strcmp(sub, "label"))
        return mtm_label(&a);
    if (!strcmp(sub, "run"))
        return mtm_run(&a);
    return app_usage_error(MTM_VERB, "unknown subcommand '%s' (fit, compare, noise, label, run)",
                           sub);
}
