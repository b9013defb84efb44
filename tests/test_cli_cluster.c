/* test_cli_cluster.c — `takt cluster`, `takt tsne` and `takt eval` run as real processes
 * ($TAKT_BIN) on small data: exit codes (0 ok, 1 bad input, 2 usage), the files they write,
 * their messages, and eval's figures against scikit-learn's (tests/data/cli_cluster/, made
 * by make_golden.py there). */
#include <criterion/criterion.h>
#include <math.h>
#include <stb/stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define DATA "tests/data/cli_cluster/"

static char out[16384], err[4096];

/* `$TAKT_BIN <args>` with stdout and stderr into out and err; returns the exit code. */
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

/* The number after `key` in the output (first occurrence), NAN when absent. */
static double value_after(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* Rows of a CSV file (lines after the header). */
static int csv_rows(const char *path) {
    size_t n = 0;
    char *text = test_read_file(path, &n);
    cr_assert_not_null(text, "%s was not written", path);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    free(text);
    return lines - 1;
}

static void expect_png(const char *path, int min_w) {
    int w, h, c;
    unsigned char *rgb = stbi_load(path, &w, &h, &c, 3);
    cr_assert_not_null(rgb, "%s is not a readable PNG", path);
    cr_assert_geq(w, min_w);
    cr_assert_geq(h, 150);
    stbi_image_free(rgb);
}

TestSuite(cli_cluster, .init = test_scratch_begin, .fini = test_scratch_end);

/* ---------------------------------------------------------------- eval */

Test(cli_cluster, eval_matches_scikit_learn) {
    int code = takt("eval " DATA "pred.csv " DATA "true.csv");
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    size_t n;
    char *expected = test_read_file(DATA "expected.txt", &n);
    cr_assert_not_null(expected);
    int checked = 0;
    for (char *line = strtok(expected, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        double v[3];
        const int got = sscanf(line, "%63s %lf %lf %lf", name, &v[0], &v[1], &v[2]);
        char key[80];
        if (got == 2) {
            /* ari, nmi, accuracy: "ARI:      0.6491" */
            snprintf(key, sizeof key, "%s:", !strcmp(name, "ari")   ? "ARI"
                                              : !strcmp(name, "nmi") ? "NMI"
                                                                     : "accuracy");
            const double printed = value_after(out, key);
            cr_assert(fabs(printed - v[0]) < 6e-5, "%s: printed %g, scikit-learn %g", name,
                      printed, v[0]);
        } else {
            cr_assert_eq(got, 4, "bad expected line '%s'", line);
            /* a report row: name, precision, recall, f1 */
            snprintf(key, sizeof key, "\n%s ", !strcmp(name, "macro")      ? "macro avg"
                                              : !strcmp(name, "weighted") ? "weighted avg"
                                                                           : name);
            const char *row = strstr(out, key);
            cr_assert_not_null(row, "no report row for %s:\n%s", name, out);
            double p[3];
            cr_assert_eq(sscanf(row + strlen(key), "%lf %lf %lf", &p[0], &p[1], &p[2]), 3);
            for (int k = 0; k < 3; k++)
                cr_assert(fabs(p[k] - v[k]) < 6e-5, "%s column %d: printed %g, scikit-learn %g",
                          name, k, p[k], v[k]);
        }
        checked++;
    }
    free(expected);
    cr_assert_eq(checked, 10);
    cr_assert(strstr(out, "2 predicted labels matched no class") != NULL, "%s", out);
}

Test(cli_cluster, eval_writes_a_confusion_matrix_and_compares_unmatched) {
    const char *png = test_scratch_path("cm.png");
    int code = takt("eval " DATA "pred.csv " DATA "true.csv --confusion '%s'", png);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    expect_png(png, 600);
    /* The truth against itself, labels compared as they are: everything is perfect. */
    code = takt("eval " DATA "true.csv " DATA "true.csv --no-match");
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert_eq(value_after(out, "ARI:"), 1.0);
    cr_assert_eq(value_after(out, "accuracy:"), 1.0);
    cr_assert(strstr(out, "Hungarian") == NULL, "--no-match still matched:\n%s", out);
}

Test(cli_cluster, eval_refuses_mismatched_or_unlabelled_files) {
    const char *short_pred = test_scratch_write("short.csv", "row,label\n0,1\n1,0\n");
    int code = takt("eval '%s' " DATA "true.csv", short_pred);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "takt: ") == err && strstr(err, "2 rows") && strstr(err, "40"),
              "stderr: %s", err);
    const char *no_label = test_scratch_write("nolabel.csv", "a,b\n1,2\n");
    code = takt("eval '%s' " DATA "true.csv", no_label);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, no_label) && strstr(err, "no column 'label'"), "stderr: %s", err);
    code = takt("eval " DATA "pred.csv " DATA "true.csv --pred-col nope");
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "no column 'nope'") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("eval /nonexistent/p.csv " DATA "true.csv"), 1);
    cr_assert(strstr(err, "/nonexistent/p.csv") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("eval " DATA "pred.csv"), 2);
    cr_assert(strstr(err, "missing TRUE.csv") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("eval a b c"), 2);
    cr_assert_eq(takt("eval " DATA "pred.csv " DATA "true.csv --frobnicate"), 2);
    cr_assert_eq(takt("eval --help"), 0);
    cr_assert(strstr(out, "usage: takt eval") != NULL);
}

