/* test_cluster_simd.c — the AVX2 kernels of k-means (kmeans_avx2.c) and of the range-query
 * kd-tree behind DBSCAN and mean-shift (boxtree_avx2.c) against their scalar twins and a
 * double-precision reference, over shapes that exercise every tail (rows not a multiple of
 * 4 or 8, centres not a multiple of 8, features not a multiple of 8); then whole fits on
 * both SIMD levels give the same labels. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/boxtree.h"
#include "../cluster/cluster.h"
#include "../cluster/kmeans_simd.h"

static float *random_rows(int n, int d, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed, 0);
    float *x = malloc((size_t)n * d * sizeof *x);
    for (int i = 0; i < n * d; i++)
        x[i] = 4.0f * rng_normal(&r);
    return x;
}

Test(cluster_simd, kmeans_partial_dist_twins_match_reference)
{
    const int rows_list[] = {1, 3, 4, 7, 8, 9, 37};
    const int d_list[] = {1, 5, 8, 13, 32};
    const int k_list[] = {1, 3, 8, 10, 16, 17, 21};
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 7; c++) {
                const int rows = rows_list[a], d = d_list[b], k = k_list[c];
                const int kp = (k + KMEANS_LANES - 1) / KMEANS_LANES * KMEANS_LANES;
                float *x = random_rows(rows, d, 1 + a);
                float *cen = random_rows(k, d, 100 + c);
                float *ct = malloc((size_t)d * kp * sizeof *ct);
                float *cnorm = calloc((size_t)kp, sizeof *cnorm);
                float *got_s = malloc((size_t)rows * k * sizeof *got_s);
                float *got_v = malloc((size_t)rows * k * sizeof *got_v);
                for (int j = 0; j < k; j++)
                    cnorm[j] = vec_sum_squares(cen + (size_t)j * d, (size_t)d);
                kmeans_transpose_centers(cen, k, d, ct);
                kmeans_partial_dist_scalar(x, rows, d, ct, cnorm, k, got_s);
                const int avx2 = simd_detected() >= SIMD_AVX2;
                if (avx2)
                    kmeans_partial_dist_avx2(x, rows, d, ct, cnorm, k, got_v);
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < k; j++) {
                        double dot = 0.0, scale = 0.0;
                        for (int f = 0; f < d; f++) {
                            dot += (double)x[r * d + f] * cen[j * d + f];
                            scale += fabs((double)x[r * d + f] * cen[j * d + f]);
                        }
                        const double want = cnorm[j] - 2.0 * dot;
                        const double tol = 1e-5 * (cnorm[j] + 2.0 * scale) + 1e-6;
                        cr_assert(fabs(got_s[r * k + j] - want) <= tol,
                                  "scalar rows %d d %d k %d at (%d,%d): %g, want %g", rows, d,
                                  k, r, j, got_s[r * k + j], want);
                        if (avx2)
                            cr_assert(fabs(got_v[r * k + j] - want) <= tol,
                                      "avx2 rows %d d %d k %d at (%d,%d): %g, want %g", rows,
                                      d, k, r, j, got_v[r * k + j], want);
                    }
                free(x);
                free(cen);
                free(ct);
                free(cnorm);
                free(got_s);
                free(got_v);
            }
}

Test(cluster_simd, kmeans_avx2_leaves_other_columns_alone)
{
    if (simd_detected() < SIMD_AVX2)
        cr_skip_test("no AVX2 on this CPU");
    /* k = 3 of a padded vector of 8: the masked stores must not touch the next row. */
    const int rows = 9, d = 6, k = 3, kp = 8;
    float *x = random_rows(rows, d, 7), *cen = random_rows(k, d, 8);
    float ct[6 * 8], cnorm[8] = {0}, out[9 * 3 + 1];
    out[rows * k] = 12345.0f;
    kmeans_transpose_centers(cen, k, d, ct);
    for (int j = 0; j < kp; j++)
        cr_assert(j < k || ct[j] == 0.0f);
    kmeans_partial_dist_avx2(x, rows, d, ct, cnorm, k, out);
    cr_assert_eq(out[rows * k], 12345.0f, "wrote past the last row");
    free(x);
    free(cen);
}

