/* test_metrics.c — clustering and classification metrics against scikit-learn 1.2.1 / scipy
 * on the committed random label vectors (tests/data/cluster, make_golden.py), plus the
 * Hungarian solver against scipy's linear_sum_assignment and the stratified splits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster/"
#define N_AB 500

/* Values from tests/data/cluster/golden.json. */
static const double golden_ari = 0.4301269972703168;
static const double golden_nmi = 0.41675560319354343;

static void load_ab(int **a, int **b)
{
    *a = test_read_i32(G "labels_a.bin", N_AB);
    *b = test_read_i32(G "labels_b.bin", N_AB);
    cr_assert(*a && *b, "golden label files missing");
}

Test(metrics, ari_nmi_match_sklearn)
{
    int *a, *b;
    load_ab(&a, &b);
    double ari, nmi;
    cr_assert_eq(metric_ari(a, b, N_AB, &ari, NULL), TK_OK);
    cr_assert_eq(metric_nmi(a, b, N_AB, &nmi, NULL), TK_OK);
    cr_assert_float_eq(ari, golden_ari, 1e-12);
    cr_assert_float_eq(nmi, golden_nmi, 1e-12);
    /* Symmetric, invariant to renaming labels, 1 on identical partitions. */
    double ari2, nmi2;
    for (int i = 0; i < N_AB; i++)
        b[i] = 1000 - 7 * b[i];
    cr_assert_eq(metric_ari(b, a, N_AB, &ari2, NULL), TK_OK);
    cr_assert_eq(metric_nmi(b, a, N_AB, &nmi2, NULL), TK_OK);
    cr_assert_float_eq(ari2, golden_ari, 1e-12);
    cr_assert_float_eq(nmi2, golden_nmi, 1e-12);
    cr_assert_eq(metric_ari(a, a, N_AB, &ari, NULL), TK_OK);
    cr_assert_eq(metric_nmi(a, a, N_AB, &nmi, NULL), TK_OK);
    cr_assert_float_eq(ari, 1.0, 1e-15);
    cr_assert_float_eq(nmi, 1.0, 1e-12);
    free(a);
    free(b);
}

/* sklearn's limit cases: one cluster on both sides is a perfect match; one against many has
 * zero mutual information. */
Test(metrics, degenerate_partitions)
{
    int one[4] = {3, 3, 3, 3}, many[4] = {0, 1, 2, 3};
    double v;
    cr_assert_eq(metric_nmi(one, one, 4, &v, NULL), TK_OK);
    cr_assert_float_eq(v, 1.0, 0);
    cr_assert_eq(metric_ari(one, one, 4, &v, NULL), TK_OK);
    cr_assert_float_eq(v, 1.0, 0);
    cr_assert_eq(metric_nmi(one, many, 4, &v, NULL), TK_OK);
    cr_assert_float_eq(v, 0.0, 0);
    cr_assert_eq(metric_ari(one, many, 4, &v, NULL), TK_OK);
    cr_assert_float_eq(v, 0.0, 0);
}

