/* test_dbscan.c — DBSCAN against scikit-learn 1.2.1: labels (numbering included) and core
 * points on the committed blobs-plus-noise set at two settings, the anchor's ARI on the shared
 * blobs32 sets, thread-count independence, the k-distance curve against brute force. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster/"
#define ND 330

static void check_golden(double eps, int min_samples, const char *labels_file,
                         const char *core_file)
{
    float *x = test_read_f32(G "dbscan_x.bin", ND * 5);
    int *want = test_read_i32(labels_file, ND);
    int *want_core = test_read_i32(core_file, ND);
    cr_assert(x && want && want_core, "golden files missing");
    int labels[ND], clusters;
    unsigned char core[ND];
    DbscanParams p = {eps, min_samples};
    Status st = {0};
    cr_assert_eq(dbscan_fit(x, ND, 5, &p, labels, &clusters, core, &st), TK_OK, "%s", st.msg);
    int top = -1;
    for (int i = 0; i < ND; i++) {
        cr_assert_eq(core[i], want_core[i], "row %d core", i);
        cr_assert_eq(labels[i], want[i], "row %d: label %d, sklearn %d", i, labels[i], want[i]);
        top = want[i] > top ? want[i] : top;
    }
    cr_assert_eq(clusters, top + 1);
    free(x);
    free(want);
    free(want_core);
}

Test(dbscan, matches_sklearn_eps1_5)
{
    check_golden(1.5, 5, G "dbscan_1.5_5_labels.bin", G "dbscan_1.5_5_core.bin");
}

Test(dbscan, matches_sklearn_eps2_5)
{
    check_golden(2.5, 10, G "dbscan_2.5_10_labels.bin", G "dbscan_2.5_10_core.bin");
}

Test(dbscan, bad_input)
{
    float x[4] = {0, 0, 1, 1};
    int labels[2];
    Status st = {0};
    DbscanParams p = {0.0, 3};
    cr_assert_eq(dbscan_fit(x, 2, 2, &p, labels, NULL, NULL, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "eps") != NULL, "%s", st.msg);
    p.eps = 1.0;
    p.min_samples = 0;
    cr_assert_eq(dbscan_fit(x, 2, 2, &p, labels, NULL, NULL, &st), TK_EINVAL);
    x[2] = NAN;
    p.min_samples = 2;
    cr_assert_eq(dbscan_fit(x, 2, 2, &p, labels, NULL, NULL, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "row 1 column 0") != NULL, "%s", st.msg);
}

Test(dbscan, kdistance_matches_brute_force)
{
    float *x = test_read_f32(G "dbscan_x.bin", ND * 5);
    cr_assert_not_null(x);
    float got[ND], want[ND], row[ND];
    const int k = 4;
    cr_assert_eq(dbscan_kdistance(x, ND, 5, k, got, NULL), TK_OK);
    for (int i = 0; i < ND; i++) {
        int m = 0;
        for (int j = 0; j < ND; j++) {
            if (j == i)
                continue;
            double s = 0;
            for (int c = 0; c < 5; c++)
                s += ((double)x[i * 5 + c] - x[j * 5 + c]) * ((double)x[i * 5 + c] - x[j * 5 + c]);
            row[m++] = (float)sqrt(s);
        }
        /* k-th smallest by partial selection */
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < m; b++)
                if (row[b] < row[a]) {
                    const float t = row[a];
                    row[a] = row[b];
                    row[b] = t;
                }
        want[i] = row[k - 1];
    }
    for (int a = 1; a < ND; a++) /* sort decreasing */
        for (int b = a; b > 0 && want[b] > want[b - 1]; b--) {
            const float t = want[b];
            want[b] = want[b - 1];
            want[b - 1] = t;
        }
    for (int i = 0; i < ND; i++)
        cr_assert_float_eq(got[i], want[i], 1e-4f * (1 + want[i]), "rank %d", i);
    cr_assert(got[0] >= got[ND - 1]);
    free(x);
}

static void check_shared(const char *tag, int n, double min_ari)
{
    char path[512], rel[128];
    snprintf(rel, sizeof rel, "bench/blobs32_%s_x.bin", tag);
    if (!test_shared_path(path, sizeof path, rel))
        cr_skip_test("../shared not found");
    float *x = test_read_f32(path, (size_t)n * 32);
    snprintf(rel, sizeof rel, "bench/blobs32_%s_y.bin", tag);
    int *truth = test_shared_path(path, sizeof path, rel) ? test_read_i32(path, (size_t)n) : NULL;
    cr_assert(x && truth);
    int *l1 = malloc((size_t)n * sizeof *l1), *l2 = malloc((size_t)n * sizeof *l2);
    DbscanParams p = {7.0, 10};
    const int threads = threads_max();
    omp_set_num_threads(1);
    cr_assert_eq(dbscan_fit(x, n, 32, &p, l1, NULL, NULL, NULL), TK_OK);
    omp_set_num_threads(threads > 1 ? 2 : 1);
    cr_assert_eq(dbscan_fit(x, n, 32, &p, l2, NULL, NULL, NULL), TK_OK);
    omp_set_num_threads(threads);
    cr_assert(memcmp(l1, l2, (size_t)n * sizeof *l1) == 0, "labels depend on threads");
    double ari, nmi;
    cr_assert_eq(metric_ari(l1, truth, n, &ari, NULL), TK_OK);
    cr_assert_eq(metric_nmi(l1, truth, n, &nmi, NULL), TK_OK);
    cr_assert(ari >= min_ari, "ARI %.6f below the anchor's %.4f", ari, min_ari);
    free(x);
    free(truth);
    free(l1);
    free(l2);
}

/* ANCHORS.md: scikit-learn reaches ARI 0.991 on 2k and 1.0 on 20k with eps 7, min_samples 10. */
Test(dbscan, shared_2k_ari) { check_shared("2k", 2000, 0.9914); }
Test(dbscan, shared_20k_ari) { check_shared("20k", 20000, 1.0); }

/* The eps suggested by the knee of the 9-distance curve clusters the blobs as well as the
 * anchor's hand-picked eps 7. */
Test(dbscan, shared_2k_suggested_eps)
{
    char path[512];
    if (!test_shared_path(path, sizeof path, "bench/blobs32_2k_x.bin"))
        cr_skip_test("../shared not found");
    float *x = test_read_f32(path, 2000 * 32);
    int *truth = test_shared_path(path, sizeof path, "bench/blobs32_2k_y.bin")
                     ? test_read_i32(path, 2000) : NULL;
    cr_assert(x && truth);
    double eps;
    Status st = {0};
    cr_assert_eq(dbscan_suggest_eps(x, 2000, 32, 10, &eps, &st), TK_OK, "%s", st.msg);
    cr_assert(eps > 5.0 && eps < 10.0, "eps %g", eps);
    DbscanParams p = {eps, 10};
    int labels[2000];
    cr_assert_eq(dbscan_fit(x, 2000, 32, &p, labels, NULL, NULL, NULL), TK_OK);
    double ari;
    cr_assert_eq(metric_ari(labels, truth, 2000, &ari, NULL), TK_OK);
    cr_assert(ari >= 0.9914, "eps %g: ARI %g", eps, ari);
    free(x);
    free(truth);
}
