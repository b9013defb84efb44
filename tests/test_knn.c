/* test_knn.c — the KNN classifier against scikit-learn 1.2.1 (tests/data/cluster_b, made by
 * make_golden.py): identical predictions on the mtm6 set (k = 1 and k = 5 with distance
 * weights), predict_proba on a small case with duplicated rows, brute force (scalar and AVX2)
 * against the kd-tree, ties resolved to the lowest row, and bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "testutil.h"

#define G "tests/data/cluster_b/"

typedef struct {
    float *tx, *qx;
    int *ty, *qy;
} Mtm6;

static int load_mtm6(Mtm6 *m)
{
    char a[512], b[512], c[512], d[512];
    if (!test_shared_path(a, sizeof a, "bench/mtm6_train_x.bin") ||
        !test_shared_path(b, sizeof b, "bench/mtm6_train_y.bin") ||
        !test_shared_path(c, sizeof c, "bench/mtm6_test_x.bin") ||
        !test_shared_path(d, sizeof d, "bench/mtm6_test_y.bin"))
        return 0;
    m->tx = test_read_f32(a, 8919 * 6);
    m->ty = test_read_i32(b, 8919);
    m->qx = test_read_f32(c, 10000 * 6);
    m->qy = test_read_i32(d, 10000);
    cr_assert(m->tx && m->ty && m->qx && m->qy, "mtm6 files have unexpected sizes");
    return 1;
}

static void free_mtm6(Mtm6 *m)
{
    free(m->tx);
    free(m->ty);
    free(m->qx);
    free(m->qy);
}

static int count_differences(const int *a, const int *b, int n)
{
    int diff = 0;
    for (int i = 0; i < n; i++)
        diff += a[i] != b[i];
    return diff;
}

/* Every path must give sklearn's labels: kd-tree, brute force scalar, brute force AVX2. */
static void check_mtm6(int k, KnnWeights w, const char *golden)
{
    Mtm6 m;
    if (!load_mtm6(&m))
        cr_skip_test("../shared not found (mtm6 set)");
    int *want = test_read_i32(golden, 10000);
    cr_assert_not_null(want, "%s missing", golden);
    int *pred = malloc(10000 * sizeof(int));
    const KnnAlgorithm algs[] = {KNN_AUTO, KNN_BRUTE, KNN_BRUTE};
    const SimdLevel levels[] = {simd_detected(), SIMD_SCALAR, SIMD_AVX2};
    for (int a = 0; a < 3; a++) {
        if (levels[a] > simd_detected())
            continue;
        simd_force(levels[a]);
        KnnClassifier knn;
        Status st = {0};
        cr_assert_eq(knn_fit(&knn, m.tx, m.ty, 8919, 6, k, w, algs[a], &st), TK_OK, "%s", st.msg);
        cr_assert_eq(knn.algorithm, a == 0 ? KNN_KDTREE : KNN_BRUTE);
        cr_assert_eq(knn_predict(&knn, m.qx, 10000, pred, &st), TK_OK, "%s", st.msg);
        cr_expect_eq(count_differences(pred, want, 10000), 0,
                     "k=%d path %d (%s): %d predictions differ from scikit-learn's", k, a,
                     simd_name(levels[a]), count_differences(pred, want, 10000));
        knn_free(&knn);
    }
    simd_force(simd_detected());
    free(pred);
    free(want);
    free_mtm6(&m);
}

