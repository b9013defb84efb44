/* test_hierarchical.c — linkage matrices against scipy 1.10 (ids, heights to 1e-4 relative,
 * sizes) for ward, complete, average and single on the committed 300 x 5 blobs; fcluster's
 * 'maxclust' and 'distance' cuts label for label; ward on the shared blobs32 set reaches the
 * anchor's ARI 1.0. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster/"
#define NH 300

/* fcluster 'distance' thresholds from golden.json (the median merge height of each linkage). */
static const double golden_t[4] = {2.2476029289986053, 2.1898625226067674, 1.9307608317467944,
                                   1.463888253409269};

static void check_method(Linkage m)
{
    char path[256];
    float *x = test_read_f32(G "blobs300_x.bin", NH * 5);
    snprintf(path, sizeof path, G "linkage_%s.bin", linkage_name(m));
    float *want = test_read_f32(path, (NH - 1) * 4);
    cr_assert(x && want, "golden files missing");
    double *Z = malloc((NH - 1) * 4 * sizeof *Z);
    Status st = {0};
    cr_assert_eq(hier_linkage(x, NH, 5, m, Z, &st), TK_OK, "%s", st.msg);
    for (int k = 0; k < NH - 1; k++) {
        cr_assert_eq(Z[4 * k], want[4 * k], "%s row %d id1", linkage_name(m), k);
        cr_assert_eq(Z[4 * k + 1], want[4 * k + 1], "%s row %d id2", linkage_name(m), k);
        cr_assert(fabs(Z[4 * k + 2] - want[4 * k + 2]) <= 1e-4 * want[4 * k + 2],
                  "%s row %d height %.7g vs scipy %.7g", linkage_name(m), k, Z[4 * k + 2],
                  want[4 * k + 2]);
        cr_assert_eq(Z[4 * k + 3], want[4 * k + 3]);
    }
    int labels[NH];
    snprintf(path, sizeof path, G "fcluster_%s_maxclust4.bin", linkage_name(m));
    int *cut = test_read_i32(path, NH);
    cr_assert_not_null(cut);
    cr_assert_eq(hier_cut_k(Z, NH, 4, labels, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < NH; i++)
        cr_assert_eq(labels[i], cut[i], "%s maxclust row %d", linkage_name(m), i);
    free(cut);
    snprintf(path, sizeof path, G "fcluster_%s_distance.bin", linkage_name(m));
    cut = test_read_i32(path, NH);
    cr_assert_not_null(cut);
    cr_assert_eq(hier_cut_distance(Z, NH, golden_t[m], labels, &st), TK_OK);
    for (int i = 0; i < NH; i++)
        cr_assert_eq(labels[i], cut[i], "%s distance cut row %d", linkage_name(m), i);
    free(cut);
    free(Z);
    free(x);
    free(want);
}

Test(hierarchical, ward_matches_scipy) { check_method(LINKAGE_WARD); }
Test(hierarchical, complete_matches_scipy) { check_method(LINKAGE_COMPLETE); }
Test(hierarchical, average_matches_scipy) { check_method(LINKAGE_AVERAGE); }
Test(hierarchical, single_matches_scipy) { check_method(LINKAGE_SINGLE); }

Test(hierarchical, limits_and_names)
{
    Status st = {0};
    float x[4] = {0, 0, 1, 1};
    double Z[4];
    cr_assert_eq(hier_linkage(x, 1, 4, LINKAGE_WARD, Z, &st), TK_EINVAL);
    cr_assert_eq(hier_linkage(x, 2, 2, LINKAGE_AVERAGE, Z, &st), TK_OK);
    cr_assert_float_eq(Z[2], sqrt(2.0), 1e-12);
    cr_assert(Z[0] == 0 && Z[1] == 1 && Z[3] == 2);
    /* Beyond the condensed-matrix limit complete/average refuse before allocating. */
    const int big = HIER_CONDENSED_MAX_N + 1;
    float *xb = calloc((size_t)big, sizeof *xb);
    cr_assert_eq(hier_linkage(xb, big, 1, LINKAGE_COMPLETE, NULL, &st), TK_EUNSUPPORTED);
    cr_assert(strstr(st.msg, "limit") != NULL, "%s", st.msg);
    free(xb);
    cr_assert_eq(linkage_parse("single"), LINKAGE_SINGLE);
    cr_assert_eq(linkage_parse("median"), -1);
}

Test(hierarchical, shared_2k_ward_ari)
{
    char path[512];
    if (!test_shared_path(path, sizeof path, "bench/blobs32_2k_x.bin"))
        cr_skip_test("../shared not found");
    float *x = test_read_f32(path, 2000 * 32);
    int *truth = test_shared_path(path, sizeof path, "bench/blobs32_2k_y.bin")
                     ? test_read_i32(path, 2000) : NULL;
    cr_assert(x && truth);
    double *Z = malloc(1999 * 4 * sizeof *Z);
    int labels[2000];
    cr_assert_eq(hier_linkage(x, 2000, 32, LINKAGE_WARD, Z, NULL), TK_OK);
    cr_assert_eq(hier_cut_k(Z, 2000, 10, labels, NULL), TK_OK);
    double ari;
    cr_assert_eq(metric_ari(labels, truth, 2000, &ari, NULL), TK_OK);
    cr_assert_float_eq(ari, 1.0, 1e-12);
    /* ANCHORS.md (anchors.json): fastcluster's three highest ward merges on this set. */
    static const double top[3] = {717.5218299038809, 766.8085040363804, 833.9648726168019};
    for (int i = 0; i < 3; i++)
        cr_assert(fabs(Z[4 * (1996 + i) + 2] - top[i]) <= 1e-4 * top[i], "merge %d: %.6f", i,
                  Z[4 * (1996 + i) + 2]);
    free(Z);
    free(x);
    free(truth);
}
