/* test_study.c — `takt study` end to end on the bundled reach-to-grasp sample (report exists,
 * is valid JSON with the documented fields, segment durations add up to the recording, the
 * PNGs decode), the stages on hand-made cases (votes, segments, cycle), and bad input leaving
 * nothing behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stb/stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../app/study.h"
#include "testutil.h"

#define DEMO "tests/data/demo/"
#define DEMO_FRAMES 3291 /* rows of reach_to_grasp_p1.csv */

/* ---------------------------------------------------------------- a tiny JSON checker */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Parses one JSON value (RFC 8259 grammar); returns the position after it or NULL. */
static const char *json_value(const char *p, int depth);

static const char *json_string_end(const char *p)
{
    if (*p != '"')
        return NULL;
    for (p++; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *json_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    p = skip_ws(p);
    if (*p == '{' || *p == '[') {
        const char close = *p == '{' ? '}' : ']';
        const int object = *p == '{';
        p = skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (object) {
                p = json_string_end(skip_ws(p));
                if (!p)
                    return NULL;
                p = skip_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = json_value(p, depth + 1);
            if (!p)
                return NULL;
            p = skip_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return json_string_end(p);
    if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    /* A number: strtod also takes nan, inf and hex, which JSON does not. */
    if (*p != '-' && (*p < '0' || *p > '9'))
        return NULL;
    char *end;
    strtod(p, &end);
    for (const char *q = p; q < end; q++)
        if (!strchr("0123456789+-.eE", *q))
            return NULL;
    return end == p ? NULL : end;
}

static int json_valid(const char *text)
{
    const char *end = json_value(text, 0);
    return end && *skip_ws(end) == '\0';
}

/* The number after "key": (first occurrence after `after`, when given); NAN when absent. */
static double json_number_after(const char *text, const char *after, const char *key)
{
    const char *p = after ? strstr(text, after) : text;
    if (!p)
        return NAN;
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    p = strstr(p, pattern);
    return p ? strtod(p + strlen(pattern), NULL) : NAN;
}

Test(study_json_checker, accepts_json_and_refuses_broken_text)
{
    cr_assert(json_valid("{\"a\": [1, 2.5e-3, -4], \"b\": {\"c\": null, \"d\": \"x\\\"y\"}}"));
    cr_assert(!json_valid("{\"a\": [1, 2,]}"));
    cr_assert(!json_valid("{\"a\": nan}"));
    cr_assert(!json_valid("{\"a\": 1"));
    cr_assert(!json_valid("{\"a\": 1} x"));
}

/* ---------------------------------------------------------------- stages */

Test(study_stages, votes_pick_the_majority_and_absent_frames_stay_absent)
{
    /* Windows of 4 frames starting every 2: labels 0 0 1 1 over 10 frames. */
    const int starts[] = {0, 2, 4, 6}, wl[] = {0, 0, 1, 1};
    unsigned char present[10];
    memset(present, 1, sizeof present);
    present[9] = 0;
    int votes[10 * 2], label[10], seq[10] = {0};
    float conf[10];
    const Keypoints fr = {.n_frames = 10, .seq = seq, .present = present};
    study_vote_frames(starts, 4, 4, wl, 2, &fr, votes, label, conf);
    /* frames 4 and 5 get one vote each way: the tie goes to the lower label */
    const int want[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, -1};
    for (int f = 0; f < 10; f++)
        cr_expect_eq(label[f], want[f], "frame %d: %d, want %d", f, label[f], want[f]);
    cr_expect_float_eq(conf[4], 0.5f, 1e-6, "frame 4 is voted 0 once and 1 once");
    cr_expect_float_eq(conf[0], 1.0f, 1e-6);
}

Test(study_stages, short_runs_join_a_neighbour_and_frames_follow)
{
    /* 0 x5, 1 x1 (flicker), 0 x4, 2 x6 */
    int label[16] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2};
    float conf[16];
    for (int i = 0; i < 16; i++)
        conf[i] = 1.0f;
    StudySegment *s;
    int n;
    Status st = {0};
    cr_assert_eq(study_segments(label, conf, 16, 3, &s, &n, &st), TK_OK);
    cr_assert_eq(n, 2, "%d segments", n);
    cr_expect_eq(s[0].start, 0);
    cr_expect_eq(s[0].end, 10);
    cr_expect_eq(s[0].label, 0);
    cr_expect_eq(s[1].start, 10);
    cr_expect_eq(s[1].end, 16);
    cr_expect_eq(label[5], 0, "the flicker frame takes its segment's label");
    free(s);
}

/* A trailing partial cycle must not make "0 1 2 0 1" (two non-overlapping copies, 10 labels)
 * beat "0 1 2" (three, 9 labels): a pattern whose end repeats its start cannot follow itself. */
Test(study_stages, a_partial_last_cycle_does_not_lengthen_the_pattern)
{
    const int seq[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1};
    int pattern[STUDY_MAX_CYCLE], starts[11], count = 0;
    cr_assert_eq(study_cycle_pattern(seq, 11, pattern, starts, &count), 3);
    cr_expect_eq(pattern[0], 0);
    cr_expect_eq(pattern[1], 1);
    cr_expect_eq(pattern[2], 2);
    cr_expect_eq(count, 3);
    cr_expect_eq(starts[2], 6);
    /* a stray label between two cycles is stepped over, and so is an absent gap (-1) */
    const int noisy[] = {0, 1, 2, 3, 0, 1, 2, -1, 0, 1, 2};
    cr_assert_eq(study_cycle_pattern(noisy, 11, pattern, starts, &count), 3);
    cr_expect_eq(count, 3);
    cr_expect_eq(starts[1], 4);
    cr_expect_eq(starts[2], 8);
}

Test(study_stages, the_cycle_is_the_repeating_sequence)
{
    /* a b c a b c a b c d, one frame each at dt 0.5 except c which lasts 2 frames */
    const int seq[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 3};
    StudySegment s[10];
    int at = 0;
    for (int i = 0; i < 10; i++) {
        const int len = seq[i] == 2 ? 2 : 1;
        s[i] = (StudySegment){at, at + len, seq[i], 1.0};
        at += len;
    }
    StudyCycle c;
    study_find_cycle(s, 10, 0.5, &c);
    cr_assert_eq(c.length, 3);
    cr_expect_eq(c.pattern[0], 0);
    cr_expect_eq(c.pattern[1], 1);
    cr_expect_eq(c.pattern[2], 2);
    cr_expect_eq(c.count, 3);
    cr_expect_float_eq(c.mean, 2.0, 1e-9, "4 frames of 0.5 s per cycle");
    StudyActionStats a[4];
    double absent;
    study_action_stats(s, 10, 4, 0.5, at, a, &absent);
    cr_expect_eq(a[2].occurrences, 3);
    cr_expect_float_eq(a[2].total, 3.0, 1e-9);
    cr_expect_float_eq(a[3].share, 0.5 / (at * 0.5), 1e-9);
    cr_expect_float_eq(absent, 0.0, 1e-12);
}

/* ---------------------------------------------------------------- end to end */

static char outdir[512];

static void make_outdir(void)
{
    const char *tmp = test_tmpdir();
    cr_assert_not_null(tmp);
    snprintf(outdir, sizeof outdir, "%s/study", tmp);
}

static void remove_outdir(void)
{
    DIR *d = opendir(outdir);
    if (d) {
        struct dirent *e;
        char path[1024];
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(path, sizeof path, "%s/%s", outdir, e->d_name);
                unlink(path);
            }
        closedir(d);
        rmdir(outdir);
    }
}

static int files_in_outdir(void)
{
    DIR *d = opendir(outdir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *read_out(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    size_t n;
    char *text = test_read_file(path, &n);
    cr_assert_not_null(text, "%s was not written", path);
    char *z = realloc(text, n + 1);
    cr_assert_not_null(z);
    z[n] = 0;
    return z;
}

static void expect_png(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    int w, h, c;
    unsigned char *rgb = stbi_load(path, &w, &h, &c, 3);
    cr_assert_not_null(rgb, "%s does not decode", path);
    cr_expect_geq(w, 200);
    cr_expect_geq(h, 100);
    stbi_image_free(rgb);
}

TestSuite(study, .init = make_outdir, .fini = remove_outdir, .timeout = 300);

Test(study, demo_sample_end_to_end)
{
    char names[600];
    snprintf(names, sizeof names, "%s.names.txt", outdir);
    FILE *nf = fopen(names, "w");
    cr_assert_not_null(nf);
    fputs("rest\nreach\nmove\n", nf);
    fclose(nf);
    StudyOptions o = {.input = DEMO "reach_to_grasp_p1.csv", .outdir = outdir,
                      .labels_path = DEMO "phases.csv", .names_path = names,
                      .method = STUDY_KMEANS, .k = 3, .epochs = 1, .stride = 4, .fps = 60,
                      .min_duration = 0.1, .seed = 1, .quiet = 1};
    Status st = {0};
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);

    char *json = read_out("report.json");
    cr_assert(json_valid(json), "report.json is not valid JSON:\n%s", json);
    /* The names file is an input like the others: its sha256 as coreutils computes it. */
    char command[700], sha[65] = "";
    snprintf(command, sizeof command, "sha256sum '%s'", names);
    FILE *ps = popen(command, "r");
    cr_assert_not_null(ps);
    cr_assert_eq(fscanf(ps, "%64s", sha), 1);
    pclose(ps);
    unlink(names);
    const char *entry = strstr(json, "\"names\": {");
    cr_assert_not_null(entry, "report.json lacks the names input");
    cr_expect_not_null(strstr(entry, sha), "report.json lacks the names' sha256 %s", sha);
    static const char *const keys[] = {
        "\"inputs\"", "\"sha256\"", "\"parameters\"", "\"seed\"", "\"takt_version\"",
        "\"actions\"", "\"occurrences\"", "\"total_s\"", "\"mean_s\"", "\"median_s\"",
        "\"min_s\"", "\"max_s\"", "\"stdev_s\"", "\"share\"", "\"cycle\"", "\"absent_s\"",
        "\"evaluation\"", "\"accuracy\"", "\"ari\"", "\"nmi\"", "\"baselines\"",
        "\"raw_kmeans\"", "\"pca_kmeans\"", "\"per_class\"", "\"unseen_protocol\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect_not_null(strstr(json, keys[i]), "report.json lacks %s", keys[i]);
    const double acc = json_number_after(json, "\"evaluation\"", "accuracy");
    const double raw = json_number_after(json, "\"raw_kmeans\"", "accuracy");
    const double pca = json_number_after(json, "\"pca_kmeans\"", "accuracy");
    /* Three phases of unequal length: chance (the largest class) is about 0.6. */
    cr_expect(acc > 0.6 && acc <= 1.0, "accuracy %g", acc);
    cr_expect(raw > 0.3 && raw <= 1.0 && pca > 0.3 && pca <= 1.0, "baselines %g %g", raw, pca);
    /* The shares of the actions and the absent time make up the recording. */
    double share = 0;
    for (const char *p = strstr(json, "\"share\": "); p; p = strstr(p + 1, "\"share\": "))
        share += strtod(p + 9, NULL);
    cr_expect_float_eq(share, 1.0, 1e-4, "shares sum to %g", share);
    free(json);

    /* segments.csv: contiguous, and the durations add up to the recording's length. */
    char *csv = read_out("segments.csv");
    cr_assert(!strncmp(csv, "start,end,duration,action,confidence\n", 37));
    double total = 0, last_end = 0;
    int rows = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double s, e, d;
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf,", &s, &e, &d), 3, "bad row: %.40s", line);
        cr_expect_float_eq(s, last_end, 1e-3, "segment %d starts at %g, not %g", rows, s,
                           last_end);
        cr_expect_float_eq(d, e - s, 1e-3);
        total += d;
        last_end = e;
        rows++;
    }
    cr_expect_geq(rows, 12, "12 movements give at least 12 segments (%d)", rows);
    cr_expect_float_eq(total, DEMO_FRAMES / 60.0, 1e-2, "durations sum to %g s", total);
    free(csv);

    static const char *const pngs[] = {"timeline.png", "tsne.png", "elbow.png", "loss.png",
                                       "strips.png", "confusion.png"};
    for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++)
        expect_png(pngs[i]);
}

static const char *write_case(const char *name, const char *header, int rows, int pose)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s.%s", outdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n", header);
    for (int r = 0; r < rows; r++) {
        if (pose >= 0)
            fprintf(f, "%d,%.4f,%d,0.5,0.5,0,1\n", r, r / 30.0, pose);
        else
            fprintf(f, "%d,%d\n", r, r);
    }
    fclose(f);
    return path;
}