Test(knn, mtm6_k1_identical_to_sklearn)
{
    check_mtm6(1, KNN_UNIFORM, G "knn_mtm6_pred_k1.bin");
    /* and the accuracy the anchor reports (0.8325) follows */
    Mtm6 m;
    load_mtm6(&m);
    KnnClassifier knn;
    Status st = {0};
    cr_assert_eq(knn_fit(&knn, m.tx, m.ty, 8919, 6, 1, KNN_UNIFORM, KNN_AUTO, &st), TK_OK);
    int *pred = malloc(10000 * sizeof(int));
    knn_predict(&knn, m.qx, 10000, pred, &st);
    cr_expect_eq(10000 - count_differences(pred, m.qy, 10000), 8325);
    /* single-row calls (the serial path) agree with the batch (the parallel path) */
    for (int r = 0; r < 200; r++) {
        int one;
        cr_assert_eq(knn_predict(&knn, m.qx + r * 6, 1, &one, &st), TK_OK);
        cr_assert_eq(one, pred[r], "row %d", r);
    }
    free(pred);
    knn_free(&knn);
    free_mtm6(&m);
}

Test(knn, mtm6_k5_distance_identical_to_sklearn)
{
    check_mtm6(5, KNN_DISTANCE, G "knn_mtm6_pred_k5d.bin");
}

static void check_small(KnnWeights w, const char *pred_file, const char *proba_file)
{
    float *x = test_read_f32(G "knn_small_x.bin", 300 * 6);
    int *y = test_read_i32(G "knn_small_y.bin", 300);
    float *q = test_read_f32(G "knn_small_q.bin", 120 * 6);
    int *want = test_read_i32(pred_file, 120);
    float *want_p = test_read_f32(proba_file, 120 * 4);
    cr_assert(x && y && q && want && want_p, "golden files missing");
    int pred[120];
    float proba[120 * 4];
    for (int alg = KNN_KDTREE; alg <= KNN_BRUTE; alg++) {
        KnnClassifier knn;
        Status st = {0};
        cr_assert_eq(knn_fit(&knn, x, y, 300, 6, 5, w, (KnnAlgorithm)alg, &st), TK_OK, "%s",
                     st.msg);
        cr_assert_eq(knn.n_classes, 4);
        cr_assert_eq(knn_predict(&knn, q, 120, pred, &st), TK_OK);
        cr_assert_eq(knn_predict_proba(&knn, q, 120, proba, &st), TK_OK);
        for (int i = 0; i < 120; i++) {
            cr_expect_eq(pred[i], want[i], "query %d: %d, sklearn %d", i, pred[i], want[i]);
            for (int c = 0; c < 4; c++)
                cr_expect_float_eq(proba[i * 4 + c], want_p[i * 4 + c], 1e-6,
                                   "query %d class %d", i, c);
        }
        knn_free(&knn);
    }
    free(x);
    free(y);
    free(q);
    free(want);
    free(want_p);
}

/* Queries 0..7 repeat training rows (row 3 twice, with different labels), which exercises
 * the zero-distance rule. */
Test(knn, small_distance_weights_and_proba_as_sklearn)
{
    check_small(KNN_DISTANCE, G "knn_small_pred_distance.bin", G "knn_small_proba_distance.bin");
}

Test(knn, small_uniform_weights_and_proba_as_sklearn)
{
    check_small(KNN_UNIFORM, G "knn_small_pred_uniform.bin", G "knn_small_proba_uniform.bin");
}

