/* test_study_idec.c — `takt study --refine idec` end to end on the first 400 frames of the
 * bundled sample: it runs, reports its parameters and outcome, and gives the same bytes for
 * the same seed (report, segments, model); what it cannot combine with is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/study.h"
#include "testutil.h"

#define DEMO "tests/data/demo/"
#define FRAMES 400

TestSuite(study_idec, .init = test_scratch_begin, .fini = test_scratch_end, .timeout = 300);

/* The first `rows` data rows of a CSV (and its header) into the scratch directory. */
static const char *head_of(const char *path, const char *name, int rows)
{
    FILE *in = fopen(path, "r");
    cr_assert_not_null(in, "%s", path);
    const char *out_path = test_scratch_path(name);
    FILE *out = fopen(out_path, "w");
    cr_assert_not_null(out);
    char line[8192];
    for (int i = 0; i <= rows && fgets(line, sizeof line, in); i++)
        fputs(line, out);
    fclose(in);
    fclose(out);
    return out_path;
}

static char *read_whole(const char *dir, const char *name, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = test_read_file(path, size);
    cr_assert_not_null(text, "%s missing", path);
    return text;
}

static StudyOptions options(const char *input, const char *labels, const char *outdir)
{
    return (StudyOptions){.input = input, .outdir = outdir, .labels_path = labels,
                          .method = STUDY_KMEANS, .k = 3, .epochs = 1, .stride = 3, .fps = 60,
                          .min_duration = 0.1, .seed = 7, .quiet = 1, .refine_idec = 1,
                          .idec_steps = 30};
}

Test(study_idec, runs_end_to_end_and_is_bit_identical_for_a_seed)
{
    const char *input = head_of(DEMO "reach_to_grasp_p1.csv", "in.csv", FRAMES);
    const char *labels = head_of(DEMO "phases.csv", "phases.csv", FRAMES);
    const char *dirs[2] = {test_scratch_path("a"), test_scratch_path("b")};
    for (int run = 0; run < 2; run++) {
        StudyOptions o = options(input, labels, dirs[run]);
        Status st = {0};
        cr_assert_eq(study_run(&o, &st), TK_OK, "%s", st.msg);
    }
    static const char *const files[] = {"report.json", "segments.csv", "model.tkw"};
    for (int i = 0; i < 3; i++) {
        size_t na, nb;
        char *a = read_whole(dirs[0], files[i], &na), *b = read_whole(dirs[1], files[i], &nb);
        cr_expect(na == nb && !memcmp(a, b, na), "%s differs between two runs of one seed",
                  files[i]);
        free(a);
        free(b);
    }
    size_t n;
    char *json = read_whole(dirs[0], "report.json", &n);
    static const char *const keys[] = {"\"refine\": \"idec\"", "\"idec\": {\"gamma\": 0.1",
                                       "\"max_steps\": 30", "\"refine\": {\"windows\": ",
                                       "\"target_updates\": ", "\"refined_kmeans\": {\"accuracy\"",
                                       "\"unrefined\": {\"accuracy\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect_not_null(strstr(json, keys[i]), "report.json lacks %s", keys[i]);
    const char *steps = strstr(json, "\"steps\": ");
    cr_assert_not_null(steps);
    const int s = atoi(steps + 9);
    cr_expect(s >= 1 && s <= 30, "%d refinement steps, asked for 30 at most", s);
    free(json);
}

Test(study_idec, refuses_a_reused_model_and_other_methods)
{
    const char *input = head_of(DEMO "reach_to_grasp_p1.csv", "in.csv", 100);
    StudyOptions o = options(input, NULL, test_scratch_path("out"));
    o.ae_path = "model.tkw";
    Status st = {0};
    cr_expect_eq(study_run(&o, &st), TK_EINVAL);
    cr_expect_not_null(strstr(st.msg, "--ae"), "%s", st.msg);
    o.ae_path = NULL;
    o.method = STUDY_DBSCAN;
    cr_expect_eq(study_run(&o, &st), TK_EINVAL);
    cr_expect_not_null(strstr(st.msg, "dbscan"), "%s", st.msg);
    char out[4096], err[4096];
    cr_expect_eq(test_run_takt(out, sizeof out, err, sizeof err, "study %s -o %s --gamma 0.5",
                               input, test_scratch_path("cli")),
                 2);
    cr_expect_not_null(strstr(err, "--refine idec"), "%s", err);
    cr_expect_eq(test_run_takt(out, sizeof out, err, sizeof err, "study %s -o %s --refine dec",
                               input, test_scratch_path("cli")),
                 2);
}