Test(cluster_simd, box_kernels_twins_match)
{
    for (int d = 1; d <= 40; d++) {
        float *a = random_rows(4, d, (uint64_t)d);
        const float *b = a + d, *lo = a + 2 * d;
        float *hi = a + 3 * d;
        for (int j = 0; j < d; j++) { /* a box [lo, lo + |hi|] around parts of a */
            hi[j] = lo[j] + fabsf(hi[j]);
        }
        double want_sq = 0.0, want_gap = 0.0;
        for (int j = 0; j < d; j++) {
            want_sq += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
            const double e = a[j] < lo[j] ? lo[j] - a[j] : (a[j] > hi[j] ? a[j] - hi[j] : 0.0);
            want_gap += e * e;
        }
        const double tol_sq = 1e-5 * want_sq + 1e-6, tol_gap = 1e-5 * want_gap + 1e-6;
        cr_assert(fabs(box_sqdist_scalar(a, b, d) - want_sq) <= tol_sq, "d %d", d);
        cr_assert(fabs(box_gap_scalar(lo, hi, a, d, INFINITY) - want_gap) <= tol_gap, "d %d", d);
        /* stopping early still says "beyond the limit" */
        if (want_gap > 1.0)
            cr_assert(box_gap_scalar(lo, hi, a, d, 0.5f) > 0.5f, "d %d", d);
        if (simd_detected() >= SIMD_AVX2) {
            cr_assert(fabs(box_sqdist_avx2(a, b, d) - want_sq) <= tol_sq, "avx2 d %d", d);
            cr_assert(fabs(box_gap_avx2(lo, hi, a, d) - want_gap) <= tol_gap, "avx2 d %d", d);
        }
        free(a);
    }
}

/* Ten blobs in 32-D, the shape of ../shared's blobs32, small enough to run in milliseconds. */
static float *blobs(int n, int d, int *truth)
{
    Rng r;
    rng_seed(&r, 42, 0);
    float centres[10 * 32];
    for (int i = 0; i < 10 * d; i++)
        centres[i] = 20.0f * rng_uniform(&r) - 10.0f;
    float *x = malloc((size_t)n * d * sizeof *x);
    for (int i = 0; i < n; i++) {
        truth[i] = i % 10;
        for (int j = 0; j < d; j++)
            x[(size_t)i * d + j] = centres[truth[i] * d + j] + rng_normal(&r);
    }
    return x;
}

Test(cluster_simd, fits_same_labels_on_both_levels)
{
    const int n = 3000, d = 32;
    int *truth = malloc(n * sizeof *truth);
    float *x = blobs(n, d, truth);
    int *lab[2][3];
    double inertia[2];
    const SimdLevel levels[2] = {SIMD_SCALAR, simd_detected()};
    for (int v = 0; v < 2; v++) {
        simd_force(levels[v]);
        for (int m = 0; m < 3; m++)
            lab[v][m] = malloc(n * sizeof(int));
        float centers[10 * 32];
        KMeansParams p = kmeans_params_default(10);
        KMeansResult r = {centers, lab[v][0], 0, 0};
        cr_assert_eq(kmeans_fit(x, n, d, &p, &r, NULL), TK_OK);
        inertia[v] = r.inertia;
        p.algorithm = KMEANS_ELKAN;
        r.labels = lab[v][1];
        cr_assert_eq(kmeans_fit(x, n, d, &p, &r, NULL), TK_OK);
        const DbscanParams dp = {7.0, 10};
        cr_assert_eq(dbscan_fit(x, n, d, &dp, lab[v][2], NULL, NULL, NULL), TK_OK);
    }
    simd_force(simd_detected());
    for (int m = 0; m < 3; m++) {
        cr_assert(memcmp(lab[0][m], lab[1][m], n * sizeof(int)) == 0, "method %d differs", m);
        double ari;
        cr_assert_eq(metric_ari(lab[1][m], truth, n, &ari, NULL), TK_OK);
        cr_assert(ari > 0.99, "method %d: ARI %g", m, ari);
    }
    cr_assert(fabs(inertia[0] - inertia[1]) <= 1e-9 * inertia[0], "%.9g vs %.9g", inertia[0],
              inertia[1]);
    for (int v = 0; v < 2; v++)
        for (int m = 0; m < 3; m++)
            free(lab[v][m]);
    free(x);
    free(truth);
}