/* 20 features: brute force (both kernels) and the kd-tree must find the same neighbours. */
Test(knn, brute_force_kernels_agree_with_kdtree)
{
    enum { N = 700, D = 20, Q = 50, K = 7 };
    float *x = malloc(N * D * sizeof(float)), *q = malloc(Q * D * sizeof(float));
    int *y = calloc(N, sizeof(int));
    Rng rng;
    rng_seed(&rng, 3, 0);
    for (int i = 0; i < N * D; i++)
        x[i] = rng_normal(&rng);
    for (int i = 0; i < Q * D; i++)
        q[i] = rng_normal(&rng);
    int idx[3][Q * K];
    double dist[3][Q * K];
    const KnnAlgorithm algs[] = {KNN_KDTREE, KNN_BRUTE, KNN_BRUTE};
    const SimdLevel levels[] = {SIMD_SCALAR, SIMD_SCALAR, SIMD_AVX2};
    int runs = 0;
    for (int a = 0; a < 3; a++) {
        if (levels[a] > simd_detected())
            continue;
        simd_force(levels[a]);
        KnnClassifier knn;
        Status st = {0};
        cr_assert_eq(knn_fit(&knn, x, y, N, D, K, KNN_UNIFORM, algs[a], &st), TK_OK);
        cr_assert_eq(knn_kneighbors(&knn, q, Q, idx[a], dist[a], &st), TK_OK);
        knn_free(&knn);
        runs++;
    }
    simd_force(simd_detected());
    /* the reference: distances by a plain double loop, checked on the kd-tree's answer */
    for (int r = 0; r < Q; r++)
        for (int i = 0; i < K; i++) {
            double s = 0;
            for (int j = 0; j < D; j++) {
                const double diff = (double)x[idx[0][r * K + i] * D + j] - q[r * D + j];
                s += diff * diff;
            }
            cr_assert_float_eq(dist[0][r * K + i], sqrt(s), 1e-12);
            if (i > 0)
                cr_assert_geq(dist[0][r * K + i], dist[0][r * K + i - 1]);
        }
    for (int a = 1; a < runs; a++)
        for (int i = 0; i < Q * K; i++) {
            cr_assert_eq(idx[a][i], idx[0][i], "path %d entry %d", a, i);
            cr_assert_float_eq(dist[a][i], dist[0][i], 1e-12);
        }
    free(x);
    free(q);
    free(y);
}

/* Ten identical rows: the nearest three are the lowest rows, whatever the search order.
 * scikit-learn 1.2.1 returns the same set here (brute force in this order, its kd-tree in
 * reverse), and for k = 1 the lowest row with either algorithm (checked on 1,000 queries over
 * integer grids, where exact ties are the rule; mtm6 itself has none, golden.json). */
Test(knn, equidistant_neighbours_lowest_row_first)
{
    enum { N = 40 };
    float x[N * 2];
    int y[N];
    for (int i = 0; i < N; i++) {
        x[2 * i] = i < 10 ? 0.5f : (float)i;
        x[2 * i + 1] = i < 10 ? 0.5f : (float)(N - i);
        y[i] = i % 3;
    }
    /* shuffle the duplicates among the other rows so that tree order differs from row order */
    for (int i = 0; i < 10; i += 2) {
        const int j = 39 - i;
        float tx0 = x[2 * i], tx1 = x[2 * i + 1];
        x[2 * i] = x[2 * j];
        x[2 * i + 1] = x[2 * j + 1];
        x[2 * j] = tx0;
        x[2 * j + 1] = tx1;
    }
    const float q[2] = {0.5f, 0.5f};
    int want[3], found = 0;
    for (int i = 0; i < N && found < 3; i++)
        if (x[2 * i] == 0.5f && x[2 * i + 1] == 0.5f)
            want[found++] = i;
    for (int alg = KNN_KDTREE; alg <= KNN_BRUTE; alg++) {
        KnnClassifier knn;
        Status st = {0};
        cr_assert_eq(knn_fit(&knn, x, y, N, 2, 3, KNN_UNIFORM, (KnnAlgorithm)alg, &st), TK_OK);
        int idx[3];
        double dist[3];
        cr_assert_eq(knn_kneighbors(&knn, q, 1, idx, dist, &st), TK_OK);
        for (int i = 0; i < 3; i++) {
            cr_expect_eq(idx[i], want[i], "alg %d: neighbour %d is row %d, want %d", alg, i,
                         idx[i], want[i]);
            cr_expect_eq(dist[i], 0.0);
        }
        knn_free(&knn);
    }
}