/* ---------------------------------------------------------------- tsne */

Test(cli_cluster, tsne_writes_the_embedding_and_a_plot) {
    const char *emb = test_scratch_path("emb.csv"), *png = test_scratch_path("tsne.png");
    int code = takt("tsne " DATA "blobs.csv -o '%s' --exact --perplexity 10 --iter 300 "
                    "--seed 3 --plot '%s'", emb, png);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert_eq(csv_rows(emb), 90);
    const double kl = value_after(out, "KL divergence");
    cr_assert(kl >= 0 && kl < 2, "KL %g:\n%s", kl, out);
    expect_png(png, 800);
    /* The same seed gives the same bytes. */
    size_t n1, n2;
    char *first = test_read_file(emb, &n1);
    code = takt("tsne " DATA "blobs.csv -o '%s' --exact --perplexity 10 --iter 300 --seed 3",
                emb);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    char *second = test_read_file(emb, &n2);
    cr_assert(n1 == n2 && !memcmp(first, second, n1), "same seed, different embedding");
    free(first);
    free(second);
}

Test(cli_cluster, tsne_refuses_bad_input) {
    const char *emb = test_scratch_path("emb.csv");
    int code = takt("tsne " DATA "blobs.csv -o '%s' --perplexity 90", emb);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "blobs.csv") && strstr(err, "perplexity 90") && strstr(err, "(90)"),
              "stderr: %s", err);
    cr_assert_neq(access(emb, F_OK), 0, "output written despite the error");
    const char *nan = test_scratch_write("nan.csv", "a,b,c\n1,2,3\n4,nan,6\n7,8,9\n");
    code = takt("tsne '%s' -o '%s' --perplexity 1", nan, emb);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "line 3, column 2 ('b')") && strstr(err, "NaN"), "stderr: %s", err);
    const char *ragged = test_scratch_write("ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    code = takt("tsne '%s' -o '%s' --perplexity 1", ragged, emb);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "line 3") && strstr(err, "2 cells"), "stderr: %s", err);
    cr_assert_eq(takt("tsne " DATA "blobs.csv"), 2);
    cr_assert(strstr(err, "missing -o") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("tsne " DATA "blobs.csv -o x.csv --perplexity lots"), 2);
    cr_assert(strstr(err, "--perplexity 'lots'") != NULL, "stderr: %s", err);
    cr_assert_eq(takt("tsne " DATA "blobs.csv -o x.csv --iter 100"), 2);
    cr_assert(strstr(err, "--iter '100'") != NULL, "stderr: %s", err);
}

/* ---------------------------------------------------------------- cluster */

/* The blobs are far apart: every method must find exactly the three labelled groups. */
Test(cli_cluster, every_method_recovers_well_separated_blobs) {
    static const char *const runs[] = {
        "--method kmeans --k 3 --seed 1",
        "--method dbscan --eps 2 --min-samples 5",
        "--method meanshift",
        "--method hierarchical --k 3 --linkage ward",
        "--method hierarchical --k 3 --linkage single",
    };
    const char *labels = test_scratch_path("labels.csv");
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        int code = takt("cluster " DATA "blobs.csv %s -o '%s'", runs[r], labels);
        cr_assert_eq(code, 0, "%s: exit %d: %s", runs[r], code, err);
        cr_assert(strstr(out, "90 rows x 3 features") != NULL, "%s:\n%s", runs[r], out);
        cr_assert_eq(csv_rows(labels), 90, "%s", runs[r]);
        code = takt("eval '%s' " DATA "blobs.csv", labels);
        cr_assert_eq(code, 0, "eval after %s: %s", runs[r], err);
        cr_assert_eq(value_after(out, "ARI:"), 1.0, "%s:\n%s", runs[r], out);
        cr_assert_eq(value_after(out, "accuracy:"), 1.0, "%s:\n%s", runs[r], out);
    }
}

