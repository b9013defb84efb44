/* test_meanshift.c — mean-shift against scikit-learn 1.2.1 on the committed 300 x 5 blobs:
 * labels and centres with every row as a seed and with bin seeding, orphans with
 * cluster_all = False, estimate_bandwidth on all rows; on the shared blobs32 set the anchor's
 * setting (quantile 0.05, 500 sampled rows) reaches its ARI 1.0. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster/"

static void check_golden(int bin_seeding, const char *labels_file, const char *centers_file,
                         int want_centers)
{
    float *x = test_read_f32(G "blobs300_x.bin", 1500);
    int *want = test_read_i32(labels_file, 300);
    float *want_c = test_read_f32(centers_file, (size_t)want_centers * 5);
    cr_assert(x && want && want_c, "golden files missing");
    MeanShiftParams p = meanshift_params_default(2.5);
    p.bin_seeding = bin_seeding;
    float *centers = NULL;
    int k = 0, labels[300];
    Status st = {0};
    cr_assert_eq(meanshift_fit(x, 300, 5, &p, &centers, &k, labels, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(k, want_centers);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(labels[i], want[i], "row %d: %d, sklearn %d", i, labels[i], want[i]);
    for (int i = 0; i < k * 5; i++)
        cr_assert_float_eq(centers[i], want_c[i], 1e-4f * (1 + fabsf(want_c[i])), "centre %d",
                           i / 5);
    free(centers);
    free(x);
    free(want);
    free(want_c);
}

/* Centre counts: the golden files' sizes (golden.json shapes). */
Test(meanshift, all_seeds_match_sklearn)
{
    check_golden(0, G "meanshift_all_labels.bin", G "meanshift_all_centers.bin", 65);
}

Test(meanshift, bin_seeding_matches_sklearn)
{
    check_golden(1, G "meanshift_bins_labels.bin", G "meanshift_bins_centers.bin", 59);
}

Test(meanshift, orphans_are_noise)
{
    float *x = test_read_f32(G "blobs300_x.bin", 1500);
    int *want = test_read_i32(G "meanshift_orphans_labels.bin", 300);
    cr_assert(x && want);
    MeanShiftParams p = meanshift_params_default(2.0);
    p.cluster_all = 0;
    float *centers = NULL;
    int k = 0, labels[300], noise = 0;
    cr_assert_eq(meanshift_fit(x, 300, 5, &p, &centers, &k, labels, NULL), TK_OK);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(labels[i], want[i], "row %d", i);
        noise += labels[i] < 0;
    }
    cr_assert_gt(noise, 0, "the golden case has orphans");
    free(centers);
    free(x);
    free(want);
}

Test(meanshift, estimate_bandwidth_matches_sklearn)
{
    float *x = test_read_f32(G "blobs300_x.bin", 1500);
    cr_assert_not_null(x);
    double bw;
    cr_assert_eq(meanshift_estimate_bandwidth(x, 300, 5, 0.3, 0, 0, &bw, NULL), TK_OK);
    cr_assert_float_eq(bw, 10.174461502682973, 1e-5);
    cr_assert_eq(meanshift_estimate_bandwidth(x, 300, 5, 0.1, 0, 0, &bw, NULL), TK_OK);
    cr_assert_float_eq(bw, 3.87076899586354, 1e-5);
    Status st = {0};
    cr_assert_eq(meanshift_estimate_bandwidth(x, 300, 5, 0.0, 0, 0, &bw, &st), TK_EINVAL);
    MeanShiftParams p = meanshift_params_default(-1.0);
    float *c = NULL;
    int k, labels[300];
    cr_assert_eq(meanshift_fit(x, 300, 5, &p, &c, &k, labels, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "bandwidth") != NULL, "%s", st.msg);
    free(x);
}

Test(meanshift, shared_2k_quantile_005_ari)
{
    char path[512];
    if (!test_shared_path(path, sizeof path, "bench/blobs32_2k_x.bin"))
        cr_skip_test("../shared not found");
    float *x = test_read_f32(path, 2000 * 32);
    int *truth = test_shared_path(path, sizeof path, "bench/blobs32_2k_y.bin")
                     ? test_read_i32(path, 2000) : NULL;
    cr_assert(x && truth);
    double bw;
    cr_assert_eq(meanshift_estimate_bandwidth(x, 2000, 32, 0.05, 500, 0, &bw, NULL), TK_OK);
    /* ANCHORS: sklearn's draw gave 7.92; another draw of 500 rows lands close. */
    cr_assert(bw > 7.0 && bw < 9.0, "bandwidth %g", bw);
    MeanShiftParams p = meanshift_params_default(bw);
    float *centers = NULL;
    int k = 0, labels[2000];
    cr_assert_eq(meanshift_fit(x, 2000, 32, &p, &centers, &k, labels, NULL), TK_OK);
    double ari;
    cr_assert_eq(metric_ari(labels, truth, 2000, &ari, NULL), TK_OK);
    cr_assert(ari >= 1.0 - 1e-12, "ARI %g with %d centres", ari, k);
    free(centers);
    free(x);
    free(truth);
}
