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
    int votes[10 * 2], label[10];
    float conf[10];
    study_vote_frames(starts, 4, 4, wl, 2, present, 10, votes, label, conf);
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
    StudyOptions o = {.input = DEMO "reach_to_grasp_p1.csv", .outdir = outdir,
                      .labels_path = DEMO "phases.csv", .method = STUDY_KMEANS, .k = 3,
                      .epochs = 1, .stride = 4, .fps = 60, .min_duration = 0.1, .seed = 1,
                      .quiet = 1};
    Status st = {0};
    cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);

    char *json = read_out("report.json");
    cr_assert(json_valid(json), "report.json is not valid JSON:\n%s", json);
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