Test(knn, bad_input_is_refused_with_a_clear_message)
{
    float x[6] = {0, 1, 2, 3, 4, 5};
    int y[3] = {0, 1, 0};
    KnnClassifier knn;
    Status st = {0};
    cr_expect_eq(knn_fit(&knn, x, y, 3, 2, 4, KNN_UNIFORM, KNN_AUTO, &st), TK_EINVAL);
    cr_expect(strstr(st.msg, "k = 4") != NULL, "%s", st.msg);
    cr_expect_eq(knn_fit(&knn, x, y, 3, 2, 0, KNN_UNIFORM, KNN_AUTO, &st), TK_EINVAL);
    x[3] = NAN;
    cr_expect_eq(knn_fit(&knn, x, y, 3, 2, 1, KNN_UNIFORM, KNN_AUTO, &st), TK_EINVAL);
    cr_expect(strstr(st.msg, "row 1 column 1") && strstr(st.msg, "NaN"), "%s", st.msg);
    x[3] = 3;
    y[2] = -1;
    cr_expect_eq(knn_fit(&knn, x, y, 3, 2, 1, KNN_UNIFORM, KNN_AUTO, &st), TK_EINVAL);
    cr_expect(strstr(st.msg, "row 2") != NULL, "%s", st.msg);
    y[2] = 0;
    cr_assert_eq(knn_fit(&knn, x, y, 3, 2, 1, KNN_UNIFORM, KNN_AUTO, &st), TK_OK);
    const float q[2] = {INFINITY, 0};
    int pred;
    cr_expect_eq(knn_predict(&knn, q, 1, &pred, &st), TK_EINVAL);
    cr_expect(strstr(st.msg, "queries: row 0 column 0") != NULL, "%s", st.msg);
    knn_free(&knn);
}

/* The kd-tree's k = 1 search (a flat scan of the leaf boxes when there are few leaves, a tree
 * walk otherwise), scalar and AVX2, on integer grids where exact ties are the rule: always the
 * lowest row at the least distance, as a plain double loop finds it. */
Test(knn, kdtree_k1_paths_agree_with_a_plain_loop_on_ties)
{
    enum { N = 3000, Q = 400 };
    const int dims[] = {3, 5, 6};
    const int leaf_sizes[] = {1, 4, 40, 5000};
    const SimdLevel levels[] = {SIMD_SCALAR, SIMD_AVX2};
    Rng rng;
    rng_seed(&rng, 7, 0);
    float *x = malloc(N * 6 * sizeof(float)), *q = malloc(Q * 6 * sizeof(float));
    int *want = malloc(Q * sizeof(int));
    for (int a = 0; a < 3; a++) {
        const int d = dims[a];
        for (int i = 0; i < N * d; i++)
            x[i] = (float)rng_below(&rng, 4);
        for (int i = 0; i < Q * d; i++)
            q[i] = (float)rng_below(&rng, 9) * 0.5f - 0.25f;
        for (int r = 0; r < Q; r++) {
            double best = INFINITY;
            for (int i = 0; i < N; i++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    const double diff = (double)x[i * d + j] - q[r * d + j];
                    s += diff * diff;
                }
                if (s < best) {
                    best = s;
                    want[r] = i;
                }
            }
        }
        for (int l = 0; l < 4; l++)
            for (int v = 0; v < 2; v++) {
                if (levels[v] > simd_detected())
                    continue;
                simd_force(levels[v]);
                KdTree t;
                Status st = {0};
                cr_assert_eq(kdtree_build(&t, x, N, d, leaf_sizes[l], &st), TK_OK, "%s", st.msg);
                for (int r = 0; r < Q; r++) {
                    int idx;
                    double sq;
                    kdtree_query(&t, q + r * d, 1, &idx, &sq);
                    cr_assert_eq(idx, want[r], "d %d leaf %d %s query %d: row %d, want %d", d,
                                 leaf_sizes[l], simd_name(levels[v]), r, idx, want[r]);
                }
                kdtree_free(&t);
            }
    }
    simd_force(simd_detected());
    free(x);
    free(q);
    free(want);
}