Test(metrics, silhouette_matches_sklearn)
{
    float *x = test_read_f32(G "blobs300_x.bin", 300 * 5);
    int *y = test_read_i32(G "blobs300_y.bin", 300);
    int *km = test_read_i32(G "kmeans_lloyd_labels.bin", 300);
    cr_assert(x && y && km);
    double s;
    Status st = {0};
    cr_assert_eq(metric_silhouette(x, 300, 5, y, 0, 0, &s, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(s, 0.5856973528862, 2e-6, "silhouette %.9f", s);
    cr_assert_eq(metric_silhouette(x, 300, 5, km, 0, 0, &s, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(s, 0.5885738134384155, 2e-6, "silhouette %.9f", s);
    /* A sample of 200 rows lands near the full figure. */
    double sampled;
    cr_assert_eq(metric_silhouette(x, 300, 5, km, 200, 3, &sampled, &st), TK_OK);
    cr_assert(fabs(sampled - s) < 0.05, "sampled %g full %g", sampled, s);
    int same[300] = {0};
    cr_assert_eq(metric_silhouette(x, 300, 5, same, 0, 0, &s, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "1 distinct") != NULL, "%s", st.msg);
    free(x);
    free(y);
    free(km);
}

Test(metrics, hungarian_matches_scipy)
{
    float *cf = test_read_f32(G "hungarian_cost.bin", 40);
    cr_assert_not_null(cf);
    double cost[40], cost_t[40];
    for (int i = 0; i < 40; i++)
        cost[i] = cf[i];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 8; j++)
            cost_t[j * 5 + i] = cost[i * 8 + j];
    static const int want[5] = {5, 7, 1, 2, 6}; /* golden.json hungarian_cols */
    int assign[8];
    cr_assert_eq(hungarian(cost, 5, 8, assign, NULL), TK_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(assign[i], want[i], "row %d", i);
    /* The transposed (tall) problem gives the same pairs; unmatched rows are -1. */
    cr_assert_eq(hungarian(cost_t, 8, 5, assign, NULL), TK_OK);
    int matched = 0;
    for (int j = 0; j < 8; j++) {
        if (assign[j] < 0)
            continue;
        matched++;
        cr_assert_eq(want[assign[j]], j);
    }
    cr_assert_eq(matched, 5);
    free(cf);
}

Test(metrics, matched_accuracy_confusion_report)
{
    int *a, *b;
    load_ab(&a, &b);
    double acc;
    cr_assert_eq(metric_matched_accuracy(a, b, N_AB, &acc, NULL), TK_OK);
    cr_assert_float_eq(acc, 0.676, 1e-12);
    /* Renaming the predicted clusters does not change the matched accuracy. */
    int *perm = malloc(N_AB * sizeof *perm);
    for (int i = 0; i < N_AB; i++)
        perm[i] = (b[i] * 5 + 3) % 8 + 10;
    double acc2;
    cr_assert_eq(metric_matched_accuracy(a, perm, N_AB, &acc2, NULL), TK_OK);
    cr_assert_float_eq(acc2, acc, 1e-12);

    int *cm_want = test_read_i32(G "confusion_ab.bin", 64);
    float *prf = test_read_f32(G "prf_ab.bin", 24);
    cr_assert(cm_want && prf);
    long cm[64];
    cr_assert_eq(metric_confusion(a, b, N_AB, 8, cm, NULL), TK_OK);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(cm[i], cm_want[i], "cell %d", i);
    double p[8], r[8], f[8];
    long support[8];
    ClassReport rep = {.precision = p, .recall = r, .f1 = f, .support = support};
    cr_assert_eq(metric_report(a, b, N_AB, 8, &rep, NULL), TK_OK);
    static const long support_want[8] = {88, 84, 89, 84, 77, 78, 0, 0};
    for (int c = 0; c < 8; c++) {
        cr_assert_float_eq(p[c], prf[c], 1e-6);
        cr_assert_float_eq(r[c], prf[8 + c], 1e-6);
        cr_assert_float_eq(f[c], prf[16 + c], 1e-6);
        cr_assert_eq(support[c], support_want[c]);
    }
    cr_assert_float_eq(rep.accuracy, 0.676, 1e-12);
    cr_assert_float_eq(rep.macro_precision, 0.5705719397432332, 1e-12);
    cr_assert_float_eq(rep.macro_recall, 0.5074156297822028, 1e-12);
    cr_assert_float_eq(rep.macro_f1, 0.5365767807143513, 1e-12);
    Status st = {0};
    b[7] = 8;
    cr_assert_eq(metric_confusion(a, b, N_AB, 8, cm, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "row 7") != NULL, "%s", st.msg);
    free(a);
    free(b);
    free(perm);
    free(cm_want);
    free(prf);
}

Test(metrics, stratified_split_and_kfold)
{
    int *y = test_read_i32(G "blobs300_y.bin", 300);
    cr_assert_not_null(y);
    unsigned char test1[300], test2[300];
    cr_assert_eq(split_stratified(y, 300, 0.25, 9, test1, NULL), TK_OK);
    cr_assert_eq(split_stratified(y, 300, 0.25, 9, test2, NULL), TK_OK);
    cr_assert(memcmp(test1, test2, 300) == 0, "same seed, same split");
    int count[4] = {0}, test_count[4] = {0}, total = 0;
    for (int i = 0; i < 300; i++) {
        count[y[i]]++;
        test_count[y[i]] += test1[i];
        total += test1[i];
    }
    cr_assert_eq(total, 75);
    for (int c = 0; c < 4; c++)
        cr_assert(abs(4 * test_count[c] - count[c]) <= 4, "class %d: %d of %d", c,
                  test_count[c], count[c]);
    cr_assert_eq(split_stratified(y, 300, 0.25, 10, test2, NULL), TK_OK);
    cr_assert(memcmp(test1, test2, 300) != 0, "another seed, another split");

    int fold[300];
    cr_assert_eq(split_stratified_kfold(y, 300, 7, 1, fold, NULL), TK_OK);
    for (int c = 0; c < 4; c++) {
        int per[7] = {0};
        for (int i = 0; i < 300; i++)
            if (y[i] == c)
                per[fold[i]]++;
        for (int f = 0; f < 7; f++)
            cr_assert(per[f] >= count[c] / 7 && per[f] <= count[c] / 7 + 1,
                      "class %d fold %d: %d", c, f, per[f]);
    }
    int sizes[7] = {0};
    for (int i = 0; i < 300; i++)
        sizes[fold[i]]++;
    for (int f = 0; f < 7; f++)
        cr_assert(sizes[f] == 42 || sizes[f] == 43, "fold %d holds %d", f, sizes[f]);
    Status st = {0};
    cr_assert_eq(split_stratified_kfold(y, 300, 1, 1, fold, &st), TK_EINVAL);
    cr_assert_eq(split_stratified(y, 300, 1.5, 1, test1, &st), TK_EINVAL);
    free(y);
}