Test(cli_cluster, auto_k_from_the_elbow_and_the_plots) {
    const char *labels = test_scratch_path("labels.csv");
    const char *elbow = test_scratch_path("elbow.png"), *dendro = test_scratch_path("d.png");
    int code = takt("cluster " DATA "blobs.csv --k auto --elbow '%s' -o '%s'", elbow, labels);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert(strstr(out, "knee at k = 3") && strstr(out, "k-means: k = 3"), "%s", out);
    expect_png(elbow, 800);
    code = takt("cluster " DATA "blobs.csv --k 3 --ignore f3,f1 -o '%s'", labels);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert(strstr(out, "90 rows x 1 features") != NULL, "--ignore kept columns:\n%s", out);
    code = takt("cluster " DATA "blobs.csv --method hierarchical --k 3 --dendrogram '%s' "
                "-o '%s'", dendro, labels);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    expect_png(dendro, 800);
    /* DBSCAN's eps from the knee of the k-distance curve, which is drawn. */
    const char *kdist = test_scratch_path("kdist.png");
    code = takt("cluster " DATA "blobs.csv --method dbscan --eps auto --kdist '%s' -o '%s'",
                kdist, labels);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert(strstr(out, "suggests eps") && strstr(out, ": 3 clusters"), "%s", out);
    expect_png(kdist, 800);
    code = takt("eval '%s' " DATA "blobs.csv", labels);
    cr_assert_gt(value_after(out, "ARI:"), 0.9, "%s", out);
    /* Two feature columns are drawn as they are, without t-SNE. */
    const char *flat = test_scratch_write("flat.csv", "x,y,label\n0,0,a\n0.1,0.2,a\n0.2,0.1,a\n"
                                             "5,5,b\n5.1,5.2,b\n5.2,5.1,b\n");
    const char *png = test_scratch_path("plot.png");
    code = takt("cluster '%s' --k 2 -o '%s' --plot '%s'", flat, labels, png);
    cr_assert_eq(code, 0, "exit %d: %s", code, err);
    cr_assert(strstr(err, "t-SNE") == NULL, "2-D data went through t-SNE: %s", err);
    expect_png(png, 800);
}

Test(cli_cluster, bad_data_exits_1_with_the_reason) {
    const char *labels = test_scratch_path("labels.csv");
    int code = takt("cluster " DATA "blobs.csv --k 100 -o '%s'", labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "blobs.csv") && strstr(err, "--k 100 is more than the 90 rows"),
              "stderr: %s", err);
    code = takt("cluster " DATA "blobs.csv --method hierarchical --k 91 -o '%s'", labels);
    cr_assert_eq(code, 1);
    code = takt("cluster " DATA "blobs.csv --method dbscan --eps 0 -o '%s'", labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "--eps 0") && strstr(err, "> 0"), "stderr: %s", err);
    code = takt("cluster " DATA "blobs.csv --method meanshift --bandwidth -1 -o '%s'", labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "--bandwidth -1") != NULL, "stderr: %s", err);
    const char *empty = test_scratch_write("empty.csv", "a,b,label\n");
    code = takt("cluster '%s' --k 2 -o '%s'", empty, labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, empty) && strstr(err, "empty data"), "stderr: %s", err);
    const char *inf = test_scratch_write("inf.csv", "a,b\n1,2\n3,inf\n5,6\n");
    code = takt("cluster '%s' --k 2 -o '%s'", inf, labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "line 3, column 2 ('b')") != NULL, "stderr: %s", err);
    const char *ragged = test_scratch_write("ragged.csv", "a,b\n1,2\n3,4,5\n");
    code = takt("cluster '%s' --k 2 -o '%s'", ragged, labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "line 3") && strstr(err, "more than"), "stderr: %s", err);
    code = takt("cluster " DATA "blobs.csv --k 2 --ignore nope -o '%s'", labels);
    cr_assert_eq(code, 1);
    cr_assert(strstr(err, "'nope', which is not a column") != NULL, "stderr: %s", err);
    cr_assert_neq(access(labels, F_OK), 0, "labels written despite the errors");
}

Test(cli_cluster, usage_errors_exit_2) {
    static const char *const bad[] = {
        "cluster",
        "cluster " DATA "blobs.csv --k 3",
        "cluster " DATA "blobs.csv --method kmedoids -o x.csv",
        "cluster " DATA "blobs.csv --method dbscan -o x.csv",
        "cluster " DATA "blobs.csv --method kmeans --eps 1 -o x.csv",
        "cluster " DATA "blobs.csv --method hierarchical -o x.csv",
        "cluster " DATA "blobs.csv --method hierarchical --k 3 --linkage median -o x.csv",
        "cluster " DATA "blobs.csv --method dbscan --eps 1 --elbow e.png -o x.csv",
        "cluster " DATA "blobs.csv --method kmeans --kdist k.png -o x.csv",
        "cluster " DATA "blobs.csv --method dbscan --eps wide -o x.csv",
        "cluster " DATA "blobs.csv --k three -o x.csv",
        "cluster " DATA "blobs.csv --seed -4 -o x.csv",
        "cluster " DATA "blobs.csv --frobnicate -o x.csv",
        "cluster " DATA "blobs.csv " DATA "pred.csv -o x.csv",
        "cluster " DATA "blobs.csv -o",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const int code = takt("%s", bad[i]);
        cr_assert_eq(code, 2, "'%s' exited %d: %s", bad[i], code, err);
        cr_assert(strstr(err, "takt cluster: ") == err, "'%s': %s", bad[i], err);
    }
    cr_assert_eq(takt("cluster --help"), 0);
    cr_assert(strstr(out, "--method kmeans|dbscan|meanshift|hierarchical") != NULL, "%s", out);
}