static void expect_refused(const char *input, const char *words)
{
    StudyOptions o = {.input = input, .outdir = outdir, .method = STUDY_KMEANS, .k = 2,
                      .epochs = 1, .min_duration = 0.1, .quiet = 1};
    Status st = {0};
    cr_expect_neq(study_run(&o, &st), TK_OK);
    cr_expect_not_null(strstr(st.msg, words), "message '%s' lacks '%s'", st.msg, words);
    cr_expect_eq(files_in_outdir(), 0, "something was written to %s", outdir);
    unlink(input);
}

Test(study, bad_input_is_refused_and_leaves_nothing)
{
    expect_refused(write_case("short.csv", "frame,time_s,pose,x0,y0,z0,v0", 39, 1),
                   "fewer than one window");
    expect_refused(write_case("nobody.csv", "frame,time_s,pose,x0,y0,z0,v0", 100, 0),
                   "nobody is in view");
    expect_refused(write_case("other.csv", "a,b", 100, -1), "line 1");
}

/* ---------------------------------------------------------------- frames on disk */

TestSuite(study_frames, .init = make_outdir, .fini = remove_outdir, .timeout = 60);

Test(study_frames, spool_reads_back_what_keypoints_read_holds)
{
    Status st = {0};
    Keypoints k;
    StudyFrames f;
    cr_assert_eq(keypoints_read(&k, DEMO "reach_to_grasp_p1.csv", 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(study_frames_open(&f, DEMO "reach_to_grasp_p1.csv", 0, &st), TK_OK, "%s",
                 st.msg);
    const int n = k.n_frames, F = k.n_features;
    cr_assert_eq(f.meta.n_frames, n);
    cr_assert_eq(f.meta.n_features, F);
    cr_assert_null(f.meta.x, "the coordinates stay on disk");
    cr_expect_eq(memcmp(f.meta.frame, k.frame, sizeof(int) * n), 0);
    cr_expect_eq(memcmp(f.meta.seq, k.seq, sizeof(int) * n), 0);
    cr_expect_eq(memcmp(f.meta.present, k.present, (size_t)n), 0);
    /* Rows from the middle, as read and scaled with the scaling fitted on the first 70 %. */
    MinMax whole, chunked;
    cr_assert_eq(minmax_fit(&whole, &k, 0, n * 7 / 10, &st), TK_OK);
    cr_assert_eq(study_frames_minmax(&f, 0, n * 7 / 10, &chunked, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(memcmp(whole.min, chunked.min, sizeof(float) * F), 0);
    cr_expect_eq(memcmp(whole.max, chunked.max, sizeof(float) * F), 0);
    const int first = 1234, count = 100;
    float *rows = malloc(sizeof(float) * count * F);
    cr_assert_eq(study_frames_rows(&f, first, count, NULL, rows, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(memcmp(rows, k.x + (size_t)first * F, sizeof(float) * count * F), 0);
    cr_assert_eq(study_frames_rows(&f, first, count, &whole, rows, &st), TK_OK, "%s", st.msg);
    minmax_apply(&whole, &k);
    cr_expect_eq(memcmp(rows, k.x + (size_t)first * F, sizeof(float) * count * F), 0,
                 "scaled on reading = scaled in memory");
    cr_expect_neq(study_frames_rows(&f, n - 10, 20, NULL, rows, &st), TK_OK,
                  "rows past the end are refused");
    free(rows);
    minmax_free(&whole);
    minmax_free(&chunked);
    keypoints_free(&k);
    study_frames_close(&f);
}

/* Index of the input row where the block of `len` sample rows at `at` starts, or -1. */
static int find_block(const Keypoints *k, const Keypoints *s, int at, int len)
{
    const int F = k->n_features;
    for (int q = 0; q + len <= k->n_frames; q++)
        if (k->frame[q] == s->frame[at] &&
            !memcmp(k->x + (size_t)q * F, s->x + (size_t)at * F, sizeof(float) * len * F))
            return q;
    return -1;
}

Test(study_frames, the_training_sample_is_blocks_of_the_input_on_the_split)
{
    Status st = {0};
    Keypoints k, s, again;
    StudyFrames f;
    cr_assert_eq(keypoints_read(&k, DEMO "reach_to_grasp_p1.csv", 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(study_frames_open(&f, DEMO "reach_to_grasp_p1.csv", 0, &st), TK_OK, "%s",
                 st.msg);
    StudySample plan;
    study_sample_plan(k.n_frames, 140, 40, 1, &plan);
    cr_assert(plan.sampled, "3291 frames hold more than 140 windows");
    cr_expect_eq(plan.block_len, 40 + 20 - 1, "140 / 7 = 20 windows per block");
    cr_expect_eq(plan.train_blocks, 7 * plan.val_blocks);
    cr_expect_eq(plan.frames, 10 * plan.val_blocks * plan.block_len);
    cr_expect_eq(plan.windows_per_block, 20);
    cr_expect_leq(plan.train_blocks * plan.windows_per_block, 140,
                  "the training windows stay within the cap");
    study_sample_plan(k.n_frames, 20000, 40, 1, &plan);
    cr_expect(!plan.sampled, "a short input trains whole");
    /* A coarse stride reads the same frames into fewer windows: memory does not follow it. */
    StudySample coarse;
    study_sample_plan(200000, 20000, 40, 1, &plan);
    study_sample_plan(200000, 20000, 40, 40, &coarse);
    cr_expect(plan.sampled && coarse.sampled);
    cr_expect_eq(coarse.frames, plan.frames, "%d frames at stride 40, %d at stride 1",
                 coarse.frames, plan.frames);
    cr_expect_eq(coarse.windows_per_block, 200 / 40 + 1);

    study_sample_plan(k.n_frames, 140, 40, 1, &plan);
    cr_assert_eq(study_frames_sample(&f, &plan, 7, &s, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n_frames, plan.frames);
    int a, b;
    split_70_10_20(k.n_frames, &a, &b);
    const int L = plan.block_len, blocks = plan.train_blocks + plan.val_blocks;
    for (int i = 0; i < blocks; i++) {
        const int q = find_block(&k, &s, i * L, L);
        cr_assert_geq(q, 0, "block %d is not a run of input frames", i);
        if (i < plan.train_blocks)
            cr_expect_leq(q + L, a, "training block %d reaches past the training part", i);
        else
            cr_expect(q >= a && q + L <= b, "validation block %d outside [%d, %d)", i, a, b);
        if (i)
            cr_expect_neq(s.seq[i * L], s.seq[i * L - 1], "blocks %d and %d share a sequence",
                          i - 1, i);
    }
    for (int r = blocks * L; r < s.n_frames; r++)
        cr_assert_eq(s.present[r], 0, "the split's test part is empty frames");
    /* Seeded: the same seed draws the same blocks. */
    cr_assert_eq(study_frames_sample(&f, &plan, 7, &again, &st), TK_OK, "%s", st.msg);
    cr_expect_eq(memcmp(s.x, again.x, sizeof(float) * s.n_frames * s.n_features), 0);
    keypoints_free(&again);
    keypoints_free(&s);
    keypoints_free(&k);
    study_frames_close(&f);
}

/* A keypoints CSV of `frames` frames whose `joints` joints stand still on a circle, joint 33
 * and beyond on joint 0 (so that they add no pixel of their own). */
static const char *write_still_pose(const char *name, int joints, int frames)
{
    static char path[2][600];
    char *p = path[joints & 1];
    snprintf(p, sizeof path[0], "%s.%s", outdir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("frame,time_s,pose", f);
    for (int j = 0; j < joints; j++)
        fprintf(f, ",x%d,y%d,z%d,v%d", j, j, j, j);
    fputc('\n', f);
    for (int r = 0; r < frames; r++) {
        fprintf(f, "%d,%.4f,1", r, r / 30.0);
        for (int j = 0; j < joints; j++) {
            const double a = 2 * M_PI * (j < 33 ? j : 0) / 33;
            fprintf(f, ",%.4f,%.4f,0,1", 0.5 + 0.3 * cos(a), 0.5 + 0.3 * sin(a));
        }
        fputc('\n', f);
    }
    fclose(f);
    return p;
}

/* Pixels of the strips PNG of one window of path's frames (read back into *rgb). */
static unsigned char *render_strips(const char *path, const char *png, int *w, int *h)
{
    Status st = {0};
    StudyFrames f;
    cr_assert_eq(study_frames_open(&f, path, 0, &st), TK_OK, "%s", st.msg);
    MinMax identity;
    cr_assert_eq(minmax_alloc(&identity, f.meta.n_features, &st), TK_OK);
    minmax_finish(&identity, 0);
    const float z[1] = {0};
    const int starts[1] = {0}, label[1] = {0};
    const char *const names[1] = {"still"};
    cr_assert_eq(study_strips(png, &f, &identity, 3, z, 1, starts, 1, 40, label, 1, names, &st),
                 TK_OK, "%s", st.msg);
    minmax_free(&identity);
    study_frames_close(&f);
    int c;
    unsigned char *rgb = stbi_load(png, w, h, &c, 3);
    cr_assert_not_null(rgb, "%s does not decode", png);
    unlink(png);
    unlink(path);
    return rgb;
}

Test(study_frames, strips_join_mediapipe_landmarks_by_its_bones)
{
    int w33, h33, w34, h34;
    char png33[600], png34[600];
    snprintf(png33, sizeof png33, "%s.33.png", outdir);
    snprintf(png34, sizeof png34, "%s.34.png", outdir);
    unsigned char *a = render_strips(write_still_pose("33.csv", 33, 40), png33, &w33, &h33);
    unsigned char *b = render_strips(write_still_pose("34.csv", 34, 40), png34, &w34, &h34);
    cr_assert(w33 == w34 && h33 == h34);
    /* The same points either way; only MediaPipe's 33-landmark layout gets the bones. */
    long differ = 0;
    for (long i = 0; i < (long)w33 * h33; i++)
        differ += memcmp(a + 3 * i, b + 3 * i, 3) != 0;
    cr_expect_gt(differ, 8 * 300, "%ld pixels differ: the bones of 8 poses are missing", differ);
    free(a);
    free(b);
}
